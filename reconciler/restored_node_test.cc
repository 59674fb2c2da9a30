// The routine field operations that used to lose writes silently, in
// process: a node restored from a backup, a data directory copied to a
// second machine, a relay restored, and old (version 1) peers. Each
// scenario ends with every write everywhere; the counts show that
// re-reading a feed after a restore costs summaries, not bodies.
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reconciler/testing.h"
#include "tests/support/status_matchers.h"

namespace recondb::reconciler {
namespace {

using ::recondb::testing::IsOk;
using ::testing::Ge;
using ::testing::Le;
using testing::Node;
using testing::Snapshot;

v1::Table Cases() {
  v1::Table t;
  t.set_name("cases");
  auto* note = t.add_columns();
  note->set_name("note");
  note->set_type(v1::COLUMN_TYPE_STRING);
  return t;
}

void Write(Node& node, const std::string& id) {
  v1::Record r;
  r.set_table("cases");
  r.set_id(id);
  (*r.mutable_attributes())["note"].set_string(absl::StrCat("note of ", id));
  ASSERT_THAT(node.engine->PutRecord(r, nullptr), IsOk());
}

void WriteMany(Node& node, const std::string& prefix, int n) {
  for (int i = 0; i < n; ++i) Write(node, absl::StrCat(prefix, i));
}

int64_t Live(Node& node) {
  v1::ListRecordsRequest list;
  list.set_table("cases");
  list.set_page_size(1000);
  auto page = node.engine->ListRecords(list);
  return page.ok() ? page->records_size() : -1;
}

bool Has(Node& node, const std::string& id) {
  v1::GetRecordRequest get;
  get.set_table("cases");
  get.set_id(id);
  return node.engine->GetRecord(get).ok();
}

testing::SyncResult SyncOk(Node& dialer, Node& acceptor, testing::SyncOptions options = {}) {
  testing::SyncResult result = testing::Sync(*dialer.engine, *acceptor.engine, options);
  EXPECT_THAT(result.dialer, IsOk());
  EXPECT_THAT(result.acceptor, IsOk());
  return result;
}

class RestoreTest : public ::testing::TestWithParam<bool> {
 protected:
  // True: the copy is one the store cannot notice (a disk image), so only
  // the feed's incarnations protect the hub; false: a file copy, which
  // also takes a new node id.
  bool keep_identity() const { return GetParam(); }
};

// The scenario: D syncs with hub E; D is backed up; D writes five
// records and syncs them; D is restored from the backup and writes ten new
// ones. E used to keep a checkpoint "up to seq 9" for D, whose restored feed
// reused seqs 5-9 for other records: E never got five of the ten.
TEST_P(RestoreTest, RestoredNodeLosesNothingAtTheHub) {
  Node e = testing::MemoryNode();
  Node d = testing::MemoryNode();
  ASSERT_THAT(d.engine->CreateTable(Cases()), IsOk());
  WriteMany(d, "before-", 4);
  SyncOk(d, e);
  auto backup = testing::Backup(d);
  WriteMany(d, "after-backup-", 5);
  SyncOk(d, e);
  ASSERT_EQ(Live(e), 9);

  Node restored = testing::Restore(*backup, keep_identity());
  EXPECT_EQ(restored.engine->node_id() == d.engine->node_id(), keep_identity());
  EXPECT_NE(restored.engine->incarnation(), d.engine->incarnation());
  d = Node{};  // The laptop's old disk is gone.
  WriteMany(restored, "restored-", 10);
  for (int round = 0; round < 3; ++round) SyncOk(restored, e);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(Has(e, absl::StrCat("restored-", i))) << i;
  // What the restored node had lost came back from the hub.
  EXPECT_EQ(Live(e), 19);
  EXPECT_EQ(Live(restored), 19);
  EXPECT_EQ(Snapshot(*e.engine), Snapshot(*restored.engine));
}

// Re-reading a restored feed sends the hub every record's summary again but
// a body only for what it lacks.
TEST_P(RestoreTest, ReReadingARestoredFeedSendsOnlyWhatIsMissing) {
  constexpr int kOld = 300;
  Node e = testing::MemoryNode();
  Node d = testing::MemoryNode();
  ASSERT_THAT(d.engine->CreateTable(Cases()), IsOk());
  WriteMany(d, "old-", kOld);
  auto backup = testing::Backup(d);
  WriteMany(d, "lost-", 5);
  SyncOk(d, e);
  Node restored = testing::Restore(*backup, keep_identity());
  WriteMany(restored, "new-", 10);
  testing::SyncResult result = SyncOk(restored, e);
  const SessionProgress& p = result.dialer_progress;
  // Restored-from-backup feeds cannot be trusted past the backup: the hub's
  // checkpoint (seq 306) was rewound to what is provably common (the
  // backup's last seq, 301) or, for a new node id, there was none.
  EXPECT_THAT(p.resumed_from, Le(kOld + 1));
  EXPECT_EQ(p.sent.revisions_sent(), 10);  // Bodies: only the new records.
  EXPECT_EQ(p.received.revisions_sent(), 5);  // And the lost ones came back.
  EXPECT_THAT(p.sent.records_offered(), Ge(10));
  EXPECT_EQ(Live(e), kOld + 15);
  EXPECT_EQ(Snapshot(*e.engine), Snapshot(*restored.engine));
}

// Two laptops imaged from one copy both write and both sync with the hub:
// the hub used to get one laptop's records and none of the other's.
TEST_P(RestoreTest, ClonedNodesBothReachTheHubAndEachOther) {
  Node e = testing::MemoryNode();
  Node d = testing::MemoryNode();
  ASSERT_THAT(d.engine->CreateTable(Cases()), IsOk());
  WriteMany(d, "shared-", 3);
  SyncOk(d, e);
  Node f = testing::CopyOf(d, keep_identity());
  EXPECT_NE(f.engine->incarnation(), d.engine->incarnation());
  WriteMany(d, "d-", 6);
  WriteMany(f, "f-", 6);
  for (int round = 0; round < 2; ++round) {
    SyncOk(d, e);
    SyncOk(f, e);
  }
  EXPECT_EQ(Live(e), 15);
  // And with each other, directly (once refused: "claims this node's id").
  SyncOk(d, f);
  EXPECT_EQ(Snapshot(*d.engine), Snapshot(*e.engine));
  EXPECT_EQ(Snapshot(*f.engine), Snapshot(*e.engine));
}

// A feed rolled back and then written past the receiver's checkpoint: the
// case the old "checkpoint beyond the feed's end" rule could not see.
TEST_P(RestoreTest, RolledBackFeedWrittenPastTheCheckpointIsReRead) {
  Node e = testing::MemoryNode();
  Node d = testing::MemoryNode();
  ASSERT_THAT(d.engine->CreateTable(Cases()), IsOk());
  auto backup = testing::Backup(d);  // Seq 1: the table.
  WriteMany(d, "gone-", 3);
  SyncOk(d, e);  // E's checkpoint for D: seq 4.
  Node restored = testing::Restore(*backup, keep_identity());
  ASSERT_EQ(restored.engine->LastSeq(), 1);
  WriteMany(restored, "past-", 8);  // Seqs 2-9: beyond E's checkpoint.
  SyncOk(restored, e);
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(Has(e, absl::StrCat("past-", i))) << i;
  EXPECT_EQ(Snapshot(*e.engine), Snapshot(*restored.engine));
}

// A-B-C, B restored: C's checkpoint for B and A's for B are both verified
// against B's restored feed, so nothing written on B after the restore is
// skipped by either, and what B lost comes back from both.
TEST_P(RestoreTest, RestoredRelayLosesNothing) {
  Node a = testing::MemoryNode();
  Node b = testing::MemoryNode();
  Node c = testing::MemoryNode();
  ASSERT_THAT(a.engine->CreateTable(Cases()), IsOk());
  WriteMany(a, "a-", 3);
  SyncOk(a, b);
  SyncOk(b, c);
  auto backup = testing::Backup(b);
  WriteMany(b, "b-lost-", 4);
  WriteMany(a, "a-later-", 2);
  SyncOk(a, b);
  SyncOk(b, c);
  Node restored = testing::Restore(*backup, keep_identity());
  b = Node{};
  WriteMany(restored, "b-new-", 7);
  WriteMany(c, "c-", 2);
  SyncOk(restored, c);
  SyncOk(a, restored);
  SyncOk(restored, c);
  for (int i = 0; i < 7; ++i) {
    EXPECT_TRUE(Has(a, absl::StrCat("b-new-", i))) << i;
    EXPECT_TRUE(Has(c, absl::StrCat("b-new-", i))) << i;
  }
  EXPECT_EQ(Live(a), 3 + 4 + 2 + 7 + 2);
  EXPECT_EQ(Snapshot(*a.engine), Snapshot(*restored.engine));
  EXPECT_EQ(Snapshot(*c.engine), Snapshot(*restored.engine));
}

INSTANTIATE_TEST_SUITE_P(Copies, RestoreTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Undetected" : "FileCopy"; });

// A restart is a new incarnation too, and must cost nothing: the
// receiver's checkpoint from the earlier incarnation is verified and kept.
TEST(RestartTest, AReopenedStoreResumesFromTheCheckpoint) {
  Node e = testing::MemoryNode();
  Node d = testing::MemoryNode();
  ASSERT_THAT(d.engine->CreateTable(Cases()), IsOk());
  WriteMany(d, "x-", 20);
  SyncOk(d, e);
  const int64_t end = d.engine->LastSeq();
  Node reopened = testing::Restore(*d.storage, /*keep_identity=*/true);  // Same store, reopened.
  ASSERT_EQ(reopened.engine->node_id(), d.engine->node_id());
  testing::SyncResult result = SyncOk(reopened, e);
  EXPECT_EQ(result.dialer_progress.resumed_from, end);
  EXPECT_EQ(result.dialer_progress.sent.records_offered(), 0);
}

// A version-1 peer (an old build) still replicates both ways; its
// checkpoints name no incarnation, so a version-2 source re-reads its feed
// for it (summaries only) rather than trust one it cannot verify.
TEST(VersionTest, OldPeersKeepWorkingAndAreNeverTrustedBlindly) {
  Node e = testing::MemoryNode();
  Node d = testing::MemoryNode();
  ASSERT_THAT(d.engine->CreateTable(Cases()), IsOk());
  WriteMany(d, "d-", 5);
  WriteMany(e, "e-", 0);
  testing::SyncOptions old_acceptor;
  old_acceptor.acceptor_max_protocol_version = 1;
  testing::SyncResult first = SyncOk(d, e, old_acceptor);
  EXPECT_EQ(first.dialer_progress.protocol_version, 1);
  EXPECT_EQ(first.acceptor_progress.protocol_version, 1);
  EXPECT_TRUE(first.dialer_progress.peer_incarnation.empty());
  EXPECT_EQ(Live(e), 5);
  Write(d, "d-late");
  testing::SyncResult second = SyncOk(d, e, old_acceptor);
  EXPECT_EQ(second.dialer_progress.resumed_from, 0);
  EXPECT_EQ(second.dialer_progress.sent.revisions_sent(), 1);
  EXPECT_EQ(Live(e), 6);
  // Back to the current version: the old-format checkpoint is re-read
  // once, then kept.
  testing::SyncResult third = SyncOk(d, e);
  EXPECT_EQ(third.dialer_progress.protocol_version, kProtocolVersion);
  EXPECT_EQ(third.dialer_progress.sent.revisions_sent(), 0);
  testing::SyncResult fourth = SyncOk(d, e);
  EXPECT_EQ(fourth.dialer_progress.resumed_from, d.engine->LastSeq());
  EXPECT_EQ(Snapshot(*d.engine), Snapshot(*e.engine));
}

}  // namespace
}  // namespace recondb::reconciler
