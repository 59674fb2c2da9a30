// Grafting is order-independent and idempotent: the revisions made by
// several engines, applied into fresh engines in many random orders and
// batchings (fixed seeds), with duplicates, always give the same winners,
// leaves, conflicts and view rows. One writer adds a column half way, so
// the revisions hold two or three columns; ancestors may travel as stubs.
#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/memory_storage.h"
#include "storage/sqlite_storage.h"
#include "tests/support/status_matchers.h"
#include "tests/support/tables.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_nodes.h"

namespace recondb::engine {
namespace {

using ::recondb::testing::IsOk;
using ::recondb::testing::NotesTable;

constexpr int kWriters = 4;
constexpr int kRecordIds = 12;
constexpr int kOrders = 200;

using Node = ::recondb::testing::TestNode;

// The column one writer adds after the shared start.
v1::Column Tag() {
  v1::Column tag;
  tag.set_name("tag");
  tag.set_type(v1::COLUMN_TYPE_STRING);
  tag.set_nullable(true);
  return tag;
}

// A node with the notes table; `extended`: with the tag column too, as
// every receiver has it.
Node NewNode(std::unique_ptr<storage::Storage> storage, bool extended = true) {
  absl::StatusOr<Node> opened = ::recondb::testing::OpenTestNode(std::move(storage));
  EXPECT_THAT(opened, IsOk());
  if (!opened.ok()) return Node{};
  Node node = *std::move(opened);
  EXPECT_THAT(node.engine->CreateTable(NotesTable()), IsOk());
  if (extended) {
    EXPECT_THAT(node.engine->AddColumns("notes", {Tag()}), IsOk());
  }
  return node;
}

std::string Id(int i) { return "note-" + std::to_string(i); }

// Every revision `engine` holds, as a peer would send them.
std::vector<ForeignRevision> AllRevisions(Engine& engine) {
  std::vector<ForeignRevision> out;
  for (int i = 0; i < kRecordIds; ++i) {
    v1::GetRecordHistoryRequest request;
    request.set_table("notes");
    request.set_id(Id(i));
    auto history = engine.GetRecordHistory(request);
    if (!history.ok()) continue;
    for (const auto& entry : history->entries()) {
      ForeignRevision f;
      f.table = "notes";
      f.rev.id = entry.record().id();
      f.rev.revision = entry.record().revision();
      f.rev.parent = entry.parent_revision();
      f.rev.generation = std::stoll(f.rev.revision);
      f.rev.deleted = entry.record().deleted();
      f.rev.attributes.insert(entry.record().attributes().begin(), entry.record().attributes().end());
      out.push_back(std::move(f));
    }
  }
  return out;
}

// Random local edits: creates, updates of a random live leaf, deletes,
// recreations.
void RandomEdits(Engine& engine, std::mt19937& rng, int count) {
  for (int n = 0; n < count; ++n) {
    const std::string id = Id(rng() % kRecordIds);
    v1::GetRecordRequest get;
    get.set_table("notes");
    get.set_id(id);
    get.set_include_conflicts(true);
    auto current = engine.GetRecord(get);
    v1::Record write;
    write.set_table("notes");
    write.set_id(id);
    (*write.mutable_attributes())["text"].set_string("edit " + std::to_string(rng() % 5));
    if (rng() % 2) (*write.mutable_attributes())["rank"].set_int_(rng() % 7);
    if (current.ok() && rng() % 4 == 0) {
      v1::DeleteRecordRequest del;
      del.set_table("notes");
      del.set_id(id);
      ASSERT_THAT(engine.DeleteRecord(del), IsOk());
      continue;
    }
    if (current.ok()) {
      // Extend the winner or, sometimes, a conflicting leaf.
      write.set_revision(current->conflicts_size() > 0 && rng() % 2 ? current->conflicts(0)
                                                                      : current->revision());
    }
    ASSERT_THAT(engine.PutRecord(write, nullptr), IsOk());
  }
}

// What must be equal between nodes: per record, winner and conflicts (or
// deletion), the set of leaves and revisions; and every view row.
std::string Snapshot(Engine& engine) {
  std::string out;
  for (int i = 0; i < kRecordIds; ++i) {
    v1::GetRecordHistoryRequest request;
    request.set_table("notes");
    request.set_id(Id(i));
    auto history = engine.GetRecordHistory(request);
    if (!history.ok()) {
      out += Id(i) + ": none\n";
      continue;
    }
    std::set<std::string> revisions, leaves;
    for (const auto& e : history->entries()) {
      revisions.insert(e.record().revision());
      if (e.leaf()) leaves.insert(e.record().revision());
    }
    v1::GetRecordRequest get;
    get.set_table("notes");
    get.set_id(Id(i));
    get.set_include_conflicts(true);
    auto winner = engine.GetRecord(get);
    out += Id(i) + ": " + (winner.ok() ? winner->ShortDebugString() : "deleted") + " leaves=";
    for (const auto& l : leaves) out += l + ",";
    out += " revisions=" + std::to_string(revisions.size()) + "\n";
  }
  v1::ListRecordsRequest list;
  list.set_table("notes");
  list.set_page_size(1000);
  auto rows = engine.ListRecords(list);
  EXPECT_THAT(rows, IsOk());
  out += "view:" + rows->ShortDebugString();
  return out;
}

// Revisions of `all` by (id, revision), to add a revision's ancestry.
using Index = std::map<std::pair<std::string, std::string>, const ForeignRevision*>;

// Adds `f` and its ancestors to `batch`; with `stubs`, the ancestors as
// stubs (id and linkage only), as replication sends them.
void AddWithAncestry(const Index& index, const ForeignRevision& f,
                     std::vector<ForeignRevision>& batch, bool stubs = false) {
  const ForeignRevision* cur = &f;
  while (cur != nullptr) {
    batch.push_back(*cur);
    if (stubs && cur != &f) {
      batch.back().rev.stub = true;
      batch.back().rev.attributes.clear();
    }
    auto it = index.find({cur->rev.id, cur->rev.parent});
    cur = it == index.end() ? nullptr : it->second;
  }
}

class OrderIndependenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937 rng(7);
    std::vector<Node> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.push_back(NewNode(storage::NewMemoryStorage(), /*extended=*/false));
    }
    // A shared start, then independent (offline) edits on every writer.
    RandomEdits(*writers[0].engine, rng, 20);
    const auto base = AllRevisions(*writers[0].engine);
    for (int w = 1; w < kWriters; ++w) ASSERT_THAT(writers[w].engine->ApplyForeignRevisions(base), IsOk());
    // Writer 1 adds a column: its later revisions hold three columns, the
    // others' two.
    ASSERT_THAT(writers[1].engine->AddColumns("notes", {Tag()}), IsOk());
    for (auto& writer : writers) RandomEdits(*writer.engine, rng, 30);
    std::set<std::pair<std::string, std::string>> seen;
    for (auto& writer : writers) {
      for (auto& f : AllRevisions(*writer.engine)) {
        if (seen.insert({f.rev.id, f.rev.revision}).second) all_.push_back(std::move(f));
      }
    }
    for (const auto& f : all_) index_[{f.rev.id, f.rev.revision}] = &f;
    Node reference = NewNode(storage::NewMemoryStorage());
    ASSERT_THAT(reference.engine->ApplyForeignRevisions(all_), IsOk());
    expected_ = Snapshot(*reference.engine);
  }

  // Applies every revision in a random order, in random batches each
  // carrying its revisions' ancestry, with some batches sent twice.
  void ApplyShuffled(Engine& engine, uint32_t seed, bool stubs = false) {
    std::mt19937 rng(seed);
    std::vector<const ForeignRevision*> order;
    for (const auto& f : all_) order.push_back(&f);
    std::shuffle(order.begin(), order.end(), rng);
    size_t i = 0;
    while (i < order.size()) {
      const size_t n = 1 + rng() % 8;
      std::vector<ForeignRevision> batch;
      for (size_t k = 0; k < n && i < order.size(); ++k, ++i) {
        AddWithAncestry(index_, *order[i], batch, stubs);
      }
      std::shuffle(batch.begin(), batch.end(), rng);
      ASSERT_THAT(engine.ApplyForeignRevisions(batch), IsOk());
      if (rng() % 5 == 0) {
        ASSERT_THAT(engine.ApplyForeignRevisions(batch), IsOk());
      }
    }
  }

  std::vector<ForeignRevision> all_;
  Index index_;
  std::string expected_;
};

TEST_F(OrderIndependenceTest, TheRevisionsMakeConflicts) {
  // Guard against a vacuous run: the writers must have produced branches.
  EXPECT_GT(all_.size(), 100u);
  EXPECT_NE(expected_.find("conflicts"), std::string::npos) << expected_;
  const auto tombstones = std::count_if(all_.begin(), all_.end(),
                                        [](const ForeignRevision& f) { return f.rev.deleted; });
  EXPECT_GT(tombstones, 0);
}

TEST_F(OrderIndependenceTest, AnyOrderGivesTheSameStateInMemory) {
  for (uint32_t seed = 1; seed <= kOrders; ++seed) {
    Node node = NewNode(storage::NewMemoryStorage());
    ApplyShuffled(*node.engine, seed);
    ASSERT_EQ(Snapshot(*node.engine), expected_) << "seed " << seed;
  }
}

TEST_F(OrderIndependenceTest, AnyOrderGivesTheSameStateInSqlite) {
  for (uint32_t seed = 1001; seed <= 1010; ++seed) {
    testing::TempDir dir;
    auto storage = storage::OpenSqliteStorage({.path = dir.File("db.sqlite3"),
                                               .durability = storage::Durability::kNormal});
    ASSERT_THAT(storage, IsOk());
    Node node = NewNode(*std::move(storage));
    ApplyShuffled(*node.engine, seed);
    ASSERT_EQ(Snapshot(*node.engine), expected_) << "seed " << seed;
  }
}

TEST_F(OrderIndependenceTest, RevisionsOfBothShapesAreThere) {
  std::set<size_t> shapes;
  for (const auto& f : all_) {
    if (!f.rev.deleted) shapes.insert(f.rev.attributes.size());
  }
  EXPECT_THAT(shapes, ::testing::ElementsAre(2u, 3u));
}

// Ancestors as stubs: every revision is sent with content once (as the
// wanted one), before or after its stubs; the end state is the same and
// no stub is left.
TEST_F(OrderIndependenceTest, AnyOrderWithStubAncestorsGivesTheSameState) {
  for (uint32_t seed = 2001; seed <= 2050; ++seed) {
    Node node = NewNode(storage::NewMemoryStorage());
    ApplyShuffled(*node.engine, seed, /*stubs=*/true);
    ASSERT_EQ(Snapshot(*node.engine), expected_) << "seed " << seed;
    for (int i = 0; i < kRecordIds; ++i) {
      v1::GetRecordHistoryRequest request;
      request.set_table("notes");
      request.set_id(Id(i));
      auto history = node.engine->GetRecordHistory(request);
      if (!history.ok()) continue;
      for (const auto& e : history->entries()) ASSERT_FALSE(e.stub()) << "seed " << seed;
    }
  }
}

TEST_F(OrderIndependenceTest, ARevisionWithoutItsAncestryIsRefusedThenAccepted) {
  const ForeignRevision* deep = nullptr;
  for (const auto& f : all_) {
    if (f.rev.generation >= 3) deep = &f;
  }
  ASSERT_NE(deep, nullptr);
  Node node = NewNode(storage::NewMemoryStorage());
  EXPECT_FALSE(node.engine->ApplyForeignRevisions({*deep}).ok());
  std::vector<ForeignRevision> with_ancestry;
  AddWithAncestry(index_, *deep, with_ancestry);
  EXPECT_THAT(node.engine->ApplyForeignRevisions(with_ancestry), IsOk());
}

}  // namespace
}  // namespace recondb::engine
