// recondbd on a Unix domain socket (--listen=unix:PATH), as real processes:
// it serves the API there, removes the socket when it stops, refuses a path
// another daemon holds (gRPC alone would silently take it over), and
// replaces the socket a killed daemon left behind.
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/daemon_process.h"
#include "tests/support/db_client.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/values.h"

namespace recondb::testing {
namespace {

using ::testing::HasSubstr;

bool IsSocket(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

DaemonOptions OnSocket(const TempDir& dir, const std::string& data, const std::string& socket) {
  DaemonOptions options;
  options.data_dir = dir.File(data);
  options.listen = "unix:" + socket;
  return options;
}

// Writes a todo and reads it back through `daemon`'s address.
void ExpectServes(const DaemonProcess& daemon, const std::string& id) {
  DbClient db(daemon.NewChannel());
  auto table = db.GetTable("todos");
  if (!table.ok()) {
    ASSERT_OK(db.CreateTable(TodoTable()));
  }
  ASSERT_OK_AND_ASSIGN(v1::Record created, db.Create("todos", {{"title", StringValue(id)}}, id));
  ASSERT_OK_AND_ASSIGN(v1::Record read, db.GetRecord("todos", id));
  EXPECT_EQ(read.revision(), created.revision());
}

TEST(UnixSocketTest, ServesOnTheSocketAndRemovesItOnStop) {
  TempDir dir;
  const std::string socket = dir.File("recondb.sock");
  ASSERT_OK_AND_ASSIGN(auto daemon, DaemonProcess::Start(OnSocket(dir, "data", socket)));
  EXPECT_EQ(daemon->address(), "unix:" + socket);
  EXPECT_THAT(daemon->log(), HasSubstr("listening on unix:" + socket + " node_id="));
  EXPECT_TRUE(IsSocket(socket));
  ASSERT_OK(daemon->CheckHealth("recondb.v1.Database"));
  ExpectServes(*daemon, "over-the-socket");

  ASSERT_OK_AND_ASSIGN(int code, daemon->Stop());
  EXPECT_EQ(code, 0);
  EXPECT_FALSE(std::filesystem::exists(socket));
}

TEST(UnixSocketTest, ASecondDaemonOnTheSamePathFailsAndTheFirstKeepsServing) {
  TempDir dir;
  const std::string socket = dir.File("recondb.sock");
  ASSERT_OK_AND_ASSIGN(auto first, DaemonProcess::Start(OnSocket(dir, "first", socket)));
  // Another data directory, so that only the socket path is shared.
  ASSERT_OK_AND_ASSIGN(auto second, DaemonProcess::Spawn(OnSocket(dir, "second", socket)));
  ASSERT_OK_AND_ASSIGN(int code, second->WaitForExit(absl::Seconds(20)));
  EXPECT_EQ(code, 1);
  EXPECT_THAT(second->log(), HasSubstr("unix socket " + socket + " is in use by another recondbd (pid " +
                                       std::to_string(first->pid()) + ")"));
  // Without the claim, gRPC would have unlinked the first daemon's socket
  // and bound its own: the first would still run, unreachable.
  EXPECT_TRUE(IsSocket(socket));
  ExpectServes(*first, "still-here");
}

TEST(UnixSocketTest, TheSocketOfAKilledDaemonDoesNotBlockARestart) {
  TempDir dir;
  const std::string socket = dir.File("recondb.sock");
  {
    ASSERT_OK_AND_ASSIGN(auto daemon, DaemonProcess::Start(OnSocket(dir, "data", socket)));
    ExpectServes(*daemon, "before-the-crash");
    daemon->Kill();
  }
  ASSERT_TRUE(IsSocket(socket));  // Left behind, nobody accepting on it.
  ASSERT_OK_AND_ASSIGN(auto restarted, DaemonProcess::Start(OnSocket(dir, "data", socket)));
  DbClient db(restarted->NewChannel());
  EXPECT_OK(db.GetRecord("todos", "before-the-crash"));
  ExpectServes(*restarted, "after-the-restart");
}

}  // namespace
}  // namespace recondb::testing
