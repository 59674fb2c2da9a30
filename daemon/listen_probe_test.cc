// CheckCanListen against sockets the test holds itself.
#include "daemon/listen_probe.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace recondb::daemon {
namespace {

using ::recondb::testing::StatusIs;
using ::testing::HasSubstr;

// A socket listening on 127.0.0.1 on a port the kernel chose, closed when
// the object dies.
class Listener {
 public:
  Listener() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd_, 1), 0);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
  }
  ~Listener() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(ListenProbeTest, APortInUseIsSaidInOneClearLine) {
  Listener listener;
  const std::string address = absl::StrCat("127.0.0.1:", listener.port());
  EXPECT_THAT(CheckCanListen(address),
              StatusIs(absl::StatusCode::kUnavailable,
                       "cannot listen on " + address +
                           ": address already in use (is another recondbd running?)"));
}

TEST(ListenProbeTest, PortZeroAndUnixSocketsAreNotProbed) {
  EXPECT_OK(CheckCanListen("127.0.0.1:0"));
  EXPECT_OK(CheckCanListen("unix:/nonexistent/recondbd.sock"));
}

TEST(ListenProbeTest, AnAddressOfNoInterfaceIsNamedWithTheReason) {
  // 192.0.2.0/24 is TEST-NET-1: no interface of this machine has it.
  EXPECT_THAT(CheckCanListen("192.0.2.1:7470"),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("cannot listen on 192.0.2.1:7470: Cannot assign requested")));
}

TEST(ListenProbeTest, ABadAddressIsInvalid) {
  EXPECT_THAT(CheckCanListen("no-port"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace recondb::daemon
