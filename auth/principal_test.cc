#include "auth/principal.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace recondb::auth {
namespace {

using ::recondb::testing::IsOk;
using ::recondb::testing::StatusIs;
using ::testing::HasSubstr;

TEST(PrincipalTest, Names) {
  for (const std::string& ok : {std::string("admin"), std::string("a"), std::string("0"),
                                std::string("laptop-7.district_3"), std::string(63, 'a')}) {
    EXPECT_THAT(ValidatePrincipalName(ok, "name"), IsOk()) << ok;
  }
  for (const std::string& bad :
       {std::string(""), std::string("Admin"), std::string("-a"), std::string(".a"),
        std::string("a b"), std::string("a/b"), std::string(64, 'a')}) {
    EXPECT_THAT(ValidatePrincipalName(bad, "name"),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name")))
        << bad;
  }
}

TEST(PrincipalTest, Patterns) {
  for (const char* ok : {"*", "todos", "case_*", "c*"}) {
    EXPECT_THAT(ValidateTablePattern(ok, "table_pattern"), IsOk()) << ok;
  }
  for (const char* bad : {"", "**", "*x", "Todos", "to*dos", "_x", "1x", "a-b"}) {
    EXPECT_THAT(ValidateTablePattern(bad, "table_pattern"),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("table_pattern")))
        << bad;
  }
  EXPECT_TRUE(PatternMatches("*", "todos"));
  EXPECT_TRUE(PatternMatches("todos", "todos"));
  EXPECT_FALSE(PatternMatches("todos", "todos2"));
  EXPECT_TRUE(PatternMatches("case_*", "case_notes"));
  EXPECT_TRUE(PatternMatches("case_*", "case_"));
  EXPECT_FALSE(PatternMatches("case_*", "cases"));
}

TEST(PrincipalTest, AllowsFollowsGrantsAndAdmin) {
  Principal p;
  p.name = "reader";
  p.grants.push_back(Grant{"todos", static_cast<uint8_t>(Permission::kRead)});
  p.grants.push_back(Grant{
      "case_*", static_cast<uint8_t>(Permission::kPull) | static_cast<uint8_t>(Permission::kPush)});
  EXPECT_TRUE(p.Allows(Permission::kRead, "todos"));
  EXPECT_FALSE(p.Allows(Permission::kWrite, "todos"));
  EXPECT_FALSE(p.Allows(Permission::kRead, "case_a"));
  EXPECT_TRUE(p.Allows(Permission::kPush, "case_a"));
  EXPECT_TRUE(p.AllowsAny("case_a"));
  EXPECT_FALSE(p.AllowsAny("cases"));
  p.admin = true;
  EXPECT_TRUE(p.Allows(Permission::kWrite, "anything"));
  EXPECT_TRUE(p.AllowsAny("anything"));
}

TEST(PrincipalTest, PermissionProtoRoundTrip) {
  for (Permission p :
       {Permission::kRead, Permission::kWrite, Permission::kPull, Permission::kPush}) {
    absl::StatusOr<Permission> back = FromProto(ToProto(p), "permissions");
    ASSERT_THAT(back, IsOk());
    EXPECT_EQ(*back, p);
  }
  EXPECT_THAT(FromProto(v1::PERMISSION_UNSPECIFIED, "permissions"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("permissions")));
}

}  // namespace
}  // namespace recondb::auth
