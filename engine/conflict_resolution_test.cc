// Conflicts with their values (GetRecord include_conflicts) and
// Engine::ResolveConflict, over every storage backend: the merged value
// extends the winner, the losers get tombstones (each acknowledged by a
// tombstone child: engine/DESIGN.md "Deleted conflicts"), one change-feed entry,
// optimistic concurrency on the winner, bad input refused without a trace,
// and two nodes resolving the same conflict alike make the same revisions.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "engine/engine.h"
#include "engine/revision.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"
#include "tests/support/tables.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_nodes.h"

namespace recondb::engine {
namespace {

using ::recondb::testing::IsOk;
using ::recondb::testing::StatusIs;
using ::recondb::testing::TodoRecord;
using ::recondb::testing::TodosTable;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr int64_t kNow = 1767225600LL * 1000000;  // 2026-01-01T00:00:00Z

// A revision a peer made as a child of `parent`.
ForeignRevision Foreign(const std::string& id, const std::string& parent, int64_t parent_generation,
                        const std::string& title, const std::string& description = "") {
  ForeignRevision f;
  f.table = "todos";
  f.rev.id = id;
  f.rev.parent = parent;
  f.rev.generation = parent_generation + 1;
  f.rev.attributes["title"].set_string(title);
  if (description.empty()) {
    f.rev.attributes["description"].set_null(google::protobuf::NULL_VALUE);
  } else {
    f.rev.attributes["description"].set_string(description);
  }
  f.rev.attributes["completed"].set_bool_(false);
  f.rev.revision = ComputeRevision(f.rev.generation,
                                   {"todos", f.rev.id, f.rev.parent, false, &f.rev.attributes});
  return f;
}

// The id of the tombstone a node writes on `leaf` (generation `generation`).
std::string TombstoneOf(const std::string& id, const std::string& leaf, int64_t generation) {
  const storage::Attributes none;
  return ComputeRevision(generation + 1, {"todos", id, leaf, true, &none});
}

class ConflictResolutionTest : public ::testing::TestWithParam<std::string> {
 protected:
  using Node = testing::TestNode;

  void SetUp() override {
    a_ = NewNode("a");
    b_ = NewNode("b");
  }

  Node NewNode(const std::string& name) {
    EngineOptions options;
    options.clock = &clock_;
    options.max_record_bytes = 4096;
    absl::StatusOr<Node> opened = testing::OpenTestNode(GetParam(), dir_, name, options);
    EXPECT_THAT(opened, IsOk());
    if (!opened.ok()) return Node{};
    Node node = *std::move(opened);
    EXPECT_THAT(node.engine->CreateTable(TodosTable()), IsOk());
    return node;
  }

  static absl::StatusOr<v1::Record> Get(Engine& engine, const std::string& id,
                                        bool conflicts = true, const std::string& revision = "") {
    v1::GetRecordRequest request;
    request.set_table("todos");
    request.set_id(id);
    request.set_revision(revision);
    request.set_include_conflicts(conflicts);
    return engine.GetRecord(request);
  }

  static absl::StatusOr<v1::GetRecordHistoryResponse> History(Engine& engine,
                                                              const std::string& id) {
    v1::GetRecordHistoryRequest request;
    request.set_table("todos");
    request.set_id(id);
    return engine.GetRecordHistory(request);
  }

  // On `engine`: t1 created with "base", then three concurrent edits of it
  // grafted as a peer would. Returns the three edits, best first.
  std::vector<ForeignRevision> MakeConflict(Engine& engine) {
    auto base = engine.PutRecord(TodoRecord("t1", "base"), nullptr);
    EXPECT_THAT(base, IsOk());
    std::vector<ForeignRevision> edits = {
        Foreign("t1", base->revision(), 1, "edit on A", "from A"),
        Foreign("t1", base->revision(), 1, "edit on B"),
        Foreign("t1", base->revision(), 1, "edit on C", "from C")};
    EXPECT_THAT(engine.ApplyForeignRevisions(edits), IsOk());
    std::sort(edits.begin(), edits.end(), [](const ForeignRevision& x, const ForeignRevision& y) {
      return x.rev.revision > y.rev.revision;  // Same generation: greater hash first.
    });
    return edits;
  }

  testing::TempDir dir_;
  FakeClock clock_{kNow};
  Node a_;
  Node b_;
};

TEST_P(ConflictResolutionTest, ConflictRecordsCarryTheLeavesValuesInConflictsOrder) {
  Engine& engine = *a_.engine;
  const std::vector<ForeignRevision> edits = MakeConflict(engine);
  auto winner = Get(engine, "t1");
  ASSERT_THAT(winner, IsOk());
  EXPECT_EQ(winner->revision(), edits[0].rev.revision);
  EXPECT_THAT(winner->conflicts(), ElementsAre(edits[1].rev.revision, edits[2].rev.revision));
  ASSERT_THAT(winner->conflict_records(), SizeIs(2));
  for (int i = 0; i < 2; ++i) {
    const v1::Record& c = winner->conflict_records(i);
    const storage::StoredRevision& expected = edits[i + 1].rev;
    EXPECT_EQ(c.table(), "todos");
    EXPECT_EQ(c.id(), "t1");
    EXPECT_EQ(c.revision(), expected.revision);
    EXPECT_FALSE(c.deleted());
    EXPECT_THAT(c.conflicts(), IsEmpty());
    EXPECT_THAT(c.attributes(), SizeIs(3));
    EXPECT_EQ(c.attributes().at("title").string(), expected.attributes.at("title").string());
    EXPECT_EQ(c.attributes().at("description").kind_case(),
              expected.attributes.at("description").kind_case());
  }
  // Only when asked for; also beside an explicitly asked revision.
  auto plain = Get(engine, "t1", /*conflicts=*/false);
  ASSERT_THAT(plain, IsOk());
  EXPECT_THAT(plain->conflicts(), IsEmpty());
  EXPECT_THAT(plain->conflict_records(), IsEmpty());
  auto at_loser = Get(engine, "t1", true, edits[2].rev.revision);
  ASSERT_THAT(at_loser, IsOk());
  EXPECT_EQ(at_loser->revision(), edits[2].rev.revision);
  EXPECT_THAT(at_loser->conflict_records(), SizeIs(2));
  // A deleted losing leaf is no conflict any more.
  v1::DeleteRecordRequest dismiss;
  dismiss.set_table("todos");
  dismiss.set_id("t1");
  dismiss.set_revision(edits[1].rev.revision);
  ASSERT_THAT(engine.DeleteRecord(dismiss), IsOk());
  auto after = Get(engine, "t1");
  ASSERT_THAT(after, IsOk());
  EXPECT_THAT(after->conflicts(), ElementsAre(edits[2].rev.revision));
  ASSERT_THAT(after->conflict_records(), SizeIs(1));
  EXPECT_EQ(after->conflict_records(0).attributes().at("title").string(), "edit on C");
}

TEST_P(ConflictResolutionTest, ResolveExtendsTheWinnerAndTombstonesEveryLoser) {
  Engine& engine = *a_.engine;
  const std::vector<ForeignRevision> edits = MakeConflict(engine);
  const int64_t seq = engine.LastSeq();
  v1::Record merged = TodoRecord("t1", "merged", edits[0].rev.revision);
  (*merged.mutable_attributes())["completed"].set_bool_(true);
  auto resolved = engine.ResolveConflict(merged, nullptr);
  ASSERT_THAT(resolved, IsOk());
  // No mask: the request is the whole record (description left out: null).
  EXPECT_EQ(resolved->attributes().at("title").string(), "merged");
  EXPECT_TRUE(resolved->attributes().at("completed").bool_());
  EXPECT_EQ(resolved->attributes().at("description").kind_case(), v1::Value::kNull);
  EXPECT_FALSE(resolved->deleted());
  storage::Attributes attributes(resolved->attributes().begin(), resolved->attributes().end());
  EXPECT_EQ(resolved->revision(),
            ComputeRevision(3, {"todos", "t1", edits[0].rev.revision, false, &attributes}));

  auto winner = Get(engine, "t1");
  ASSERT_THAT(winner, IsOk());
  EXPECT_EQ(winner->revision(), resolved->revision());
  EXPECT_THAT(winner->conflicts(), IsEmpty());
  EXPECT_THAT(winner->conflict_records(), IsEmpty());

  // The leaves: the merged revision and, per loser, the acknowledgement of
  // its ordinary tombstone (a tombstone of the tombstone), so that the
  // discarded branch is no deleted conflict.
  auto history = History(engine, "t1");
  ASSERT_THAT(history, IsOk());
  std::vector<std::string> leaves, live_leaves;
  for (const v1::HistoryEntry& e : history->entries()) {
    if (!e.leaf()) continue;
    leaves.push_back(e.record().revision());
    if (!e.record().deleted()) live_leaves.push_back(e.record().revision());
  }
  EXPECT_THAT(live_leaves, ElementsAre(resolved->revision()));
  auto acknowledged = [](const std::string& loser) {
    return TombstoneOf("t1", TombstoneOf("t1", loser, 2), 3);
  };
  EXPECT_THAT(leaves, ::testing::UnorderedElementsAre(resolved->revision(),
                                                      acknowledged(edits[1].rev.revision),
                                                      acknowledged(edits[2].rev.revision)));
  for (int i = 1; i < 3; ++i) {
    for (const std::string& revision :
         {TombstoneOf("t1", edits[i].rev.revision, 2), acknowledged(edits[i].rev.revision)}) {
      auto tombstone = Get(engine, "t1", false, revision);
      ASSERT_THAT(tombstone, IsOk());
      EXPECT_TRUE(tombstone->deleted());
      EXPECT_THAT(tombstone->attributes(), IsEmpty());
    }
  }
  EXPECT_THAT(winner->deleted_conflicts(), IsEmpty());
  EXPECT_FALSE(winner->conflicted());

  // One change-feed entry, naming the new winner.
  EXPECT_EQ(engine.LastSeq(), seq + 1);
  auto changes = engine.GetChanges(seq, {}, 100);
  ASSERT_THAT(changes, IsOk());
  ASSERT_THAT(*changes, SizeIs(1));
  EXPECT_EQ((*changes)[0].id(), "t1");
  EXPECT_EQ((*changes)[0].revision(), resolved->revision());
  EXPECT_FALSE((*changes)[0].deleted());
  EXPECT_FALSE((*changes)[0].conflicted());

  // The record goes on as usual; resolving again is an update.
  EXPECT_THAT(engine.PutRecord(TodoRecord("t1", "later", resolved->revision()), nullptr), IsOk());
}

TEST_P(ConflictResolutionTest, MaskTakesOnlyTheListedColumnsTheRestFromTheWinner) {
  Engine& engine = *a_.engine;
  const std::vector<ForeignRevision> edits = MakeConflict(engine);
  // Keep the winner's description, take the title of the last conflict.
  v1::Record merged;
  merged.set_table("todos");
  merged.set_id("t1");
  merged.set_revision(edits[0].rev.revision);
  (*merged.mutable_attributes())["title"].set_string(edits[2].rev.attributes.at("title").string());
  (*merged.mutable_attributes())["description"].set_string("ignored: not in the mask");
  google::protobuf::FieldMask mask;
  mask.add_paths("title");
  auto resolved = engine.ResolveConflict(merged, &mask);
  ASSERT_THAT(resolved, IsOk());
  EXPECT_EQ(resolved->attributes().at("title").string(), "edit on C");
  const v1::Value& winner_description = edits[0].rev.attributes.at("description");
  EXPECT_EQ(resolved->attributes().at("description").kind_case(), winner_description.kind_case());
  if (winner_description.has_string()) {
    EXPECT_EQ(resolved->attributes().at("description").string(), winner_description.string());
  }
  EXPECT_FALSE(resolved->attributes().at("completed").bool_());
  auto winner = Get(engine, "t1");
  ASSERT_THAT(winner, IsOk());
  EXPECT_THAT(winner->conflicts(), IsEmpty());
}

TEST_P(ConflictResolutionTest, OnlyTheCurrentWinnerCanBeResolved) {
  Engine& engine = *a_.engine;
  const std::vector<ForeignRevision> edits = MakeConflict(engine);
  const int64_t seq = engine.LastSeq();
  const std::string& winner = edits[0].rev.revision;
  // A losing leaf, the common parent: ABORTED naming the winner.
  EXPECT_THAT(engine.ResolveConflict(TodoRecord("t1", "x", edits[1].rev.revision), nullptr),
              StatusIs(absl::StatusCode::kAborted, HasSubstr(winner)));
  EXPECT_THAT(engine.ResolveConflict(TodoRecord("t1", "x", edits[0].rev.parent), nullptr),
              StatusIs(absl::StatusCode::kAborted, HasSubstr(winner)));
  EXPECT_THAT(
      engine.ResolveConflict(TodoRecord("t1", "x", "2-0123456789abcdef0123456789abcdef"), nullptr),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("has no revision")));
  EXPECT_EQ(engine.LastSeq(), seq);
  // A new edit beats the winner the client read: its resolution is stale.
  ForeignRevision newer = Foreign("t1", edits[2].rev.revision, 2, "newer on C");
  ASSERT_THAT(engine.ApplyForeignRevisions({newer}), IsOk());
  EXPECT_THAT(engine.ResolveConflict(TodoRecord("t1", "x", winner), nullptr),
              StatusIs(absl::StatusCode::kAborted, HasSubstr(newer.rev.revision)));
  auto resolved = engine.ResolveConflict(TodoRecord("t1", "x", newer.rev.revision), nullptr);
  ASSERT_THAT(resolved, IsOk());
  EXPECT_EQ(ParseRevision(resolved->revision())->generation, 4);
  // The old winner, a live leaf until now, got a tombstone too.
  auto tombstone = Get(engine, "t1", false, TombstoneOf("t1", winner, 2));
  ASSERT_THAT(tombstone, IsOk());
  EXPECT_TRUE(tombstone->deleted());
}

TEST_P(ConflictResolutionTest, AcknowledgedDeletedLeavesAreLeftAsTheyAre) {
  Engine& engine = *a_.engine;
  const std::vector<ForeignRevision> edits = MakeConflict(engine);
  v1::DeleteRecordRequest dismiss;
  dismiss.set_table("todos");
  dismiss.set_id("t1");
  dismiss.set_revision(edits[2].rev.revision);
  auto dismissed = engine.DeleteRecord(dismiss);
  ASSERT_THAT(dismissed, IsOk());
  auto resolved =
      engine.ResolveConflict(TodoRecord("t1", "merged", edits[0].rev.revision), nullptr);
  ASSERT_THAT(resolved, IsOk());
  auto history = History(engine, "t1");
  ASSERT_THAT(history, IsOk());
  // base, 3 edits, the dismissal's tombstone and its acknowledgement, the
  // merge, the other loser's tombstone and its acknowledgement.
  EXPECT_THAT(history->entries(), SizeIs(9));
  int leaves = 0;
  for (const v1::HistoryEntry& e : history->entries()) leaves += e.leaf();
  EXPECT_EQ(leaves, 3);
  auto still = Get(engine, "t1", false, dismissed->revision());
  ASSERT_THAT(still, IsOk());
  EXPECT_TRUE(still->deleted());
}

// The same resolution of the same conflict on two nodes: the same revisions,
// so exchanging them afterwards adds nothing and makes no new conflict.
TEST_P(ConflictResolutionTest, TwoNodesResolvingAlikeMakeTheSameRevisions) {
  const std::vector<ForeignRevision> on_a = MakeConflict(*a_.engine);
  const std::vector<ForeignRevision> on_b = MakeConflict(*b_.engine);
  ASSERT_EQ(on_a[0].rev.revision, on_b[0].rev.revision);
  v1::Record merged = TodoRecord("t1", "merged", on_a[0].rev.revision);
  google::protobuf::FieldMask mask;
  mask.add_paths("title");
  auto ra = a_.engine->ResolveConflict(merged, &mask);
  auto rb = b_.engine->ResolveConflict(merged, &mask);
  ASSERT_THAT(ra, IsOk());
  ASSERT_THAT(rb, IsOk());
  EXPECT_EQ(ra->revision(), rb->revision());
  auto ha = History(*a_.engine, "t1");
  auto hb = History(*b_.engine, "t1");
  ASSERT_THAT(ha, IsOk());
  ASSERT_THAT(hb, IsOk());
  ASSERT_EQ(ha->entries_size(), hb->entries_size());
  std::vector<ForeignRevision> from_a;
  for (int i = 0; i < ha->entries_size(); ++i) {
    EXPECT_EQ(ha->entries(i).record().revision(), hb->entries(i).record().revision());
    EXPECT_EQ(ha->entries(i).leaf(), hb->entries(i).leaf());
    ForeignRevision f;
    f.table = "todos";
    f.rev.id = "t1";
    f.rev.revision = ha->entries(i).record().revision();
    f.rev.parent = ha->entries(i).parent_revision();
    f.rev.generation = ParseRevision(f.rev.revision)->generation;
    f.rev.deleted = ha->entries(i).record().deleted();
    f.rev.attributes.insert(ha->entries(i).record().attributes().begin(),
                            ha->entries(i).record().attributes().end());
    from_a.push_back(std::move(f));
  }
  const int64_t seq = b_.engine->LastSeq();
  auto applied = b_.engine->ApplyForeignRevisions(from_a);
  ASSERT_THAT(applied, IsOk());
  EXPECT_EQ(*applied, 0);
  EXPECT_EQ(b_.engine->LastSeq(), seq);
  auto winner = Get(*b_.engine, "t1");
  ASSERT_THAT(winner, IsOk());
  EXPECT_THAT(winner->conflicts(), IsEmpty());
}

// Without conflicts, a resolution is an update of the winner: the same
// revision PutRecord makes from the same request.
TEST_P(ConflictResolutionTest, WithoutConflictsItIsAnUpdate) {
  auto on_a = a_.engine->PutRecord(TodoRecord("t1", "one"), nullptr);
  auto on_b = b_.engine->PutRecord(TodoRecord("t1", "one"), nullptr);
  ASSERT_THAT(on_a, IsOk());
  ASSERT_THAT(on_b, IsOk());
  const int64_t seq = a_.engine->LastSeq();
  v1::Record update = TodoRecord("t1", "two", on_a->revision());
  (*update.mutable_attributes())["description"].set_string("d");
  google::protobuf::FieldMask mask;
  mask.add_paths("description");
  auto resolved = a_.engine->ResolveConflict(update, &mask);
  auto put = b_.engine->PutRecord(update, &mask);
  ASSERT_THAT(resolved, IsOk());
  ASSERT_THAT(put, IsOk());
  EXPECT_EQ(resolved->revision(), put->revision());
  EXPECT_EQ(resolved->attributes().at("title").string(), "one");  // Not in the mask.
  EXPECT_EQ(resolved->attributes().at("description").string(), "d");
  EXPECT_EQ(a_.engine->LastSeq(), seq + 1);
  auto history = History(*a_.engine, "t1");
  ASSERT_THAT(history, IsOk());
  EXPECT_THAT(history->entries(), SizeIs(2));  // No tombstone.
}

TEST_P(ConflictResolutionTest, BadInputIsRefusedAndChangesNothing) {
  Engine& engine = *a_.engine;
  const std::vector<ForeignRevision> edits = MakeConflict(engine);
  const std::string& winner = edits[0].rev.revision;
  const int64_t seq = engine.LastSeq();
  auto refuse = [&](v1::Record record, absl::StatusCode code, const std::string& message,
                    const google::protobuf::FieldMask* mask = nullptr) {
    EXPECT_THAT(engine.ResolveConflict(record, mask), StatusIs(code, HasSubstr(message)))
        << record.ShortDebugString();
  };
  refuse(TodoRecord("t1", "x"), absl::StatusCode::kInvalidArgument, "record.revision is required");
  refuse(TodoRecord("t1", "x", "2-XYZ"), absl::StatusCode::kInvalidArgument, "malformed");
  refuse(TodoRecord("", "x", winner), absl::StatusCode::kInvalidArgument, "record.id is required");
  v1::Record bad_table = TodoRecord("t1", "x", winner);
  bad_table.set_table("No");
  refuse(bad_table, absl::StatusCode::kInvalidArgument, "table name");
  v1::Record deleted = TodoRecord("t1", "x", winner);
  deleted.set_deleted(true);
  refuse(deleted, absl::StatusCode::kInvalidArgument,
         "record.attributes must be empty when record.deleted is true");
  v1::Record with_conflicts = TodoRecord("t1", "x", winner);
  with_conflicts.add_conflicts(edits[1].rev.revision);
  refuse(with_conflicts, absl::StatusCode::kInvalidArgument, "output only");
  v1::Record with_records = TodoRecord("t1", "x", winner);
  with_records.add_conflict_records()->set_id("t1");
  refuse(with_records, absl::StatusCode::kInvalidArgument, "record.conflict_records");
  v1::Record unknown_column = TodoRecord("t1", "x", winner);
  (*unknown_column.mutable_attributes())["colour"].set_string("red");
  refuse(unknown_column, absl::StatusCode::kInvalidArgument, "no column \"colour\"");
  v1::Record wrong_type = TodoRecord("t1", "x", winner);
  (*wrong_type.mutable_attributes())["completed"].set_string("yes");
  refuse(wrong_type, absl::StatusCode::kInvalidArgument, "\"completed\"");
  refuse(TodoRecord("t1", std::string(81, 'x'), winner), absl::StatusCode::kInvalidArgument,
         "max_length 80");
  v1::Record no_title = TodoRecord("t1", "x", winner);
  no_title.mutable_attributes()->erase("title");
  refuse(no_title, absl::StatusCode::kInvalidArgument, "title");
  google::protobuf::FieldMask bad_mask;
  bad_mask.add_paths("colour");
  refuse(TodoRecord("t1", "x", winner), absl::StatusCode::kInvalidArgument, "update_mask",
         &bad_mask);
  v1::Record huge = TodoRecord("t1", "x", winner);
  (*huge.mutable_attributes())["description"].set_string(std::string(5000, 'x'));
  refuse(huge, absl::StatusCode::kResourceExhausted, "limit");
  v1::Record unknown_table = TodoRecord("t1", "x", winner);
  unknown_table.set_table("nope");
  refuse(unknown_table, absl::StatusCode::kNotFound, "\"nope\"");
  refuse(TodoRecord("never", "x", winner), absl::StatusCode::kNotFound, "does not exist");
  EXPECT_EQ(engine.LastSeq(), seq);
  auto still = Get(engine, "t1");
  ASSERT_THAT(still, IsOk());
  EXPECT_EQ(still->revision(), winner);
  EXPECT_THAT(still->conflicts(), SizeIs(2));

  // A deleted record has nothing to resolve.
  auto other = engine.PutRecord(TodoRecord("t2", "x"), nullptr);
  ASSERT_THAT(other, IsOk());
  v1::DeleteRecordRequest del;
  del.set_table("todos");
  del.set_id("t2");
  auto tombstone = engine.DeleteRecord(del);
  ASSERT_THAT(tombstone, IsOk());
  refuse(TodoRecord("t2", "x", tombstone->revision()), absl::StatusCode::kNotFound, "is deleted");

  // PutRecord refuses the new output-only field too.
  v1::Record put = TodoRecord("t3", "x");
  put.add_conflict_records()->set_id("t3");
  EXPECT_THAT(engine.PutRecord(put, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("conflict_records")));
}

INSTANTIATE_TEST_SUITE_P(Backends, ConflictResolutionTest, ::testing::Values("memory", "sqlite"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace recondb::engine
