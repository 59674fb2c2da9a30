#include "daemon/replication_access.h"

#include <memory>
#include <string>
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

class ReplicationAccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auth::AuthorizerOptions options;
    options.enabled = true;  // Memory store: no store_path.
    auto a = auth::Authorizer::Open(options);
    ASSERT_THAT(a, IsOk());
    authorizer_ = *std::move(a);
  }

  // Creates `name` with `permissions` on `pattern` (none: no grant) and
  // returns its principal.
  std::shared_ptr<const auth::Principal> Make(const std::string& name,
                                              std::vector<v1::Permission> permissions,
                                              const std::string& pattern = "todos") {
    v1::CreatePrincipalRequest create;
    create.set_name(name);
    EXPECT_THAT(authorizer_->CreatePrincipal(create), IsOk());
    if (!permissions.empty()) {
      v1::GrantRequest grant;
      grant.set_principal(name);
      grant.set_table_pattern(pattern);
      for (v1::Permission p : permissions) grant.add_permissions(p);
      EXPECT_THAT(authorizer_->Grant(grant), IsOk());
    }
    auto token = authorizer_->IssueToken(name);
    EXPECT_THAT(token, IsOk());
    auth::Credentials c;
    c.authorization = "Bearer " + token->token();
    auto principal = authorizer_->Authenticate(c);
    EXPECT_THAT(principal, IsOk());
    return *principal;
  }

  std::unique_ptr<auth::Authorizer> authorizer_;
};

TEST_F(ReplicationAccessTest, PullAndPushFollowTheGrants) {
  auto laptop = Make("laptop", {v1::PERMISSION_PULL});
  reconciler::PeerAccess access = PeerAccessFor(authorizer_.get(), laptop);
  EXPECT_EQ(access.principal, "laptop");
  EXPECT_TRUE(access.MayPull("todos"));
  EXPECT_FALSE(access.MayPull("cases"));
  EXPECT_FALSE(access.MayPush("todos"));
}

TEST_F(ReplicationAccessTest, ANodeIdBelongsToTheFirstPrincipalThatPresentsIt) {
  auto laptop = PeerAccessFor(authorizer_.get(), Make("laptop", {v1::PERMISSION_PUSH}));
  auto mallory = PeerAccessFor(authorizer_.get(), Make("mallory", {v1::PERMISSION_PUSH}));
  EXPECT_THAT(laptop.ClaimNodeId("node-1"), IsOk());
  EXPECT_THAT(laptop.ClaimNodeId("node-1"), IsOk());
  EXPECT_THAT(mallory.ClaimNodeId("node-1"), StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(ReplicationAccessTest, APrincipalWithoutPullOrPushMayNotReplicate) {
  auto reader = Make("reader", {v1::PERMISSION_READ, v1::PERMISSION_WRITE});
  EXPECT_THAT(CheckMayReplicate(*reader),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       AllOf(HasSubstr("principal \"reader\""), HasSubstr("Replicate"))));
  EXPECT_THAT(CheckMayReplicate(*Make("puller", {v1::PERMISSION_PULL}, "to*")), IsOk());
}

TEST_F(ReplicationAccessTest, ADialedPeerWithoutACertificateOfAPrincipalGetsNothing) {
  EXPECT_THAT(DialedPeerAccess(authorizer_.get(), nullptr),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("maps to no principal")));
}

TEST(ReplicationAccessOffTest, WithAuthOffEverythingIsAllowed) {
  auto off = auth::Authorizer::Open(auth::AuthorizerOptions{});
  ASSERT_THAT(off, IsOk());
  auto dialed = DialedPeerAccess(off->get(), nullptr);
  ASSERT_THAT(dialed, IsOk());
  EXPECT_TRUE(dialed->Unrestricted());
  EXPECT_FALSE(dialed->claim_node_id);
  auto anonymous = PeerAccessFor(off->get(), auth::Authorizer::Anonymous());
  EXPECT_TRUE(anonymous.Unrestricted());
  EXPECT_EQ(anonymous.principal, "anonymous");
}

TEST(StreamLimitKeyTest, AnonymousCallersAreCountedByHost) {
  EXPECT_EQ(StreamLimitKey("anonymous", false, "ipv4:10.0.0.5:41234"), "anonymous@ipv4:10.0.0.5");
  EXPECT_EQ(StreamLimitKey("anonymous", false, "ipv6:[::1]:41234"), "anonymous@ipv6:[::1]");
  EXPECT_EQ(StreamLimitKey("anonymous", false, "unix:/tmp/s"), "anonymous@unix:/tmp/s");
  EXPECT_EQ(StreamLimitKey("laptop", true, "ipv4:10.0.0.5:41234"), "laptop");
}

}  // namespace
}  // namespace recondb::daemon
