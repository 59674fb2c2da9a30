// RestoreBackup in-process: what it puts in place, what it moves aside and
// never deletes, and what it refuses while leaving the directory as it was.
#include "daemon/restore.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include "daemon/data_dir_lock.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/sqlite_storage.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace recondb::daemon {
namespace {

namespace fs = std::filesystem;
using ::recondb::testing::StatusIs;
using ::recondb::testing::TempDir;
using ::testing::HasSubstr;

std::set<std::string> FilesIn(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename());
  return names;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

class RestoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A node's store and a backup of it, made by the engine.
    ASSERT_OK_AND_ASSIGN(auto storage,
                         storage::OpenSqliteStorage({.path = source_.File("live.sqlite3")}));
    engine::EngineOptions options;
    options.storage = storage.get();
    ASSERT_OK_AND_ASSIGN(auto engine, engine::Engine::Open(options));
    node_id_ = engine->node_id();
    ASSERT_OK(engine->Backup(backup_).status());
  }

  absl::StatusOr<RestoreResult> Restore(absl::Time now = absl::FromUnixSeconds(1767225600)) {
    RestoreOptions options;
    options.backup = backup_;
    options.data_dir = data_.path().string();
    options.now = now;
    return RestoreBackup(options);
  }

  TempDir source_;
  TempDir data_;
  const std::string backup_ = source_.File("node.recondb");
  std::string node_id_;
};

TEST_F(RestoreTest, PutsTheBackupInPlaceAndSaysWhatItIs) {
  ASSERT_OK_AND_ASSIGN(RestoreResult result, Restore());
  EXPECT_EQ(result.store_path, (data_.path() / "recondb.sqlite3").string());
  EXPECT_EQ(ReadFile(result.store_path), ReadFile(backup_));
  ASSERT_TRUE(result.backup.has_value());
  EXPECT_EQ(result.backup->node_id, node_id_);
  EXPECT_TRUE(result.moved_aside.empty());
  EXPECT_EQ(FilesIn(data_.path()), (std::set<std::string>{"LOCK", "recondb.sqlite3"}));
  // The backup itself is only read.
  EXPECT_EQ(FilesIn(source_.path()), (std::set<std::string>{"live.sqlite3", "node.recondb"}));
}

TEST_F(RestoreTest, TheStoreThereIsMovedAsideWithItsWalNeverDeleted) {
  WriteFile(data_.path() / "recondb.sqlite3", "old store");
  WriteFile(data_.path() / "recondb.sqlite3-wal", "old wal");
  WriteFile(data_.path() / "recondb.sqlite3-shm", "old shm");
  ASSERT_OK_AND_ASSIGN(RestoreResult first, Restore());
  const std::string aside = "recondb-before-restore-20260101T000000Z.sqlite3";
  EXPECT_THAT(first.moved_aside,
              ::testing::ElementsAre((data_.path() / aside).string(),
                                     (data_.path() / (aside + "-wal")).string(),
                                     (data_.path() / (aside + "-shm")).string()));
  EXPECT_EQ(ReadFile(data_.path() / aside), "old store");
  EXPECT_EQ(ReadFile(data_.path() / (aside + "-wal")), "old wal");
  EXPECT_EQ(ReadFile(data_.path() / (aside + "-shm")), "old shm");
  // Again in the same second: the first restore's result is kept too.
  ASSERT_OK_AND_ASSIGN(RestoreResult second, Restore());
  ASSERT_EQ(second.moved_aside.size(), 1u);
  EXPECT_EQ(second.moved_aside[0],
            (data_.path() / "recondb-before-restore-20260101T000000Z-1.sqlite3").string());
  EXPECT_EQ(ReadFile(data_.path() / aside), "old store");
}

TEST_F(RestoreTest, ALockedDirectoryIsRefusedAndUntouched) {
  WriteFile(data_.path() / "recondb.sqlite3", "live store");
  ASSERT_OK_AND_ASSIGN(auto lock, DataDirLock::Acquire(data_.path().string()));
  EXPECT_THAT(Restore(), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("locked")));
  EXPECT_EQ(FilesIn(data_.path()), (std::set<std::string>{"LOCK", "recondb.sqlite3"}));
  EXPECT_EQ(ReadFile(data_.path() / "recondb.sqlite3"), "live store");
}

TEST_F(RestoreTest, ABadBackupIsRefusedAndTheDirectoryUntouched) {
  WriteFile(data_.path() / "recondb.sqlite3", "live store");
  WriteFile(backup_, std::string(8192, 'x'));
  EXPECT_THAT(Restore(), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(backup_)));
  EXPECT_EQ(FilesIn(data_.path()), (std::set<std::string>{"LOCK", "recondb.sqlite3"}));
  EXPECT_EQ(ReadFile(data_.path() / "recondb.sqlite3"), "live store");
}

TEST_F(RestoreTest, MissingBackupIsNotFound) {
  fs::remove(backup_);
  EXPECT_THAT(Restore(), StatusIs(absl::StatusCode::kNotFound, HasSubstr(backup_)));
}

TEST_F(RestoreTest, TheDirectorysOwnStoreIsNoBackup) {
  ASSERT_OK(Restore().status());
  RestoreOptions options;
  options.backup = (data_.path() / "recondb.sqlite3").string();
  options.data_dir = data_.path().string();
  EXPECT_THAT(RestoreBackup(options), StatusIs(absl::StatusCode::kInvalidArgument));
}

// A copy of a stopped node's store (no backup/* keys) restores too, and
// says it records no backup.
TEST_F(RestoreTest, APlainStoreFileIsRestoredWithoutBackupInfo) {
  fs::remove(backup_);
  fs::copy_file(source_.File("live.sqlite3"), backup_);
  ASSERT_OK_AND_ASSIGN(RestoreResult result, Restore());
  EXPECT_FALSE(result.backup.has_value());
}

}  // namespace
}  // namespace recondb::daemon
