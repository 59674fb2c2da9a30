// Convergence with restores and clones, as a property: in-process nodes make
// random writes (conflicting ones included) and sync in random pairs, while
// random events replace a node by an earlier backup of itself or add a copy
// of a node as a new node, noticed as a copy or not (a disk image). End
// condition: after healing, every node has the same winners, conflicts,
// revision trees and view rows, and no write is lost except those that
// lived only on a node when it was rolled back. Fixed seeds.
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reconciler/testing.h"
#include "tests/support/status_matchers.h"

namespace recondb::reconciler {
namespace {

using ::recondb::testing::IsOk;
using testing::Node;
using testing::Snapshot;

constexpr int kCases = 200;
constexpr int kRecordIds = 6;
constexpr size_t kMaxNodes = 6;

// Every revision the node knows ("id revision"), stubs included.
std::set<std::string> Revisions(engine::Engine& engine) {
  std::set<std::string> out;
  if (!engine.GetTable("notes").ok()) return out;
  auto changes = engine.GetChanges(0, {"notes"}, 100000);
  EXPECT_THAT(changes, IsOk());
  for (const v1::Change& change : *changes) {
    if (change.kind() != v1::CHANGE_KIND_RECORD) continue;
    v1::GetRecordHistoryRequest request;
    request.set_table("notes");
    request.set_id(change.id());
    auto history = engine.GetRecordHistory(request);
    EXPECT_THAT(history, IsOk());
    for (const auto& entry : history->entries()) out.insert(change.id() + " " + entry.record().revision());
  }
  return out;
}

void SyncOk(engine::Engine& a, engine::Engine& b, std::mt19937& rng) {
  testing::SyncOptions options;
  options.batch_records = 1 + rng() % 4;
  options.window = 1 + rng() % 3;
  options.part_bytes = 64 + rng() % 256;
  auto result = testing::Sync(a, b, options);
  ASSERT_THAT(result.dialer, IsOk());
  ASSERT_THAT(result.acceptor, IsOk());
}

void RunCase(uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Node> nodes;
  const int initial = 2 + static_cast<int>(seed % 3);
  for (int i = 0; i < initial; ++i) nodes.push_back(testing::MemoryNode());
  // Backups taken so far, per node slot.
  std::vector<std::vector<std::unique_ptr<storage::Storage>>> backups(kMaxNodes);
  // Every revision that must survive: all that were ever made, except
  // those that lived only on a node when it was rolled back.
  std::set<std::string> must_survive;
  auto note_all = [&] {
    for (Node& node : nodes) {
      for (const std::string& r : Revisions(*node.engine)) must_survive.insert(r);
    }
  };
  ASSERT_THAT(nodes[0].engine->CreateTable(testing::NotesTable()), IsOk());
  const int rounds = 4 + rng() % 5;
  for (int round = 0; round < rounds; ++round) {
    const int writes = rng() % 8;
    for (int w = 0; w < writes; ++w) {
      ASSERT_THAT(testing::RandomNoteWrite(*nodes[rng() % nodes.size()].engine, rng, kRecordIds), IsOk());
    }
    const int links = rng() % (nodes.size() + 1);
    for (int l = 0; l < links; ++l) {
      const size_t x = rng() % nodes.size(), y = rng() % nodes.size();
      if (x != y) SyncOk(*nodes[x].engine, *nodes[y].engine, rng);
    }
    const size_t victim = rng() % nodes.size();
    switch (rng() % 4) {
      case 0:  // Take a backup.
        backups[victim].push_back(testing::Backup(nodes[victim]));
        break;
      case 1: {  // Restore a node from one of its backups.
        if (backups[victim].empty()) break;
        storage::Storage& backup = *backups[victim][rng() % backups[victim].size()];
        note_all();
        // What only the victim holds, and its backup lacks, is gone.
        std::set<std::string> elsewhere;
        for (size_t i = 0; i < nodes.size(); ++i) {
          if (i == victim) continue;
          for (const std::string& r : Revisions(*nodes[i].engine)) elsewhere.insert(r);
        }
        Node restored = testing::Restore(backup, /*keep_identity=*/rng() % 2 == 0);
        const std::set<std::string> kept = Revisions(*restored.engine);
        for (const std::string& r : Revisions(*nodes[victim].engine)) {
          if (!elsewhere.count(r) && !kept.count(r)) must_survive.erase(r);
        }
        nodes[victim] = std::move(restored);
        break;
      }
      case 2:  // Clone a node onto a new machine.
        if (nodes.size() < kMaxNodes) nodes.push_back(testing::CopyOf(nodes[victim], rng() % 2 == 0));
        break;
      default:
        break;
    }
  }
  note_all();
  // Heal along a chain and back.
  for (size_t i = 0; i + 1 < nodes.size(); ++i) SyncOk(*nodes[i].engine, *nodes[i + 1].engine, rng);
  for (size_t i = nodes.size() - 1; i > 0; --i) SyncOk(*nodes[i].engine, *nodes[i - 1].engine, rng);
  const std::string expected = Snapshot(*nodes[0].engine);
  for (size_t i = 1; i < nodes.size(); ++i) EXPECT_EQ(Snapshot(*nodes[i].engine), expected) << "node " << i;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const std::set<std::string> held = Revisions(*nodes[i].engine);
    for (const std::string& r : must_survive) {
      EXPECT_TRUE(held.count(r)) << "node " << i << " lost " << r;
    }
  }
}

TEST(RestoreConvergenceTest, RestoresAndClonesLoseNothingAndConverge) {
  for (uint32_t seed = 1; seed <= kCases; ++seed) {
    SCOPED_TRACE(seed);
    RunCase(seed);
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace recondb::reconciler
