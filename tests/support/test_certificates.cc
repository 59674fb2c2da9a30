#include "tests/support/test_certificates.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"

#ifndef RECONDB_MAKE_CERTS_PATH
#define RECONDB_MAKE_CERTS_PATH "scripts/make-certs.sh"
#endif

namespace recondb::testing {
namespace {

std::string Quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

std::string MakeCertsScript() {
  const char* env = std::getenv("RECONDB_MAKE_CERTS");
  return env != nullptr && *env != '\0' ? env : RECONDB_MAKE_CERTS_PATH;
}

absl::Status MakeCertificates(const std::filesystem::path& dir,
                              const std::vector<std::string>& nodes,
                              const CertificateOptions& options) {
  std::string command =
      absl::StrCat(Quoted(MakeCertsScript()), " --ca-name ", Quoted(options.ca_name),
                   options.expired ? " --expired" : "", " ", Quoted(dir.string()));
  for (const std::string& node : nodes) absl::StrAppend(&command, " ", Quoted(node));
  absl::StrAppend(&command, " 2>&1");
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return absl::InternalError(absl::StrCat("cannot run ", command));
  std::string output;
  char buffer[512];
  while (size_t n = std::fread(buffer, 1, sizeof(buffer), pipe)) output.append(buffer, n);
  const int status = ::pclose(pipe);
  if (status != 0) {
    return absl::InternalError(absl::StrCat(command, " failed (", status, "): ", output));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadTextFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InternalError(absl::StrCat("cannot read ", path.string()));
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::shared_ptr<grpc::ChannelCredentials> TlsChannelCredentials(const std::string& ca_pem_path,
                                                                const std::string& cert_path,
                                                                const std::string& key_path) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadTextFile(ca_pem_path).value_or("");
  if (!cert_path.empty()) {
    options.pem_cert_chain = ReadTextFile(cert_path).value_or("");
    options.pem_private_key = ReadTextFile(key_path).value_or("");
  }
  return grpc::SslCredentials(options);
}

}  // namespace recondb::testing
