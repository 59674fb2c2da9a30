// A lock file owned by one recondbd process: what keeps two daemons off the
// same data directory (DataDirLock) or the same Unix socket path.
#ifndef RECONDB_DAEMON_PID_LOCK_FILE_H_
#define RECONDB_DAEMON_PID_LOCK_FILE_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace recondb::daemon {

// Holds flock(LOCK_EX) on a file for its lifetime. The file holds the pid of
// the owner, for people; the lock itself is what counts, and the kernel
// drops it when the process dies however it dies, so a stale file never
// blocks a restart. The file is left in place on release (removing it would
// race with a daemon that just opened it).
class PidLockFile {
 public:
  // Opens `path` (creating it, not its directory) and takes the lock without
  // waiting. FAILED_PRECONDITION "<held> by another recondbd (pid N)" if
  // another open file description holds it — another process, or another
  // PidLockFile of this process. UNAVAILABLE if the file cannot be opened,
  // locked or written.
  static absl::StatusOr<std::unique_ptr<PidLockFile>> Acquire(std::string path,
                                                              std::string_view held);

  PidLockFile(const PidLockFile&) = delete;
  PidLockFile& operator=(const PidLockFile&) = delete;
  // Releases the lock.
  ~PidLockFile();

  const std::string& path() const { return path_; }

 private:
  PidLockFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  const std::string path_;
  const int fd_;
};

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_PID_LOCK_FILE_H_
