#include "storage/internal/sqlite_status.h"

#include <sqlite3.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "storage/disk_full.h"

namespace recondb::storage::internal {

absl::StatusCode SqliteStatusCode(int rc) {
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return absl::StatusCode::kAlreadyExists;
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
      return absl::StatusCode::kUnavailable;
    case SQLITE_CONSTRAINT:
      return absl::StatusCode::kFailedPrecondition;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::StatusCode::kDataLoss;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
    case SQLITE_TOOBIG:
      return absl::StatusCode::kResourceExhausted;
    case SQLITE_INTERRUPT:
      return absl::StatusCode::kCancelled;
    case SQLITE_ABORT:
      return absl::StatusCode::kAborted;
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::Status SqliteError(int rc, sqlite3* db, std::string_view context) {
  // Reaches users as is (a PutRecord's status): what happened and what to
  // do, without the statement, which means nothing to them. Nothing of the
  // failed write is kept (SQLite rolls the statement or the transaction
  // back, and the store rolls back what is left).
  if ((rc & 0xff) == SQLITE_FULL) return absl::ResourceExhaustedError(kDiskFullMessage);
  // sqlite3_errmsg describes the most recent failure on `db`, which is the
  // one being reported; without a connection only the code's text is known.
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message = absl::StrCat(std::string(context), ": ", detail, " (sqlite code ", rc, ")");
  return absl::Status(SqliteStatusCode(rc), message);
}

}  // namespace recondb::storage::internal
