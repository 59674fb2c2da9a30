// Restoring a backup (Admin.Backup, `recondb backup`) into a data directory,
// offline: the one step of `recondb restore` (docs/cli.md, "restore").
//
// The directory is locked like a daemon locks it, so no recondbd can run
// on it meanwhile; the backup is checked (a recondb store that passes
// SQLite's quick_check, of a format this build reads); it is copied to a
// temporary file in the directory and synced; the store already there, if
// any, is moved aside (never deleted) with its -wal and -shm to a dated
// name; the copy is renamed into place and the directory synced. The
// backup file itself is only read.
#ifndef RECONDB_DAEMON_RESTORE_H_
#define RECONDB_DAEMON_RESTORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/backup.h"

namespace recondb::daemon {

// The temporary copy of a restore in progress starts with this. A restore
// that died leaves it behind; it is never removed by a daemon (between
// moving the old store aside and renaming the copy into place, it is the
// restored store).
inline constexpr char kTempRestorePrefix[] = "restore-in-progress-";

struct RestoreOptions {
  // The backup file. Required.
  std::string backup;
  // The data directory; created if missing. Required.
  std::string data_dir;
  // Names the moved-aside store: recondb-before-restore-<now>.sqlite3.
  // Default: the time of the call.
  absl::Time now = absl::Now();
};

struct RestoreResult {
  // <data_dir>/recondb.sqlite3.
  std::string store_path;
  // What the backup records of itself; nullopt for a store file that is no
  // backup copy (e.g. a copy of a stopped daemon's recondb.sqlite3).
  std::optional<engine::BackupInfo> backup;
  // The size of the restored file.
  int64_t bytes = 0;
  // Where the files of the store that was there went (store first, then
  // its -wal and -shm if present); empty if there was none.
  std::vector<std::string> moved_aside;
};

// Restores options.backup into options.data_dir (see the file comment).
// INVALID_ARGUMENT if a path is empty or the backup is the directory's own
// store; NOT_FOUND if there is no backup file; FAILED_PRECONDITION if a
// recondbd runs on the directory ("... locked by another recondbd (pid
// N)") or the backup cannot be restored (InspectSqliteStore says why);
// UNAVAILABLE for an I/O error (disk full...). On failure the directory is
// as it was (only a restore killed half way leaves its copy, named
// kTempRestorePrefix...).
absl::StatusOr<RestoreResult> RestoreBackup(const RestoreOptions& options);

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_RESTORE_H_
