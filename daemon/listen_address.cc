#include "daemon/listen_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace recondb::daemon {

absl::StatusOr<HostPort> ParseHostPort(std::string_view address) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(Sv(address.substr(colon + 1)), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("listening address \"", Sv(address),
                     "\" is not host:port with a port between 0 and 65535, nor unix:PATH"));
  }
  return HostPort{std::string(address.substr(0, colon)), port};
}

bool ListenAddress::IsLocalOnly() const {
  if (is_unix()) return true;
  const std::string& host = tcp.host;
  if (host == "localhost" || host == "[::1]") return true;
  in_addr ipv4{};
  return inet_pton(AF_INET, host.c_str(), &ipv4) == 1 && (ntohl(ipv4.s_addr) >> 24) == 127;
}

absl::StatusOr<ListenAddress> ParseListenAddress(std::string_view address) {
  ListenAddress parsed;
  if (address.substr(0, kUnixAddressPrefix.size()) != kUnixAddressPrefix) {
    ASSIGN_OR_RETURN(parsed.tcp, ParseHostPort(address));
    return parsed;
  }
  const std::string_view path = address.substr(kUnixAddressPrefix.size());
  if (path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("listening address \"", Sv(address), "\" has no socket path after unix:"));
  }
  if (path.size() > kMaxUnixSocketPathBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "listening address \"", Sv(address), "\": the socket path is ", path.size(),
        " bytes, over the kernel's limit of ", kMaxUnixSocketPathBytes));
  }
  if (path.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("listening address \"", Sv(address), "\": the socket path holds a NUL byte"));
  }
  parsed.unix_path = std::string(path);
  return parsed;
}

}  // namespace recondb::daemon
