#include "daemon/data_dir_lock.h"

#include <unistd.h>

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

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(DataDirLockTest, CreatesTheDirectoryAndWritesThePid) {
  TempDir tmp;
  const std::string dir = tmp.File("a/b/data");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<DataDirLock> lock, DataDirLock::Acquire(dir));
  EXPECT_TRUE(std::filesystem::is_directory(dir));
  EXPECT_EQ(lock->path(), dir + "/LOCK");
  EXPECT_EQ(ReadFile(lock->path()), std::to_string(getpid()) + "\n");
}

TEST(DataDirLockTest, SecondHolderIsRefusedWithAClearMessage) {
  TempDir tmp;
  const std::string dir = tmp.File("data");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<DataDirLock> first, DataDirLock::Acquire(dir));
  // flock() locks belong to open file descriptions, so a second Acquire in
  // this process conflicts exactly as another process would.
  EXPECT_THAT(DataDirLock::Acquire(dir),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("data directory " + dir + " is locked by another recondbd")));
}

TEST(DataDirLockTest, ReleasedLockCanBeTakenAgain) {
  TempDir tmp;
  const std::string dir = tmp.File("data");
  { ASSERT_OK_AND_ASSIGN(std::unique_ptr<DataDirLock> first, DataDirLock::Acquire(dir)); }
  // The LOCK file stays behind; only the flock matters.
  EXPECT_TRUE(std::filesystem::exists(dir + "/LOCK"));
  EXPECT_OK(DataDirLock::Acquire(dir));
}

TEST(DataDirLockTest, UncreatableDirectoryIsUnavailable) {
  TempDir tmp;
  const std::string file = tmp.File("plain_file");
  std::ofstream(file) << "x";
  EXPECT_THAT(DataDirLock::Acquire(file + "/data"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr(file)));
}

}  // namespace
}  // namespace recondb::daemon
