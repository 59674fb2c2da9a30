// gRPC credentials from the TLS flags (docs/security.md, "TLS and
// certificates"): the server's, and the dialer's for its peers. Both read
// their PEM files through gRPC's FileWatcherCertificateProvider, which reads
// them again every reload_interval: a certificate, key or CA replaced on disk
// is used for the connections made after that, without a restart (live
// connections keep the keys they were made with).
#ifndef RECONDB_DAEMON_TLS_CREDENTIALS_H_
#define RECONDB_DAEMON_TLS_CREDENTIALS_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"

namespace recondb::daemon {

// Paths of PEM files; empty: not used.
struct TlsFiles {
  // This side's certificate chain and its private key (both or neither).
  std::string cert;
  std::string key;
  // The CA certificate(s) the other side's certificate must chain to.
  std::string ca;
  // How often the files are read again (whole seconds, >= 1 s).
  absl::Duration reload_interval = absl::Seconds(60);
};

// Credentials and the provider that feeds them. The provider must live as
// long as anything made with the credentials: keep the pair together.
template <typename Credentials>
struct WatchedCredentials {
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider;
  std::shared_ptr<Credentials> credentials;
};

// Server credentials presenting files.cert/files.key. With files.ca, every
// client must present a certificate that chains to it (mTLS: the handshake
// fails otherwise); without, client certificates are not asked for.
// REQUIRES: files.cert and files.key are set. A file that cannot be read
// or parsed is logged by gRPC and fails the handshakes (the daemon's
// configuration checks them at start).
WatchedCredentials<grpc::ServerCredentials> MakeTlsServerCredentials(const TlsFiles& files);

// Channel credentials that verify the server's certificate against files.ca
// and the host name dialed (or GRPC_SSL_TARGET_NAME_OVERRIDE_ARG), and
// present files.cert/files.key as the client certificate when set.
// REQUIRES: files.ca is set.
WatchedCredentials<grpc::ChannelCredentials> MakeTlsChannelCredentials(const TlsFiles& files);

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_TLS_CREDENTIALS_H_
