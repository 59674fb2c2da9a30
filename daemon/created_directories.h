// The directories a daemon's start creates for its data directory, so that a
// start that fails can leave the file system as it found it (see
// daemon/DESIGN.md, "A start that fails").
#ifndef RECONDB_DAEMON_CREATED_DIRECTORIES_H_
#define RECONDB_DAEMON_CREATED_DIRECTORIES_H_

#include <filesystem>
#include <vector>

#include "absl/status/status.h"

namespace recondb::daemon {

class CreatedDirectories {
 public:
  // Nothing to remove.
  CreatedDirectories() = default;

  // Records which of `data_dir` and its ancestors do not exist yet: those a
  // start (DataDirLock::Acquire) would create. Call it before the start.
  static CreatedDirectories Before(const std::filesystem::path& data_dir);

  // Removes, innermost first, each recorded directory that exists now,
  // with the files a start makes in a new data directory (LOCK, the store
  // and its -wal, -shm and -journal). A directory that holds anything else
  // is left as it is, with what it holds: something else put it there. OK
  // if nothing was recorded. UNAVAILABLE, naming the path, if a file or a
  // directory cannot be removed.
  // REQUIRES: the daemon that used the directory is gone (its store closed,
  // its LOCK released).
  absl::Status Remove() const;

 private:
  // Innermost first: data_dir, then its parent, ...
  std::vector<std::filesystem::path> missing_;
};

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_CREATED_DIRECTORIES_H_
