// The temporary files of Admin.Backup in a data directory: each backup is
// written to a file of its own there, streamed, then removed. A daemon that
// died mid-backup leaves its file behind; the next daemon on the directory
// removes it at start (it holds the directory's lock, so no backup of
// another process can be running).
#ifndef RECONDB_DAEMON_BACKUP_FILES_H_
#define RECONDB_DAEMON_BACKUP_FILES_H_

#include <string>
#include <string_view>
#include <vector>

namespace recondb::daemon {

// Every temporary backup file's name starts with this (and SQLite's
// companions of it, -wal, -shm, -journal, too).
inline constexpr char kTempBackupPrefix[] = "backup-in-progress-";

// A path in `dir` that no other backup uses: kTempBackupPrefix, a random
// UUID, ".sqlite3".
std::string NewTempBackupPath(std::string_view dir);

// Removes every file of `dir` whose name starts with kTempBackupPrefix and
// returns their names. REQUIRES: the caller holds the directory's lock.
// Best effort: what cannot be removed is left (and named in nothing).
std::vector<std::string> RemoveStaleTempBackups(std::string_view dir);

// Owns a temporary backup path: the file (if any) is removed when the
// object dies, however the backup ended.
class TempBackupFile {
 public:
  explicit TempBackupFile(std::string path) : path_(std::move(path)) {}
  ~TempBackupFile();
  TempBackupFile(const TempBackupFile&) = delete;
  TempBackupFile& operator=(const TempBackupFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  const std::string path_;
};

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_BACKUP_FILES_H_
