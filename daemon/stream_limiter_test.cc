#include "daemon/stream_limiter.h"

#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace recondb::daemon {
namespace {

using ::recondb::testing::IsOk;
using ::recondb::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(StreamLimiterTest, RefusesTheStreamOverTheLimitNamingPrincipalAndLimit) {
  StreamLimiter limiter(2);
  auto a = limiter.Acquire("laptop");
  auto b = limiter.Acquire("laptop");
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_THAT(limiter.Acquire("laptop"),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr("principal \"laptop\""), HasSubstr("already has 2"),
                             HasSubstr("--max_streams_per_principal=2"))));
  EXPECT_EQ(limiter.Active("laptop"), 2);
}

TEST(StreamLimiterTest, CountsEachPrincipalApart) {
  StreamLimiter limiter(1);
  auto a = limiter.Acquire("laptop");
  ASSERT_THAT(a, IsOk());
  EXPECT_THAT(limiter.Acquire("hub"), IsOk());
  EXPECT_THAT(limiter.Acquire("laptop"), StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST(StreamLimiterTest, AnEndedStreamFreesItsPlace) {
  StreamLimiter limiter(1);
  {
    auto a = limiter.Acquire("laptop");
    ASSERT_THAT(a, IsOk());
    EXPECT_THAT(limiter.Acquire("laptop"), StatusIs(absl::StatusCode::kResourceExhausted));
  }
  EXPECT_EQ(limiter.Active("laptop"), 0);
  auto again = limiter.Acquire("laptop");
  ASSERT_THAT(again, IsOk());
  again->Reset();
  EXPECT_EQ(limiter.Active("laptop"), 0);
  EXPECT_THAT(limiter.Acquire("laptop"), IsOk());
}

TEST(StreamLimiterTest, AMovedLeaseIsReleasedOnce) {
  StreamLimiter limiter(2);
  auto a = limiter.Acquire("laptop");
  ASSERT_THAT(a, IsOk());
  StreamLimiter::Lease moved = std::move(*a);
  StreamLimiter::Lease again = std::move(moved);
  EXPECT_EQ(limiter.Active("laptop"), 1);
  again.Reset();
  EXPECT_EQ(limiter.Active("laptop"), 0);
}

TEST(StreamLimiterTest, ZeroMeansNoLimit) {
  StreamLimiter limiter(0);
  std::vector<StreamLimiter::Lease> leases;
  for (int i = 0; i < 100; ++i) {
    auto lease = limiter.Acquire("laptop");
    ASSERT_THAT(lease, IsOk());
    leases.push_back(std::move(*lease));
  }
  EXPECT_EQ(limiter.Active("laptop"), 100);
}

}  // namespace
}  // namespace recondb::daemon
