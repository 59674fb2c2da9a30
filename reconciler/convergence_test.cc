// Convergence, as a property: 3 to 5 in-process nodes make random creates,
// updates, deletes and recreations (often of the same records, so conflicts
// arise), sync in random partitions and orders, then heal; every node ends
// with the same winners, conflict sets, revision trees and view rows, and
// the memory and SQLite backends agree. Fixed seeds.
#include <random>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reconciler/testing.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace recondb::reconciler {
namespace {

using ::recondb::testing::IsOk;
using testing::Node;
using testing::Snapshot;
using testing::Sync;

constexpr int kMemoryCases = 300;
constexpr int kSqliteCases = 12;
constexpr int kRecordIds = 8;

void SyncOk(engine::Engine& a, engine::Engine& b, std::mt19937& rng) {
  testing::SyncOptions options;
  options.batch_records = 1 + rng() % 6;  // Small batches exercise windows and parts.
  options.window = 1 + rng() % 3;
  options.part_bytes = 64 + rng() % 512;
  options.pipe_capacity = 1 + rng() % 4;
  auto result = Sync(a, b, options);
  ASSERT_THAT(result.dialer, IsOk());
  ASSERT_THAT(result.acceptor, IsOk());
}

// Runs one case on `nodes`; returns the converged snapshot.
std::string RunCase(uint32_t seed, std::vector<Node>& nodes) {
  std::mt19937 rng(seed);
  const int n = static_cast<int>(nodes.size());
  EXPECT_THAT(nodes[rng() % n].engine->CreateTable(testing::NotesTable()), IsOk());
  const int rounds = 3 + rng() % 4;
  for (int round = 0; round < rounds; ++round) {
    const int writes = rng() % 12;
    for (int w = 0; w < writes; ++w) {
      EXPECT_THAT(testing::RandomNoteWrite(*nodes[rng() % n].engine, rng, kRecordIds), IsOk());
    }
    // A random partition: only some pairs can talk this round, in random order.
    const int links = rng() % (n + 1);
    for (int l = 0; l < links; ++l) {
      const int x = rng() % n, y = rng() % n;
      if (x != y) SyncOk(*nodes[x].engine, *nodes[y].engine, rng);
    }
  }
  // Heal: along a chain and back, so every node hears from every other.
  for (int i = 0; i + 1 < n; ++i) SyncOk(*nodes[i].engine, *nodes[i + 1].engine, rng);
  for (int i = n - 2; i >= 0; --i) SyncOk(*nodes[i + 1].engine, *nodes[i].engine, rng);
  const std::string expected = Snapshot(*nodes[0].engine);
  for (int i = 1; i < n; ++i) EXPECT_EQ(Snapshot(*nodes[i].engine), expected) << "node " << i;
  // The leaves' audits too (they are node- and time-specific, so they are
  // compared within a run, not between backends).
  const std::string audits = testing::AuditSnapshot(*nodes[0].engine);
  for (int i = 1; i < n; ++i) {
    EXPECT_EQ(testing::AuditSnapshot(*nodes[i].engine), audits) << "node " << i;
  }
  return expected;
}

TEST(ConvergenceTest, RandomHistoriesConvergeInMemory) {
  for (uint32_t seed = 1; seed <= kMemoryCases; ++seed) {
    SCOPED_TRACE(seed);
    std::vector<Node> nodes;
    for (int i = 0; i < 3 + static_cast<int>(seed % 3); ++i) nodes.push_back(testing::MemoryNode());
    RunCase(seed, nodes);
    if (HasFailure()) return;
  }
}

TEST(ConvergenceTest, SqliteAndMemoryAgree) {
  for (uint32_t seed = 1; seed <= kSqliteCases; ++seed) {
    SCOPED_TRACE(seed);
    const int n = 3 + static_cast<int>(seed % 3);
    std::vector<Node> memory;
    for (int i = 0; i < n; ++i) memory.push_back(testing::MemoryNode());
    const std::string in_memory = RunCase(seed, memory);
    ::recondb::testing::TempDir dir;
    std::vector<Node> sqlite;
    for (int i = 0; i < n; ++i) sqlite.push_back(testing::SqliteNode(dir.File(absl::StrCat(i, ".db"))));
    EXPECT_EQ(RunCase(seed, sqlite), in_memory);
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace recondb::reconciler
