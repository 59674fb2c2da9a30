#include "engine/internal/winner.h"

#include "gtest/gtest.h"

namespace recondb::engine::internal {
namespace {

storage::StoredRevision Leaf(int64_t generation, std::string hex, bool deleted) {
  storage::StoredRevision rev;
  rev.generation = generation;
  rev.revision = std::to_string(generation) + "-" + hex;
  rev.deleted = deleted;
  return rev;
}

const std::string kLow = "00000000000000000000000000000001";
const std::string kHigh = "f0000000000000000000000000000000";

TEST(WinnerTest, LiveBeatsDeletedWhateverTheGeneration) {
  EXPECT_TRUE(Beats(Leaf(1, kLow, false), Leaf(9, kHigh, true)));
  EXPECT_FALSE(Beats(Leaf(9, kHigh, true), Leaf(1, kLow, false)));
}

TEST(WinnerTest, HigherGenerationBeatsGreaterHash) {
  EXPECT_TRUE(Beats(Leaf(3, kLow, false), Leaf(2, kHigh, false)));
  EXPECT_FALSE(Beats(Leaf(2, kHigh, false), Leaf(3, kLow, false)));
  // Numeric, not textual: 10 > 9.
  EXPECT_TRUE(Beats(Leaf(10, kLow, false), Leaf(9, kHigh, false)));
}

TEST(WinnerTest, GreaterHashBreaksTheTie) {
  EXPECT_TRUE(Beats(Leaf(2, kHigh, false), Leaf(2, kLow, false)));
  EXPECT_FALSE(Beats(Leaf(2, kLow, false), Leaf(2, kHigh, false)));
  EXPECT_TRUE(Beats(Leaf(2, kHigh, true), Leaf(2, kLow, true)));
}

TEST(WinnerTest, SameRevisionDoesNotBeatItself) {
  EXPECT_FALSE(Beats(Leaf(2, kHigh, false), Leaf(2, kHigh, false)));
}

TEST(WinnerTest, SortIsIndependentOfInputOrder) {
  std::vector<storage::StoredRevision> a = {Leaf(1, kHigh, false), Leaf(3, kLow, true),
                                            Leaf(2, kLow, false), Leaf(2, kHigh, false)};
  std::vector<storage::StoredRevision> b(a.rbegin(), a.rend());
  SortByPrecedence(a);
  SortByPrecedence(b);
  std::vector<std::string> expected = {"2-" + kHigh, "2-" + kLow, "1-" + kHigh, "3-" + kLow};
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].revision, expected[i]);
    EXPECT_EQ(b[i].revision, expected[i]);
  }
}

}  // namespace
}  // namespace recondb::engine::internal
