// Certificates made at test time by scripts/make-certs.sh (openssl), and
// gRPC channel credentials that use them.
//
//   TempDir certs;
//   ASSERT_OK(MakeCertificates(certs.path(), {"a", "b"}));  // ca.pem, a.pem, a.key, ...
//   auto creds = TlsChannelCredentials(certs.File("ca.pem"), certs.File("a.pem"),
//                                      certs.File("a.key"));
#ifndef RECONDB_TESTS_SUPPORT_TEST_CERTIFICATES_H_
#define RECONDB_TESTS_SUPPORT_TEST_CERTIFICATES_H_

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"

namespace recondb::testing {

// The path of scripts/make-certs.sh ($RECONDB_MAKE_CERTS if set, else the
// source tree's, compiled in).
std::string MakeCertsScript();

struct CertificateOptions {
  // The CA's subject CN (used only when `dir` has no CA yet).
  std::string ca_name = "recondb test CA";
  // Node certificates that expired before they were made.
  bool expired = false;
};

// Runs make-certs.sh: DIR/ca.pem and ca.key (made unless DIR already holds
// a CA), and DIR/<node>.pem, <node>.key for each node (SAN DNS:<node>,
// DNS:localhost, IP:127.0.0.1). INTERNAL with the script's output if it
// fails.
absl::Status MakeCertificates(const std::filesystem::path& dir,
                              const std::vector<std::string>& nodes,
                              const CertificateOptions& options = {});

// The whole file; INTERNAL if it cannot be read.
absl::StatusOr<std::string> ReadTextFile(const std::filesystem::path& path);

// TLS channel credentials trusting the CA in `ca_pem_path` and, when
// `cert_path` is given, presenting that client certificate and key. Files
// that cannot be read are read as empty (the handshake then fails).
std::shared_ptr<grpc::ChannelCredentials> TlsChannelCredentials(const std::string& ca_pem_path,
                                                                const std::string& cert_path = "",
                                                                const std::string& key_path = "");

}  // namespace recondb::testing

#endif  // RECONDB_TESTS_SUPPORT_TEST_CERTIFICATES_H_
