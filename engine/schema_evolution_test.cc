// Schema evolution and stub revisions over every storage backend: additive
// column changes (AddColumns, ApplyForeignTable), revisions that hold the
// columns their table had when they were written, and stubs (revisions known
// by id only) in ApplyForeignRevisions and the reads.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "engine/engine.h"
#include "engine/revision.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_nodes.h"

namespace recondb::engine {
namespace {

using ::recondb::testing::IsOk;
using ::recondb::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

constexpr int64_t kNow = 1767225600LL * 1000000;  // 2026-01-01T00:00:00Z

v1::Column Column(const std::string& name, v1::ColumnType type, bool nullable) {
  v1::Column c;
  c.set_name(name);
  c.set_type(type);
  c.set_nullable(nullable);
  return c;
}

// notes(title string not null, body string nullable).
v1::Table Notes() {
  v1::Table t;
  t.set_name("notes");
  *t.add_columns() = Column("title", v1::COLUMN_TYPE_STRING, false);
  *t.add_columns() = Column("body", v1::COLUMN_TYPE_STRING, true);
  return t;
}

// The two columns added in the tests: rank (int, default 3, indexed) and
// tag (string, nullable).
std::vector<v1::Column> NewColumns() {
  v1::Column rank = Column("rank", v1::COLUMN_TYPE_INT, false);
  rank.mutable_default_value()->set_int_(3);
  rank.set_indexed(true);
  return {rank, Column("tag", v1::COLUMN_TYPE_STRING, true)};
}

std::vector<std::string> Names(const v1::Table& table) {
  std::vector<std::string> out;
  for (const auto& c : table.columns()) out.push_back(c.name());
  return out;
}

// "name=<debug value>" per attribute, sorted by name.
template <typename Map>
std::vector<std::string> Describe(const Map& attributes) {
  std::map<std::string, std::string> sorted;
  for (const auto& [name, value] : attributes) sorted[name] = value.ShortDebugString();
  std::vector<std::string> out;
  for (const auto& [name, value] : sorted) out.push_back(name + "=" + value);
  return out;
}

class SchemaEvolutionTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.clock = &clock_;
    ASSERT_OK_AND_ASSIGN(testing::TestNode node,
                         testing::OpenTestNode(GetParam(), dir_, "db", options));
    storage_ = std::move(node.storage);
    engine_ = std::move(node.engine);
    ASSERT_THAT(engine_->CreateTable(Notes()), IsOk());
  }

  absl::StatusOr<v1::Record> Put(const std::string& id, const std::string& title,
                                 const std::string& revision = "",
                                 const google::protobuf::FieldMask* mask = nullptr) {
    v1::Record r;
    r.set_table("notes");
    r.set_id(id);
    r.set_revision(revision);
    (*r.mutable_attributes())["title"].set_string(title);
    return engine_->PutRecord(r, mask);
  }

  absl::StatusOr<v1::Record> Get(const std::string& id, const std::string& revision = "") {
    v1::GetRecordRequest request;
    request.set_table("notes");
    request.set_id(id);
    request.set_revision(revision);
    return engine_->GetRecord(request);
  }

  absl::StatusOr<v1::GetRecordHistoryResponse> History(const std::string& id) {
    v1::GetRecordHistoryRequest request;
    request.set_table("notes");
    request.set_id(id);
    return engine_->GetRecordHistory(request);
  }

  // A revision another node made, child of `parent` (generation
  // `parent_generation`), holding exactly `attributes`.
  static ForeignRevision Foreign(const std::string& id, const std::string& parent,
                                 int64_t parent_generation, storage::Attributes attributes) {
    ForeignRevision f;
    f.table = "notes";
    f.rev.id = id;
    f.rev.parent = parent;
    f.rev.generation = parent_generation + 1;
    f.rev.attributes = std::move(attributes);
    f.rev.revision = ComputeRevision(f.rev.generation,
                                     {"notes", f.rev.id, f.rev.parent, false, &f.rev.attributes});
    return f;
  }

  static storage::Attributes Titled(const std::string& title) {
    storage::Attributes a;
    a["title"].set_string(title);
    a["body"].set_null(google::protobuf::NULL_VALUE);
    return a;
  }

  static ForeignRevision AsStub(ForeignRevision f) {
    f.rev.stub = true;
    f.rev.attributes.clear();
    return f;
  }

  testing::TempDir dir_;
  FakeClock clock_{kNow};
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<Engine> engine_;
};

// ---- AddColumns ----

TEST_P(SchemaEvolutionTest, AddColumnsAppendsAndOldRecordsReadTheDefaults) {
  ASSERT_OK_AND_ASSIGN(v1::Record old, Put("n1", "before"));
  const int64_t seq_before = engine_->LastSeq();
  ASSERT_OK_AND_ASSIGN(v1::Table table, engine_->AddColumns("notes", NewColumns()));
  EXPECT_THAT(Names(table), ElementsAre("title", "body", "rank", "tag"));
  EXPECT_EQ(table.created_by(), engine_->node_id());
  EXPECT_EQ(table.create_time().seconds(), kNow / 1000000);
  ASSERT_OK_AND_ASSIGN(v1::Table stored, engine_->GetTable("notes"));
  EXPECT_EQ(stored.SerializeAsString(), table.SerializeAsString());

  // The record written before reads the new columns as default / null, in
  // the view and at its revision; its history keeps what it was written with.
  const auto filled = ElementsAre("body=null: NULL_VALUE", "rank=int: 3", "tag=null: NULL_VALUE",
                                  "title=string: \"before\"");
  EXPECT_THAT(Describe(Get("n1")->attributes()), filled);
  EXPECT_THAT(Describe(Get("n1", old.revision())->attributes()), filled);
  ASSERT_OK_AND_ASSIGN(auto history, History("n1"));
  EXPECT_THAT(Describe(history.entries(0).record().attributes()),
              ElementsAre("body=null: NULL_VALUE", "title=string: \"before\""));
  // The new indexed column can be filtered on.
  v1::ListRecordsRequest list;
  list.set_table("notes");
  auto* condition = list.add_filter();
  condition->set_column("rank");
  condition->set_op(v1::OPERATOR_EQ);
  condition->mutable_value()->set_int_(3);
  ASSERT_OK_AND_ASSIGN(auto listed, engine_->ListRecords(list));
  ASSERT_THAT(listed.records(), SizeIs(1));
  EXPECT_EQ(listed.records(0).id(), "n1");

  // The change is in the feed, after the record written before it.
  ASSERT_OK_AND_ASSIGN(auto changes, engine_->GetChanges(seq_before, {}, 10));
  ASSERT_THAT(changes, SizeIs(1));
  EXPECT_EQ(changes[0].kind(), v1::CHANGE_KIND_TABLE);
  EXPECT_EQ(changes[0].table(), "notes");
}

TEST_P(SchemaEvolutionTest, AddColumnsRefusesWhatIsNotAnAdditiveChange) {
  const int64_t seq = engine_->LastSeq();
  EXPECT_THAT(engine_->AddColumns("notes", {}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(engine_->AddColumns("nope", NewColumns()), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(engine_->AddColumns("notes", {Column("body", v1::COLUMN_TYPE_STRING, true)}),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("\"body\"")));
  EXPECT_THAT(engine_->AddColumns("notes", {Column("due", v1::COLUMN_TYPE_TIMESTAMP, false)}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("\"due\"")));
  EXPECT_THAT(engine_->AddColumns("notes", {Column("Bad", v1::COLUMN_TYPE_INT, true)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Bad")));
  EXPECT_THAT(engine_->AddColumns("notes", {Column("x", v1::COLUMN_TYPE_INT, true),
                                            Column("x", v1::COLUMN_TYPE_INT, true)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("twice")));
  v1::Column bad_default = Column("n", v1::COLUMN_TYPE_INT, false);
  bad_default.mutable_default_value()->set_string("three");
  EXPECT_THAT(engine_->AddColumns("notes", {bad_default}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("default")));
  // One refused column refuses the whole call.
  EXPECT_THAT(engine_->AddColumns("notes", {Column("ok", v1::COLUMN_TYPE_INT, true),
                                            Column("due", v1::COLUMN_TYPE_INT, false)}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(Names(*engine_->GetTable("notes")), ElementsAre("title", "body"));
  EXPECT_EQ(engine_->LastSeq(), seq);
}

TEST_P(SchemaEvolutionTest, LocalUpdatesOfAnOldRecordHoldEveryColumn) {
  ASSERT_OK_AND_ASSIGN(v1::Record old, Put("n1", "before"));
  ASSERT_THAT(engine_->AddColumns("notes", NewColumns()), IsOk());
  google::protobuf::FieldMask mask;
  mask.add_paths("title");
  ASSERT_OK_AND_ASSIGN(v1::Record partial, Put("n1", "after", old.revision(), &mask));
  EXPECT_THAT(Describe(partial.attributes()),
              ElementsAre("body=null: NULL_VALUE", "rank=int: 3", "tag=null: NULL_VALUE",
                          "title=string: \"after\""));
  // The revision id covers every column it holds.
  storage::Attributes attributes(partial.attributes().begin(), partial.attributes().end());
  EXPECT_EQ(partial.revision(),
            ComputeRevision(2, {"notes", "n1", old.revision(), false, &attributes}));
  ASSERT_OK_AND_ASSIGN(auto history, History("n1"));
  EXPECT_THAT(history.entries(0).record().attributes(), SizeIs(4));
  // Without a mask too.
  ASSERT_OK_AND_ASSIGN(v1::Record whole, Put("n1", "whole", partial.revision()));
  EXPECT_THAT(whole.attributes(), SizeIs(4));
  EXPECT_EQ(Get("n1")->revision(), whole.revision());
}

// Listeners run on the committing thread after a schema change has let go
// of its lock, so one that reads (briefly) does not deadlock the change.
TEST_P(SchemaEvolutionTest, ListenersMayReadAfterASchemaChange) {
  std::vector<int> columns_seen;
  const int64_t id = engine_->AddChangeListener([&](int64_t) {
    v1::ListRecordsRequest list;
    list.set_table("notes");
    EXPECT_THAT(engine_->ListRecords(list), IsOk());
    columns_seen.push_back(engine_->GetTable("notes")->columns_size());
  });
  ASSERT_THAT(engine_->AddColumns("notes", NewColumns()), IsOk());
  v1::Table other = Notes();
  other.set_name("other");
  ASSERT_THAT(engine_->ApplyForeignTable(other), IsOk());
  engine_->RemoveChangeListener(id);
  EXPECT_THAT(columns_seen, ElementsAre(4, 4));
}

// Reads running while columns are added always pair their snapshot with the
// definition it has (a snapshot from before a change never meets a cached
// definition from after it, whose new columns its SQL would not find).
TEST_P(SchemaEvolutionTest, ReadsDuringSchemaChangesSeeAConsistentTable) {
  ASSERT_THAT(Put("n1", "x"), IsOk());
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::atomic<int64_t> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      v1::ListRecordsRequest list;
      list.set_table("notes");
      while (!done.load()) {
        absl::StatusOr<v1::Record> got = Get("n1");
        absl::StatusOr<v1::ListRecordsResponse> listed = engine_->ListRecords(list);
        if (!got.ok() || !listed.ok() || listed->records_size() != 1) {
          ADD_FAILURE() << got.status() << " / " << listed.status();
          ++failures;
          continue;
        }
        // Every added column is null: a snapshot read with a definition it
        // does not have would read something else (SQLite does not fail).
        for (const v1::Record* r : {static_cast<const v1::Record*>(&*got), &listed->records(0)}) {
          for (const auto& [name, value] : r->attributes()) {
            const bool right = name == "title" ? value.string() == "x" : value.has_null();
            if (!right) {
              ADD_FAILURE() << name << " = " << value.ShortDebugString();
              ++failures;
            }
          }
        }
        ++reads;
      }
    });
  }
  // Bounded polling: each change waits for the readers to have read since
  // the previous one.
  auto reads_reach = [&](int64_t count) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (reads.load() < count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
  };
  for (int i = 0; i < 30 && failures.load() == 0; ++i) {
    reads_reach(reads.load() + 1);
    EXPECT_THAT(engine_->AddColumns(
                    "notes", {Column(absl::StrCat("c", i), v1::COLUMN_TYPE_STRING, true)}),
                IsOk());
  }
  done.store(true);
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

// ---- Foreign revisions with fewer columns ----

TEST_P(SchemaEvolutionTest, ForeignRevisionsHoldingAPrefixOfTheColumnsAreAccepted) {
  ASSERT_THAT(engine_->AddColumns("notes", NewColumns()), IsOk());
  // Written by a node that has not seen the change: two columns.
  ForeignRevision old_shape = Foreign("n1", "", 0, Titled("from a peer"));
  // A revision of no column at all is a prefix too.
  ForeignRevision empty = Foreign("n2", "", 0, {});
  ASSERT_OK_AND_ASSIGN(int64_t applied, engine_->ApplyForeignRevisions({old_shape, empty}));
  EXPECT_EQ(applied, 2);
  EXPECT_THAT(Describe(Get("n1")->attributes()),
              ElementsAre("body=null: NULL_VALUE", "rank=int: 3", "tag=null: NULL_VALUE",
                          "title=string: \"from a peer\""));
  EXPECT_THAT(Describe(Get("n2")->attributes()),
              ElementsAre("body=null: NULL_VALUE", "rank=int: 3", "tag=null: NULL_VALUE",
                          "title=null: NULL_VALUE"));
  // History gives the revision as it was made, so it re-imports as is.
  ASSERT_OK_AND_ASSIGN(auto history, History("n1"));
  EXPECT_EQ(Describe(history.entries(0).record().attributes()), Describe(old_shape.rev.attributes));
  // A local child of it holds every column.
  ASSERT_OK_AND_ASSIGN(v1::Record child, Put("n1", "local", old_shape.rev.revision));
  EXPECT_THAT(child.attributes(), SizeIs(4));
}

TEST_P(SchemaEvolutionTest, ForeignRevisionsThatAreNotAPrefixAreRefused) {
  ASSERT_THAT(engine_->AddColumns("notes", NewColumns()), IsOk());
  storage::Attributes gap = Titled("gap");
  gap["rank"].set_int_(1);  // "body" is there, but "rank" comes after it...
  gap.erase("body");        // ...and "body" is missing.
  EXPECT_THAT(engine_->ApplyForeignRevisions({Foreign("n1", "", 0, gap)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"body\"")));
  storage::Attributes unknown = Titled("unknown");
  unknown["color"].set_string("red");
  EXPECT_THAT(engine_->ApplyForeignRevisions({Foreign("n1", "", 0, unknown)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("color")));
  EXPECT_THAT(Get("n1"), StatusIs(absl::StatusCode::kNotFound));
}

// ---- Stubs ----

TEST_P(SchemaEvolutionTest, StubsAreGraftedAsAncestorsAndReadAsKnownByIdOnly) {
  ForeignRevision first = Foreign("n1", "", 0, Titled("one"));
  ForeignRevision second = Foreign("n1", first.rev.revision, 1, Titled("two"));
  ForeignRevision third = Foreign("n1", second.rev.revision, 2, Titled("three"));
  ASSERT_OK_AND_ASSIGN(int64_t applied,
                       engine_->ApplyForeignRevisions({third, AsStub(second), AsStub(first)}));
  EXPECT_EQ(applied, 3);
  ASSERT_OK_AND_ASSIGN(v1::Record winner, Get("n1"));
  EXPECT_EQ(winner.revision(), third.rev.revision);
  EXPECT_THAT(Get("n1", first.rev.revision),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("known by id only")));
  ASSERT_OK_AND_ASSIGN(auto history, History("n1"));
  ASSERT_THAT(history.entries(), SizeIs(3));
  EXPECT_FALSE(history.entries(0).stub());
  EXPECT_TRUE(history.entries(0).leaf());
  for (int i : {1, 2}) {
    EXPECT_TRUE(history.entries(i).stub());
    EXPECT_FALSE(history.entries(i).leaf());
    EXPECT_THAT(history.entries(i).record().attributes(), IsEmpty());
  }
  EXPECT_EQ(history.entries(2).record().revision(), first.rev.revision);
  // A local update of the winner works as usual.
  ASSERT_THAT(Put("n1", "four", third.rev.revision), IsOk());
}

TEST_P(SchemaEvolutionTest, StubsWithoutAChildOrWithContentAreRefused) {
  ForeignRevision first = Foreign("n1", "", 0, Titled("one"));
  ForeignRevision second = Foreign("n1", first.rev.revision, 1, Titled("two"));
  EXPECT_THAT(engine_->ApplyForeignRevisions({AsStub(first)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no child")));
  // A chain of stubs must still end in a revision with content.
  EXPECT_THAT(engine_->ApplyForeignRevisions({AsStub(first), AsStub(second)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no child")));
  ForeignRevision with_content = first;
  with_content.rev.stub = true;
  EXPECT_THAT(engine_->ApplyForeignRevisions({with_content, second}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("stub has no attributes")));
  ForeignRevision bad_linkage = AsStub(second);
  bad_linkage.rev.generation = 3;
  EXPECT_THAT(engine_->ApplyForeignRevisions({AsStub(first), bad_linkage}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("generation")));
  EXPECT_THAT(Get("n1"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(SchemaEvolutionTest, AStubOfAStoredRevisionChangesNothing) {
  ForeignRevision first = Foreign("n1", "", 0, Titled("one"));
  ASSERT_THAT(engine_->ApplyForeignRevisions({first}), IsOk());
  const int64_t seq = engine_->LastSeq();
  ForeignRevision second = Foreign("n1", first.rev.revision, 1, Titled("two"));
  // The stub of `first` (stored with content) is skipped; its child counts.
  ASSERT_OK_AND_ASSIGN(int64_t applied, engine_->ApplyForeignRevisions({AsStub(first), second}));
  EXPECT_EQ(applied, 1);
  // Alone, without a child, it is still accepted: nothing to do.
  ASSERT_OK_AND_ASSIGN(applied, engine_->ApplyForeignRevisions({AsStub(first)}));
  EXPECT_EQ(applied, 0);
  ASSERT_OK_AND_ASSIGN(v1::Record at_first, Get("n1", first.rev.revision));
  EXPECT_EQ(at_first.attributes().at("title").string(), "one");
  EXPECT_GT(engine_->LastSeq(), seq);
}

TEST_P(SchemaEvolutionTest, TheContentOfAStubUpgradesIt) {
  ForeignRevision first = Foreign("n1", "", 0, Titled("one"));
  ForeignRevision second = Foreign("n1", first.rev.revision, 1, Titled("two"));
  ASSERT_THAT(engine_->ApplyForeignRevisions({AsStub(first), second}), IsOk());
  const int64_t seq = engine_->LastSeq();
  // Content that does not match the id is refused and the stub stays.
  ForeignRevision lying = first;
  lying.rev.attributes["title"].set_string("tampered");
  EXPECT_THAT(engine_->ApplyForeignRevisions({lying}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("hash")));
  EXPECT_THAT(Get("n1", first.rev.revision), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(int64_t applied, engine_->ApplyForeignRevisions({first}));
  EXPECT_EQ(applied, 1);
  ASSERT_OK_AND_ASSIGN(v1::Record at_first, Get("n1", first.rev.revision));
  EXPECT_EQ(at_first.attributes().at("title").string(), "one");
  ASSERT_OK_AND_ASSIGN(auto history, History("n1"));
  EXPECT_FALSE(history.entries(1).stub());
  EXPECT_FALSE(history.entries(1).leaf());
  // The winner did not change, so neither did the feed.
  EXPECT_EQ(engine_->LastSeq(), seq);
  EXPECT_EQ(Get("n1")->revision(), second.rev.revision);
  ASSERT_OK_AND_ASSIGN(applied, engine_->ApplyForeignRevisions({first, AsStub(first)}));
  EXPECT_EQ(applied, 0);
}

TEST_P(SchemaEvolutionTest, InABatchTheContentOfARevisionWinsOverItsStub) {
  ForeignRevision first = Foreign("n1", "", 0, Titled("one"));
  ForeignRevision second = Foreign("n1", first.rev.revision, 1, Titled("two"));
  ASSERT_THAT(engine_->ApplyForeignRevisions({AsStub(first), second, first}), IsOk());
  ASSERT_OK_AND_ASSIGN(v1::Record at_first, Get("n1", first.rev.revision));
  EXPECT_EQ(at_first.attributes().at("title").string(), "one");
}

// ---- ApplyForeignTable ----

TEST_P(SchemaEvolutionTest, ForeignTableIsCreatedWithItsOriginAndOnlyOnce) {
  v1::Table incoming = Notes();
  incoming.set_name("remote");
  incoming.mutable_create_time()->set_seconds(1000);
  incoming.set_created_by("other-node");
  const int64_t seq = engine_->LastSeq();
  ASSERT_OK_AND_ASSIGN(bool changed, engine_->ApplyForeignTable(incoming));
  EXPECT_TRUE(changed);
  ASSERT_OK_AND_ASSIGN(v1::Table stored, engine_->GetTable("remote"));
  EXPECT_EQ(stored.created_by(), "other-node");
  EXPECT_EQ(stored.create_time().seconds(), 1000);
  ASSERT_OK_AND_ASSIGN(auto changes, engine_->GetChanges(seq, {}, 10));
  ASSERT_THAT(changes, SizeIs(1));
  EXPECT_EQ(changes[0].kind(), v1::CHANGE_KIND_TABLE);
  EXPECT_EQ(changes[0].table(), "remote");
  // Again: nothing to do, nothing in the feed.
  ASSERT_OK_AND_ASSIGN(changed, engine_->ApplyForeignTable(incoming));
  EXPECT_FALSE(changed);
  EXPECT_EQ(engine_->LastSeq(), seq + 1);
}

TEST_P(SchemaEvolutionTest, ForeignTableExtendsOursOrIsIgnoredWhenOursExtendsIt) {
  v1::Table extended = Notes();
  for (const v1::Column& c : NewColumns()) *extended.add_columns() = c;
  extended.set_created_by("other-node");
  extended.mutable_columns(2)->set_indexed(false);
  ASSERT_OK(Put("n1", "before").status());
  const int64_t seq = engine_->LastSeq();
  ASSERT_OK_AND_ASSIGN(bool changed, engine_->ApplyForeignTable(extended));
  EXPECT_TRUE(changed);
  ASSERT_OK_AND_ASSIGN(v1::Table stored, engine_->GetTable("notes"));
  EXPECT_THAT(Names(stored), ElementsAre("title", "body", "rank", "tag"));
  EXPECT_EQ(stored.created_by(), engine_->node_id());  // Ours was created here.
  EXPECT_EQ(Get("n1")->attributes().at("rank").int_(), 3);
  EXPECT_EQ(engine_->LastSeq(), seq + 1);
  // The older definition (a prefix of ours) changes nothing.
  ASSERT_OK_AND_ASSIGN(changed, engine_->ApplyForeignTable(Notes()));
  EXPECT_FALSE(changed);
  EXPECT_EQ(engine_->LastSeq(), seq + 1);
  // New columns come as given (not indexed). A definition differing from
  // ours only by an index choice is the same table: each node keeps its own.
  EXPECT_FALSE(stored.columns(2).indexed());
  v1::Table reindexed = stored;
  reindexed.mutable_columns(2)->set_indexed(true);
  ASSERT_OK_AND_ASSIGN(changed, engine_->ApplyForeignTable(reindexed));
  EXPECT_FALSE(changed);
  EXPECT_FALSE(engine_->GetTable("notes")->columns(2).indexed());
}

TEST_P(SchemaEvolutionTest, DivergingOrNonAdditiveForeignTablesAreRefused) {
  const int64_t seq = engine_->LastSeq();
  v1::Table diverging = Notes();
  diverging.mutable_columns(1)->set_type(v1::COLUMN_TYPE_BYTES);
  EXPECT_THAT(engine_->ApplyForeignTable(diverging),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("column 2")));
  v1::Table renamed = Notes();
  renamed.mutable_columns(0)->set_name("heading");
  EXPECT_THAT(engine_->ApplyForeignTable(renamed),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("diverges")));
  v1::Table not_additive = Notes();
  *not_additive.add_columns() = Column("due", v1::COLUMN_TYPE_TIMESTAMP, false);
  EXPECT_THAT(engine_->ApplyForeignTable(not_additive),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("\"due\"")));
  v1::Table invalid = Notes();
  invalid.set_name("Bad");
  EXPECT_THAT(engine_->ApplyForeignTable(invalid), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Names(*engine_->GetTable("notes")), ElementsAre("title", "body"));
  EXPECT_EQ(engine_->LastSeq(), seq);
}

INSTANTIATE_TEST_SUITE_P(Backends, SchemaEvolutionTest, ::testing::Values("memory", "sqlite"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace recondb::engine
