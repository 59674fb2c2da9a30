// SHA-256 over data given in pieces (OpenSSL EVP), for checking that a
// streamed file arrived whole (Admin.Backup).
#ifndef RECONDB_COMMON_SHA256_H_
#define RECONDB_COMMON_SHA256_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace recondb {

// Not thread-safe.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // The digest of everything given, as 64 lowercase hex digits. Ends the
  // hash: Update may not be called after it.
  std::string HexDigest();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

// The SHA-256 of the file `path`, as Sha256::HexDigest. UNAVAILABLE naming
// the path if it cannot be read.
absl::StatusOr<std::string> Sha256OfFile(const std::string& path);

}  // namespace recondb

#endif  // RECONDB_COMMON_SHA256_H_
