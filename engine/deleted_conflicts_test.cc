// Deleted conflicts (engine/DESIGN.md "Deleted conflicts") and the
// conflicted flag, over every storage backend: a delete that loses to a
// concurrent edit is reported identically on every node whatever the arrival
// order; the writes that review it (resolutions keeping the live value or
// choosing the delete, dismissals, recreations) acknowledge it with a
// tombstone child that grafts like any revision; the flag is in every read of
// a live record, in conflicted-only queries and in the change feed.
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
#include "tests/support/temp_dir.h"
#include "tests/support/test_nodes.h"

namespace recondb::engine {
namespace {

using ::recondb::testing::IsOk;
using ::recondb::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kNow = 1767225600LL * 1000000;  // 2026-01-01T00:00:00Z

v1::Table Todos() {
  v1::Table t;
  t.set_name("todos");
  auto* title = t.add_columns();
  title->set_name("title");
  title->set_type(v1::COLUMN_TYPE_STRING);
  auto* done = t.add_columns();
  done->set_name("done");
  done->set_type(v1::COLUMN_TYPE_BOOL);
  done->mutable_default_value()->set_bool_(false);
  return t;
}

v1::Record Todo(const std::string& id, const std::string& title, const std::string& revision = "") {
  v1::Record r;
  r.set_table("todos");
  r.set_id(id);
  r.set_revision(revision);
  (*r.mutable_attributes())["title"].set_string(title);
  return r;
}

// The tombstone a node writes on `parent` (deleted or not) of record `id`.
std::string TombstoneOf(const std::string& id, const std::string& parent) {
  const storage::Attributes none;
  return ComputeRevision(ParseRevision(parent)->generation + 1, {"todos", id, parent, true, &none});
}

class DeletedConflictsTest : public ::testing::TestWithParam<std::string> {
 protected:
  using Node = testing::TestNode;

  void SetUp() override {
    for (const char* name : {"a", "b", "c", "d"}) nodes_.push_back(NewNode(name));
  }

  Node NewNode(const std::string& name) {
    EngineOptions options;
    options.clock = &clock_;
    absl::StatusOr<Node> opened = testing::OpenTestNode(GetParam(), dir_, name, options);
    EXPECT_THAT(opened, IsOk());
    if (!opened.ok()) return Node{};
    Node node = *std::move(opened);
    EXPECT_THAT(node.engine->CreateTable(Todos()), IsOk());
    return node;
  }

  Engine& A() { return *nodes_[0].engine; }
  Engine& B() { return *nodes_[1].engine; }
  Engine& C() { return *nodes_[2].engine; }
  Engine& D() { return *nodes_[3].engine; }

  static absl::StatusOr<v1::Record> Get(Engine& engine, const std::string& id,
                                        bool conflicts = true) {
    v1::GetRecordRequest request;
    request.set_table("todos");
    request.set_id(id);
    request.set_include_conflicts(conflicts);
    return engine.GetRecord(request);
  }

  static absl::StatusOr<v1::Record> Delete(Engine& engine, const std::string& id,
                                           const std::string& revision = "") {
    v1::DeleteRecordRequest request;
    request.set_table("todos");
    request.set_id(id);
    request.set_revision(revision);
    return engine.DeleteRecord(request);
  }

  // The ids ListRecords returns with conflicted_only, checking each says so.
  static std::vector<std::string> ConflictedIds(Engine& engine) {
    v1::ListRecordsRequest request;
    request.set_table("todos");
    request.set_conflicted_only(true);
    auto listed = engine.ListRecords(request);
    EXPECT_THAT(listed, IsOk());
    std::vector<std::string> ids;
    if (!listed.ok()) return ids;
    for (const v1::Record& r : listed->records()) {
      EXPECT_TRUE(r.conflicted()) << r.id();
      ids.push_back(r.id());
    }
    return ids;
  }

  // The latest feed entry of record `id`.
  static v1::Change LastChangeOf(Engine& engine, const std::string& id) {
    auto changes = engine.GetChanges(0, {}, 1000);
    EXPECT_THAT(changes, IsOk());
    v1::Change last;
    if (!changes.ok()) return last;
    for (const v1::Change& c : *changes) {
      if (c.kind() == v1::CHANGE_KIND_RECORD && c.id() == id) last = c;
    }
    return last;
  }

  // Grafts every revision of record `id` that `from` has onto `to`, as
  // replication would (ids kept, never re-hashed).
  static void Copy(Engine& from, Engine& to, const std::string& id) {
    v1::GetRecordHistoryRequest request;
    request.set_table("todos");
    request.set_id(id);
    auto history = from.GetRecordHistory(request);
    ASSERT_THAT(history, IsOk());
    std::vector<ForeignRevision> revisions;
    for (const v1::HistoryEntry& e : history->entries()) {
      ForeignRevision f;
      f.table = "todos";
      f.rev.id = id;
      f.rev.revision = e.record().revision();
      f.rev.parent = e.parent_revision();
      f.rev.generation = ParseRevision(f.rev.revision)->generation;
      f.rev.deleted = e.record().deleted();
      f.rev.attributes.insert(e.record().attributes().begin(), e.record().attributes().end());
      revisions.push_back(std::move(f));
    }
    ASSERT_THAT(to.ApplyForeignRevisions(revisions), IsOk());
  }

  // Record t1 ("base") on A and B; then A edits it while B deletes it,
  // offline. Returns {edit, tombstone}.
  std::pair<v1::Record, v1::Record> EditVersusDelete() {
    auto base = A().PutRecord(Todo("t1", "base"), nullptr);
    EXPECT_THAT(base, IsOk());
    Copy(A(), B(), "t1");
    auto edit = A().PutRecord(Todo("t1", "edited", base->revision()), nullptr);
    auto tombstone = Delete(B(), "t1");
    EXPECT_THAT(edit, IsOk());
    EXPECT_THAT(tombstone, IsOk());
    return {*edit, *tombstone};
  }

  // Every node reports record `id` with winner `revision`, no live conflict
  // and exactly `deleted` as deleted conflicts.
  void ExpectEverywhere(const std::vector<Engine*>& engines, const std::string& id,
                        const std::string& revision, const std::vector<std::string>& deleted) {
    for (size_t i = 0; i < engines.size(); ++i) {
      SCOPED_TRACE(absl::StrCat("node ", i));
      Engine& engine = *engines[i];
      auto record = Get(engine, id);
      ASSERT_THAT(record, IsOk());
      EXPECT_EQ(record->revision(), revision);
      EXPECT_THAT(record->conflicts(), IsEmpty());
      EXPECT_THAT(record->deleted_conflicts(), ::testing::ElementsAreArray(deleted));
      const bool conflicted = !deleted.empty();
      EXPECT_EQ(record->conflicted(), conflicted);
      auto plain = Get(engine, id, /*conflicts=*/false);
      ASSERT_THAT(plain, IsOk());
      EXPECT_EQ(plain->conflicted(), conflicted);  // Asked for or not.
      EXPECT_THAT(plain->deleted_conflicts(), IsEmpty());
      EXPECT_EQ(ConflictedIds(engine),
                conflicted ? std::vector<std::string>{id} : std::vector<std::string>{});
      const v1::Change change = LastChangeOf(engine, id);
      EXPECT_EQ(change.revision(), revision);
      EXPECT_EQ(change.conflicted(), conflicted);
    }
  }

  ::recondb::testing::TempDir dir_;
  FakeClock clock_{kNow};
  std::vector<Node> nodes_;
};

TEST_P(DeletedConflictsTest, DeleteLosingToAConcurrentEditIsReportedOnEveryNodeInAnyOrder) {
  const auto [edit, tombstone] = EditVersusDelete();
  EXPECT_FALSE(edit.conflicted());  // Neither node knows of the other write yet.
  EXPECT_FALSE(Get(A(), "t1")->conflicted());
  // C learns the delete first, D the edit first; A and B each the other's.
  Copy(B(), C(), "t1");
  EXPECT_THAT(Get(C(), "t1"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("is deleted")));
  Copy(A(), C(), "t1");
  Copy(A(), D(), "t1");
  Copy(B(), D(), "t1");
  Copy(B(), A(), "t1");
  Copy(A(), B(), "t1");
  // The live edit wins (the winner rule is unchanged); the delete is shown.
  ExpectEverywhere({&A(), &B(), &C(), &D()}, "t1", edit.revision(), {tombstone.revision()});
  // A write to the winner keeps it conflicted: the delete is still unreviewed.
  auto update = A().PutRecord(Todo("t1", "again", edit.revision()), nullptr);
  ASSERT_THAT(update, IsOk());
  EXPECT_TRUE(update->conflicted());
}

TEST_P(DeletedConflictsTest, ResolvingKeepingTheLiveValueAcknowledgesTheDelete) {
  const auto [edit, tombstone] = EditVersusDelete();
  Copy(B(), A(), "t1");
  Copy(A(), B(), "t1");
  const int64_t seq = A().LastSeq();
  auto resolved = A().ResolveConflict(Todo("t1", "kept", edit.revision()), nullptr);
  ASSERT_THAT(resolved, IsOk());
  EXPECT_FALSE(resolved->conflicted());
  ExpectEverywhere({&A()}, "t1", resolved->revision(), {});
  // One feed entry, taking the record out of the review queue.
  auto changes = A().GetChanges(seq, {}, 100);
  ASSERT_THAT(changes, IsOk());
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_FALSE((*changes)[0].conflicted());
  // The acknowledgement is an ordinary local revision: a tombstone child of
  // the tombstone, which grafts onto B (generation and hash checked there)
  // and clears the conflict there too.
  const std::string ack = TombstoneOf("t1", tombstone.revision());
  auto acknowledged = A().GetRecord([&] {
    v1::GetRecordRequest r;
    r.set_table("todos");
    r.set_id("t1");
    r.set_revision(ack);
    return r;
  }());
  ASSERT_THAT(acknowledged, IsOk());
  EXPECT_TRUE(acknowledged->deleted());
  Copy(A(), B(), "t1");
  ExpectEverywhere({&B()}, "t1", resolved->revision(), {});
}

TEST_P(DeletedConflictsTest, ResolvingByChoosingTheDeleteDeletesAndARecreationIsClean) {
  const auto [edit, tombstone] = EditVersusDelete();
  Copy(B(), A(), "t1");
  v1::Record choose_delete = Todo("t1", "", edit.revision());
  choose_delete.clear_attributes();
  choose_delete.set_deleted(true);
  auto resolved = A().ResolveConflict(choose_delete, nullptr);
  ASSERT_THAT(resolved, IsOk());
  EXPECT_TRUE(resolved->deleted());
  EXPECT_FALSE(resolved->conflicted());
  EXPECT_THAT(Get(A(), "t1"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("is deleted")));
  EXPECT_THAT(ConflictedIds(A()), IsEmpty());
  const v1::Change deleted = LastChangeOf(A(), "t1");
  EXPECT_TRUE(deleted.deleted());
  EXPECT_FALSE(deleted.conflicted());
  // The same on B once it has the resolution.
  Copy(A(), B(), "t1");
  EXPECT_THAT(Get(B(), "t1"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("is deleted")));
  // Nothing was left unreviewed: the next life has no deleted conflict.
  auto recreated = A().PutRecord(Todo("t1", "new life"), nullptr);
  ASSERT_THAT(recreated, IsOk());
  EXPECT_FALSE(recreated->conflicted());
  ExpectEverywhere({&A()}, "t1", recreated->revision(), {});
}

TEST_P(DeletedConflictsTest, ChoosingTheDeleteTakesNoValueAndOnlyTheWinner) {
  const auto [edit, tombstone] = EditVersusDelete();
  Copy(B(), A(), "t1");
  const int64_t seq = A().LastSeq();
  v1::Record with_value = Todo("t1", "x", edit.revision());
  with_value.set_deleted(true);
  EXPECT_THAT(A().ResolveConflict(with_value, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("record.attributes")));
  v1::Record bare = with_value;
  bare.clear_attributes();
  google::protobuf::FieldMask mask;
  mask.add_paths("title");
  EXPECT_THAT(A().ResolveConflict(bare, &mask),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("update_mask")));
  bare.set_revision(tombstone.revision());
  EXPECT_THAT(A().ResolveConflict(bare, nullptr),
              StatusIs(absl::StatusCode::kAborted, HasSubstr(edit.revision())));
  // The output-only fields are refused, each by name.
  v1::Record flagged = Todo("t1", "x", edit.revision());
  flagged.set_conflicted(true);
  EXPECT_THAT(A().ResolveConflict(flagged, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("record.conflicted")));
  EXPECT_THAT(A().PutRecord(flagged, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("record.conflicted")));
  v1::Record listed = Todo("t1", "x", edit.revision());
  listed.add_deleted_conflicts(tombstone.revision());
  EXPECT_THAT(A().ResolveConflict(listed, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("record.deleted_conflicts")));
  EXPECT_THAT(A().PutRecord(listed, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("record.deleted_conflicts")));
  EXPECT_EQ(A().LastSeq(), seq);
  ExpectEverywhere({&A()}, "t1", edit.revision(), {tombstone.revision()});
}

TEST_P(DeletedConflictsTest, AnEditThenDeleteBranchThatLosesIsReported) {
  auto base = A().PutRecord(Todo("t1", "base"), nullptr);
  ASSERT_THAT(base, IsOk());
  Copy(A(), B(), "t1");
  // B edits then deletes (generation 3); A edits once (generation 2).
  auto b_edit = B().PutRecord(Todo("t1", "on B", base->revision()), nullptr);
  ASSERT_THAT(b_edit, IsOk());
  auto b_delete = Delete(B(), "t1");
  ASSERT_THAT(b_delete, IsOk());
  auto a_edit = A().PutRecord(Todo("t1", "on A", base->revision()), nullptr);
  ASSERT_THAT(a_edit, IsOk());
  Copy(B(), A(), "t1");
  Copy(A(), B(), "t1");
  ExpectEverywhere({&A(), &B()}, "t1", a_edit->revision(), {b_delete->revision()});
}

TEST_P(DeletedConflictsTest, DismissingAConflictWithDeleteRecordIsNoDeletedConflict) {
  auto base = A().PutRecord(Todo("t1", "base"), nullptr);
  ASSERT_THAT(base, IsOk());
  Copy(A(), B(), "t1");
  auto a_edit = A().PutRecord(Todo("t1", "on A", base->revision()), nullptr);
  auto b_edit = B().PutRecord(Todo("t1", "on B", base->revision()), nullptr);
  ASSERT_THAT(a_edit, IsOk());
  ASSERT_THAT(b_edit, IsOk());
  Copy(B(), A(), "t1");
  auto winner = Get(A(), "t1");
  ASSERT_THAT(winner, IsOk());
  ASSERT_EQ(winner->conflicts_size(), 1);
  EXPECT_TRUE(winner->conflicted());
  EXPECT_THAT(ConflictedIds(A()), ElementsAre("t1"));
  // Dismissing the losing leaf is a review: its tombstone is acknowledged
  // at once (and the acknowledgement returned), so nothing is reported.
  const std::string loser = winner->conflicts(0);
  auto dismissed = Delete(A(), "t1", loser);
  ASSERT_THAT(dismissed, IsOk());
  EXPECT_TRUE(dismissed->deleted());
  EXPECT_EQ(dismissed->revision(), TombstoneOf("t1", TombstoneOf("t1", loser)));
  EXPECT_FALSE(dismissed->conflicted());
  ExpectEverywhere({&A()}, "t1", winner->revision(), {});
  Copy(A(), B(), "t1");
  ExpectEverywhere({&B()}, "t1", winner->revision(), {});
}

TEST_P(DeletedConflictsTest, DeletingTheWinnerOfAConflictIsAReportedDelete) {
  auto base = A().PutRecord(Todo("t1", "base"), nullptr);
  ASSERT_THAT(base, IsOk());
  Copy(A(), B(), "t1");
  ASSERT_THAT(A().PutRecord(Todo("t1", "on A", base->revision()), nullptr), IsOk());
  ASSERT_THAT(B().PutRecord(Todo("t1", "on B", base->revision()), nullptr), IsOk());
  Copy(B(), A(), "t1");
  auto winner = Get(A(), "t1");
  ASSERT_THAT(winner, IsOk());
  ASSERT_EQ(winner->conflicts_size(), 1);
  const std::string other = winner->conflicts(0);
  // A real delete of the winner: the other live leaf wins, and the delete
  // lost to it.
  auto deleted = Delete(A(), "t1");
  ASSERT_THAT(deleted, IsOk());
  EXPECT_EQ(deleted->revision(), TombstoneOf("t1", winner->revision()));
  EXPECT_TRUE(deleted->conflicted());
  ExpectEverywhere({&A()}, "t1", other, {deleted->revision()});
}

TEST_P(DeletedConflictsTest, ARecreationAcknowledgesTheOldLifesDeletes) {
  const auto [edit, tombstone] = EditVersusDelete();
  // A deletes its edit too: every leaf is deleted, nothing is reported.
  ASSERT_THAT(Delete(A(), "t1"), IsOk());
  Copy(B(), A(), "t1");
  EXPECT_THAT(Get(A(), "t1"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("is deleted")));
  EXPECT_FALSE(LastChangeOf(A(), "t1").conflicted());
  // The new life is a child of the winning tombstone; B's old delete (of a
  // live revision) is acknowledged with it, so it is no conflict of the new
  // life, on A or anywhere the recreation goes.
  auto recreated = A().PutRecord(Todo("t1", "again"), nullptr);
  ASSERT_THAT(recreated, IsOk());
  EXPECT_FALSE(recreated->conflicted());
  ExpectEverywhere({&A()}, "t1", recreated->revision(), {});
  Copy(A(), B(), "t1");
  ExpectEverywhere({&B()}, "t1", recreated->revision(), {});
}

TEST_P(DeletedConflictsTest, ARecreationFromAnyTombstoneAcknowledgesTheOthers) {
  const auto [edit, tombstone] = EditVersusDelete();
  auto a_delete = Delete(A(), "t1");
  ASSERT_THAT(a_delete, IsOk());
  Copy(B(), A(), "t1");
  // Recreated as the child of the losing tombstone (B's, generation 2): the
  // winning one (A's, of a live edit) is acknowledged.
  auto recreated = A().PutRecord(Todo("t1", "again", tombstone.revision()), nullptr);
  ASSERT_THAT(recreated, IsOk());
  EXPECT_EQ(ParseRevision(recreated->revision())->generation, 3);
  EXPECT_FALSE(recreated->conflicted());
  ExpectEverywhere({&A()}, "t1", recreated->revision(), {});
  auto acknowledgement = A().GetRecord([&] {
    v1::GetRecordRequest r;
    r.set_table("todos");
    r.set_id("t1");
    r.set_revision(TombstoneOf("t1", a_delete->revision()));
    return r;
  }());
  ASSERT_THAT(acknowledgement, IsOk());
  EXPECT_TRUE(acknowledgement->deleted());
}

TEST_P(DeletedConflictsTest, ConflictedOnlyListsPagesAndKeepsItsTokens) {
  // Three conflicted records among five.
  for (const std::string id : {"r1", "r2", "r3", "r4", "r5"}) {
    auto base = A().PutRecord(Todo(id, "base"), nullptr);
    ASSERT_THAT(base, IsOk());
    if (id == "r2" || id == "r5") continue;
    Copy(A(), B(), id);
    ASSERT_THAT(A().PutRecord(Todo(id, "on A", base->revision()), nullptr), IsOk());
    ASSERT_THAT(Delete(B(), id), IsOk());
    Copy(B(), A(), id);
  }
  EXPECT_THAT(ConflictedIds(A()), ElementsAre("r1", "r3", "r4"));
  v1::ListRecordsRequest request;
  request.set_table("todos");
  request.set_conflicted_only(true);
  request.set_page_size(2);
  request.set_descending(true);
  auto first = A().ListRecords(request);
  ASSERT_THAT(first, IsOk());
  ASSERT_EQ(first->records_size(), 2);
  EXPECT_EQ(first->records(0).id(), "r4");
  EXPECT_EQ(first->records(1).id(), "r3");
  ASSERT_FALSE(first->next_page_token().empty());
  request.set_page_token(first->next_page_token());
  auto second = A().ListRecords(request);
  ASSERT_THAT(second, IsOk());
  ASSERT_EQ(second->records_size(), 1);
  EXPECT_EQ(second->records(0).id(), "r1");
  EXPECT_TRUE(second->next_page_token().empty());
  // The token is bound to the conflicted-only query.
  request.set_conflicted_only(false);
  EXPECT_THAT(A().ListRecords(request),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("another query")));
  // A plain listing says which records are conflicted.
  v1::ListRecordsRequest all;
  all.set_table("todos");
  auto listed = A().ListRecords(all);
  ASSERT_THAT(listed, IsOk());
  std::vector<std::string> flags;
  for (const v1::Record& r : listed->records()) {
    flags.push_back(absl::StrCat(r.id(), r.conflicted() ? " conflicted" : ""));
  }
  EXPECT_THAT(flags, ElementsAre("r1 conflicted", "r2", "r3 conflicted", "r4 conflicted", "r5"));
}

INSTANTIATE_TEST_SUITE_P(Backends, DeletedConflictsTest, ::testing::Values("memory", "sqlite"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace recondb::engine
