// Reading a SQLite store file without opening it as a store: what an
// offline tool (`recondb restore`) checks before it puts a backup in place.
#ifndef RECONDB_STORAGE_SQLITE_INSPECT_H_
#define RECONDB_STORAGE_SQLITE_INSPECT_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace recondb::storage {

struct SqliteStoreFile {
  // _meta.format_version (docs/storage-format.md).
  int format_version = 0;
  // Every row of _meta: key -> value.
  std::map<std::string, std::string> meta;
  // The size of the file in bytes.
  int64_t bytes = 0;
};

// Reads the store at `path` without writing to it or beside it (SQLite's
// immutable mode: no lock, no -wal or -shm made), after SQLite's
// `PRAGMA quick_check` of the whole file. NOT_FOUND if there is no such
// file; FAILED_PRECONDITION saying why if it has a -wal file beside it (it
// is open, or was not closed cleanly: its last writes are in the WAL), is
// not a SQLite database, fails the check, is not a recondb store (no _meta
// format version) or has a format newer than this build reads; UNAVAILABLE
// if it cannot be read.
absl::StatusOr<SqliteStoreFile> InspectSqliteStore(const std::string& path);

}  // namespace recondb::storage

#endif  // RECONDB_STORAGE_SQLITE_INSPECT_H_
