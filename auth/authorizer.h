// Who is calling, and may they? The one place where recondbd authenticates
// callers (bearer tokens, client certificates) and checks their roles and
// grants, and where principals are managed (auth/DESIGN.md).
#ifndef RECONDB_AUTH_AUTHORIZER_H_
#define RECONDB_AUTH_AUTHORIZER_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "auth/principal.h"
#include "auth/principal_store.h"
#include "recondb/v1/admin.pb.h"

namespace grpc {
class ServerContextBase;
}

namespace recondb::auth {

struct AuthorizerOptions {
  // false (--auth=off, the default): every call is the principal
  // "anonymous", which may do everything, and nothing is read or written.
  bool enabled = false;
  // The node's own store, <data_dir>/auth.json; empty keeps it in memory.
  std::string store_path;
  // --auth_file: read-only principals; empty for none.
  std::string auth_file;
};

// What a caller presented, as taken from a call (Authenticate) or built by a
// test.
struct Credentials {
  // The value of the "authorization" metadata, if sent.
  std::optional<std::string> authorization;
  // The SAN DNS and URI entries and the subject CN of a verified client
  // certificate; empty without one.
  std::vector<std::string> certificate_names;
};

// What BootstrapAdmin did.
struct BootstrapResult {
  // False if an admin principal already existed (nothing was done).
  bool created_admin = false;
  // True if the token was made and written to the token file; false if the
  // file held one already.
  bool wrote_token_file = false;
};

// Thread-safe. Principals are immutable snapshots: a change (a revoked token,
// a deleted principal, a new grant) applies from the next Authenticate on;
// a call already running keeps the principal it started with.
class Authorizer {
 public:
  // Loads the stores (PrincipalStore::Open's errors). With enabled = false
  // nothing is read.
  static absl::StatusOr<std::unique_ptr<Authorizer>> Open(AuthorizerOptions options);

  bool enabled() const { return options_.enabled; }

  // The caller of a call: the principal of its bearer token if it sent
  // "authorization: Bearer <token>", else of its verified client
  // certificate. UNAUTHENTICATED when neither is presented ("missing
  // credentials"), the token is malformed, unknown or revoked, or the
  // certificate maps to no principal; the message never contains the token.
  // With auth off: the anonymous principal, always.
  absl::StatusOr<std::shared_ptr<const Principal>> Authenticate(
      const grpc::ServerContextBase& context) const;
  absl::StatusOr<std::shared_ptr<const Principal>> Authenticate(
      const Credentials& credentials) const;

  // OK if `principal` has `permission` on `table`; else PERMISSION_DENIED
  // "principal P may not <read|write|pull|push> table T".
  absl::Status Check(const Principal& principal, Permission permission,
                     std::string_view table) const;
  // OK if `principal` has any permission on `table`; else PERMISSION_DENIED
  // "principal P has no permission on table T".
  absl::Status CheckAny(const Principal& principal, std::string_view table) const;
  // OK if `principal` has the admin role; else PERMISSION_DENIED
  // "principal P does not have the admin role (needed for <what>)".
  absl::Status CheckAdmin(const Principal& principal, std::string_view what = "") const;
  bool Allows(const Principal& principal, Permission permission, std::string_view table) const {
    return principal.Allows(permission, table);
  }

  // Binds replication node id `node_id` to `principal` the first time it
  // presents it (persisted); OK if it is bound to it already.
  // PERMISSION_DENIED naming the node id and the principal if another
  // principal owns it, or if the principal no longer exists. With auth off,
  // OK and nothing is bound. UNAVAILABLE if the binding cannot be written.
  absl::Status ClaimNodeId(const Principal& principal, std::string_view node_id);

  // The principal that the first of `names` that maps to one maps to (a
  // peer's verified certificate's SAN entries and CN), or NOT_FOUND listing
  // the names. With auth off: the anonymous principal.
  absl::StatusOr<std::shared_ptr<const Principal>> PrincipalForCertificateNames(
      const std::vector<std::string>& names) const;

  // With auth on, if no principal has the admin role: creates the
  // principal "admin" (admin role) whose token is the one in `token_file`
  // if that file exists (it must hold a well-formed token and nothing else
  // but surrounding whitespace: FAILED_PRECONDITION naming the file
  // otherwise), else a fresh token written to a new `token_file` (O_EXCL,
  // mode 0600). FAILED_PRECONDITION if the name "admin" is taken by a
  // principal without the role; UNAVAILABLE if a file cannot be read or
  // written. REQUIRES: enabled().
  absl::StatusOr<BootstrapResult> BootstrapAdmin(const std::string& token_file);

  // Management (the Admin RPCs). Each answers FAILED_PRECONDITION when auth
  // is off, and for a DeletePrincipal or Revoke(admin) that would leave no
  // principal with the admin role (nobody could manage the node any more); INVALID_ARGUMENT naming
  // the field for a bad name, pattern or permission; NOT_FOUND for an unknown principal or token;
  // FAILED_PRECONDITION naming the principal and the file for one from
  // --auth_file; UNAVAILABLE if the store cannot be written (nothing
  // changed then).
  absl::StatusOr<v1::PrincipalInfo> CreatePrincipal(const v1::CreatePrincipalRequest& request);
  absl::Status DeletePrincipal(std::string_view name);
  absl::StatusOr<std::vector<v1::PrincipalInfo>> ListPrincipals() const;
  absl::StatusOr<v1::IssueTokenResponse> IssueToken(std::string_view principal);
  absl::Status RevokeToken(std::string_view principal, std::string_view token_id);
  absl::StatusOr<v1::PrincipalInfo> Grant(const v1::GrantRequest& request);
  absl::StatusOr<v1::PrincipalInfo> Revoke(const v1::RevokeRequest& request);
  absl::StatusOr<v1::PrincipalInfo> SetCertificateNames(
      const v1::SetCertificateNamesRequest& request);
  // The public description of `principal` (WhoAmI), from the current store
  // when it is there (with its tokens' ids), else from the snapshot.
  v1::PrincipalInfo Describe(const Principal& principal) const;

  // The anonymous principal (auth off).
  static std::shared_ptr<const Principal> Anonymous();

 private:
  struct TokenEntry {
    std::string principal;
    std::string sha256;
  };
  // An immutable index of the stores, rebuilt after every change.
  struct Snapshot {
    std::map<std::string, std::shared_ptr<const Principal>, std::less<>> principals;
    std::map<std::string, TokenEntry, std::less<>> tokens;              // by token id
    std::map<std::string, std::string, std::less<>> certificate_names;  // -> principal
    std::map<std::string, std::string, std::less<>> node_owners;        // node id -> principal
  };

  explicit Authorizer(AuthorizerOptions options) : options_(std::move(options)) {}

  std::shared_ptr<const Snapshot> snapshot() const ABSL_LOCKS_EXCLUDED(mu_);
  void Rebuild() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status RequireEnabled() const;
  // Applies `change` to the own-store principal `name` (its errors as the
  // management methods describe), rebuilds, and returns its description.
  // `change` runs with mu_ held.
  absl::StatusOr<v1::PrincipalInfo> MutatePrincipal(
      std::string_view name, std::string_view field,
      const std::function<absl::Status(internal::StoredPrincipal&)>& change);
  v1::PrincipalInfo DescribeLocked(std::string_view name) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // OK if a principal other than `name` has the admin role; else
  // FAILED_PRECONDITION naming `name` as the last admin.
  absl::Status CheckNotLastAdmin(std::string_view name) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const AuthorizerOptions options_;
  mutable absl::Mutex mu_;
  std::unique_ptr<PrincipalStore> store_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const Snapshot> snapshot_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recondb::auth

#endif  // RECONDB_AUTH_AUTHORIZER_H_
