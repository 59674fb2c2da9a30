// Exclusive ownership of a data directory by one recondbd process, so that two
// daemons never open the same database file.
#ifndef RECONDB_DAEMON_DATA_DIR_LOCK_H_
#define RECONDB_DAEMON_DATA_DIR_LOCK_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "daemon/pid_lock_file.h"

namespace recondb::daemon {

// Holds a PidLockFile on <data_dir>/LOCK for its lifetime (the kernel drops
// the lock when the process dies, so a stale LOCK file never blocks a
// restart).
class DataDirLock {
 public:
  // Creates `data_dir` (and its parents) if missing, then takes the lock
  // without waiting. FAILED_PRECONDITION "data directory X is locked by
  // another recondbd (pid N)" if another open file description holds it —
  // another process, or another DataDirLock of this process. UNAVAILABLE if
  // the directory or the file cannot be created or opened.
  static absl::StatusOr<std::unique_ptr<DataDirLock>> Acquire(std::string_view data_dir);

  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  // Releases the lock.
  ~DataDirLock() = default;

  // The path of the LOCK file.
  const std::string& path() const { return file_->path(); }

 private:
  explicit DataDirLock(std::unique_ptr<PidLockFile> file) : file_(std::move(file)) {}

  const std::unique_ptr<PidLockFile> file_;
};

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_DATA_DIR_LOCK_H_
