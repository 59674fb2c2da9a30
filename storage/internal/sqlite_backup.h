// The file work of a SQLite backup (Storage::Backup): the consistent copy
// itself (VACUUM INTO), syncing it, and removing what a failed backup left.
// Knows nothing of recondb's tables. Design: storage/DESIGN.md, "Backups".
#ifndef RECONDB_STORAGE_INTERNAL_SQLITE_BACKUP_H_
#define RECONDB_STORAGE_INTERNAL_SQLITE_BACKUP_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/internal/sqlite_connection.h"

namespace recondb::storage::internal {

// Writes a compact, consistent copy of the database of `source` to `path`
// (which must not exist or be empty) from one read snapshot: writers on
// other connections go on meanwhile. The copy is in rollback-journal mode
// and NOT synced. REQUIRES: `source` is not in a transaction and not
// query_only. UNAVAILABLE (disk full, I/O error, no such directory) as
// SQLite says; a partial file may be left at `path`.
absl::Status VacuumInto(Connection& source, const std::string& path);

// fsyncs the file `path`, then its directory, so that the file and its name
// survive a power loss. UNAVAILABLE naming the path and the error.
absl::Status SyncFileAndDirectory(const std::string& path);

// Removes `path` and its -wal, -shm and -journal companions if present.
// Best effort: what cannot be removed is left.
void RemoveDatabaseFiles(const std::string& path);

// The size of the file `path` in bytes; UNAVAILABLE if it cannot be read.
absl::StatusOr<int64_t> FileSize(const std::string& path);

}  // namespace recondb::storage::internal

#endif  // RECONDB_STORAGE_INTERNAL_SQLITE_BACKUP_H_
