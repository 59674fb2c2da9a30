// The principals a node knows, from its own store (<data_dir>/auth.json, or
// memory) and from an optional read-only --auth_file, as protobuf JSON of
// recondb.internal.AuthStore (proto/recondb/internal/auth_store.proto;
// auth/DESIGN.md, "Persistence").
#ifndef RECONDB_AUTH_PRINCIPAL_STORE_H_
#define RECONDB_AUTH_PRINCIPAL_STORE_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recondb/internal/auth_store.pb.h"

namespace recondb::auth {

// Reads an AuthStore from protobuf JSON. NOT_FOUND if `path` does not exist;
// UNAVAILABLE naming the path if it cannot be read; INVALID_ARGUMENT naming
// the path if it is not JSON of an AuthStore (unknown fields are refused).
absl::StatusOr<internal::AuthStore> ReadStoreFile(const std::string& path);

// Replaces `path` atomically with `store` as JSON: a temporary file beside
// it, mode 0600, synced, renamed over `path`, the directory synced. A crash
// leaves the old file or the new one. UNAVAILABLE naming the path otherwise.
absl::Status WriteStoreFile(const std::string& path, const internal::AuthStore& store);

// OK if every principal has a valid, unique name, valid table patterns and
// permissions, valid certificate names, and tokens with a 16-hex-digit id
// and a 64-hex-digit SHA-256; else INVALID_ARGUMENT naming `source`, the
// principal and the field.
absl::Status ValidateStore(const internal::AuthStore& store, std::string_view source);

// The node's own principals (mutable, persisted) and the --auth_file ones
// (read-only). Not thread-safe: the Authorizer serialises access.
class PrincipalStore {
 public:
  // `path`: the node's own store, created on the first change; empty keeps
  // it in memory only. `auth_file`: empty for none. Errors: those of
  // ReadStoreFile and ValidateStore (an --auth_file that does not exist is
  // NOT_FOUND naming it), FAILED_PRECONDITION if a principal, token id or
  // certificate name is in both.
  static absl::StatusOr<std::unique_ptr<PrincipalStore>> Open(std::string path,
                                                              std::string auth_file);

  const internal::AuthStore& own() const { return own_; }
  const internal::AuthStore& file() const { return file_; }
  const std::string& path() const { return path_; }
  const std::string& auth_file() const { return auth_file_; }

  // Applies `change` to a copy of the node's own store, validates the
  // result against the file's principals as Open does, writes it (unless
  // in memory) and only then makes it current: on any error nothing has
  // changed. Returns `change`'s error, or the validation or write error.
  absl::Status Mutate(const std::function<absl::Status(internal::AuthStore&)>& change);

 private:
  PrincipalStore(std::string path, std::string auth_file)
      : path_(std::move(path)), auth_file_(std::move(auth_file)) {}

  absl::Status CheckDisjoint(const internal::AuthStore& own) const;

  const std::string path_;
  const std::string auth_file_;
  internal::AuthStore own_;
  internal::AuthStore file_;
};

}  // namespace recondb::auth

#endif  // RECONDB_AUTH_PRINCIPAL_STORE_H_
