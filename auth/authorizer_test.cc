#include "auth/authorizer.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "auth/token.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace recondb::auth {
namespace {

using ::recondb::testing::IsOk;
using ::recondb::testing::StatusIs;
using ::recondb::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Credentials Bearer(const std::string& token) {
  Credentials c;
  c.authorization = "Bearer " + token;
  return c;
}

class AuthorizerTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    AuthorizerOptions options;
    options.enabled = true;
    options.store_path = dir_.File("auth.json");
    options.auth_file = auth_file_;
    absl::StatusOr<std::unique_ptr<Authorizer>> a = Authorizer::Open(options);
    ASSERT_THAT(a, IsOk());
    authorizer_ = *std::move(a);
  }

  // Creates `name` with `permissions` on `pattern`, and returns a token.
  std::string Make(const std::string& name, std::vector<v1::Permission> permissions,
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
    absl::StatusOr<v1::IssueTokenResponse> token = authorizer_->IssueToken(name);
    EXPECT_THAT(token, IsOk());
    return token->token();
  }

  TempDir dir_;
  std::string auth_file_;
  std::unique_ptr<Authorizer> authorizer_;
};

TEST_F(AuthorizerTest, OffMeansAnonymousMayDoEverything) {
  absl::StatusOr<std::unique_ptr<Authorizer>> off = Authorizer::Open(AuthorizerOptions{});
  ASSERT_THAT(off, IsOk());
  auto p = (*off)->Authenticate(Credentials{});
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ((*p)->name, "anonymous");
  EXPECT_THAT((*off)->Check(**p, Permission::kWrite, "x"), IsOk());
  EXPECT_THAT((*off)->CheckAdmin(**p), IsOk());
  EXPECT_THAT((*off)->ClaimNodeId(**p, "n1"), IsOk());
  EXPECT_THAT((*off)->ListPrincipals(), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(AuthorizerTest, TokenAuthenticatesItsPrincipal) {
  const std::string token = Make("reader", {v1::PERMISSION_READ});
  auto p = authorizer_->Authenticate(Bearer(token));
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ((*p)->name, "reader");
  EXPECT_THAT(authorizer_->Check(**p, Permission::kRead, "todos"), IsOk());
  EXPECT_THAT(
      authorizer_->Check(**p, Permission::kWrite, "todos"),
      StatusIs(absl::StatusCode::kPermissionDenied, "principal reader may not write table todos"));
  EXPECT_THAT(authorizer_->CheckAny(**p, "cases"),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("cases")));
  EXPECT_THAT(authorizer_->CheckAdmin(**p),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("principal reader")));
  // The scheme is case-insensitive.
  Credentials lower;
  lower.authorization = "bearer " + token;
  EXPECT_THAT(authorizer_->Authenticate(lower), IsOk());
}

TEST_F(AuthorizerTest, BadCredentialsAreUnauthenticatedAndNeverEchoed) {
  const std::string token = Make("reader", {v1::PERMISSION_READ});
  std::string wrong = token;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  std::string unknown_id = token;
  unknown_id[4] = unknown_id[4] == '0' ? '1' : '0';
  Credentials basic;
  basic.authorization = "Basic " + token;
  for (const Credentials& c : {Credentials{}, Bearer(""), Bearer("rdb_nonsense"), Bearer(wrong),
                               Bearer(unknown_id), basic, Bearer(token + "x")}) {
    absl::Status status = authorizer_->Authenticate(c).status();
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnauthenticated));
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr(token.substr(20))));
  }
  EXPECT_THAT(authorizer_->Authenticate(Credentials{}),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("missing credentials")));
}

TEST_F(AuthorizerTest, RevokedTokenAndDeletedPrincipalAreRefusedNextCall) {
  const std::string token = Make("writer", {v1::PERMISSION_WRITE});
  const std::string second = authorizer_->IssueToken("writer")->token();
  ASSERT_THAT(authorizer_->Authenticate(Bearer(token)), IsOk());
  ASSERT_THAT(authorizer_->RevokeToken("writer", *ParseTokenId(token)), IsOk());
  EXPECT_THAT(authorizer_->Authenticate(Bearer(token)),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(authorizer_->Authenticate(Bearer(second)), IsOk());
  EXPECT_THAT(authorizer_->RevokeToken("writer", *ParseTokenId(token)),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_THAT(authorizer_->DeletePrincipal("writer"), IsOk());
  EXPECT_THAT(authorizer_->Authenticate(Bearer(second)),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(authorizer_->DeletePrincipal("writer"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(AuthorizerTest, PrincipalsGrantsAndTokensSurviveReopen) {
  const std::string token = Make("reader", {v1::PERMISSION_READ}, "case_*");
  Reopen();
  auto p = authorizer_->Authenticate(Bearer(token));
  ASSERT_THAT(p, IsOk());
  EXPECT_TRUE(authorizer_->Allows(**p, Permission::kRead, "case_notes"));
  EXPECT_FALSE(authorizer_->Allows(**p, Permission::kRead, "todos"));
  // The store holds the hash only.
  const std::string json = ReadText(dir_.File("auth.json"));
  EXPECT_THAT(json, Not(HasSubstr(token)));
  EXPECT_THAT(json, HasSubstr(HashToken(token)));
}

TEST_F(AuthorizerTest, ListingShowsTokenIdsNeverHashes) {
  const std::string token = Make("reader", {v1::PERMISSION_READ});
  auto list = authorizer_->ListPrincipals();
  ASSERT_THAT(list, IsOk());
  ASSERT_EQ(list->size(), 1u);
  const v1::PrincipalInfo& info = (*list)[0];
  EXPECT_EQ(info.name(), "reader");
  ASSERT_EQ(info.tokens_size(), 1);
  EXPECT_EQ(info.tokens(0).id(), *ParseTokenId(token));
  EXPECT_TRUE(info.tokens(0).has_create_time());
  EXPECT_THAT(info.DebugString(), Not(HasSubstr(HashToken(token))));
}

TEST_F(AuthorizerTest, GrantAndRevokeMergeByPattern) {
  Make("p", {v1::PERMISSION_READ});
  v1::GrantRequest grant;
  grant.set_principal("p");
  grant.set_table_pattern("todos");
  grant.add_permissions(v1::PERMISSION_WRITE);
  auto info = authorizer_->Grant(grant);
  ASSERT_THAT(info, IsOk());
  ASSERT_EQ(info->grants_size(), 1);
  EXPECT_EQ(info->grants(0).permissions_size(), 2);
  v1::RevokeRequest revoke;
  revoke.set_principal("p");
  revoke.set_table_pattern("todos");
  revoke.add_permissions(v1::PERMISSION_READ);
  revoke.add_permissions(v1::PERMISSION_WRITE);
  info = authorizer_->Revoke(revoke);
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(info->grants_size(), 0);
  EXPECT_THAT(authorizer_->Revoke(revoke), StatusIs(absl::StatusCode::kNotFound));
  grant.set_table_pattern("a*b");
  EXPECT_THAT(authorizer_->Grant(grant),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("table_pattern")));
  grant.set_table_pattern("todos");
  grant.set_principal("Nope");
  EXPECT_THAT(authorizer_->Grant(grant),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("principal")));
  grant.set_principal("ghost");
  EXPECT_THAT(authorizer_->Grant(grant), StatusIs(absl::StatusCode::kNotFound, HasSubstr("ghost")));
}

TEST_F(AuthorizerTest, CreateRefusesDuplicates) {
  Make("p", {});
  v1::CreatePrincipalRequest create;
  create.set_name("p");
  EXPECT_THAT(authorizer_->CreatePrincipal(create), StatusIs(absl::StatusCode::kAlreadyExists));
  create.set_name("q");
  create.add_certificate_names("node-a");
  ASSERT_THAT(authorizer_->CreatePrincipal(create), IsOk());
  create.set_name("r");
  EXPECT_THAT(authorizer_->CreatePrincipal(create),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("node-a")));
}

TEST_F(AuthorizerTest, CertificateNamesMapToPrincipals) {
  v1::CreatePrincipalRequest create;
  create.set_name("node-b");
  create.add_certificate_names("node-b.example.org");
  ASSERT_THAT(authorizer_->CreatePrincipal(create), IsOk());
  Credentials c;
  c.certificate_names = {"other", "node-b.example.org"};
  auto p = authorizer_->Authenticate(c);
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ((*p)->name, "node-b");
  EXPECT_THAT(authorizer_->PrincipalForCertificateNames({"x"}),
              StatusIs(absl::StatusCode::kNotFound));
  c.certificate_names = {"stranger"};
  EXPECT_THAT(authorizer_->Authenticate(c),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("stranger")));
  v1::SetCertificateNamesRequest set;
  set.set_principal("node-b");
  set.add_certificate_names("stranger");
  ASSERT_THAT(authorizer_->SetCertificateNames(set), IsOk());
  EXPECT_THAT(authorizer_->Authenticate(c), IsOk());
}

TEST_F(AuthorizerTest, NodeIdsAreBoundToTheirFirstPrincipal) {
  const std::string a = Make("node-a", {v1::PERMISSION_PULL});
  const std::string b = Make("node-b", {v1::PERMISSION_PULL});
  auto pa = *authorizer_->Authenticate(Bearer(a));
  auto pb = *authorizer_->Authenticate(Bearer(b));
  EXPECT_THAT(authorizer_->ClaimNodeId(*pa, "id-a"), IsOk());
  EXPECT_THAT(authorizer_->ClaimNodeId(*pa, "id-a"), IsOk());
  EXPECT_THAT(authorizer_->ClaimNodeId(*pb, "id-a"),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("id-a")));
  EXPECT_THAT(authorizer_->ClaimNodeId(*pb, "id-b"), IsOk());
  Reopen();
  pb = *authorizer_->Authenticate(Bearer(b));
  EXPECT_THAT(pb->node_ids, ::testing::ElementsAre("id-b"));
  EXPECT_THAT(authorizer_->ClaimNodeId(*pb, "id-a"), StatusIs(absl::StatusCode::kPermissionDenied));
  // A deleted principal's ids are free again.
  ASSERT_THAT(authorizer_->DeletePrincipal("node-a"), IsOk());
  EXPECT_THAT(authorizer_->ClaimNodeId(*pb, "id-a"), IsOk());
  EXPECT_THAT(authorizer_->ClaimNodeId(*pa, "id-c"),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("no longer exists")));
}

TEST_F(AuthorizerTest, BootstrapWritesAFreshTokenFileOnce) {
  const std::string file = dir_.File("admin.token");
  auto result = authorizer_->BootstrapAdmin(file);
  ASSERT_THAT(result, IsOk());
  EXPECT_TRUE(result->created_admin);
  EXPECT_TRUE(result->wrote_token_file);
  struct stat st;
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  std::string token = ReadText(file);
  token.pop_back();  // the newline
  auto p = authorizer_->Authenticate(Bearer(token));
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ((*p)->name, "admin");
  EXPECT_TRUE((*p)->admin);
  Reopen();
  result = authorizer_->BootstrapAdmin(file);
  ASSERT_THAT(result, IsOk());
  EXPECT_FALSE(result->created_admin);
  EXPECT_THAT(authorizer_->Authenticate(Bearer(token)), IsOk());
}

TEST_F(AuthorizerTest, TheLastAdminCannotBeRemoved) {
  ASSERT_THAT(authorizer_->BootstrapAdmin(dir_.File("admin.token")), IsOk());
  v1::RevokeRequest revoke;
  revoke.set_principal("admin");
  revoke.set_admin(true);
  EXPECT_THAT(authorizer_->Revoke(revoke),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("last")));
  EXPECT_THAT(authorizer_->DeletePrincipal("admin"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("admin role")));
  v1::CreatePrincipalRequest create;
  create.set_name("ops");
  create.set_admin(true);
  ASSERT_THAT(authorizer_->CreatePrincipal(create), IsOk());
  EXPECT_THAT(authorizer_->Revoke(revoke), IsOk());
  EXPECT_THAT(authorizer_->DeletePrincipal("admin"), IsOk());
  EXPECT_THAT(authorizer_->DeletePrincipal("ops"), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(AuthorizerTest, BootstrapUsesAnExistingTokenFile) {
  const std::string file = dir_.File("mounted.token");
  const NewToken token = *GenerateToken();
  std::ofstream(file) << "  " << token.token << "\n\n";
  auto result = authorizer_->BootstrapAdmin(file);
  ASSERT_THAT(result, IsOk());
  EXPECT_TRUE(result->created_admin);
  EXPECT_FALSE(result->wrote_token_file);
  EXPECT_THAT(authorizer_->Authenticate(Bearer(token.token)), IsOk());
}

TEST_F(AuthorizerTest, BootstrapRefusesAMalformedTokenFile) {
  const std::string file = dir_.File("bad.token");
  std::ofstream(file) << "rdb_secret_but_wrong\n";
  EXPECT_THAT(authorizer_->BootstrapAdmin(file),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       ::testing::AllOf(HasSubstr(file), Not(HasSubstr("secret_but")))));
  EXPECT_THAT(authorizer_->ListPrincipals()->size(), 0u);
}

TEST_F(AuthorizerTest, AuthFilePrincipalsAreReadOnly) {
  const NewToken token = *GenerateToken();
  auth_file_ = dir_.File("principals.json");
  std::ofstream(auth_file_)
      << R"({"principals": [{"name": "hub", "admin": true, "tokens": [{"id": ")" << token.id
      << R"(", "sha256": ")" << token.sha256 << R"("}]}]})";
  Reopen();
  auto p = authorizer_->Authenticate(Bearer(token.token));
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ((*p)->name, "hub");
  EXPECT_EQ((*p)->source_file, auth_file_);
  EXPECT_THAT(authorizer_->IssueToken("hub"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       ::testing::AllOf(HasSubstr("hub"), HasSubstr(auth_file_))));
  EXPECT_THAT(authorizer_->DeletePrincipal("hub"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(auth_file_)));
  // An admin from the file means no bootstrap.
  auto result = authorizer_->BootstrapAdmin(dir_.File("admin.token"));
  ASSERT_THAT(result, IsOk());
  EXPECT_FALSE(result->created_admin);
  // Node ids of file principals are bound in the node's own store.
  EXPECT_THAT(authorizer_->ClaimNodeId(**p, "hub-id"), IsOk());
  EXPECT_EQ(authorizer_->Describe(**authorizer_->Authenticate(Bearer(token.token))).node_ids(0),
            "hub-id");
}

TEST_F(AuthorizerTest, MemoryStoreKeepsNothingOnDisk) {
  AuthorizerOptions options;
  options.enabled = true;
  auto memory = *Authorizer::Open(options);
  v1::CreatePrincipalRequest create;
  create.set_name("p");
  EXPECT_THAT(memory->CreatePrincipal(create), IsOk());
  EXPECT_EQ(memory->ListPrincipals()->size(), 1u);
}

}  // namespace
}  // namespace recondb::auth
