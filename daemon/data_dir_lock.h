// Exclusive ownership of a data directory by one recondbd process, so that two
// daemons never open the same database file.
#ifndef RECONDB_DAEMON_DATA_DIR_LOCK_H_
#define RECONDB_DAEMON_DATA_DIR_LOCK_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace recondb::daemon {

// Holds flock(LOCK_EX) on <data_dir>/LOCK for its lifetime. The file holds
// the pid of the owner, for people; the lock itself is what counts, and the
// kernel drops it when the process dies however it dies, so a stale LOCK file
// never blocks a restart. The file is left in place on release (removing it
// would race with a daemon that just opened it).
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
  ~DataDirLock();

  // The path of the LOCK file.
  const std::string& path() const { return path_; }

 private:
  DataDirLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  const std::string path_;
  const int fd_;
};

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_DATA_DIR_LOCK_H_
