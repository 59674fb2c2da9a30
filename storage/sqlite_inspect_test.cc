// InspectSqliteStore: reads a store without writing to it or beside it, and
// refuses what cannot be restored, saying why.
#include "storage/sqlite_inspect.h"

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/internal/sqlite_schema.h"
#include "storage/sqlite_storage.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace recondb::storage {
namespace {

using ::recondb::testing::StatusIs;
using ::recondb::testing::TempDir;
using ::testing::HasSubstr;

std::vector<std::string> FilesIn(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

void ExecPlain(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
}

class InspectTest : public ::testing::Test {
 protected:
  // A closed store (no WAL beside it) with a meta key, in its own directory.
  void MakeStore() {
    ASSERT_OK_AND_ASSIGN(auto storage, OpenSqliteStorage({.path = path_}));
    ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginWrite());
    ASSERT_OK(txn->SetMeta("node_id", "node-1"));
    ASSERT_OK(txn->Commit());
  }

  TempDir dir_;
  const std::string path_ = dir_.File("store.sqlite3");
};

TEST_F(InspectTest, ReadsMetaAndWritesNothing) {
  MakeStore();
  ASSERT_OK_AND_ASSIGN(SqliteStoreFile file, InspectSqliteStore(path_));
  EXPECT_EQ(file.format_version, internal::kFormatVersion);
  EXPECT_EQ(file.meta.at("node_id"), "node-1");
  EXPECT_EQ(file.bytes, static_cast<int64_t>(std::filesystem::file_size(path_)));
  // No -wal, no -shm: the file is read as it is.
  EXPECT_THAT(FilesIn(dir_.path()), ::testing::ElementsAre("store.sqlite3"));
}

TEST_F(InspectTest, AStoreWithItsWalBesideItIsRefused) {
  MakeStore();
  { std::ofstream(path_ + "-wal") << ""; }
  EXPECT_THAT(InspectSqliteStore(path_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("-wal")));
}

TEST_F(InspectTest, MissingFileIsNotFound) {
  EXPECT_THAT(InspectSqliteStore(path_), StatusIs(absl::StatusCode::kNotFound, HasSubstr(path_)));
}

TEST_F(InspectTest, GarbageAndOtherDatabasesAreRefused) {
  { std::ofstream(path_) << std::string(8192, 'x'); }
  EXPECT_THAT(InspectSqliteStore(path_), StatusIs(absl::StatusCode::kFailedPrecondition));
  std::filesystem::remove(path_);
  ExecPlain(path_, "CREATE TABLE t (x); INSERT INTO t VALUES (1);");
  EXPECT_THAT(InspectSqliteStore(path_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not a recondb store")));
}

TEST_F(InspectTest, NewerFormatIsRefused) {
  MakeStore();
  ExecPlain(path_,
            "PRAGMA journal_mode=DELETE; UPDATE \"_meta\" SET \"value\" = '99' WHERE \"key\" = "
            "'format_version';");
  EXPECT_THAT(InspectSqliteStore(path_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("upgrade recondb")));
}

TEST_F(InspectTest, CorruptPagesFailTheCheck) {
  MakeStore();
  ExecPlain(path_,
            "PRAGMA journal_mode=DELETE; CREATE TABLE big (x); "
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
            "INSERT INTO big SELECT randomblob(100) FROM n;");
  // Overwrite a page in the middle of the table's B-tree.
  {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 * 20);
    f << std::string(4096, '\xff');
  }
  EXPECT_THAT(InspectSqliteStore(path_), StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace recondb::storage
