// The SQLite backend over a file system that fails (storage/testing/
// faulty_vfs.h): a failed read, write or sync, at every point of a workload,
// and a full disk. Each time the call that met the fault answers a clear
// status, the file stays intact (PRAGMA integrity_check on the normal VFS),
// exactly the committed writes are there, and the same open store works
// again once the fault ends.
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/internal/sqlite_testing.h"
#include "storage/sqlite_storage.h"
#include "storage/storage.h"
#include "storage/testing/faulty_vfs.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/values.h"

namespace recondb::storage {
namespace {

using ::recondb::storage::testing::FaultyOp;
using ::recondb::storage::testing::FaultyVfs;
using ::recondb::testing::IsOkAndHolds;
using ::recondb::testing::StatusIs;
using ::recondb::testing::StringValue;
using ::recondb::testing::TempDir;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using Ids = std::set<std::string>;

// Records of a few pages each, so that every commit grows the WAL.
constexpr int kBodyBytes = 3000;
constexpr int kWorkloadWrites = 8;

v1::Table Notes() {
  v1::Table table;
  table.set_name("notes");
  v1::Column* body = table.add_columns();
  body->set_name("body");
  body->set_type(v1::COLUMN_TYPE_STRING);
  body->set_nullable(true);
  return table;
}

std::string Rev(char c) { return absl::StrCat("1-", std::string(32, c)); }

// One record in one transaction, as the engine writes it: history, view,
// feed, commit. The first failure, or OK once committed.
absl::Status WriteNote(Storage& storage, const std::string& id) {
  const Attributes attributes = {{"body", StringValue(std::string(kBodyBytes, id.back()))}};
  ASSIGN_OR_RETURN(std::unique_ptr<WriteTransaction> txn, storage.BeginWrite());
  StoredRevision rev;
  rev.id = id;
  rev.revision = Rev('a');
  rev.generation = 1;
  rev.attributes = attributes;
  RETURN_IF_ERROR(txn->InsertRevision(Notes(), rev));
  v1::Record row;
  row.set_table("notes");
  row.set_id(id);
  row.set_revision(rev.revision);
  for (const auto& [name, value] : attributes) (*row.mutable_attributes())[name] = value;
  RETURN_IF_ERROR(txn->UpsertViewRow(Notes(), row));
  v1::Change change;
  change.set_kind(v1::CHANGE_KIND_RECORD);
  change.set_table("notes");
  change.set_id(id);
  change.set_revision(rev.revision);
  RETURN_IF_ERROR(txn->AppendChange(change).status());
  return txn->Commit();
}

// Reads `id` back in a read transaction of its own.
absl::Status ReadNote(Storage& storage, const std::string& id) {
  ASSIGN_OR_RETURN(std::unique_ptr<ReadTransaction> txn, storage.BeginRead());
  return txn->GetViewRow(Notes(), id).status();
}

// The first column of every row of `sql` on `path`, through the default VFS,
// as a user's sqlite3 shell would read the file.
std::vector<std::string> PlainQuery(const std::string& path, const std::string& sql) {
  std::vector<std::string> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db);
    sqlite3_close(db);
    return rows;
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
  } else {
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      rows.push_back(text == nullptr ? "NULL" : reinterpret_cast<const char*>(text));
    }
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

Ids AsIds(const std::vector<std::string>& rows) { return Ids(rows.begin(), rows.end()); }

class SqliteFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override { vfs().Reset(); }
  void TearDown() override { vfs().Reset(); }

  static FaultyVfs& vfs() { return FaultyVfs::Get(); }

  // A fresh store (its own directory) on the faulty VFS, with the notes
  // table, no fault armed.
  std::unique_ptr<Storage> OpenFresh(SqliteOptions options = SqliteOptions()) {
    dir_ = std::make_unique<TempDir>();
    options.path = path();
    options.vfs = testing::kFaultyVfsName;
    absl::StatusOr<std::unique_ptr<Storage>> storage = OpenSqliteStorage(options);
    EXPECT_OK(storage.status());
    if (!storage.ok()) return nullptr;
    std::unique_ptr<WriteTransaction> txn = (*storage)->BeginWrite().value();
    EXPECT_OK(txn->CreateTable(Notes()));
    EXPECT_OK(txn->Commit());
    return *std::move(storage);
  }

  std::string path() const { return dir_->File("recondb.sqlite3"); }

  // Writes notes `prefix`0.. in turn, each its own transaction; adds those
  // committed to `committed`; every failure must match `code`. Returns
  // how many failed.
  int Workload(Storage& storage, const std::string& prefix, absl::StatusCode code, Ids& committed,
               int writes = kWorkloadWrites) {
    int failed = 0;
    for (int i = 0; i < writes; ++i) {
      const std::string id = absl::StrCat(prefix, i);
      const absl::Status status = WriteNote(storage, id);
      if (status.ok()) {
        committed.insert(id);
      } else {
        ++failed;
        EXPECT_EQ(status.code(), code) << id << ": " << status;
      }
    }
    return failed;
  }

  // The store closed, its file as the normal VFS sees it: intact, holding
  // exactly `committed` in its view, history and feed.
  void ExpectFileHolds(const Ids& committed, const std::string& where) {
    SCOPED_TRACE(where);
    EXPECT_THAT(PlainQuery(path(), "PRAGMA integrity_check"), ElementsAre("ok"));
    EXPECT_EQ(AsIds(PlainQuery(path(), "SELECT \"id\" FROM \"notes\"")), committed);
    EXPECT_EQ(AsIds(PlainQuery(path(), "SELECT \"id\" FROM \"notes_history\"")), committed);
    EXPECT_EQ(AsIds(PlainQuery(path(), "SELECT \"record_id\" FROM \"_changes\"")), committed);
    // And it opens as a store again, on the normal VFS.
    SqliteOptions options;
    options.path = path();
    EXPECT_OK(OpenSqliteStorage(options).status());
  }

  // How many calls of `op` the fault-free workload makes.
  int64_t CallsOfWorkload(FaultyOp op) {
    std::unique_ptr<Storage> storage = OpenFresh();
    const int64_t before = vfs().counts(op).calls;
    Ids committed;
    EXPECT_EQ(Workload(*storage, "n", absl::StatusCode::kOk, committed), 0);
    return vfs().counts(op).calls - before;
  }

  // For every n up to the workload's calls of `op` (and one beyond): the
  // nth call fails once, or, with `sticky`, it and every later one until
  // the workload ends. Then the fault ends and the same store must write
  // again; closed, the file holds exactly the committed writes.
  void FailEveryPoint(FaultyOp op, bool sticky) {
    const int64_t calls = CallsOfWorkload(op);
    ASSERT_GT(calls, 0);
    int64_t failures_seen = 0;
    for (int64_t n = 1; n <= calls + 1; ++n) {
      const std::string where = absl::StrCat("call ", n, " of ", calls, sticky ? ", sticky" : "");
      SCOPED_TRACE(where);
      Ids committed;
      {
        std::unique_ptr<Storage> storage = OpenFresh();
        ASSERT_NE(storage, nullptr);
        vfs().FailNth(op, n, sticky);
        const int failed = Workload(*storage, "n", absl::StatusCode::kUnavailable, committed);
        if (n <= calls) {
          EXPECT_GE(failed, 1);
        }
        failures_seen += failed;
        vfs().Heal();
        // No restart: the same open store writes and reads again.
        ASSERT_OK(WriteNote(*storage, "after"));
        committed.insert("after");
        ASSERT_OK(ReadNote(*storage, "after"));
      }
      ExpectFileHolds(committed, where);
      vfs().Reset();
    }
    EXPECT_GT(failures_seen, 0);
  }

  std::unique_ptr<TempDir> dir_;
};

TEST_F(SqliteFaultsTest, VfsForwardsWithoutFaults) {
  Ids committed;
  {
    std::unique_ptr<Storage> storage = OpenFresh();
    ASSERT_NE(storage, nullptr);
    EXPECT_EQ(Workload(*storage, "n", absl::StatusCode::kOk, committed), 0);
    EXPECT_OK(ReadNote(*storage, "n0"));
  }
  EXPECT_GT(vfs().counts(FaultyOp::kWrite).calls, 0);
  EXPECT_GT(vfs().counts(FaultyOp::kSync).calls, 0);
  EXPECT_GT(vfs().counts(FaultyOp::kRead).calls, 0);
  EXPECT_EQ(vfs().counts(FaultyOp::kWrite).failures, 0);
  ExpectFileHolds(committed, "no faults");
}

TEST_F(SqliteFaultsTest, EveryFailedWriteOnce) { FailEveryPoint(FaultyOp::kWrite, false); }
TEST_F(SqliteFaultsTest, EveryFailedWriteFromThenOn) { FailEveryPoint(FaultyOp::kWrite, true); }
TEST_F(SqliteFaultsTest, EveryFailedSyncOnce) { FailEveryPoint(FaultyOp::kSync, false); }
TEST_F(SqliteFaultsTest, EveryFailedSyncFromThenOn) { FailEveryPoint(FaultyOp::kSync, true); }

// Reads: a workload that reads what it wrote through fresh snapshots (the
// readers' caches are invalidated by each commit, so pages are read again).
TEST_F(SqliteFaultsTest, EveryFailedRead) {
  auto run = [&](Storage& storage, Ids& committed, int& failed) {
    for (int i = 0; i < kWorkloadWrites; ++i) {
      const std::string id = absl::StrCat("n", i);
      absl::Status status = WriteNote(storage, id);
      if (status.ok()) committed.insert(id);
      for (const std::string& known : committed) {
        if (status.ok()) status = ReadNote(storage, known);
      }
      if (!status.ok()) {
        ++failed;
        EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << id << ": " << status;
      }
    }
  };
  int64_t calls = 0;
  {
    std::unique_ptr<Storage> storage = OpenFresh();
    const int64_t before = vfs().counts(FaultyOp::kRead).calls;
    Ids committed;
    int failed = 0;
    run(*storage, committed, failed);
    ASSERT_EQ(failed, 0);
    calls = vfs().counts(FaultyOp::kRead).calls - before;
  }
  ASSERT_GT(calls, 0);
  int64_t failures_seen = 0;
  for (int64_t n = 1; n <= calls + 1; ++n) {
    for (const bool sticky : {false, true}) {
      const std::string where = absl::StrCat("read ", n, " of ", calls, sticky ? ", sticky" : "");
      SCOPED_TRACE(where);
      Ids committed;
      {
        std::unique_ptr<Storage> storage = OpenFresh();
        ASSERT_NE(storage, nullptr);
        vfs().FailNth(FaultyOp::kRead, n, sticky);
        int failed = 0;
        run(*storage, committed, failed);
        // SQLite retries some reads by itself (a failed read of a page
        // it can read again from elsewhere): not every fault surfaces.
        failures_seen += failed;
        vfs().Heal();
        ASSERT_OK(WriteNote(*storage, "after"));
        committed.insert("after");
        for (const std::string& id : committed) ASSERT_OK(ReadNote(*storage, id)) << id;
      }
      ExpectFileHolds(committed, where);
      vfs().Reset();
    }
  }
  EXPECT_GT(failures_seen, calls);
}

// A full disk at every point of the workload: from 0 bytes free up to more
// than it needs. The write that does not fit answers RESOURCE_EXHAUSTED
// naming the disk, in words (no SQL, no SQLite code); reads go on; once
// space is freed the same store writes again.
TEST_F(SqliteFaultsTest, DiskFullAtEveryPoint) {
  // The growth of the files over the workload, fault-free.
  int64_t needed = 0;
  {
    std::unique_ptr<Storage> storage = OpenFresh();
    vfs().SetFreeSpace(int64_t{1} << 40);
    Ids committed;
    ASSERT_EQ(Workload(*storage, "n", absl::StatusCode::kOk, committed), 0);
    needed = (int64_t{1} << 40) - vfs().free_space();
    vfs().Reset();
  }
  ASSERT_GT(needed, kWorkloadWrites * kBodyBytes);
  // About 50 points over the workload.
  const int64_t step = std::max<int64_t>(512, needed / 50);
  int full_seen = 0;
  for (int64_t free = 0; free <= needed + step; free += step) {
    const std::string where = absl::StrCat(free, " of ", needed, " bytes free");
    SCOPED_TRACE(where);
    Ids committed;
    {
      std::unique_ptr<Storage> storage = OpenFresh();
      ASSERT_NE(storage, nullptr);
      // Something committed before the disk fills, to read while it is.
      ASSERT_OK(WriteNote(*storage, "before"));
      committed.insert("before");
      vfs().SetFreeSpace(free);
      int failed = 0;
      for (int i = 0; i < kWorkloadWrites; ++i) {
        const std::string id = absl::StrCat("n", i);
        const absl::Status status = WriteNote(*storage, id);
        if (status.ok()) {
          committed.insert(id);
          continue;
        }
        ++failed;
        EXPECT_THAT(status, StatusIs(absl::StatusCode::kResourceExhausted,
                                     AllOf(HasSubstr("disk"), HasSubstr("full"),
                                           Not(HasSubstr("sqlite")), Not(HasSubstr("INSERT")))));
        // Reads keep working on a full disk.
        EXPECT_OK(ReadNote(*storage, "before"));
      }
      if (free < needed / 2) {
        EXPECT_GE(failed, 1);
      }
      if (failed > 0) ++full_seen;
      // The user frees space: the same store writes again, no restart.
      vfs().UnlimitedSpace();
      ASSERT_OK(WriteNote(*storage, "after"));
      committed.insert("after");
      ASSERT_OK(ReadNote(*storage, "after"));
    }
    ExpectFileHolds(committed, where);
    vfs().Reset();
  }
  EXPECT_GT(full_seen, 0);
  EXPECT_GT(vfs().full_failures() + full_seen, 0);
}

// Freeing some space (not all) is enough: the disk-full error is not
// remembered by the store.
TEST_F(SqliteFaultsTest, WritesResumeWhenSomeSpaceReturns) {
  Ids committed;
  {
    std::unique_ptr<Storage> storage = OpenFresh();
    ASSERT_NE(storage, nullptr);
    vfs().SetFreeSpace(0);
    for (int i = 0; i < 3; ++i) {
      EXPECT_THAT(WriteNote(*storage, absl::StrCat("full", i)),
                  StatusIs(absl::StatusCode::kResourceExhausted));
    }
    EXPECT_GE(vfs().full_failures(), 3);
    vfs().AddFreeSpace(1 << 20);
    ASSERT_OK(WriteNote(*storage, "after"));
    committed.insert("after");
  }
  ExpectFileHolds(committed, "some space back");
}

// The WAL checkpoint copies the WAL into the database file. When its writes
// or syncs of the database file fail, commits go on (they only append to the
// WAL), nothing is lost or corrupted, and a later checkpoint succeeds.
// Checkpoints run here in the committing thread (max_wal_frames), so that
// they happen at known points.
TEST_F(SqliteFaultsTest, FailedCheckpointsLoseNothingAndRecover) {
  SqliteOptions options;
  options.checkpoint_frames = 1 << 30;  // No background checkpoint.
  options.max_wal_frames = 8;
  for (const FaultyOp op : {FaultyOp::kWrite, FaultyOp::kSync}) {
    for (int64_t n = 1; n <= 6; ++n) {
      for (const bool sticky : {false, true}) {
        const std::string where = absl::StrCat(op == FaultyOp::kWrite ? "write " : "sync ", n,
                                               sticky ? ", sticky" : "");
        SCOPED_TRACE(where);
        Ids committed;
        {
          std::unique_ptr<Storage> storage = OpenFresh(options);
          ASSERT_NE(storage, nullptr);
          ASSERT_OK_AND_ASSIGN(const internal::CheckpointCounts before,
                               internal::SqliteCheckpointsForTesting(*storage));
          vfs().RestrictTo(testing::kMainDbFile);
          vfs().FailNth(op, n, sticky);
          // Commits append to the WAL only: none fails.
          EXPECT_EQ(Workload(*storage, "n", absl::StatusCode::kOk, committed), 0);
          EXPECT_GT(vfs().counts(op).failures, 0);
          ASSERT_OK_AND_ASSIGN(const internal::CheckpointCounts during,
                               internal::SqliteCheckpointsForTesting(*storage));
          EXPECT_GT(during.in_commit, before.in_commit);
          vfs().Reset();
          // Healed: the next checkpoints copy everything.
          EXPECT_EQ(Workload(*storage, "m", absl::StatusCode::kOk, committed), 0);
        }
        ExpectFileHolds(committed, where);
      }
    }
  }
}

// Closing the store while the database file cannot be written: the final
// checkpoint fails, the WAL stays, and the next open (normal VFS) finds
// every committed write in it.
TEST_F(SqliteFaultsTest, CloseWhileCheckpointsFailKeepsTheWal) {
  Ids committed;
  {
    std::unique_ptr<Storage> storage = OpenFresh();
    ASSERT_NE(storage, nullptr);
    vfs().RestrictTo(testing::kMainDbFile);
    vfs().FailAll(FaultyOp::kWrite);
    EXPECT_EQ(Workload(*storage, "n", absl::StatusCode::kOk, committed), 0);
  }
  EXPECT_TRUE(std::filesystem::exists(path() + "-wal"));
  vfs().Reset();
  ExpectFileHolds(committed, "closed with failing checkpoint");
}

// A backup on a full disk fails with the disk named, leaves no partial
// copy, and does not disturb the live store; with space back it succeeds.
TEST_F(SqliteFaultsTest, BackupOnFullDisk) {
  Ids committed;
  TempDir copies;
  const std::string copy = copies.File("copy.sqlite3");
  {
    std::unique_ptr<Storage> storage = OpenFresh();
    ASSERT_NE(storage, nullptr);
    EXPECT_EQ(Workload(*storage, "n", absl::StatusCode::kOk, committed), 0);
    for (const int64_t free : {0, 4096, 20000}) {
      vfs().SetFreeSpace(free);
      EXPECT_THAT(storage->Backup(copy, nullptr),
                  StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("disk"))) << free;
      EXPECT_FALSE(std::filesystem::exists(copy));
      EXPECT_FALSE(std::filesystem::exists(copy + "-wal"));
      vfs().UnlimitedSpace();
      ASSERT_OK(ReadNote(*storage, "n0"));
    }
    vfs().FailNth(FaultyOp::kSync, 1);
    EXPECT_THAT(storage->Backup(copy, nullptr), StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_FALSE(std::filesystem::exists(copy));
    vfs().Heal();
    ASSERT_OK(WriteNote(*storage, "after"));
    committed.insert("after");
    ASSERT_OK(storage->Backup(copy, nullptr).status());
  }
  ExpectFileHolds(committed, "after backups");
  EXPECT_THAT(PlainQuery(copy, "PRAGMA integrity_check"), ElementsAre("ok"));
  EXPECT_EQ(AsIds(PlainQuery(copy, "SELECT \"id\" FROM \"notes\"")), committed);
}

}  // namespace
}  // namespace recondb::storage
