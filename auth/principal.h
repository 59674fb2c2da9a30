// Principals, permissions and table patterns: who a caller is and what it may
// do (auth/DESIGN.md).
#ifndef RECONDB_AUTH_PRINCIPAL_H_
#define RECONDB_AUTH_PRINCIPAL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recondb/v1/admin.pb.h"

namespace recondb::auth {

// What a grant allows on a table. Bit values, so that a Grant holds a set.
enum class Permission : uint8_t {
  kRead = 1,   // GetRecord, ListRecords, GetRecordHistory, GetChanges
  kWrite = 2,  // PutRecord, DeleteRecord, ResolveConflict
  kPull = 4,   // replication: receive the table's revisions
  kPush = 8,   // replication, ImportRevisions: send the table's revisions
};

inline constexpr uint8_t kAllPermissions = 1 | 2 | 4 | 8;

// "read", "write", "pull", "push": the verb in PERMISSION_DENIED messages.
std::string_view PermissionName(Permission permission);

// The public enum's value; INVALID_ARGUMENT naming `field` for
// PERMISSION_UNSPECIFIED or an unknown number.
absl::StatusOr<Permission> FromProto(v1::Permission permission, std::string_view field);
v1::Permission ToProto(Permission permission);

// Permissions on the tables `table_pattern` matches.
struct Grant {
  std::string table_pattern;
  uint8_t permissions = 0;  // a set of Permission bits

  bool Has(Permission p) const { return (permissions & static_cast<uint8_t>(p)) != 0; }
};

// An authenticated caller. Immutable once made: the Authorizer hands out
// shared snapshots, and a change to a principal makes a new one (the next
// call sees it).
struct Principal {
  std::string name;
  // The node-wide role: schema changes, peers, sync, backup, status and
  // principals. Implies every permission on every table.
  bool admin = false;
  std::vector<Grant> grants;
  std::vector<std::string> certificate_names;
  // The replication node ids bound to this principal.
  std::vector<std::string> node_ids;
  // The --auth_file this principal comes from; empty for the node's own
  // store. Such principals are read-only through the Admin RPCs.
  std::string source_file;

  // True if the principal has `permission` on `table` (admin: always).
  bool Allows(Permission permission, std::string_view table) const;
  // True if the principal has any permission on `table` (admin: always).
  bool AllowsAny(std::string_view table) const;
};

// The principal of every call when authentication is off: admin, so it may
// do everything, as before authentication existed.
inline constexpr std::string_view kAnonymousName = "anonymous";

// OK if `name` matches [a-z0-9][a-z0-9._-]{0,62}; else INVALID_ARGUMENT
// naming `field` and the rule.
absl::Status ValidatePrincipalName(std::string_view name, std::string_view field);

// OK if `pattern` is an identifier (IsIdentifier, common/table_names.h), a prefix of one
// followed by "*", or "*"; else INVALID_ARGUMENT naming `field`.
absl::Status ValidateTablePattern(std::string_view pattern, std::string_view field);

// True if `table` matches `pattern` (REQUIRES: a valid pattern).
bool PatternMatches(std::string_view pattern, std::string_view table);

// OK if `name` is 1-255 printable ASCII characters (a SAN DNS or URI entry,
// or a subject CN); else INVALID_ARGUMENT naming `field`.
absl::Status ValidateCertificateName(std::string_view name, std::string_view field);

}  // namespace recondb::auth

#endif  // RECONDB_AUTH_PRINCIPAL_H_
