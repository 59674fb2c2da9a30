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

// Whether a server accepts connections on the socket at `path`.
bool SomeoneAccepts(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) return false;
  std::memcpy(address.sun_path, path.data(), path.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  // A listening socket accepts at once, even before the server calls
  // accept(); a stale one refuses (ECONNREFUSED).
  const bool connected =
      connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return connected;
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
  if (SomeoneAccepts(socket_path)) {
    return absl::FailedPreconditionError(
        absl::StrCat("unix socket ", socket_path, " is in use by another process"));
  }
  return lock;
}

}  // namespace recondb::daemon
