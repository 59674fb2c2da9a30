// The address recondbd listens on (--listen): a TCP host and port, or a Unix
// domain socket for clients on the same machine.
#ifndef RECONDB_DAEMON_LISTEN_ADDRESS_H_
#define RECONDB_DAEMON_LISTEN_ADDRESS_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace recondb::daemon {

// The prefix of a Unix domain socket address, as gRPC spells it.
inline constexpr std::string_view kUnixAddressPrefix = "unix:";

// The longest socket path the kernel takes (sockaddr_un.sun_path holds 108
// bytes with the terminating NUL).
inline constexpr size_t kMaxUnixSocketPathBytes = 107;

// A TCP listening address split in two: "127.0.0.1:7470" -> {"127.0.0.1",
// 7470}, "[::1]:0" -> {"[::1]", 0}.
struct HostPort {
  std::string host;
  int port = 0;
};

// INVALID_ARGUMENT unless `address` is "host:port" with a non-empty host and
// a port in 0..65535.
absl::StatusOr<HostPort> ParseHostPort(std::string_view address);

// A parsed --listen value: "host:port", or "unix:PATH" (PATH absolute, or
// relative to the daemon's working directory).
struct ListenAddress {
  // Empty for TCP; else the socket's path, without the "unix:" prefix.
  std::string unix_path;
  // TCP only.
  HostPort tcp;

  bool is_unix() const { return !unix_path.empty(); }
  // True if only this machine can reach it: a Unix socket, or a TCP host
  // that is "localhost", an IPv4 address in 127.0.0.0/8 or "[::1]". Any
  // other host (0.0.0.0, [::], a LAN address, a host name) may be reachable
  // from the network.
  bool IsLocalOnly() const;
};

// INVALID_ARGUMENT, quoting `address`, unless it is "host:port" as
// ParseHostPort wants it or "unix:PATH" with a non-empty PATH of at most
// kMaxUnixSocketPathBytes bytes and no NUL byte.
absl::StatusOr<ListenAddress> ParseListenAddress(std::string_view address);

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_LISTEN_ADDRESS_H_
