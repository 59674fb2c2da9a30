#include "daemon/pid_lock_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace recondb::daemon {
namespace {

absl::Status ErrnoError(std::string_view what, const std::string& path, int err) {
  return absl::UnavailableError(
      absl::StrCat("cannot ", Sv(what), " ", path, ": ", std::strerror(err)));
}

// The pid written by the current owner, or "" if unreadable.
std::string ReadOwner(int fd) {
  char buf[32] = {};
  const ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return "";
  return std::string(absl::StripAsciiWhitespace(absl::string_view(buf, n)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PidLockFile>> PidLockFile::Acquire(std::string path,
                                                                  std::string_view held) {
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("open", path, errno);

  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      const std::string owner = ReadOwner(fd);
      close(fd);
      return absl::FailedPreconditionError(
          absl::StrCat(Sv(held), " by another recondbd",
                       owner.empty() ? "" : absl::StrCat(" (pid ", owner, ")")));
    }
    close(fd);
    return ErrnoError("lock", path, err);
  }

  const std::string pid = absl::StrCat(getpid(), "\n");
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    const int err = errno;
    close(fd);
    return ErrnoError("write", path, err);
  }
  return std::unique_ptr<PidLockFile>(new PidLockFile(std::move(path), fd));
}

PidLockFile::~PidLockFile() {
  // Closing the only descriptor of the open file description drops the lock.
  close(fd_);
}

}  // namespace recondb::daemon
