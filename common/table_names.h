// The rule for names of user tables and columns (docs/api.md, "Tables"):
// the one home of it, applied alike by the engine (CreateTable and every
// request), the reconciler (a link's table filter, a peer's Hello) and the
// grant patterns of auth, so that no layer lets through a name another
// refuses.
#ifndef RECONDB_COMMON_TABLE_NAMES_H_
#define RECONDB_COMMON_TABLE_NAMES_H_

#include <string_view>

#include "absl/status/status.h"

namespace recondb {

// The shape of table and column names, for messages.
inline constexpr std::string_view kIdentifierPattern = "^[a-z][a-z0-9_]{0,62}$";

// True if `name` matches kIdentifierPattern.
bool IsIdentifier(std::string_view name);

// OK if `name` may name a user table: an identifier that does not end in
// "_history" (the history table beside each table) nor start with "sqlite_"
// (SQLite's own). Else INVALID_ARGUMENT quoting `name` (escaped and cut, see
// QuoteInput) and saying which part of the rule it breaks.
absl::Status ValidateTableName(std::string_view name);

}  // namespace recondb

#endif  // RECONDB_COMMON_TABLE_NAMES_H_
