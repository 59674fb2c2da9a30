// The audit trail over replication (protocol version 3,
// docs/replication-protocol.md): revisions arrive with the author, node and
// time they were made with; two nodes that made the same revision
// independently end with the same audit (the earlier making), also through
// a relay; a version-2 peer still replicates, its revisions without audit.
#include <memory>
#include <string>

#include "common/clock.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "reconciler/testing.h"
#include "storage/memory_storage.h"
#include "tests/support/status_matchers.h"

namespace recondb::reconciler {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::recondb::testing::IsOk;

constexpr int64_t kNow = 1767225600LL * 1000000;  // 2026-01-01T00:00:00Z

// A node with its own fake clock.
struct ClockedNode {
  explicit ClockedNode(int64_t now) : clock(now), storage(storage::NewMemoryStorage()) {
    engine::EngineOptions options;
    options.storage = storage.get();
    options.clock = &clock;
    auto opened = engine::Engine::Open(options);
    EXPECT_THAT(opened, IsOk());
    engine = *std::move(opened);
  }

  absl::StatusOr<v1::Record> Put(const std::string& id, const std::string& text,
                                 std::string_view author) {
    v1::Record record;
    record.set_table("notes");
    record.set_id(id);
    (*record.mutable_attributes())["text"].set_string(text);
    return engine->PutRecord(record, nullptr, author);
  }

  // "<author> <node> <µs>" of revision `revision` of notes/`id`.
  std::string AuditOf(const std::string& id, const std::string& revision) {
    v1::GetRecordHistoryRequest request;
    request.set_table("notes");
    request.set_id(id);
    auto history = engine->GetRecordHistory(request);
    EXPECT_THAT(history, IsOk());
    if (!history.ok()) return "";
    for (const v1::HistoryEntry& e : history->entries()) {
      if (e.record().revision() != revision) continue;
      if (e.origin_node().empty()) return "unknown";
      return absl::StrCat(e.author(), " ", e.origin_node(), " ",
                          TimeUtil::TimestampToMicroseconds(e.create_time()));
    }
    return "no such revision";
  }

  FakeClock clock;
  std::unique_ptr<storage::Storage> storage;
  std::unique_ptr<engine::Engine> engine;
};

void SyncOk(engine::Engine& a, engine::Engine& b, const testing::SyncOptions& options = {}) {
  auto result = testing::Sync(a, b, options);
  EXPECT_THAT(result.dialer, IsOk());
  EXPECT_THAT(result.acceptor, IsOk());
}

TEST(AuditSyncTest, RevisionsArriveWithTheAuditTheyWereMadeWith) {
  ClockedNode a(kNow), b(kNow + 777);
  ASSERT_THAT(a.engine->CreateTable(testing::NotesTable()), IsOk());
  ASSERT_OK_AND_ASSIGN(v1::Record made, a.Put("n1", "hello", "alice"));
  SyncOk(*a.engine, *b.engine);
  const std::string expected = absl::StrCat("alice ", a.engine->node_id(), " ", kNow);
  EXPECT_EQ(a.AuditOf("n1", made.revision()), expected);
  EXPECT_EQ(b.AuditOf("n1", made.revision()), expected);
}

// Both nodes write the same first revision of notes/n1 (one id: the audit
// is not hashed), b earlier by its clock. Neither needs the other's
// revision, yet both end with b's audit, whichever side dials.
TEST(AuditSyncTest, NodesThatMadeTheSameRevisionEndWithTheSameAudit) {
  for (const bool a_dials : {true, false}) {
    SCOPED_TRACE(a_dials);
    ClockedNode a(kNow + 500), b(kNow + 20);
    ASSERT_THAT(a.engine->CreateTable(testing::NotesTable()), IsOk());
    SyncOk(*a.engine, *b.engine);  // The table.
    ASSERT_OK_AND_ASSIGN(v1::Record ra, a.Put("n1", "same", "alice"));
    ASSERT_OK_AND_ASSIGN(v1::Record rb, b.Put("n1", "same", "bob"));
    ASSERT_EQ(ra.revision(), rb.revision());
    if (a_dials) {
      SyncOk(*a.engine, *b.engine);
    } else {
      SyncOk(*b.engine, *a.engine);
    }
    const std::string earlier = absl::StrCat("bob ", b.engine->node_id(), " ", kNow + 20);
    EXPECT_EQ(a.AuditOf("n1", ra.revision()), earlier);
    EXPECT_EQ(b.AuditOf("n1", ra.revision()), earlier);
    // Converged: another sync changes nothing.
    const int64_t a_seq = a.engine->LastSeq(), b_seq = b.engine->LastSeq();
    SyncOk(*a.engine, *b.engine);
    EXPECT_EQ(a.engine->LastSeq(), a_seq);
    EXPECT_EQ(b.engine->LastSeq(), b_seq);
  }
}

// c holds a's later audit (synced before b was heard of); then b, which
// made the revision earlier, syncs with a only. The change reaches c
// through a (a relay): a's change of audit is a feed entry.
TEST(AuditSyncTest, TheEarlierAuditIsRelayed) {
  ClockedNode a(kNow + 500), b(kNow + 20), c(kNow + 900);
  ASSERT_THAT(a.engine->CreateTable(testing::NotesTable()), IsOk());
  SyncOk(*a.engine, *b.engine);
  SyncOk(*a.engine, *c.engine);
  ASSERT_OK_AND_ASSIGN(v1::Record r, a.Put("n1", "same", "alice"));
  ASSERT_THAT(b.Put("n1", "same", "bob"), IsOk());
  SyncOk(*c.engine, *a.engine);  // c: alice's.
  const std::string late = absl::StrCat("alice ", a.engine->node_id(), " ", kNow + 500);
  ASSERT_EQ(c.AuditOf("n1", r.revision()), late);
  SyncOk(*b.engine, *a.engine);  // a: bob's.
  SyncOk(*a.engine, *c.engine);  // c: bob's, relayed by a.
  const std::string earlier = absl::StrCat("bob ", b.engine->node_id(), " ", kNow + 20);
  for (ClockedNode* node : {&a, &b, &c}) EXPECT_EQ(node->AuditOf("n1", r.revision()), earlier);
}

// A version-2 peer (SessionOptions::max_protocol_version = 2) still
// replicates both ways; what it sends has no audit, so its revisions are
// stored with none (unknown), and what it receives it cannot keep.
TEST(AuditSyncTest, AVersionTwoPeerReplicatesWithoutAudit) {
  ClockedNode a(kNow), old(kNow + 5);
  ASSERT_THAT(a.engine->CreateTable(testing::NotesTable()), IsOk());
  ASSERT_OK_AND_ASSIGN(v1::Record from_a, a.Put("n1", "from a", "alice"));
  testing::SyncOptions v2;
  v2.acceptor_max_protocol_version = 2;
  auto result = testing::Sync(*a.engine, *old.engine, v2);
  ASSERT_THAT(result.dialer, IsOk());
  ASSERT_THAT(result.acceptor, IsOk());
  EXPECT_EQ(result.dialer_progress.protocol_version, 2);
  EXPECT_EQ(old.AuditOf("n1", from_a.revision()), "unknown");
  ASSERT_OK_AND_ASSIGN(v1::Record from_old, old.Put("n2", "from old", "olga"));
  v2 = {};
  v2.dialer_max_protocol_version = 2;
  result = testing::Sync(*old.engine, *a.engine, v2);
  ASSERT_THAT(result.dialer, IsOk());
  ASSERT_THAT(result.acceptor, IsOk());
  EXPECT_EQ(a.AuditOf("n2", from_old.revision()), "unknown");
  EXPECT_EQ(a.AuditOf("n1", from_a.revision()),
            absl::StrCat("alice ", a.engine->node_id(), " ", kNow));
}

}  // namespace
}  // namespace recondb::reconciler
