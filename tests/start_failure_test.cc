// A recondbd start that fails, seen from outside the process: one clear line
// in the log (none of gRPC's), exit code 1, and no data directory left
// behind that the failed start created (issue 15).
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/daemon_process.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace recondb::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// A daemon holding a TCP port, for the second one to fail on.
std::unique_ptr<DaemonProcess> StartFirst(const TempDir& data) {
  DaemonOptions options;
  options.data_dir = data.path();
  absl::StatusOr<std::unique_ptr<DaemonProcess>> first = DaemonProcess::Start(options);
  EXPECT_OK(first);
  return first.ok() ? *std::move(first) : nullptr;
}

// Runs recondbd on `listen` and `data_dir` until it exits; returns its log.
std::string FailedStartLog(const std::string& listen, const fs::path& data_dir) {
  DaemonOptions options;
  options.data_dir = data_dir;
  options.listen = listen;
  absl::StatusOr<std::unique_ptr<DaemonProcess>> second = DaemonProcess::Spawn(options);
  EXPECT_OK(second);
  if (!second.ok()) return "";
  absl::StatusOr<int> code = (*second)->WaitForExit(absl::Seconds(30));
  EXPECT_OK(code);
  if (code.ok()) {
    EXPECT_EQ(*code, 1) << (*second)->log();
  }
  return (*second)->log();
}

// Issue 15: "chttp2_server.cc:1045] UNKNOWN:No address added out of total 1
// resolved" and "CompletionQueue shutdown being shutdown before its server"
// came before recondbd's own message, and the empty data directory stayed.
TEST(StartFailureTest, APortInUseIsOneClearLineAndLeavesNoDataDirectory) {
  TempDir first_data;
  std::unique_ptr<DaemonProcess> first = StartFirst(first_data);
  ASSERT_NE(first, nullptr);
  TempDir root;
  const fs::path data_dir = root.path() / "new" / "data";
  const std::string log = FailedStartLog(first->address(), data_dir);
  const std::string line =
      absl::StrCat("recondbd cannot start: cannot listen on ", first->address(),
                   ": address already in use (is another recondbd running?)");
  EXPECT_THAT(log, HasSubstr(line));
  // That line is all the log holds: nothing from gRPC.
  std::vector<std::string> lines = absl::StrSplit(log, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1u) << log;
  EXPECT_THAT(log, Not(HasSubstr("chttp2")));
  EXPECT_THAT(log, Not(HasSubstr("CompletionQueue")));
  EXPECT_FALSE(fs::exists(root.path() / "new")) << "the failed start left its data directory";
}

TEST(StartFailureTest, APortInUseLeavesAnExistingDataDirectoryAsItWas) {
  TempDir first_data;
  std::unique_ptr<DaemonProcess> first = StartFirst(first_data);
  ASSERT_NE(first, nullptr);
  // A data directory a daemon has used, stopped.
  TempDir data;
  {
    std::unique_ptr<DaemonProcess> earlier = StartFirst(data);
    ASSERT_NE(earlier, nullptr);
    ASSERT_OK_AND_ASSIGN(int code, earlier->Stop());
    ASSERT_EQ(code, 0);
  }
  const auto store = data.path() / "recondb.sqlite3";
  ASSERT_TRUE(fs::exists(store));
  const auto size = fs::file_size(store);
  EXPECT_THAT(FailedStartLog(first->address(), data.path()), HasSubstr("address already in use"));
  ASSERT_TRUE(fs::exists(store));
  EXPECT_EQ(fs::file_size(store), size);
}

// A start that fails after its data directory was made (here the Unix
// socket path is a regular file) removes that directory too.
TEST(StartFailureTest, ALaterFailureRemovesTheDataDirectoryItCreated) {
  TempDir root;
  const fs::path file = root.path() / "not-a-socket";
  std::ofstream(file) << "x";
  const fs::path data_dir = root.path() / "data";
  EXPECT_THAT(FailedStartLog("unix:" + file.string(), data_dir),
              HasSubstr("exists and is not a socket"));
  EXPECT_FALSE(fs::exists(data_dir));
}

}  // namespace
}  // namespace recondb::testing
