#include "daemon/tls_credentials.h"

#include "grpc/grpc_security_constants.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace recondb::daemon {
namespace {

std::shared_ptr<grpc::experimental::CertificateProviderInterface> WatchFiles(
    const TlsFiles& files) {
  const auto seconds =
      static_cast<unsigned int>(std::max<int64_t>(1, absl::ToInt64Seconds(files.reload_interval)));
  return std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(files.key, files.cert,
                                                                              files.ca, seconds);
}

}  // namespace

WatchedCredentials<grpc::ServerCredentials> MakeTlsServerCredentials(const TlsFiles& files) {
  WatchedCredentials<grpc::ServerCredentials> made;
  made.provider = WatchFiles(files);
  grpc::experimental::TlsServerCredentialsOptions options(made.provider);
  options.watch_identity_key_cert_pairs();
  if (files.ca.empty()) {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  made.credentials = grpc::experimental::TlsServerCredentials(options);
  return made;
}

WatchedCredentials<grpc::ChannelCredentials> MakeTlsChannelCredentials(const TlsFiles& files) {
  WatchedCredentials<grpc::ChannelCredentials> made;
  made.provider = WatchFiles(files);
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(made.provider);
  options.watch_root_certs();
  if (!files.cert.empty()) options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(true);
  // The chain alone would accept any certificate of the CA: the name dialed
  // must be among the certificate's too.
  options.set_certificate_verifier(
      std::make_shared<grpc::experimental::HostNameCertificateVerifier>());
  made.credentials = grpc::experimental::TlsCredentials(options);
  return made;
}

}  // namespace recondb::daemon
