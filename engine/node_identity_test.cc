// Node identity at open: a store keeps its node id across restarts, takes a
// new one when it is opened from a copy (a restored backup, a cloned data
// directory), and every open is a new incarnation of its feed.
#include <filesystem>

#include "engine/engine.h"
#include "engine/internal/meta_keys.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/memory_storage.h"
#include "storage/sqlite_storage.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace recondb::engine {
namespace {

using ::recondb::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::SizeIs;

struct Opened {
  std::unique_ptr<storage::Storage> storage;
  std::unique_ptr<Engine> engine;
};

absl::StatusOr<std::unique_ptr<Engine>> OpenEngine(storage::Storage* storage) {
  EngineOptions options;
  options.storage = storage;
  return Engine::Open(options);
}

Opened OpenSqlite(const std::string& path) {
  Opened o;
  auto storage = storage::OpenSqliteStorage({.path = path, .durability = storage::Durability::kNormal});
  EXPECT_THAT(storage, IsOk());
  o.storage = std::move(*storage);
  auto engine = OpenEngine(o.storage.get());
  EXPECT_THAT(engine, IsOk());
  o.engine = std::move(*engine);
  return o;
}

Opened OpenOver(std::unique_ptr<storage::Storage> storage) {
  Opened o{std::move(storage), nullptr};
  auto engine = OpenEngine(o.storage.get());
  EXPECT_THAT(engine, IsOk());
  o.engine = std::move(*engine);
  return o;
}

v1::Table Notes() {
  v1::Table t;
  t.set_name("notes");
  auto* c = t.add_columns();
  c->set_name("text");
  c->set_type(v1::COLUMN_TYPE_STRING);
  return t;
}

std::string Meta(storage::Storage& storage, std::string_view key) {
  auto txn = storage.BeginRead();
  EXPECT_THAT(txn, IsOk());
  auto value = (*txn)->GetMeta(key);
  return value.ok() ? *value : "<" + value.status().ToString() + ">";
}

TEST(NodeIdentityTest, ARestartKeepsTheNodeIdAndStartsANewIncarnation) {
  ::recondb::testing::TempDir dir;
  std::string node_id, first;
  {
    Opened a = OpenSqlite(dir.File("a.db"));
    node_id = a.engine->node_id();
    first = a.engine->incarnation();
    ASSERT_THAT(a.engine->CreateTable(Notes()), IsOk());
    EXPECT_THAT(a.engine->lineage(), ElementsAre(Incarnation{first, 1}));
    EXPECT_EQ(a.engine->copied_from(), "");
  }
  Opened a = OpenSqlite(dir.File("a.db"));
  EXPECT_EQ(a.engine->node_id(), node_id);
  EXPECT_NE(a.engine->incarnation(), first);
  // The first incarnation gave seq 1 (the table); the second starts at 2.
  EXPECT_THAT(a.engine->lineage(),
              ElementsAre(Incarnation{first, 1}, Incarnation{a.engine->incarnation(), 2}));
}

TEST(NodeIdentityTest, ACopiedDatabaseFileTakesANewNodeId) {
  ::recondb::testing::TempDir dir;
  std::string node_id;
  FeedLineage lineage;
  {
    Opened a = OpenSqlite(dir.File("a.db"));
    node_id = a.engine->node_id();
    ASSERT_THAT(a.engine->CreateTable(Notes()), IsOk());
    lineage = a.engine->lineage();
  }
  // A copy of a stopped node's directory (its WAL checkpointed at close),
  // as a user restores a backup or images a laptop.
  std::filesystem::copy_file(dir.File("a.db"), dir.File("b.db"));
  Opened b = OpenSqlite(dir.File("b.db"));
  EXPECT_NE(b.engine->node_id(), node_id);
  EXPECT_EQ(b.engine->copied_from(), node_id);
  EXPECT_EQ(Meta(*b.storage, internal::kCopyOfKey), node_id);
  // The copy's feed is the original's up to the copy: its lineage goes on.
  ASSERT_THAT(b.engine->lineage(), SizeIs(2));
  EXPECT_EQ(b.engine->lineage()[0], lineage[0]);
  // It is a copy once: reopened, it keeps its new id.
  const std::string new_id = b.engine->node_id();
  b = Opened{};
  Opened again = OpenSqlite(dir.File("b.db"));
  EXPECT_EQ(again.engine->node_id(), new_id);
  EXPECT_EQ(again.engine->copied_from(), "");
  // And the original, opened again where it was, is still itself.
  Opened original = OpenSqlite(dir.File("a.db"));
  EXPECT_EQ(original.engine->node_id(), node_id);
}

TEST(NodeIdentityTest, AStoreMarkedAsACopyTakesANewNodeIdOnce) {
  ::recondb::testing::TempDir dir;
  std::string node_id;
  {
    Opened a = OpenSqlite(dir.File("a.db"));
    node_id = a.engine->node_id();
    // What a backup writes into its file (the backup is a copy by making).
    auto txn = a.storage->BeginWrite();
    ASSERT_THAT(txn, IsOk());
    ASSERT_THAT((*txn)->SetMeta(internal::kStoreAnchorKey, internal::kCopyAnchor), IsOk());
    ASSERT_THAT((*txn)->Commit(), IsOk());
  }
  Opened a = OpenSqlite(dir.File("a.db"));
  EXPECT_NE(a.engine->node_id(), node_id);
  EXPECT_EQ(a.engine->copied_from(), node_id);
  EXPECT_NE(Meta(*a.storage, internal::kStoreAnchorKey), internal::kCopyAnchor);
  const std::string new_id = a.engine->node_id();
  a = Opened{};
  EXPECT_EQ(OpenSqlite(dir.File("a.db")).engine->node_id(), new_id);
}

TEST(NodeIdentityTest, AStoreFromBeforeIdentitiesAdoptsItsFile) {
  ::recondb::testing::TempDir dir;
  std::string node_id;
  {
    Opened a = OpenSqlite(dir.File("a.db"));
    node_id = a.engine->node_id();
    // An older build kept neither the file's identity nor incarnations.
    auto txn = a.storage->BeginWrite();
    ASSERT_THAT(txn, IsOk());
    ASSERT_THAT((*txn)->SetMeta(internal::kStoreAnchorKey, ""), IsOk());
    ASSERT_THAT((*txn)->SetMeta(internal::kIncarnationsKey, ""), IsOk());
    ASSERT_THAT((*txn)->Commit(), IsOk());
  }
  Opened a = OpenSqlite(dir.File("a.db"));
  EXPECT_EQ(a.engine->node_id(), node_id);
  EXPECT_THAT(a.engine->lineage(), SizeIs(1));
  EXPECT_THAT(Meta(*a.storage, internal::kStoreAnchorKey), ::testing::StartsWith("ino="));
}

TEST(NodeIdentityTest, MemoryCopiesAreNoticedUnlessTheyKeepTheIdentity) {
  auto storage = storage::NewMemoryStorage();
  Opened a = OpenOver(std::move(storage));
  ASSERT_THAT(a.engine->CreateTable(Notes()), IsOk());
  auto noticed = storage::CopyMemoryStorage(*a.storage, /*keep_identity=*/false);
  ASSERT_THAT(noticed, IsOk());
  Opened b = OpenOver(std::move(*noticed));
  EXPECT_NE(b.engine->node_id(), a.engine->node_id());
  auto imaged = storage::CopyMemoryStorage(*a.storage, /*keep_identity=*/true);
  ASSERT_THAT(imaged, IsOk());
  Opened c = OpenOver(std::move(*imaged));
  EXPECT_EQ(c.engine->node_id(), a.engine->node_id());
  EXPECT_NE(c.engine->incarnation(), a.engine->incarnation());
}

TEST(NodeIdentityTest, TheIdentityKeysAreTheEnginesOwn) {
  auto storage = storage::NewMemoryStorage();
  Opened a = OpenOver(std::move(storage));
  for (std::string_view key : {internal::kStoreAnchorKey, internal::kCopyOfKey,
                               internal::kIncarnationsKey}) {
    EXPECT_THAT(a.engine->SetNodeMeta(key, "x"),
                ::recondb::testing::StatusIs(absl::StatusCode::kInvalidArgument))
        << key;
  }
}

TEST(NodeIdentityTest, ADamagedIncarnationListIsDataLoss) {
  auto storage = storage::NewMemoryStorage();
  {
    auto txn = storage->BeginWrite();
    ASSERT_THAT(txn, IsOk());
    ASSERT_THAT((*txn)->SetMeta(internal::kNodeIdKey, "n"), IsOk());
    ASSERT_THAT((*txn)->SetMeta(internal::kIncarnationsKey, "garbage\n"), IsOk());
    ASSERT_THAT((*txn)->Commit(), IsOk());
  }
  EXPECT_THAT(OpenEngine(storage.get()),
              ::recondb::testing::StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace recondb::engine
