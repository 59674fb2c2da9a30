#include "engine/feed_lineage.h"

#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace recondb::engine {
namespace {

using ::recondb::testing::IsOkAndHolds;
using ::recondb::testing::StatusIs;

const std::string kA(32, 'a');
const std::string kB(32, 'b');
const std::string kC(32, 'c');
const std::string kX(32, 'e');  // Never ours.

// A store opened three times: A gave seqs 1-4, B 5-9, C (running) 10-.
const FeedLineage kLineage = {{kA, 1}, {kB, 5}, {kC, 10}};

struct Case {
  const char* what;
  std::string incarnation;
  int64_t seq;
  int64_t last_seq;
  int64_t want;
};

TEST(VerifiedResumePoint, Table) {
  const Case cases[] = {
      {"no checkpoint", kC, 0, 12, 0},
      {"running incarnation, within the feed", kC, 11, 12, 11},
      {"running incarnation, at the end", kC, 12, 12, 12},
      {"running incarnation, beyond the end: a lie", kC, 13, 12, 0},
      {"an earlier incarnation, within its seqs", kB, 7, 12, 7},
      {"an earlier incarnation, at its end", kB, 9, 12, 9},
      // The checkpoint was taken from a copy of this store that went on
      // writing in B after the copy was made (or this store is a restored
      // backup of it): only B's seqs up to the cut are common.
      {"an earlier incarnation, beyond its end here", kB, 30, 40, 9},
      {"the first incarnation, beyond its end here", kA, 8, 12, 4},
      {"an incarnation that is not ours", kX, 5, 12, 0},
      {"no incarnation (old peer)", "", 5, 12, 0},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(VerifiedResumePoint(kLineage, c.last_seq, c.incarnation, c.seq), c.want) << c.what;
  }
}

TEST(VerifiedResumePoint, EmptyIncarnationsGiveNoSeqs) {
  // B was opened and closed without a write: C starts where B did.
  const FeedLineage lineage = {{kA, 1}, {kB, 5}, {kC, 5}};
  EXPECT_EQ(VerifiedResumePoint(lineage, 8, kB, 7), 4);
  EXPECT_EQ(VerifiedResumePoint(lineage, 8, kB, 4), 4);
  EXPECT_EQ(VerifiedResumePoint(lineage, 8, kA, 3), 3);
}

TEST(Lineage, FormatParseRoundTrip) {
  EXPECT_THAT(ParseLineage(FormatLineage(kLineage)), IsOkAndHolds(kLineage));
  EXPECT_THAT(ParseLineage(""), IsOkAndHolds(FeedLineage{}));
}

TEST(Lineage, DamagedTextIsDataLoss) {
  for (const std::string& text : std::vector<std::string>{"x " + kA + "\n", "1 zz\n", "5 " + kA + "\n1 " + kB + "\n",
                                 "0 " + kA + "\n", "1 " + kA + " extra\n"}) {
    EXPECT_THAT(ParseLineage(text), StatusIs(absl::StatusCode::kDataLoss)) << text;
  }
}

TEST(Lineage, NewIdsAreHexAndDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewIncarnationId();
    ASSERT_EQ(id.size(), 32u);
    ASSERT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    ids.insert(std::move(id));
  }
  EXPECT_EQ(ids.size(), 1000u);
}

}  // namespace
}  // namespace recondb::engine
