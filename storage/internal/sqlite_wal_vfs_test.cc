// The WAL write-gathering VFS: a commit reaches the WAL file as one write,
// every commit is in the file and visible to other connections when COMMIT
// returns, and what SQLite reads back (spilled pages, rewritten frames,
// recovery after a crash) is exactly what it wrote.
#include "storage/internal/sqlite_wal_vfs.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/sqlite_storage.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace recondb::storage::internal {
namespace {

using ::recondb::testing::TempDir;
using ::testing::StartsWith;

// A plain connection, through the gathering VFS or the default one.
class Db {
 public:
  Db(const std::string& path, bool gather) {
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    EXPECT_EQ(
        sqlite3_open_v2(path.c_str(), &db_, flags, gather ? WalWriteGatheringVfsName() : nullptr),
        SQLITE_OK);
    Exec("PRAGMA journal_mode=WAL");
    Exec("PRAGMA synchronous=FULL");
  }
  ~Db() { sqlite3_close(db_); }

  void Exec(const std::string& sql) {
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db_);
  }

  // The first column of the first row of `sql`, as text.
  std::string One(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::string out;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db_);
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      out = text == nullptr ? "NULL" : reinterpret_cast<const char*>(text);
    }
    sqlite3_finalize(stmt);
    return out;
  }

  sqlite3* get() { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

class WalVfsTest : public ::testing::Test {
 protected:
  std::string path() const { return dir_.File("test.sqlite3"); }
  TempDir dir_;
};

TEST_F(WalVfsTest, IsRegisteredUnderItsNameAndReportsIt) {
  ASSERT_NE(WalWriteGatheringVfsName(), nullptr);
  EXPECT_NE(sqlite3_vfs_find(WalWriteGatheringVfsName()), nullptr);
  EXPECT_NE(sqlite3_vfs_find(nullptr), sqlite3_vfs_find(WalWriteGatheringVfsName()))
      << "must not become the default VFS";
  Db db(path(), /*gather=*/true);
  char* name = nullptr;
  ASSERT_EQ(sqlite3_file_control(db.get(), "main", SQLITE_FCNTL_VFSNAME, &name), SQLITE_OK);
  EXPECT_THAT(std::string(name), StartsWith("recondb-wal-gather/"));
  sqlite3_free(name);
}

TEST_F(WalVfsTest, ACommitIsOneWriteAndVisibleWhenCommitReturns) {
  Db writer(path(), /*gather=*/true);
  Db reader(path(), /*gather=*/false);
  writer.Exec("CREATE TABLE a (x TEXT); CREATE TABLE b (x TEXT); CREATE INDEX bx ON b (x)");
  for (int i = 1; i <= 50; ++i) {
    const WalWriteCounts before = WalWriteCountsForTesting();
    writer.Exec(absl::StrCat("BEGIN; INSERT INTO a VALUES ('a", i, "'); INSERT INTO b VALUES ('b",
                             i, "'); COMMIT"));
    const WalWriteCounts after = WalWriteCountsForTesting();
    // Three pages (a, b, bx), two writes each, became one write.
    EXPECT_GE(after.requested - before.requested, 6);
    EXPECT_EQ(after.issued - before.issued, 1);
    EXPECT_EQ(reader.One("SELECT count(*) FROM b"), std::to_string(i));
    EXPECT_EQ(reader.One("SELECT max(x) FROM a WHERE x = 'a" + std::to_string(i) + "'"),
              "a" + std::to_string(i));
  }
}

TEST_F(WalVfsTest, CommittedFramesAreInTheFileAsIfTheProcessDiedThere) {
  Db writer(path(), /*gather=*/true);
  writer.Exec("CREATE TABLE t (x INTEGER)");
  for (int i = 0; i < 20; ++i) writer.Exec(absl::StrCat("INSERT INTO t VALUES (", i, ")"));
  // A copy of the files as they are now, the writer still open: what a
  // crash would leave. Recovery rebuilds the wal-index from the WAL alone.
  const std::string copy = dir_.File("copy.sqlite3");
  std::filesystem::copy_file(path(), copy);
  std::filesystem::copy_file(path() + "-wal", copy + "-wal");
  Db recovered(copy, /*gather=*/false);
  EXPECT_EQ(recovered.One("SELECT count(*) || ' ' || sum(x) FROM t"), "20 190");
  EXPECT_EQ(recovered.One("PRAGMA integrity_check"), "ok");
}

// The gathered write happens at the commit's sync; when the file system
// refuses it (here: the process may not grow files), COMMIT fails and the
// transaction is gone, as with SQLite's own writes.
TEST_F(WalVfsTest, AFailedWriteFailsTheCommitAndKeepsNothing) {
  Db writer(path(), /*gather=*/true);
  Db reader(path(), /*gather=*/false);
  writer.Exec("CREATE TABLE t (x BLOB); INSERT INTO t VALUES (zeroblob(10))");
  const auto wal_size = std::filesystem::file_size(path() + "-wal");
  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct sigaction ignore = {}, previous = {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGXFSZ, &ignore, &previous), 0);  // EFBIG instead of a signal.
  struct rlimit limit = saved;
  limit.rlim_cur = static_cast<rlim_t>(wal_size + 100);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);

  const WalWriteCounts before = WalWriteCountsForTesting();
  const int rc = sqlite3_exec(writer.get(), "BEGIN; INSERT INTO t VALUES (zeroblob(20000)); COMMIT",
                              nullptr, nullptr, nullptr);
  const WalWriteCounts after = WalWriteCountsForTesting();
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);
  ASSERT_EQ(sigaction(SIGXFSZ, &previous, nullptr), 0);

  EXPECT_NE(rc, SQLITE_OK);
  EXPECT_EQ(after.issued - before.issued, 1);  // Nothing was written before the sync.
  if (sqlite3_get_autocommit(writer.get()) == 0) writer.Exec("ROLLBACK");
  EXPECT_EQ(reader.One("SELECT count(*) FROM t"), "1");
  // The connection goes on.
  writer.Exec("INSERT INTO t VALUES (zeroblob(30))");
  EXPECT_EQ(reader.One("SELECT count(*) || ' ' || sum(length(x)) FROM t"), "2 40");
  EXPECT_EQ(reader.One("PRAGMA integrity_check"), "ok");
}

// A transaction larger than the page cache spills frames to the WAL before
// its commit and reads them back; it is also larger than kMaxPendingBytes.
TEST_F(WalVfsTest, SpilledPagesReadBackAndRollBack) {
  Db writer(path(), /*gather=*/true);
  Db reader(path(), /*gather=*/false);
  writer.Exec("PRAGMA cache_size=8; CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)");
  const std::string fill =
      "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 2000)"
      " INSERT INTO t SELECT k, randomblob(1000) FROM n";
  writer.Exec("BEGIN");
  writer.Exec(fill);
  EXPECT_EQ(writer.One("SELECT count(*) || ' ' || sum(length(v)) FROM t"), "2000 2000000");
  writer.Exec("ROLLBACK");
  EXPECT_EQ(reader.One("SELECT count(*) FROM t"), "0");

  writer.Exec("BEGIN");
  writer.Exec(fill);
  writer.Exec("UPDATE t SET v = zeroblob(10) WHERE k % 2 = 0");
  writer.Exec("COMMIT");
  EXPECT_EQ(reader.One("SELECT count(*) || ' ' || sum(length(v)) FROM t"), "2000 1010000");
  EXPECT_EQ(reader.One("PRAGMA integrity_check"), "ok");
  // A checkpoint reads every frame back into the database file.
  writer.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  EXPECT_EQ(std::filesystem::file_size(path() + "-wal"), 0u);
  EXPECT_EQ(reader.One("SELECT count(*) || ' ' || sum(length(v)) FROM t"), "2000 1010000");
}

TEST_F(WalVfsTest, WalRestartsAfterCheckpointsKeepEveryCommit) {
  Db writer(path(), /*gather=*/true);
  writer.Exec("PRAGMA wal_autocheckpoint=16; CREATE TABLE t (x TEXT)");
  for (int i = 0; i < 300; ++i) {
    writer.Exec(absl::StrCat("INSERT INTO t VALUES (hex(randomblob(", 100 + i, ")))"));
  }
  Db reader(path(), /*gather=*/false);
  EXPECT_EQ(reader.One("SELECT count(*) FROM t"), "300");
  EXPECT_EQ(reader.One("PRAGMA integrity_check"), "ok");
}

// The store uses the VFS for a durable writer only: with synchronous=NORMAL
// no sync precedes a commit's publication.
TEST_F(WalVfsTest, SqliteStorageGathersOnlyWhenDurable) {
  for (const Durability durability : {Durability::kFull, Durability::kNormal}) {
    SCOPED_TRACE(durability == Durability::kFull ? "full" : "normal");
    SqliteOptions options;
    options.path = dir_.File(durability == Durability::kFull ? "full.sqlite3" : "normal.sqlite3");
    options.durability = durability;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Storage> storage, OpenSqliteStorage(options));
    const WalWriteCounts before = WalWriteCountsForTesting();
    {
      ASSERT_OK_AND_ASSIGN(auto txn, storage->BeginWrite());
      ASSERT_OK(txn->SetMeta("a", std::string(3000, 'a')));
      ASSERT_OK(txn->SetMeta("b", std::string(3000, 'b')));
      ASSERT_OK(txn->Commit());
    }
    const WalWriteCounts after = WalWriteCountsForTesting();
    if (durability == Durability::kFull) {
      EXPECT_GE(after.requested - before.requested, 4);
      EXPECT_EQ(after.issued - before.issued, 1);
    } else {
      EXPECT_EQ(after.requested, before.requested);
    }
    ASSERT_OK_AND_ASSIGN(auto read, storage->BeginRead());
    ASSERT_OK_AND_ASSIGN(const std::string b, read->GetMeta("b"));
    EXPECT_EQ(b, std::string(3000, 'b'));
  }
}

}  // namespace
}  // namespace recondb::storage::internal
