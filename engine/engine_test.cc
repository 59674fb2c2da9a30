// The engine's behaviour over every storage backend: tables, writes with
// optimistic concurrency, partial updates, tombstones and recreation,
// conflicts, queries, history and the change feed.
#include "engine/engine.h"

#include <memory>

#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "engine/revision.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"
#include "tests/support/tables.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_nodes.h"

namespace recondb::engine {
namespace {

using ::recondb::testing::AddColumn;
using ::recondb::testing::IsOk;
using ::recondb::testing::IsOkAndHolds;
using ::recondb::testing::StatusIs;
using ::recondb::testing::TodoRecord;
using ::recondb::testing::TodosTable;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr int64_t kNow = 1767225600LL * 1000000;  // 2026-01-01T00:00:00Z

class EngineTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.clock = &clock_;
    options.max_record_bytes = 4096;
    ASSERT_OK_AND_ASSIGN(testing::TestNode node,
                         testing::OpenTestNode(GetParam(), dir_, "db", options));
    storage_ = std::move(node.storage);
    engine_ = std::move(node.engine);
    ASSERT_THAT(engine_->CreateTable(Todos()), IsOk());
  }

  // The shared "todos" (tests/support/tables.h) and a deadline.
  static v1::Table Todos() {
    v1::Table t = TodosTable();
    AddColumn(t, "deadline_at", v1::COLUMN_TYPE_TIMESTAMP);
    return t;
  }

  absl::StatusOr<v1::Record> Put(const v1::Record& r) { return engine_->PutRecord(r, nullptr); }

  absl::StatusOr<v1::Record> Get(std::string id, std::string revision = "", bool conflicts = false) {
    v1::GetRecordRequest request;
    request.set_table("todos");
    request.set_id(std::move(id));
    request.set_revision(std::move(revision));
    request.set_include_conflicts(conflicts);
    return engine_->GetRecord(request);
  }

  absl::StatusOr<v1::Record> Delete(std::string id, std::string revision = "") {
    v1::DeleteRecordRequest request;
    request.set_table("todos");
    request.set_id(std::move(id));
    request.set_revision(std::move(revision));
    return engine_->DeleteRecord(request);
  }

  // A revision a peer made as a child of `parent` (empty: a first write).
  ForeignRevision Foreign(std::string id, const std::string& parent, int64_t parent_generation,
                          std::string title) {
    ForeignRevision f;
    f.table = "todos";
    f.rev.id = std::move(id);
    f.rev.parent = parent;
    f.rev.generation = parent_generation + 1;
    f.rev.attributes["title"].set_string(std::move(title));
    f.rev.attributes["description"].set_null(google::protobuf::NULL_VALUE);
    f.rev.attributes["completed"].set_bool_(false);
    f.rev.attributes["deadline_at"].set_null(google::protobuf::NULL_VALUE);
    f.rev.revision = ComputeRevision(
        f.rev.generation, {"todos", f.rev.id, f.rev.parent, false, &f.rev.attributes});
    return f;
  }

  testing::TempDir dir_;
  FakeClock clock_{kNow};
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<Engine> engine_;
};

TEST_P(EngineTest, NodeIdIsAUuidAndPersists) {
  EXPECT_THAT(engine_->node_id(), SizeIs(36));
  EngineOptions options;
  options.storage = storage_.get();
  auto again = Engine::Open(options);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ((*again)->node_id(), engine_->node_id());
}

TEST_P(EngineTest, TablesAreCreatedOnceAndListed) {
  auto table = engine_->GetTable("todos");
  ASSERT_THAT(table, IsOk());
  EXPECT_EQ(table->created_by(), engine_->node_id());
  EXPECT_EQ(table->create_time().seconds(), kNow / 1000000);
  EXPECT_THAT(table->columns(), SizeIs(4));
  EXPECT_THAT(engine_->CreateTable(Todos()),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("\"todos\"")));
  EXPECT_THAT(engine_->GetTable("nope"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("\"nope\"")));
  EXPECT_THAT(engine_->GetTable("No pe"), StatusIs(absl::StatusCode::kInvalidArgument));
  auto tables = engine_->ListTables();
  ASSERT_THAT(tables, IsOk());
  ASSERT_THAT(*tables, SizeIs(1));
  EXPECT_EQ((*tables)[0].name(), "todos");
}

TEST_P(EngineTest, CreateAssignsUuidV7AndFirstGeneration) {
  auto a = Put(TodoRecord("", "first"));
  auto b = Put(TodoRecord("", "second"));
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_EQ(a->id().size(), 36u);
  EXPECT_EQ(a->id()[14], '7');  // Version nibble.
  EXPECT_LT(a->id(), b->id());  // Time-ordered.
  EXPECT_EQ(a->revision().substr(0, 2), "1-");
  EXPECT_FALSE(a->attributes().at("completed").bool_());  // Default filled in.
  EXPECT_EQ(a->attributes().at("description").kind_case(), v1::Value::kNull);
  auto read = Get(a->id());
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(read->revision(), a->revision());
  EXPECT_EQ(read->attributes().at("title").string(), "first");
}

TEST_P(EngineTest, RevisionIsReproducibleFromContent) {
  auto a = Put(TodoRecord("t1", "Buy water filters"));
  ASSERT_THAT(a, IsOk());
  storage::Attributes attributes(a->attributes().begin(), a->attributes().end());
  EXPECT_EQ(a->revision(), ComputeRevision(1, {"todos", "t1", "", false, &attributes}));
}

TEST_P(EngineTest, UpdateNeedsTheCurrentLeaf) {
  auto v1 = Put(TodoRecord("t1", "one"));
  ASSERT_THAT(v1, IsOk());
  EXPECT_THAT(Put(TodoRecord("t1", "again")),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(v1->revision())));
  auto v2 = Put(TodoRecord("t1", "two", v1->revision()));
  ASSERT_THAT(v2, IsOk());
  EXPECT_EQ(v2->revision().substr(0, 2), "2-");
  // The first revision is no longer a leaf: stale, naming the winner.
  EXPECT_THAT(Put(TodoRecord("t1", "three", v1->revision())),
              StatusIs(absl::StatusCode::kAborted, HasSubstr(v2->revision())));
  EXPECT_THAT(Put(TodoRecord("t1", "x", "9-0123456789abcdef0123456789abcdef")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("has no revision")));
  EXPECT_THAT(Put(TodoRecord("t1", "x", "2-XYZ")), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Put(TodoRecord("nope", "x", v1->revision())), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(Get("t1")->attributes().at("title").string(), "two");
}

TEST_P(EngineTest, PartialUpdateKeepsColumnsLeftOut) {
  v1::Record create = TodoRecord("t1", "Buy water filters");
  (*create.mutable_attributes())["description"].set_string("for the clinic");
  auto v1 = Put(create);
  ASSERT_THAT(v1, IsOk());
  v1::Record update;
  update.set_table("todos");
  update.set_id("t1");
  update.set_revision(v1->revision());
  (*update.mutable_attributes())["completed"].set_bool_(true);
  google::protobuf::FieldMask mask;
  mask.add_paths("completed");
  auto v2 = engine_->PutRecord(update, &mask);
  ASSERT_THAT(v2, IsOk());
  EXPECT_TRUE(v2->attributes().at("completed").bool_());
  EXPECT_EQ(v2->attributes().at("title").string(), "Buy water filters");
  EXPECT_EQ(v2->attributes().at("description").string(), "for the clinic");
}

TEST_P(EngineTest, DeleteWritesATombstoneAndRecreationExtendsIt) {
  auto v1 = Put(TodoRecord("t1", "one"));
  ASSERT_THAT(v1, IsOk());
  auto tombstone = Delete("t1");
  ASSERT_THAT(tombstone, IsOk());
  EXPECT_TRUE(tombstone->deleted());
  EXPECT_EQ(tombstone->revision().substr(0, 2), "2-");
  EXPECT_THAT(tombstone->attributes(), IsEmpty());
  EXPECT_THAT(Get("t1"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("is deleted")));
  auto at_tombstone = Get("t1", tombstone->revision());
  ASSERT_THAT(at_tombstone, IsOk());
  EXPECT_TRUE(at_tombstone->deleted());
  EXPECT_THAT(Delete("t1"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("already deleted")));
  EXPECT_THAT(Get("never"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("does not exist")));

  auto again = Put(TodoRecord("t1", "back"));
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->revision().substr(0, 2), "3-");
  EXPECT_EQ(Get("t1")->attributes().at("title").string(), "back");
  auto history = engine_->GetRecordHistory([] {
    v1::GetRecordHistoryRequest r;
    r.set_table("todos");
    r.set_id("t1");
    return r;
  }());
  ASSERT_THAT(history, IsOk());
  ASSERT_THAT(history->entries(), SizeIs(3));
  EXPECT_EQ(history->entries(0).record().revision(), again->revision());
  EXPECT_TRUE(history->entries(0).leaf());
  EXPECT_EQ(history->entries(0).parent_revision(), tombstone->revision());
  EXPECT_TRUE(history->entries(1).record().deleted());
  EXPECT_FALSE(history->entries(1).leaf());
  EXPECT_EQ(history->entries(2).parent_revision(), "");
}

// Writing on the tombstone of a deleted record is a recreation, like a
// create; a tombstone that lost to a live leaf cannot be extended.
TEST_P(EngineTest, WritingOnTheTombstoneOfADeletedRecordRecreatesIt) {
  auto v1 = Put(TodoRecord("t1", "one"));
  ASSERT_THAT(v1, IsOk());
  auto tombstone = Delete("t1");
  ASSERT_THAT(tombstone, IsOk());
  auto back = Put(TodoRecord("t1", "back", tombstone->revision()));
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->revision().substr(0, 2), "3-");
  EXPECT_THAT(Put(TodoRecord("t1", "again", tombstone->revision())),
              StatusIs(absl::StatusCode::kAborted, HasSubstr(back->revision())));
}

TEST_P(EngineTest, DeleteWithStaleRevisionIsAborted) {
  auto v1 = Put(TodoRecord("t1", "one"));
  auto v2 = Put(TodoRecord("t1", "two", v1->revision()));
  ASSERT_THAT(v2, IsOk());
  EXPECT_THAT(Delete("t1", v1->revision()), StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(Delete("t1", v2->revision()), IsOk());
}

TEST_P(EngineTest, ConcurrentBranchesMakeAConflictAndTheRuleElectsTheWinner) {
  auto base = Put(TodoRecord("t1", "base"));
  ASSERT_THAT(base, IsOk());
  ForeignRevision a = Foreign("t1", base->revision(), 1, "edit on node A");
  ForeignRevision b = Foreign("t1", base->revision(), 1, "edit on node B");
  ASSERT_THAT(engine_->ApplyForeignRevisions({a, b}), IsOk());
  const ForeignRevision& expected_winner = a.rev.revision > b.rev.revision ? a : b;
  const ForeignRevision& loser = a.rev.revision > b.rev.revision ? b : a;
  auto winner = Get("t1", "", /*conflicts=*/true);
  ASSERT_THAT(winner, IsOk());
  EXPECT_EQ(winner->revision(), expected_winner.rev.revision);
  EXPECT_THAT(winner->conflicts(), ElementsAre(loser.rev.revision));
  // The losing branch is still a leaf: it may be extended; deleting it
  // resolves the conflict.
  ASSERT_THAT(Delete("t1", loser.rev.revision), IsOk());
  auto resolved = Get("t1", "", true);
  ASSERT_THAT(resolved, IsOk());
  EXPECT_EQ(resolved->revision(), expected_winner.rev.revision);
  EXPECT_THAT(resolved->conflicts(), IsEmpty());
}

TEST_P(EngineTest, ForeignRevisionsAreIdempotentAndChecked) {
  ForeignRevision first = Foreign("t9", "", 0, "from a peer");
  ForeignRevision second = Foreign("t9", first.rev.revision, 1, "edited on the peer");
  auto applied = engine_->ApplyForeignRevisions({second, first, second});
  ASSERT_THAT(applied, IsOk());
  EXPECT_EQ(*applied, 2);
  const int64_t seq = engine_->LastSeq();
  auto again = engine_->ApplyForeignRevisions({first, second});
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(*again, 0);
  EXPECT_EQ(engine_->LastSeq(), seq);  // Nothing new, no change.
  EXPECT_EQ(Get("t9")->revision(), second.rev.revision);

  ForeignRevision orphan = Foreign("t10", first.rev.revision, 1, "parent unknown");
  orphan.rev.id = "t10";
  orphan.rev.revision = ComputeRevision(2, {"todos", "t10", first.rev.revision, false, &orphan.rev.attributes});
  EXPECT_THAT(engine_->ApplyForeignRevisions({orphan}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("unknown")));
  ForeignRevision lying = Foreign("t11", "", 0, "honest");
  lying.rev.attributes["title"].set_string("tampered");
  EXPECT_THAT(engine_->ApplyForeignRevisions({lying}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("hash")));
  ForeignRevision wrong_type = Foreign("t12", "", 0, "x");
  wrong_type.rev.attributes["completed"].set_int_(1);
  EXPECT_THAT(engine_->ApplyForeignRevisions({wrong_type}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("completed")));
  // A bad revision refuses the whole batch: the good one is not applied.
  ForeignRevision good = Foreign("t13", "", 0, "good");
  EXPECT_THAT(engine_->ApplyForeignRevisions({good, lying}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Get("t13"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(engine_->LastSeq(), seq);
}

TEST_P(EngineTest, InvalidWritesChangeNothing) {
  ASSERT_THAT(Put(TodoRecord("t1", "one")), IsOk());
  const int64_t seq = engine_->LastSeq();
  EXPECT_THAT(Put(TodoRecord("t2", std::string(81, 'x'))),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_length 80")));
  v1::Record wrong = TodoRecord("t2", "x");
  (*wrong.mutable_attributes())["completed"].set_string("yes");
  EXPECT_THAT(Put(wrong), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"completed\"")));
  v1::Record unknown_table = TodoRecord("t2", "x");
  unknown_table.set_table("nope");
  EXPECT_THAT(Put(unknown_table), StatusIs(absl::StatusCode::kNotFound, HasSubstr("\"nope\"")));
  v1::Record huge = TodoRecord("t2", "x");
  (*huge.mutable_attributes())["description"].set_string(std::string(5000, 'x'));
  EXPECT_THAT(Put(huge), StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("limit")));
  v1::Record deleted = TodoRecord("t2", "x");
  deleted.set_deleted(true);
  EXPECT_THAT(Put(deleted), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("deleted")));
  EXPECT_EQ(engine_->LastSeq(), seq);
  EXPECT_THAT(Get("t2"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(EngineTest, ListRecordsFiltersOrdersAndPages) {
  for (int i = 0; i < 25; ++i) {
    v1::Record r = TodoRecord("t" + std::to_string(100 + i), "todo " + std::to_string(i));
    (*r.mutable_attributes())["completed"].set_bool_(i % 5 == 0);
    if (i % 2 == 0) {
      (*r.mutable_attributes())["deadline_at"].mutable_timestamp()->set_seconds(kNow / 1000000 + i * 86400);
    }
    ASSERT_THAT(Put(r), IsOk());
  }
  v1::ListRecordsRequest completed;
  completed.set_table("todos");
  auto* c = completed.add_filter();
  c->set_column("completed");
  c->set_op(v1::OPERATOR_EQ);
  c->mutable_value()->set_bool_(true);
  auto done = engine_->ListRecords(completed);
  ASSERT_THAT(done, IsOk());
  EXPECT_THAT(done->records(), SizeIs(5));

  // Due within 10 days, soonest first, 2 per page.
  v1::ListRecordsRequest due;
  due.set_table("todos");
  auto* lo = due.add_filter();
  lo->set_column("deadline_at");
  lo->set_op(v1::OPERATOR_GE);
  lo->mutable_value()->mutable_timestamp()->set_seconds(kNow / 1000000);
  auto* hi = due.add_filter();
  hi->set_column("deadline_at");
  hi->set_op(v1::OPERATOR_LE);
  hi->mutable_value()->mutable_timestamp()->set_seconds(kNow / 1000000 + 10 * 86400);
  due.set_order_by("deadline_at");
  due.set_page_size(2);
  std::vector<std::string> ids;
  for (int page = 0; page < 10; ++page) {
    auto response = engine_->ListRecords(due);
    ASSERT_THAT(response, IsOk());
    for (const auto& r : response->records()) ids.push_back(r.id());
    if (response->next_page_token().empty()) break;
    due.set_page_token(response->next_page_token());
  }
  EXPECT_THAT(ids, ElementsAre("t100", "t102", "t104", "t106", "t108", "t110"));

  // Descending by deadline: nulls first, then latest.
  v1::ListRecordsRequest desc;
  desc.set_table("todos");
  desc.set_order_by("deadline_at");
  desc.set_descending(true);
  desc.set_page_size(13);
  auto first_page = engine_->ListRecords(desc);
  ASSERT_THAT(first_page, IsOk());
  EXPECT_EQ(first_page->records(0).attributes().at("deadline_at").kind_case(), v1::Value::kNull);
  EXPECT_EQ(first_page->records(12).id(), "t124");

  v1::ListRecordsRequest bad = completed;
  bad.mutable_filter(0)->mutable_value()->set_int_(1);
  EXPECT_THAT(engine_->ListRecords(bad), StatusIs(absl::StatusCode::kInvalidArgument,
                                                  HasSubstr("filter[0]")));
  bad = completed;
  bad.set_order_by("colour");
  EXPECT_THAT(engine_->ListRecords(bad), StatusIs(absl::StatusCode::kInvalidArgument,
                                                  HasSubstr("order_by")));
  bad = completed;
  bad.set_page_token("garbage!");
  EXPECT_THAT(engine_->ListRecords(bad), StatusIs(absl::StatusCode::kInvalidArgument,
                                                  HasSubstr("page_token")));
  bad = due;  // A token of another query.
  bad.clear_filter();
  EXPECT_THAT(engine_->ListRecords(bad), StatusIs(absl::StatusCode::kInvalidArgument,
                                                  HasSubstr("page_token")));
}

TEST_P(EngineTest, ChangeFeedHasOneEntryPerRecordAtItsLatestSeq) {
  auto a = Put(TodoRecord("a", "a"));
  auto b = Put(TodoRecord("b", "b"));
  auto a2 = Put(TodoRecord("a", "a2", a->revision()));
  ASSERT_THAT(a2, IsOk());
  auto changes = engine_->GetChanges(0, {}, 100);
  ASSERT_THAT(changes, IsOk());
  ASSERT_THAT(*changes, SizeIs(3));
  EXPECT_EQ((*changes)[0].kind(), v1::CHANGE_KIND_TABLE);
  EXPECT_EQ((*changes)[1].id(), "b");
  EXPECT_EQ((*changes)[2].id(), "a");
  EXPECT_EQ((*changes)[2].revision(), a2->revision());
  EXPECT_EQ((*changes)[2].seq(), engine_->LastSeq());
  auto after = engine_->GetChanges((*changes)[1].seq(), {"todos"}, 100);
  ASSERT_THAT(after, IsOk());
  EXPECT_THAT(*after, SizeIs(1));
  EXPECT_THAT(engine_->GetChanges(0, {"nope"}, 100), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(engine_->GetChanges(-1, {}, 100), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_P(EngineTest, CountChangesAfterCountsWhatReadChangePageWouldStillReturn) {
  auto a = Put(TodoRecord("a", "a"));
  ASSERT_THAT(Put(TodoRecord("b", "b")), IsOk());
  ASSERT_THAT(Put(TodoRecord("a", "a2", a->revision())), IsOk());
  // The table entry, b, and a once (at its latest seq).
  EXPECT_THAT(engine_->CountChangesAfter(0, {}), IsOkAndHolds(3));
  EXPECT_THAT(engine_->CountChangesAfter(0, {"todos"}), IsOkAndHolds(3));
  // Tables that do not exist are ignored, as ReadChangePage ignores them;
  // a filter of only those counts nothing (not everything).
  EXPECT_THAT(engine_->CountChangesAfter(0, {"todos", "nope"}), IsOkAndHolds(3));
  EXPECT_THAT(engine_->CountChangesAfter(0, {"nope"}), IsOkAndHolds(0));
  ASSERT_OK_AND_ASSIGN(ChangePage page, engine_->ReadChangePage(0, {}, 2));
  EXPECT_THAT(engine_->CountChangesAfter(page.up_to_seq, {}), IsOkAndHolds(1));
  EXPECT_THAT(engine_->CountChangesAfter(engine_->LastSeq(), {}), IsOkAndHolds(0));
}

TEST_P(EngineTest, ListenersHearEveryCommit) {
  std::atomic<int64_t> heard{0};
  const int64_t id = engine_->AddChangeListener([&](int64_t seq) { heard = seq; });
  auto r = Put(TodoRecord("a", "a"));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(heard.load(), engine_->LastSeq());
  engine_->RemoveChangeListener(id);
  ASSERT_THAT(Put(TodoRecord("b", "b")), IsOk());
  EXPECT_LT(heard.load(), engine_->LastSeq());
}

INSTANTIATE_TEST_SUITE_P(Backends, EngineTest, ::testing::Values("memory", "sqlite"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace recondb::engine
