// CreatedDirectories removes what a failed start created and nothing else.
#include "daemon/created_directories.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "daemon/data_dir.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace recondb::daemon {
namespace {

namespace fs = std::filesystem;
using ::recondb::testing::TempDir;

void Touch(const fs::path& path) { std::ofstream(path) << "x"; }

// What a start makes in a new data directory.
void MakeDataDir(const fs::path& dir) {
  fs::create_directories(dir);
  Touch(dir / "LOCK");
  Touch(dir / kDatabaseFile);
  Touch(dir / (std::string(kDatabaseFile) + "-wal"));
}

TEST(CreatedDirectoriesTest, RemovesTheDataDirectoryAndTheParentsItCreated) {
  TempDir root;
  const fs::path dir = root.path() / "a" / "b" / "data";
  CreatedDirectories created = CreatedDirectories::Before(dir);
  MakeDataDir(dir);
  ASSERT_OK(created.Remove());
  EXPECT_FALSE(fs::exists(root.path() / "a"));
  EXPECT_TRUE(fs::exists(root.path()));
}

TEST(CreatedDirectoriesTest, ARelativePathWithATrailingSlashToo) {
  TempDir root;
  const fs::path cwd = fs::current_path();
  fs::current_path(root.path());
  CreatedDirectories created = CreatedDirectories::Before("data/");
  MakeDataDir("data");
  EXPECT_OK(created.Remove());
  EXPECT_FALSE(fs::exists(root.path() / "data"));
  fs::current_path(cwd);
}

TEST(CreatedDirectoriesTest, LeavesADirectoryThatExistedWithItsStore) {
  TempDir root;
  const fs::path dir = root.path() / "data";
  MakeDataDir(dir);
  CreatedDirectories created = CreatedDirectories::Before(dir);
  ASSERT_OK(created.Remove());
  EXPECT_TRUE(fs::exists(dir / kDatabaseFile));
  EXPECT_TRUE(fs::exists(dir / "LOCK"));
}

TEST(CreatedDirectoriesTest, KeepsADirectoryThatHoldsSomethingElse) {
  TempDir root;
  const fs::path dir = root.path() / "a" / "data";
  CreatedDirectories created = CreatedDirectories::Before(dir);
  MakeDataDir(dir);
  Touch(root.path() / "a" / "notes.txt");
  ASSERT_OK(created.Remove());
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_TRUE(fs::exists(root.path() / "a" / "notes.txt"));
}

TEST(CreatedDirectoriesTest, NothingRecordedNothingRemoved) {
  EXPECT_OK(CreatedDirectories().Remove());
  TempDir root;
  CreatedDirectories created = CreatedDirectories::Before(root.path());
  ASSERT_OK(created.Remove());
  EXPECT_TRUE(fs::exists(root.path()));
}

}  // namespace
}  // namespace recondb::daemon
