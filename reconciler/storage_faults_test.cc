// Replication over a failing store (issue 14, point 2): when one node's
// storage fails while it grafts what a peer sent, or while it serves a peer,
// the session ends with a retryable status (the peer manager redials), the
// failing node holds only whole transactions, and once the storage heals
// the next session converges the two nodes.
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reconciler/testing.h"
#include "storage/memory_storage.h"
#include "storage/testing/faulty_storage.h"
#include "tests/support/status_matchers.h"

namespace recondb::reconciler {
namespace {

using ::recondb::storage::FaultPersistence;
using ::recondb::storage::FaultyStorage;
using ::recondb::storage::StorageOp;
using ::recondb::storage::StorageOpName;
using ::recondb::testing::IsOk;
using ::testing::AnyOf;

constexpr int kRecords = 12;

// A memory node whose storage can be told to fail.
struct FaultyNode {
  FaultyStorage* faulty = nullptr;  // Owned by node.storage.
  testing::Node node;
};

FaultyNode NewFaultyNode() {
  FaultyNode out;
  auto faulty = std::make_unique<FaultyStorage>(storage::NewMemoryStorage());
  out.faulty = faulty.get();
  out.node.storage = std::move(faulty);
  engine::EngineOptions options;
  options.storage = out.node.storage.get();
  auto engine = engine::Engine::Open(options);
  EXPECT_THAT(engine, IsOk());
  out.node.engine = *std::move(engine);
  return out;
}

// The same history on every call: the notes table and random writes.
void WriteHistory(engine::Engine& engine) {
  ASSERT_THAT(engine.CreateTable(testing::NotesTable()), IsOk());
  std::mt19937 rng(14);
  for (int i = 0; i < 40; ++i) ASSERT_THAT(testing::RandomNoteWrite(engine, rng, kRecords), IsOk());
}

bool Retryable(const absl::Status& s) { return absl::IsUnavailable(s) || absl::IsAborted(s); }

// What a node may hold after a one-batch sync from `source` broke: nothing,
// the table alone (its own transaction, before the graft), or everything.
std::vector<std::string> WholeStates(engine::Engine& source) {
  testing::Node empty = testing::MemoryNode();
  testing::Node table_only = testing::MemoryNode();
  auto table = source.GetTable("notes");
  EXPECT_THAT(table, IsOk());
  EXPECT_THAT(table_only.engine->ApplyForeignTable(*table), IsOk());
  return {testing::Snapshot(*empty.engine), testing::Snapshot(*table_only.engine),
          testing::Snapshot(source)};
}

// Heals `node`, syncs again and checks that the two nodes converged.
void ExpectHealedSyncConverges(FaultyNode& node, engine::Engine& peer) {
  node.faulty->Heal();
  const testing::SyncResult again = testing::Sync(*node.node.engine, peer);
  EXPECT_THAT(again.dialer, IsOk());
  EXPECT_THAT(again.acceptor, IsOk());
  EXPECT_EQ(testing::Snapshot(*node.node.engine), testing::Snapshot(peer));
  EXPECT_EQ(testing::AuditSnapshot(*node.node.engine), testing::AuditSnapshot(peer));
}

// Every write the receiving side makes (its sink thread is its only writer:
// the node starts empty, so it has nothing to offer that the peer lacks).
const StorageOp kGraftOps[] = {StorageOp::kBeginWrite,     StorageOp::kCreateTable,
                               StorageOp::kInsertRevision, StorageOp::kUpsertViewRow,
                               StorageOp::kDeleteViewRow,  StorageOp::kAppendChange,
                               StorageOp::kSetMeta,        StorageOp::kCommit};

TEST(ReplicationStorageFaultsTest, EveryFailedGraftCallEndsTheSessionCleanly) {
  // How often a clean sync makes each call.
  int64_t counts[storage::kStorageOpCount] = {};
  {
    testing::Node source = testing::MemoryNode();
    WriteHistory(*source.engine);
    FaultyNode receiver = NewFaultyNode();
    receiver.faulty->ResetCounts();
    const testing::SyncResult clean = testing::Sync(*receiver.node.engine, *source.engine);
    ASSERT_THAT(clean.dialer, IsOk());
    ASSERT_EQ(testing::Snapshot(*receiver.node.engine), testing::Snapshot(*source.engine));
    for (StorageOp op : kGraftOps) counts[static_cast<int>(op)] = receiver.faulty->CallCount(op);
  }
  for (StorageOp op : kGraftOps) {
    for (int64_t n = 0; n < counts[static_cast<int>(op)]; ++n) {
      SCOPED_TRACE(absl::StrCat("failing ", std::string(StorageOpName(op)), " call ", n + 1, " of ",
                                counts[static_cast<int>(op)]));
      testing::Node source = testing::MemoryNode();
      WriteHistory(*source.engine);
      FaultyNode receiver = NewFaultyNode();
      receiver.faulty->FailAfter(op, n);
      const testing::SyncResult broken = testing::Sync(*receiver.node.engine, *source.engine);
      EXPECT_EQ(receiver.faulty->InjectedCount(), 1);
      EXPECT_TRUE(Retryable(broken.dialer)) << broken.dialer;
      EXPECT_TRUE(broken.acceptor.ok() || Retryable(broken.acceptor)) << broken.acceptor;
      EXPECT_THAT(WholeStates(*source.engine),
                  ::testing::Contains(testing::Snapshot(*receiver.node.engine)));
      ExpectHealedSyncConverges(receiver, *source.engine);
    }
  }
}

// Many batches, each sent in several parts: a failure in the middle keeps
// the batches and parts before it, and the next session finishes the job.
TEST(ReplicationStorageFaultsTest, FailedGraftInALaterBatchResumesAfterHeal) {
  for (StorageOp op : {StorageOp::kInsertRevision, StorageOp::kCommit, StorageOp::kSetMeta}) {
    for (FaultPersistence persistence :
         {FaultPersistence::kTransient, FaultPersistence::kPermanent}) {
      SCOPED_TRACE(absl::StrCat(
          "failing ", std::string(StorageOpName(op)),
          persistence == FaultPersistence::kPermanent ? " from its 3rd call" : " at its 3rd call"));
      testing::Node source = testing::MemoryNode();
      WriteHistory(*source.engine);
      FaultyNode receiver = NewFaultyNode();
      receiver.faulty->FailAfter(op, 2, persistence);
      testing::SyncOptions options;
      options.batch_records = 3;
      options.part_bytes = 200;
      const testing::SyncResult broken =
          testing::Sync(*receiver.node.engine, *source.engine, options);
      EXPECT_TRUE(Retryable(broken.dialer)) << broken.dialer;
      EXPECT_TRUE(broken.acceptor.ok() || Retryable(broken.acceptor)) << broken.acceptor;
      EXPECT_NE(testing::Snapshot(*receiver.node.engine), testing::Snapshot(*source.engine));
      ExpectHealedSyncConverges(receiver, *source.engine);
    }
  }
}

// Reads that fail while a node serves a peer (the change feed, the leaves,
// the revisions it collects) end the session as cleanly, whichever read it
// is, once or for good.
TEST(ReplicationStorageFaultsTest, FailedReadsWhileServingEndTheSessionCleanly) {
  const StorageOp kServingOps[] = {StorageOp::kBeginRead,    StorageOp::kScanChanges,
                                   StorageOp::kCountChanges, StorageOp::kGetLeaves,
                                   StorageOp::kGetRevision,  StorageOp::kGetHistory,
                                   StorageOp::kGetTable,     StorageOp::kListTables};
  for (StorageOp op : kServingOps) {
    for (FaultPersistence persistence :
         {FaultPersistence::kTransient, FaultPersistence::kPermanent}) {
      for (int64_t n : {0, 1, 3}) {
        SCOPED_TRACE(absl::StrCat("failing ", std::string(StorageOpName(op)), " after ", n,
                                  " calls",
                                  persistence == FaultPersistence::kPermanent ? ", for good" : ""));
        FaultyNode source = NewFaultyNode();
        WriteHistory(*source.node.engine);
        testing::Node receiver = testing::MemoryNode();
        source.faulty->FailAfter(op, n, persistence);
        const testing::SyncResult result = testing::Sync(*receiver.engine, *source.node.engine);
        if (source.faulty->InjectedCount() == 0) {
          // The session made fewer such calls: nothing failed.
          EXPECT_THAT(result.dialer, IsOk());
          EXPECT_THAT(result.acceptor, IsOk());
        } else {
          EXPECT_TRUE(result.acceptor.ok() || Retryable(result.acceptor)) << result.acceptor;
          EXPECT_TRUE(result.dialer.ok() || Retryable(result.dialer)) << result.dialer;
          // A session both sides call a success moved everything.
          if (result.dialer.ok() && result.acceptor.ok()) {
            EXPECT_EQ(testing::Snapshot(*receiver.engine), testing::Snapshot(*source.node.engine));
          }
        }
        source.faulty->Heal();
        const testing::SyncResult again = testing::Sync(*receiver.engine, *source.node.engine);
        EXPECT_THAT(again.dialer, IsOk());
        EXPECT_THAT(again.acceptor, IsOk());
        EXPECT_EQ(testing::Snapshot(*receiver.engine), testing::Snapshot(*source.node.engine));
      }
    }
  }
}

}  // namespace
}  // namespace recondb::reconciler
