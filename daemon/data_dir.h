// The files of a recondbd data directory (--data_dir), for the daemon and
// the offline tools that work on one (recondb restore): LOCK (DataDirLock),
// the store, and the temporary files of backups (backup_files.h) and
// restores (restore.h).
#ifndef RECONDB_DAEMON_DATA_DIR_H_
#define RECONDB_DAEMON_DATA_DIR_H_

namespace recondb::daemon {

// The SQLite store, with SQLite's -wal and -shm beside it while it is open.
inline constexpr char kDatabaseFile[] = "recondb.sqlite3";
// The node's principals (auth/DESIGN.md); not part of a backup.
inline constexpr char kAuthFile[] = "auth.json";

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_DATA_DIR_H_
