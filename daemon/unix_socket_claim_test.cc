#include "daemon/unix_socket_claim.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace recondb::daemon {
namespace {

using ::recondb::testing::StatusIs;
using ::recondb::testing::TempDir;
using ::testing::HasSubstr;

// A socket bound at `path`, listening or not; closed with the object (the
// file stays, as a crashed server's does).
class BoundSocket {
 public:
  BoundSocket(const std::string& path, bool listening) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.data(), path.size());
    ok_ = fd_ >= 0 && bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0 &&
          (!listening || listen(fd_, 1) == 0);
  }
  ~BoundSocket() { close(fd_); }
  bool ok() const { return ok_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

bool IsSocket(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

TEST(UnixSocketClaimTest, AFreePathIsClaimedWithALockFileBesideIt) {
  TempDir tmp;
  const std::string path = tmp.File("recondb.sock");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PidLockFile> claim, ClaimUnixSocketPath(path));
  EXPECT_EQ(claim->path(), path + ".lock");
  std::ifstream in(claim->path());
  std::stringstream pid;
  pid << in.rdbuf();
  EXPECT_EQ(pid.str(), std::to_string(getpid()) + "\n");
}

TEST(UnixSocketClaimTest, ASecondClaimIsRefusedUntilTheFirstIsReleased) {
  TempDir tmp;
  const std::string path = tmp.File("recondb.sock");
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<PidLockFile> first, ClaimUnixSocketPath(path));
    // flock() locks belong to open file descriptions: a second claim in this
    // process conflicts as another daemon's would.
    EXPECT_THAT(ClaimUnixSocketPath(path),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("unix socket " + path + " is in use by another recondbd (pid " +
                                   std::to_string(getpid()) + ")")));
  }
  EXPECT_OK(ClaimUnixSocketPath(path));
}

TEST(UnixSocketClaimTest, AStaleSocketIsLeftForTheServerToReplace) {
  TempDir tmp;
  const std::string path = tmp.File("recondb.sock");
  { ASSERT_TRUE(BoundSocket(path, /*listening=*/true).ok()); }
  ASSERT_TRUE(IsSocket(path));  // Closed: nobody accepts on it any more.
  EXPECT_OK(ClaimUnixSocketPath(path));
}

TEST(UnixSocketClaimTest, ASocketAnotherProgramServesIsRefusedAndKept) {
  TempDir tmp;
  const std::string path = tmp.File("recondb.sock");
  BoundSocket other(path, /*listening=*/true);
  ASSERT_TRUE(other.ok());
  EXPECT_THAT(ClaimUnixSocketPath(path),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("unix socket " + path + " is in use by another process")));
  EXPECT_TRUE(IsSocket(path));
}

TEST(UnixSocketClaimTest, AServerWithAFullBacklogIsInUseAndAnsweredAtOnce) {
  TempDir tmp;
  const std::string path = tmp.File("recondb.sock");
  // Backlog 0: the kernel queues one connection, then refuses to queue more
  // (a blocking connect would wait for the server to accept).
  const int server = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  ASSERT_EQ(bind(server, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(server, 0), 0);
  const int queued = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(connect(queued, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  EXPECT_THAT(ClaimUnixSocketPath(path),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("unix socket " + path + " is in use by another process")));
  close(queued);
  close(server);
}

TEST(UnixSocketClaimTest, ASocketThatCannotBeProbedIsRefusedAndKept) {
  TempDir tmp;
  const std::string path = tmp.File("recondb.sock");
  // A datagram socket: a stream connect answers EPROTOTYPE, neither served
  // nor refused, so whether it is in use cannot be told.
  const int datagram = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  ASSERT_EQ(bind(datagram, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  EXPECT_THAT(ClaimUnixSocketPath(path),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cannot tell whether unix socket " + path + " is in use")));
  EXPECT_TRUE(IsSocket(path));
  close(datagram);
}

TEST(UnixSocketClaimTest, AFileThatIsNotASocketIsRefusedAndKept) {
  TempDir tmp;
  const std::string path = tmp.File("notes.txt");
  std::ofstream(path) << "precious";
  EXPECT_THAT(ClaimUnixSocketPath(path),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(path + " exists and is not a socket")));
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_EQ(content.str(), "precious");
}

TEST(UnixSocketClaimTest, AMissingDirectoryIsUnavailable) {
  TempDir tmp;
  const std::string path = tmp.File("no/such/dir/recondb.sock");
  EXPECT_THAT(ClaimUnixSocketPath(path),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr(path + ".lock")));
}

}  // namespace
}  // namespace recondb::daemon
