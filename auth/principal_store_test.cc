#include "auth/principal_store.h"

#include <sys/stat.h>

#include <fstream>

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

void WriteText(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

constexpr char kFile[] = R"({"principals": [{"name": "hub", "grants": [
  {"table_pattern": "*", "permissions": ["PERMISSION_PULL", "PERMISSION_PUSH"]}],
  "certificate_names": ["hub.example.org"],
  "tokens": [{"id": "0123456789abcdef",
              "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}]}]})";

TEST(PrincipalStoreTest, WritesAtomicallyWithMode0600AndReadsBack) {
  TempDir dir;
  const std::string path = dir.File("auth.json");
  absl::StatusOr<std::unique_ptr<PrincipalStore>> store = PrincipalStore::Open(path, "");
  ASSERT_THAT(store, IsOk());
  ASSERT_THAT((*store)->Mutate([](internal::AuthStore& s) {
    s.add_principals()->set_name("alice");
    return absl::OkStatus();
  }),
              IsOk());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_NE(::stat((path + ".tmp").c_str(), &st), 0);

  absl::StatusOr<std::unique_ptr<PrincipalStore>> again = PrincipalStore::Open(path, "");
  ASSERT_THAT(again, IsOk());
  ASSERT_EQ((*again)->own().principals_size(), 1);
  EXPECT_EQ((*again)->own().principals(0).name(), "alice");
}

TEST(PrincipalStoreTest, FailedChangeChangesNothing) {
  TempDir dir;
  const std::string path = dir.File("auth.json");
  auto store = *PrincipalStore::Open(path, "");
  EXPECT_THAT(store->Mutate([](internal::AuthStore& s) {
    s.add_principals()->set_name("Bad Name");
    return absl::OkStatus();
  }),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Bad Name")));
  EXPECT_EQ(store->own().principals_size(), 0);
  struct stat st;
  EXPECT_NE(::stat(path.c_str(), &st), 0);
}

TEST(PrincipalStoreTest, UnwritableStoreIsUnavailableAndChangesNothing) {
  auto store = *PrincipalStore::Open("/nonexistent-dir/auth.json", "");
  EXPECT_THAT(store->Mutate([](internal::AuthStore& s) {
    s.add_principals()->set_name("alice");
    return absl::OkStatus();
  }),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("/nonexistent-dir/auth.json")));
  EXPECT_EQ(store->own().principals_size(), 0);
}

TEST(PrincipalStoreTest, LoadsAnAuthFile) {
  TempDir dir;
  WriteText(dir.File("principals.json"), kFile);
  auto store = PrincipalStore::Open("", dir.File("principals.json"));
  ASSERT_THAT(store, IsOk());
  ASSERT_EQ((*store)->file().principals_size(), 1);
  EXPECT_EQ((*store)->file().principals(0).certificate_names(0), "hub.example.org");
}

TEST(PrincipalStoreTest, BadFilesAreRefusedNamingTheProblem) {
  TempDir dir;
  const std::string file = dir.File("principals.json");
  EXPECT_THAT(PrincipalStore::Open("", file),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("--auth_file")));
  WriteText(file, "{\"principals\": [{\"name\": \"x\", \"colour\": 1}]}");
  EXPECT_THAT(PrincipalStore::Open("", file),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(file)));
  WriteText(
      file,
      R"({"principals": [{"name": "x", "tokens": [{"id": "0123456789abcdef", "sha256": "short"}]}]})");
  EXPECT_THAT(PrincipalStore::Open("", file),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tokens.sha256")));
  WriteText(file, R"({"principals": [{"name": "x"}, {"name": "x"}]})");
  EXPECT_THAT(PrincipalStore::Open("", file),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("defined twice")));
  WriteText(file, R"({"principals": [{"name": "x", "grants": [{"table_pattern": "a*b"}]}]})");
  EXPECT_THAT(PrincipalStore::Open("", file),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("table_pattern")));
}

TEST(PrincipalStoreTest, ANameInBothStoresIsRefused) {
  TempDir dir;
  WriteText(dir.File("principals.json"), kFile);
  auto store = *PrincipalStore::Open(dir.File("auth.json"), dir.File("principals.json"));
  EXPECT_THAT(store->Mutate([](internal::AuthStore& s) {
    s.add_principals()->set_name("hub");
    return absl::OkStatus();
  }),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("hub")));
}

}  // namespace
}  // namespace recondb::auth
