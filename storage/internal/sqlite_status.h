// The one place where SQLite result codes become absl::Status codes. Callers
// act on the code (storage/storage.h, STYLE.md "Errors"), so the mapping is
// by what the caller should do next:
//
//   SQLITE_BUSY, LOCKED, IOERR, CANTOPEN, READONLY, PERM, PROTOCOL
//                                  -> UNAVAILABLE (retry later; nothing kept)
//   SQLITE_FULL                    -> RESOURCE_EXHAUSTED, storage::kDiskFullMessage
//                                     (retry once space is freed; nothing kept)
//   SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY -> ALREADY_EXISTS
//   other SQLITE_CONSTRAINT_*      -> FAILED_PRECONDITION
//   SQLITE_CORRUPT, NOTADB         -> DATA_LOSS
//   SQLITE_NOMEM, TOOBIG           -> RESOURCE_EXHAUSTED
//   SQLITE_INTERRUPT               -> CANCELLED
//   SQLITE_ABORT                   -> ABORTED
//   anything else (ERROR, MISUSE, RANGE, SCHEMA, ...) -> INTERNAL (a bug)
#ifndef RECONDB_STORAGE_INTERNAL_SQLITE_STATUS_H_
#define RECONDB_STORAGE_INTERNAL_SQLITE_STATUS_H_

#include <string_view>

#include "absl/status/status.h"

struct sqlite3;

namespace recondb::storage::internal {

// The status code for SQLite result code `rc` (primary or extended).
// REQUIRES: rc is an error, not SQLITE_OK / SQLITE_ROW / SQLITE_DONE.
absl::StatusCode SqliteStatusCode(int rc);

// A status for a failed SQLite call that returned `rc` on `db` (may be null):
// the mapped code and "<context>: <SQLite's message> (sqlite code <rc>)".
absl::Status SqliteError(int rc, sqlite3* db, std::string_view context);

}  // namespace recondb::storage::internal

#endif  // RECONDB_STORAGE_INTERNAL_SQLITE_STATUS_H_
