#include "auth/token.h"

#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace recondb::auth {
namespace {

using ::recondb::testing::IsOk;
using ::recondb::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(TokenTest, GeneratedTokenHasTheDocumentedShape) {
  absl::StatusOr<NewToken> t = GenerateToken();
  ASSERT_THAT(t, IsOk());
  EXPECT_EQ(t->token.size(), kTokenLength);
  EXPECT_EQ(t->token.substr(0, 4), "rdb_");
  EXPECT_EQ(t->token.substr(4, 16), t->id);
  EXPECT_TRUE(IsLowerHex(t->id, 16));
  EXPECT_EQ(t->sha256, HashToken(t->token));
  EXPECT_TRUE(IsLowerHex(t->sha256, 64));
  absl::StatusOr<std::string> id = ParseTokenId(t->token);
  ASSERT_THAT(id, IsOk());
  EXPECT_EQ(*id, t->id);
}

TEST(TokenTest, TokensAreDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<NewToken> t = GenerateToken();
    ASSERT_THAT(t, IsOk());
    EXPECT_TRUE(seen.insert(t->token).second);
  }
}

TEST(TokenTest, MalformedTokensAreRefusedWithoutQuotingThem) {
  const std::string good = GenerateToken()->token;
  for (const std::string& bad :
       {std::string(""), std::string("rdb_"), good.substr(1), good + "x", "xyz" + good.substr(3),
        std::string(good).replace(4, 1, "G"), std::string(good).replace(20, 1, "-"),
        std::string(good).replace(30, 1, "+")}) {
    absl::Status status = ParseTokenId(bad).status();
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
    if (bad.size() > 8) {
      EXPECT_THAT(std::string(status.message()), Not(HasSubstr(bad)));
    }
  }
}

TEST(TokenTest, HashIsSha256OfTheWholeToken) {
  // sha256("abc")
  EXPECT_EQ(HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(TokenTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

}  // namespace
}  // namespace recondb::auth
