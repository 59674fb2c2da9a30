#include "daemon/unix_socket_claim.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace recondb::daemon {
namespace {

// What a connection attempt says about the socket at `path`.
enum class Probe { kServed, kStale, kUnknown };

Probe ProbeSocket(const std::string& path, int* error) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    *error = ENAMETOOLONG;
    return Probe::kUnknown;
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  // Non-blocking, so that a server whose backlog is full answers EAGAIN at
  // once instead of holding the start-up.
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    *error = errno;
    return Probe::kUnknown;
  }
  const int rc = connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  *error = rc == 0 ? 0 : errno;
  close(fd);
  // A listening socket accepts (or queues) at once, even before its server
  // calls accept(); a socket whose server is gone refuses.
  if (rc == 0 || *error == EAGAIN) return Probe::kServed;
  if (*error == ECONNREFUSED) return Probe::kStale;
  return Probe::kUnknown;  // Say EACCES: replacing it could cut off a server.
}

}  // namespace

absl::StatusOr<std::unique_ptr<PidLockFile>> ClaimUnixSocketPath(const std::string& socket_path) {
  ASSIGN_OR_RETURN(std::unique_ptr<PidLockFile> lock,
                   PidLockFile::Acquire(absl::StrCat(socket_path, ".lock"),
                                        absl::StrCat("unix socket ", socket_path, " is in use")));
  struct stat st;
  if (lstat(socket_path.c_str(), &st) != 0) return lock;  // Nothing there yet.
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(socket_path, " exists and is not a socket; recondbd will not replace it"));
  }
  int error = 0;
  switch (ProbeSocket(socket_path, &error)) {
    case Probe::kStale:
      return lock;
    case Probe::kServed:
      return absl::FailedPreconditionError(
          absl::StrCat("unix socket ", socket_path, " is in use by another process"));
    case Probe::kUnknown:
      break;
  }
  return absl::FailedPreconditionError(
      absl::StrCat("cannot tell whether unix socket ", socket_path, " is in use (connect: ",
                   std::strerror(error), "); remove it if no server uses it"));
}

}  // namespace recondb::daemon
