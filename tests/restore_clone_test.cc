// Never silent loss, with real recondbd processes on loopback: the routine
// field operations that used to lose writes without a word. A laptop
// restored from a copy of its data directory; a data directory copied to a
// second laptop; the same two done in a way recondbd cannot notice (a disk
// image: the copy keeps the original's file identity and so its node id);
// and a relay restored in the middle of a chain. Each ends with every write
// on every node.
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sqlite3.h"
#include "storage/internal/file_identity.h"
#include "tests/support/cluster.h"
#include "tests/support/db_client.h"
#include "tests/support/status_matchers.h"
#include "tests/support/values.h"

namespace recondb::testing {
namespace {

using ::testing::HasSubstr;

void Write(Cluster& cluster, int node, const std::string& prefix, int n) {
  DbClient db(cluster.node(node).NewChannel());
  for (int i = 0; i < n; ++i) {
    ASSERT_OK(db.Create("todos", {{"title", StringValue(absl::StrCat(prefix, i))}},
                        absl::StrCat(prefix, i)));
  }
}

int64_t Live(Cluster& cluster, int node) {
  absl::StatusOr<v1::NodeStatus> status = cluster.GetStatus(node);
  if (!status.ok()) return -1;
  for (const auto& t : status->tables()) {
    if (t.name() == "todos") return t.records();
  }
  return 0;
}

bool Has(Cluster& cluster, int node, const std::string& id) {
  DbClient db(cluster.node(node).NewChannel());
  return db.GetRecord("todos", id).ok();
}

void SyncOk(Cluster& cluster, int from, int to) {
  absl::StatusOr<v1::SyncResponse> sync = cluster.Sync(from, cluster.address(to));
  ASSERT_OK(sync);
}

// Makes the store in `dir` look like the original it was copied from, as a
// block-level disk image or a VM snapshot would: its kept file identity is
// its own file's, so the daemon cannot tell it is a copy and keeps the node
// id. Only the feed's incarnations then stand between the hub and a loss.
void DisguiseCopy(const std::filesystem::path& dir) {
  const std::string path = (dir / "recondb.sqlite3").string();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const std::string sql = absl::StrCat("UPDATE _meta SET value = '",
                                       storage::internal::FileIdentity(path),
                                       "' WHERE key = 'store_anchor'");
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "");
  sqlite3_free(error);
  EXPECT_EQ(sqlite3_changes(db), 1);
  sqlite3_close(db);
}

class RestoreCloneTest : public ::testing::TestWithParam<bool> {
 protected:
  bool disguised() const { return GetParam(); }
};

// The scenario: laptop D syncs with hub E; D's directory is copied;
// D writes five records and syncs; D is restored from the copy and writes
// ten more. E used to end with only the last five of the ten.
TEST_P(RestoreCloneTest, ALaptopRestoredFromACopyLosesNothing) {
  Cluster cluster;
  ASSERT_OK_AND_ASSIGN(int e, cluster.AddNode());
  ASSERT_OK_AND_ASSIGN(int d, cluster.AddNode());
  {
    DbClient db(cluster.node(d).NewChannel());
    ASSERT_OK(db.CreateTable(TodoTable()));
  }
  Write(cluster, d, "before-", 4);
  SyncOk(cluster, d, e);
  const std::string original_id = cluster.node_id(d);

  ASSERT_OK(cluster.Stop(d));
  TempDir backup;
  ASSERT_OK(CopyDataDir(cluster.data_dir(d), backup.path()));
  ASSERT_OK(cluster.Restart(d));
  Write(cluster, d, "after-backup-", 5);
  SyncOk(cluster, d, e);
  ASSERT_EQ(Live(cluster, e), 9);

  ASSERT_OK(cluster.Stop(d));
  ASSERT_OK(CopyDataDir(backup.path(), cluster.data_dir(d)));
  if (disguised()) DisguiseCopy(cluster.data_dir(d));
  ASSERT_OK(cluster.Restart(d));
  ASSERT_OK_AND_ASSIGN(v1::NodeStatus status, cluster.GetStatus(d));
  if (disguised()) {
    EXPECT_EQ(cluster.node_id(d), original_id);
    EXPECT_EQ(status.copy_of(), "");
  } else {
    EXPECT_NE(cluster.node_id(d), original_id);
    EXPECT_EQ(status.copy_of(), original_id);
    EXPECT_THAT(cluster.node(d).log(), HasSubstr(absl::StrCat("is a copy of node ", original_id)));
  }
  // Ten new records: the restored feed goes past E's checkpoint for D.
  Write(cluster, d, "restored-", 10);
  for (int round = 0; round < 3; ++round) SyncOk(cluster, d, e);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(Has(cluster, e, absl::StrCat("restored-", i))) << i;
  EXPECT_EQ(Live(cluster, e), 19);
  // What D lost with its disk came back from the hub.
  EXPECT_EQ(Live(cluster, d), 19);
  if (disguised()) {
    EXPECT_THAT(cluster.node(d).log(), HasSubstr("is not provably part of this node's feed"));
  }
}

// A data directory copied to a second laptop F: D and F both write and
// both sync with hub E (live links), then with each other. E used to
// receive D's records and none of F's ("sent 0").
TEST_P(RestoreCloneTest, TwoLaptopsFromOneCopyBothReachTheHubAndEachOther) {
  Cluster cluster;
  ASSERT_OK_AND_ASSIGN(int e, cluster.AddNode());
  ASSERT_OK_AND_ASSIGN(int d, cluster.AddNode());
  {
    DbClient db(cluster.node(d).NewChannel());
    ASSERT_OK(db.CreateTable(TodoTable()));
  }
  Write(cluster, d, "shared-", 3);
  SyncOk(cluster, d, e);
  ASSERT_OK(cluster.Stop(d));
  const std::vector<std::string> live_to_e = {absl::StrCat("--peer=", cluster.address(e))};
  ASSERT_OK_AND_ASSIGN(
      int f, cluster.AddNodeFromCopy(cluster.data_dir(d), {e}, {},
                                     [&](const std::filesystem::path& dir) {
                                       if (disguised()) DisguiseCopy(dir);
                                     }));
  ASSERT_OK(cluster.Restart(d, live_to_e));
  EXPECT_EQ(cluster.node_id(f) == cluster.node_id(d), disguised());

  Write(cluster, d, "d-", 6);
  Write(cluster, f, "f-", 6);
  // Both live links stay up at once (links are told apart by incarnation),
  // and each laptop's writes reach the hub as they commit.
  for (int i = 0; i < 6; ++i) {
    ASSERT_OK(cluster.WaitForChange(e, "todos", absl::StrCat("d-", i)));
    ASSERT_OK(cluster.WaitForChange(e, "todos", absl::StrCat("f-", i)));
  }
  EXPECT_EQ(Live(cluster, e), 15);
  // And through the hub to each other, and directly.
  ASSERT_OK(cluster.WaitForChange(d, "todos", "f-5"));
  ASSERT_OK(cluster.WaitForChange(f, "todos", "d-5"));
  SyncOk(cluster, d, f);
  EXPECT_EQ(Live(cluster, d), 15);
  EXPECT_EQ(Live(cluster, f), 15);
}

// A-B-C with B restored from a copy: A and C each verify their checkpoint
// for B against B's restored feed, so neither skips what B writes after the
// restore, and what B lost comes back from both.
TEST_P(RestoreCloneTest, ARestoredRelayLosesNothing) {
  Cluster cluster;
  ASSERT_OK_AND_ASSIGN(int a, cluster.AddNode());
  ASSERT_OK_AND_ASSIGN(int b, cluster.AddNode());
  ASSERT_OK_AND_ASSIGN(int c, cluster.AddNode());
  {
    DbClient db(cluster.node(a).NewChannel());
    ASSERT_OK(db.CreateTable(TodoTable()));
  }
  Write(cluster, a, "a-", 3);
  SyncOk(cluster, b, a);
  SyncOk(cluster, b, c);
  ASSERT_OK(cluster.Stop(b));
  TempDir backup;
  ASSERT_OK(CopyDataDir(cluster.data_dir(b), backup.path()));
  ASSERT_OK(cluster.Restart(b));
  Write(cluster, b, "b-lost-", 4);
  Write(cluster, a, "a-later-", 2);
  SyncOk(cluster, b, a);
  SyncOk(cluster, b, c);
  ASSERT_OK(cluster.Stop(b));
  ASSERT_OK(CopyDataDir(backup.path(), cluster.data_dir(b)));
  if (disguised()) DisguiseCopy(cluster.data_dir(b));
  ASSERT_OK(cluster.Restart(b));
  Write(cluster, b, "b-new-", 7);
  Write(cluster, c, "c-", 2);
  SyncOk(cluster, b, c);
  SyncOk(cluster, b, a);
  SyncOk(cluster, b, c);
  for (int i = 0; i < 7; ++i) {
    EXPECT_TRUE(Has(cluster, a, absl::StrCat("b-new-", i))) << i;
    EXPECT_TRUE(Has(cluster, c, absl::StrCat("b-new-", i))) << i;
  }
  const int64_t all = 3 + 4 + 2 + 7 + 2;
  EXPECT_EQ(Live(cluster, a), all);
  EXPECT_EQ(Live(cluster, b), all);
  EXPECT_EQ(Live(cluster, c), all);
}

INSTANTIATE_TEST_SUITE_P(Copies, RestoreCloneTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "DiskImage" : "FileCopy"; });

}  // namespace
}  // namespace recondb::testing
