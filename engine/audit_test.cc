// The audit trail (docs/revision-encoding.md, "Audit metadata"): local
// writes are stamped with the principal, this node and the clock's time;
// foreign revisions keep the audit they carry (or none); and the one rule
// (internal::AuditPrecedes) makes two nodes that made the same revision
// end with the same audit, whatever the order they learn of each other's.
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "engine/engine.h"
#include "engine/internal/audit.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "storage/memory_storage.h"
#include "tests/support/status_matchers.h"

namespace recondb::engine {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::recondb::testing::IsOk;
using ::recondb::testing::IsOkAndHolds;
using ::recondb::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using storage::RevisionAudit;

constexpr int64_t kNow = 1767225600LL * 1000000;  // 2026-01-01T00:00:00Z

// One node: an engine over memory storage with its own fake clock and a
// table notes(title string).
struct Node {
  explicit Node(int64_t now) : clock(now) {
    storage = storage::NewMemoryStorage();
    EngineOptions options;
    options.storage = storage.get();
    options.clock = &clock;
    auto opened = Engine::Open(options);
    EXPECT_THAT(opened, IsOk());
    engine = *std::move(opened);
    v1::Table notes;
    notes.set_name("notes");
    v1::Column* title = notes.add_columns();
    title->set_name("title");
    title->set_type(v1::COLUMN_TYPE_STRING);
    title->set_nullable(true);
    EXPECT_THAT(engine->CreateTable(notes), IsOk());
  }

  absl::StatusOr<v1::Record> Put(const std::string& id, const std::string& title,
                                 std::string_view author, const std::string& revision = "") {
    v1::Record record;
    record.set_table("notes");
    record.set_id(id);
    record.set_revision(revision);
    (*record.mutable_attributes())["title"].set_string(title);
    return engine->PutRecord(record, nullptr, author);
  }

  std::vector<v1::HistoryEntry> History(const std::string& id) {
    v1::GetRecordHistoryRequest request;
    request.set_table("notes");
    request.set_id(id);
    auto history = engine->GetRecordHistory(request);
    EXPECT_THAT(history, IsOk());
    if (!history.ok()) return {};
    return {history->entries().begin(), history->entries().end()};
  }

  // The revisions of record `id` as a peer would send them (bodies).
  std::vector<ForeignRevision> Export(const std::string& id) {
    auto page = engine->ReadChangePage(0, {"notes"}, 1000);
    EXPECT_THAT(page, IsOk());
    std::vector<RevisionWant> wants;
    for (const ChangedRecord& record : page->records) {
      if (record.id == id) wants.push_back(RevisionWant{"notes", id, record.leaves, {}});
    }
    auto revisions = engine->CollectRevisions(wants);
    EXPECT_THAT(revisions, IsOk());
    return revisions.ok() ? *revisions : std::vector<ForeignRevision>{};
  }

  // The feed's summaries, with their leaves' audits.
  std::vector<ChangedRecord> Summaries() {
    auto page = engine->ReadChangePage(0, {}, 1000);
    EXPECT_THAT(page, IsOk());
    return page.ok() ? page->records : std::vector<ChangedRecord>{};
  }

  FakeClock clock;
  std::unique_ptr<storage::Storage> storage;
  std::unique_ptr<Engine> engine;
};

// "<author>@<node>@<time µs>" of a history entry, "-" when unknown.
std::string AuditOf(const v1::HistoryEntry& e) {
  if (e.origin_node().empty()) return "-";
  return absl::StrCat(e.author(), "@", e.origin_node(), "@",
                      TimeUtil::TimestampToMicroseconds(e.create_time()));
}
std::string AuditOf(const RevisionAudit& a) {
  return absl::StrCat(a.author, "@", a.origin_node, "@", a.create_time_micros);
}

TEST(AuditTest, LocalWritesAreStampedWithAuthorThisNodeAndTheClock) {
  Node node(kNow);
  ASSERT_OK_AND_ASSIGN(v1::Record first, node.Put("n1", "one", "alice"));
  node.clock.Advance(1500);
  ASSERT_OK_AND_ASSIGN(v1::Record second, node.Put("n1", "two", "bob.k-9_x", first.revision()));
  node.clock.Advance(1);
  v1::DeleteRecordRequest del;
  del.set_table("notes");
  del.set_id("n1");
  ASSERT_THAT(node.engine->DeleteRecord(del), IsOk());  // Default author.
  const std::vector<v1::HistoryEntry> history = node.History("n1");
  ASSERT_EQ(history.size(), 3u);  // Newest first.
  const std::string& id = node.engine->node_id();
  EXPECT_EQ(AuditOf(history[0]), absl::StrCat("anonymous@", id, "@", kNow + 1501));
  EXPECT_EQ(AuditOf(history[1]), absl::StrCat("bob.k-9_x@", id, "@", kNow + 1500));
  EXPECT_EQ(AuditOf(history[2]), absl::StrCat("alice@", id, "@", kNow));
  // The audit is not in the id: the same edit by someone else, elsewhere,
  // later, is the same revision.
  Node other(kNow + 999);
  ASSERT_OK_AND_ASSIGN(v1::Record same, other.Put("n1", "one", "carol"));
  EXPECT_EQ(same.revision(), first.revision());
}

TEST(AuditTest, ResolveConflictStampsEveryRevisionItMakes) {
  Node node(kNow);
  ASSERT_OK_AND_ASSIGN(v1::Record base, node.Put("n1", "base", "alice"));
  Node other(kNow);
  ASSERT_THAT(other.engine->ApplyForeignRevisions(node.Export("n1")), IsOk());
  ASSERT_THAT(node.Put("n1", "mine", "alice", base.revision()), IsOk());
  ASSERT_THAT(other.Put("n1", "theirs", "bob", base.revision()), IsOk());
  ASSERT_THAT(node.engine->ApplyForeignRevisions(other.Export("n1")), IsOk());
  v1::GetRecordRequest get;
  get.set_table("notes");
  get.set_id("n1");
  ASSERT_OK_AND_ASSIGN(v1::Record winner, node.engine->GetRecord(get));
  node.clock.Advance(7);
  v1::Record resolution;
  resolution.set_table("notes");
  resolution.set_id("n1");
  resolution.set_revision(winner.revision());
  (*resolution.mutable_attributes())["title"].set_string("merged");
  ASSERT_THAT(node.engine->ResolveConflict(resolution, nullptr, "dora"), IsOk());
  int stamped = 0;
  for (const v1::HistoryEntry& e : node.History("n1")) {
    if (e.author() != "dora") continue;
    ++stamped;
    EXPECT_EQ(AuditOf(e), absl::StrCat("dora@", node.engine->node_id(), "@", kNow + 7));
  }
  EXPECT_EQ(stamped, 3);  // The merged revision, the loser's tombstone and its acknowledgement.
}

TEST(AuditTest, AnAuthorThatIsNotAPrincipalNameIsRefused) {
  Node node(kNow);
  for (const char* bad : {"", "Alice", "-x", "a b", "tok\n"}) {
    EXPECT_THAT(node.Put("n1", "one", bad),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("author")))
        << bad;
  }
  EXPECT_THAT(node.Put("n1", "one", std::string(64, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(node.Put("n1", "one", std::string(63, 'a')), IsOk());
}

TEST(AuditTest, ForeignRevisionsKeepTheAuditTheyCarryOrNone) {
  Node a(kNow);
  ASSERT_THAT(a.Put("n1", "one", "alice"), IsOk());
  ASSERT_THAT(a.Put("n2", "two", "alice"), IsOk());
  Node b(kNow + 1000000);
  std::vector<ForeignRevision> with = a.Export("n1");
  std::vector<ForeignRevision> without = a.Export("n2");
  for (ForeignRevision& f : without) f.rev.audit = RevisionAudit{};  // An old peer.
  ASSERT_THAT(b.engine->ApplyForeignRevisions(with), IsOkAndHolds(1));
  ASSERT_THAT(b.engine->ApplyForeignRevisions(without), IsOkAndHolds(1));
  EXPECT_EQ(AuditOf(b.History("n1")[0]),
            absl::StrCat("alice@", a.engine->node_id(), "@", kNow));
  EXPECT_EQ(AuditOf(b.History("n2")[0]), "-");
}

TEST(AuditTest, ForgedAuditRefusesTheBatchNamingTheField) {
  Node a(kNow);
  ASSERT_THAT(a.Put("n1", "one", "alice"), IsOk());
  Node b(kNow);
  const ForeignRevision good = a.Export("n1").at(0);
  struct Case {
    const char* field;
    void (*forge)(RevisionAudit&);
  };
  const Case cases[] = {
      {"author", [](RevisionAudit& x) { x.author = "Mallory Admin"; }},
      {"author", [](RevisionAudit& x) { x.author = std::string(100, 'm'); }},
      {"origin_node", [](RevisionAudit& x) { x.origin_node = "node-1"; }},
      {"origin_node", [](RevisionAudit& x) { x.origin_node = std::string(5000, 'f'); }},
      {"create_time", [](RevisionAudit& x) { x.create_time_micros = -5; }},
      {"create_time", [](RevisionAudit& x) { x.create_time_micros = internal::kMaxAuditTimeMicros + 1; }},
      {"origin_node", [](RevisionAudit& x) { x.origin_node.clear(); }},  // Half an audit.
  };
  for (const Case& c : cases) {
    ForeignRevision forged = good;
    c.forge(forged.rev.audit);
    EXPECT_THAT(b.engine->ApplyForeignRevisions({forged}),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr(c.field), HasSubstr(good.rev.revision))))
        << c.field;
    ChangedRecord summary{"notes", "n1", {good.rev.revision}, {forged.rev.audit}};
    EXPECT_THAT(b.engine->MergeForeignAudit({summary}),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.field)))
        << c.field;
  }
  EXPECT_THAT(b.engine->GetRecord([] {
    v1::GetRecordRequest r;
    r.set_table("notes");
    r.set_id("n1");
    return r;
  }()),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(AuditTest, TheRuleKeepsTheSmallestTupleAndKnownBeforeUnknown) {
  const std::string n1 = "11111111-1111-4111-8111-111111111111";
  const std::string n2 = "22222222-2222-4222-8222-222222222222";
  const RevisionAudit unknown;
  const RevisionAudit early{"zed", n2, 100};
  const RevisionAudit late{"amy", n1, 200};
  const RevisionAudit same_time_n1{"zed", n1, 100};
  const RevisionAudit same_time_n1_amy{"amy", n1, 100};
  EXPECT_TRUE(internal::AuditPrecedes(early, late));
  EXPECT_FALSE(internal::AuditPrecedes(late, early));
  EXPECT_TRUE(internal::AuditPrecedes(same_time_n1, early));  // Then by node.
  EXPECT_TRUE(internal::AuditPrecedes(same_time_n1_amy, same_time_n1));  // Then by author.
  EXPECT_TRUE(internal::AuditPrecedes(late, unknown));
  EXPECT_FALSE(internal::AuditPrecedes(unknown, late));
  EXPECT_FALSE(internal::AuditPrecedes(unknown, unknown));
  EXPECT_FALSE(internal::AuditPrecedes(early, early));  // Strict: nothing to change.
}

// Two nodes make the same revision independently (same content, same
// parent: one id), at different times. Each learns the other's audit with
// the revision itself (skipped as already stored) or with the summaries
// alone, in either order: both end with the earlier making.
TEST(AuditTest, NodesThatMadeTheSameRevisionConvergeOnOneAudit) {
  for (const bool by_summaries : {false, true}) {
    Node a(kNow + 50);
    Node b(kNow + 10);
    ASSERT_OK_AND_ASSIGN(v1::Record ra, a.Put("n1", "same", "alice"));
    ASSERT_OK_AND_ASSIGN(v1::Record rb, b.Put("n1", "same", "bob"));
    ASSERT_EQ(ra.revision(), rb.revision());
    const RevisionAudit earlier{"bob", b.engine->node_id(), kNow + 10};
    const int64_t a_seq = a.engine->LastSeq();
    if (by_summaries) {
      EXPECT_THAT(a.engine->MergeForeignAudit(b.Summaries()), IsOkAndHolds(1));
      EXPECT_THAT(b.engine->MergeForeignAudit(a.Summaries()), IsOkAndHolds(0));
    } else {
      EXPECT_THAT(b.engine->ApplyForeignRevisions(a.Export("n1")), IsOkAndHolds(0));
      EXPECT_THAT(a.engine->ApplyForeignRevisions(b.Export("n1")), IsOkAndHolds(0));
    }
    EXPECT_EQ(AuditOf(a.History("n1")[0]), AuditOf(earlier)) << by_summaries;
    EXPECT_EQ(AuditOf(b.History("n1")[0]), AuditOf(earlier)) << by_summaries;
    // The node whose audit changed has a feed entry for the record, so it
    // relays the change; the other wrote nothing.
    EXPECT_GT(a.engine->LastSeq(), a_seq);
    const int64_t b_seq = b.engine->LastSeq();
    EXPECT_THAT(b.engine->MergeForeignAudit(a.Summaries()), IsOkAndHolds(0));
    EXPECT_EQ(b.engine->LastSeq(), b_seq);
  }
}

// A node offered a worse audit than its own for a revision keeps its own and
// appends a feed entry for the record, so that its better audit is offered
// back to the sender (whose checkpoint may be past the record's entry).
TEST(AuditTest, AWorseOfferedAuditIsAnsweredWithAFeedEntry) {
  Node early(kNow), late(kNow + 100);
  ASSERT_OK_AND_ASSIGN(v1::Record r, early.Put("n1", "same", "alice"));
  ASSERT_THAT(late.Put("n1", "same", "bob"), IsOk());
  const std::string kept = AuditOf(early.History("n1")[0]);
  const int64_t seq = early.engine->LastSeq();
  EXPECT_THAT(early.engine->MergeForeignAudit(late.Summaries()), IsOkAndHolds(0));
  EXPECT_EQ(AuditOf(early.History("n1")[0]), kept);
  EXPECT_GT(early.engine->LastSeq(), seq);
  auto page = early.engine->ReadChangePage(seq, {}, 10);
  ASSERT_THAT(page, IsOk());
  ASSERT_EQ(page->records.size(), 1u);
  EXPECT_EQ(page->records[0].leaves, std::vector<std::string>{r.revision()});
  // The sender, offered it, takes it.
  EXPECT_THAT(late.engine->MergeForeignAudit(page->records), IsOkAndHolds(1));
  EXPECT_EQ(AuditOf(late.History("n1")[0]), kept);
}

// A revision that arrives twice in one batch with different audits, or
// first without an audit and later with one, keeps the earliest audit.
TEST(AuditTest, CopiesInOneBatchAndStubsKeepTheEarliestAudit) {
  Node a(kNow);
  ASSERT_OK_AND_ASSIGN(v1::Record first, a.Put("n1", "one", "alice"));
  ASSERT_THAT(a.Put("n1", "two", "alice", first.revision()), IsOk());
  std::vector<ForeignRevision> revisions = a.Export("n1");
  ASSERT_EQ(revisions.size(), 2u);
  ForeignRevision later_copy = revisions[0];
  later_copy.rev.audit.create_time_micros += 5;
  later_copy.rev.audit.author = "zed";
  Node b(kNow);
  ASSERT_THAT(b.engine->ApplyForeignRevisions({later_copy, revisions[1], revisions[0]}),
              IsOkAndHolds(2));
  EXPECT_EQ(AuditOf(b.History("n1")[1]), AuditOf(revisions[0].rev.audit));
  // A stored revision with an unknown audit (here the ancestor, which
  // travels as a stub) takes the one a later copy carries.
  Node c(kNow);
  ForeignRevision stub = revisions[0];
  stub.rev.stub = true;
  stub.rev.attributes.clear();
  stub.rev.audit = RevisionAudit{};
  ASSERT_THAT(c.engine->ApplyForeignRevisions({stub, revisions[1]}), IsOkAndHolds(2));
  EXPECT_EQ(AuditOf(c.History("n1")[1]), "-");
  ASSERT_TRUE(revisions[0].rev.stub);
  ASSERT_THAT(c.engine->ApplyForeignRevisions({revisions[0]}), IsOkAndHolds(0));
  EXPECT_EQ(AuditOf(c.History("n1")[1]), AuditOf(revisions[0].rev.audit));
}

}  // namespace
}  // namespace recondb::engine
