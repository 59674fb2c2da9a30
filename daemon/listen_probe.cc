#include "daemon/listen_probe.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "daemon/listen_address.h"

namespace recondb::daemon {
namespace {

// 0 if `ai` binds, else the errno of the failure. The socket is closed
// again at once.
int TryBind(const addrinfo& ai) {
  const int fd = socket(ai.ai_family, ai.ai_socktype | SOCK_CLOEXEC, ai.ai_protocol);
  if (fd < 0) return errno;
  const int one = 1;
  int error = 0;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      bind(fd, ai.ai_addr, ai.ai_addrlen) != 0) {
    error = errno;
  }
  close(fd);
  return error;
}

}  // namespace

absl::Status CheckCanListen(std::string_view listen) {
  ASSIGN_OR_RETURN(ListenAddress address, ParseListenAddress(listen));
  if (address.is_unix() || address.tcp.port == 0) return absl::OkStatus();
  std::string host = address.tcp.host;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* resolved = nullptr;
  const std::string port = std::to_string(address.tcp.port);
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &resolved) != 0) return absl::OkStatus();
  int in_use = 0, other = 0;
  for (const addrinfo* ai = resolved; ai != nullptr; ai = ai->ai_next) {
    const int error = TryBind(*ai);
    if (error == 0) {
      freeaddrinfo(resolved);
      return absl::OkStatus();
    }
    (error == EADDRINUSE ? in_use : other) = error;
  }
  freeaddrinfo(resolved);
  if (in_use == 0 && other == 0) return absl::OkStatus();  // Resolved to nothing.
  if (in_use != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", std::string(listen),
                     ": address already in use (is another recondbd running?)"));
  }
  return absl::UnavailableError(
      absl::StrCat("cannot listen on ", std::string(listen), ": ", std::strerror(other)));
}

}  // namespace recondb::daemon
