// Authentication and grants through the real daemon (issue 13, points 3 and
// 4): for each role and each Database, GetChanges and Admin RPC, the expected
// code; missing, malformed, revoked and wrong tokens; a deleted principal;
// messages that never echo a token; the bootstrap token file; auth.json
// across a restart.
#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "auth/token.h"
#include "engine/revision.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "recondb/v1/admin.grpc.pb.h"
#include "recondb/v1/database.grpc.pb.h"
#include "tests/support/auth_calls.h"
#include "tests/support/daemon_process.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/values.h"

namespace recondb {
namespace {

using ::recondb::testing::DaemonOptions;
using ::recondb::testing::DaemonProcess;
using ::recondb::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) { return testing::CallAs(token); }

v1::Table Notes(const std::string& name) { return testing::TitleTable(name); }

v1::Record Note(const std::string& table, const std::string& id, const std::string& title) {
  return testing::TitleRecord(table, id, title);
}

// A first revision of `table`/`id` with a valid id, for ImportRevisions.
v1::HistoryEntry ForeignRevision(const std::string& table, const std::string& id) {
  v1::HistoryEntry entry;
  *entry.mutable_record() = Note(table, id, "pushed");
  storage::Attributes attributes(entry.record().attributes().begin(),
                                 entry.record().attributes().end());
  engine::RevisionContent content;
  content.table = table;
  content.id = id;
  content.attributes = &attributes;
  entry.mutable_record()->set_revision(engine::ComputeRevision(1, content));
  return entry;
}

// The daemon with --auth=on, its bootstrap admin, and one principal per
// role, each with a token.
class AuthDaemon {
 public:
  static std::unique_ptr<AuthDaemon> Start(const std::filesystem::path& data,
                                           std::vector<std::string> extra = {}) {
    auto d = std::unique_ptr<AuthDaemon>(new AuthDaemon);
    DaemonOptions options;
    options.data_dir = data;
    options.extra_flags = {"--auth=on"};
    options.extra_flags.insert(options.extra_flags.end(), extra.begin(), extra.end());
    auto daemon = DaemonProcess::Start(options);
    EXPECT_THAT(daemon, testing::IsOk());
    if (!daemon.ok()) return nullptr;
    d->process = *std::move(daemon);
    d->db = d->process->NewDatabaseStub();
    d->admin = v1::Admin::NewStub(d->process->NewChannel());
    return d;
  }

  // Creates `name` with `permissions` on `pattern` and returns its token.
  std::string MakePrincipal(const std::string& name, std::vector<v1::Permission> permissions,
                            const std::string& pattern = "todos") {
    return testing::MakePrincipal(*admin, admin_token, name, permissions, pattern);
  }

  std::unique_ptr<DaemonProcess> process;
  std::unique_ptr<v1::Database::Stub> db;
  std::unique_ptr<v1::Admin::Stub> admin;
  std::string admin_token;
};

// One RPC made by a role: its status.
using Rpc = std::function<grpc::Status(const std::string& token, const std::string& role)>;

class AuthMatrixTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new TempDir;
    d_ = AuthDaemon::Start(data_->path()).release();
    ASSERT_NE(d_, nullptr);
    d_->admin_token = testing::ReadTokenFile(data_->path() / "admin.token");
    ASSERT_TRUE(auth::ParseTokenId(d_->admin_token).ok());
    v1::CreateTableRequest create;
    v1::Table table;
    for (const char* name : {"todos", "cases"}) {
      *create.mutable_table() = Notes(name);
      ASSERT_TRUE(d_->db->CreateTable(Ctx(d_->admin_token).get(), create, &table).ok());
      v1::PutRecordRequest put;
      *put.mutable_record() = Note(name, "r1", "first");
      v1::Record record;
      ASSERT_TRUE(d_->db->PutRecord(Ctx(d_->admin_token).get(), put, &record).ok());
    }
    tokens_ = new std::map<std::string, std::string>{
        {"admin", d_->admin_token},
        {"reader", d_->MakePrincipal("reader", {v1::PERMISSION_READ})},
        {"writer", d_->MakePrincipal("writer", {v1::PERMISSION_READ, v1::PERMISSION_WRITE})},
        {"replicator", d_->MakePrincipal("replicator", {v1::PERMISSION_PULL, v1::PERMISSION_PUSH})},
        {"nogrant", d_->MakePrincipal("nogrant", {})},
    };
  }

  static void TearDownTestSuite() {
    delete d_;
    delete tokens_;
    delete data_;
  }

  // Expects `rpc` to answer `expected` for each role named, and (for
  // PERMISSION_DENIED) a message naming the principal.
  static void ExpectCodes(const std::string& what, const Rpc& rpc,
                          const std::map<std::string, grpc::StatusCode>& expected) {
    for (const auto& [role, code] : expected) {
      const std::string& token = tokens_->at(role);
      const grpc::Status status = rpc(token, role);
      EXPECT_EQ(status.error_code(), code)
          << what << " as " << role << ": " << status.error_message();
      if (code == grpc::StatusCode::PERMISSION_DENIED) {
        EXPECT_THAT(status.error_message(), HasSubstr("principal " + role)) << what;
      }
      EXPECT_THAT(status.error_message(), Not(HasSubstr(token.substr(21)))) << what;
    }
  }

  static inline TempDir* data_ = nullptr;
  static inline AuthDaemon* d_ = nullptr;
  static inline std::map<std::string, std::string>* tokens_ = nullptr;
};

constexpr grpc::StatusCode kOk = grpc::StatusCode::OK;
constexpr grpc::StatusCode kDenied = grpc::StatusCode::PERMISSION_DENIED;
constexpr grpc::StatusCode kNotFound = grpc::StatusCode::NOT_FOUND;

TEST_F(AuthMatrixTest, SchemaChangesNeedAdmin) {
  ExpectCodes("CreateTable",
              [](const std::string& token, const std::string& role) {
                v1::CreateTableRequest request;
                *request.mutable_table() = Notes("made_by_" + role);
                v1::Table out;
                return d_->db->CreateTable(Ctx(token).get(), request, &out);
              },
              {{"admin", kOk},
               {"reader", kDenied},
               {"writer", kDenied},
               {"replicator", kDenied},
               {"nogrant", kDenied}});
  ExpectCodes("AddColumns",
              [](const std::string& token, const std::string& role) {
                v1::AddColumnsRequest request;
                request.set_table("todos");
                v1::Column* c = request.add_columns();
                c->set_name("extra_" + role);
                c->set_type(v1::COLUMN_TYPE_STRING);
                c->set_nullable(true);
                v1::Table out;
                return d_->db->AddColumns(Ctx(token).get(), request, &out);
              },
              {{"admin", kOk},
               {"reader", kDenied},
               {"writer", kDenied},
               {"replicator", kDenied},
               {"nogrant", kDenied}});
}

TEST_F(AuthMatrixTest, TablesNeedAnyPermission) {
  ExpectCodes("GetTable",
              [](const std::string& token, const std::string&) {
                v1::GetTableRequest request;
                request.set_name("todos");
                v1::Table out;
                return d_->db->GetTable(Ctx(token).get(), request, &out);
              },
              {{"admin", kOk},
               {"reader", kOk},
               {"writer", kOk},
               {"replicator", kOk},
               {"nogrant", kDenied}});
  // A table that does not exist is denied too: its absence is not told.
  v1::GetTableRequest request;
  request.set_name("nosuch");
  v1::Table out;
  EXPECT_EQ(d_->db->GetTable(Ctx(tokens_->at("reader")).get(), request, &out).error_code(),
            kDenied);
  EXPECT_EQ(d_->db->GetTable(Ctx(tokens_->at("admin")).get(), request, &out).error_code(),
            kNotFound);
}

TEST_F(AuthMatrixTest, ListTablesShowsOnlyPermittedTables) {
  const std::map<std::string, std::vector<std::string>> expected = {{"admin", {"cases", "todos"}},
                                                                    {"reader", {"todos"}},
                                                                    {"writer", {"todos"}},
                                                                    {"replicator", {"todos"}},
                                                                    {"nogrant", {}}};
  for (const auto& [role, tables] : expected) {
    v1::ListTablesResponse response;
    ASSERT_TRUE(
        d_->db->ListTables(Ctx(tokens_->at(role)).get(), v1::ListTablesRequest(), &response).ok());
    std::vector<std::string> names;
    for (const v1::Table& t : response.tables()) {
      if (t.name() == "todos" || t.name() == "cases") names.push_back(t.name());
    }
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, tables) << role;
  }
}

TEST_F(AuthMatrixTest, RecordCallsFollowReadAndWrite) {
  const std::map<std::string, grpc::StatusCode> read = {{"admin", kOk},
                                                        {"reader", kOk},
                                                        {"writer", kOk},
                                                        {"replicator", kDenied},
                                                        {"nogrant", kDenied}};
  ExpectCodes(
      "GetRecord",
      [](const std::string& token, const std::string&) {
        v1::GetRecordRequest request;
        request.set_table("todos");
        request.set_id("r1");
        v1::Record out;
        return d_->db->GetRecord(Ctx(token).get(), request, &out);
      },
      read);
  ExpectCodes(
      "ListRecords",
      [](const std::string& token, const std::string&) {
        v1::ListRecordsRequest request;
        request.set_table("todos");
        v1::ListRecordsResponse out;
        return d_->db->ListRecords(Ctx(token).get(), request, &out);
      },
      read);
  ExpectCodes(
      "GetRecordHistory",
      [](const std::string& token, const std::string&) {
        v1::GetRecordHistoryRequest request;
        request.set_table("todos");
        request.set_id("r1");
        v1::GetRecordHistoryResponse out;
        return d_->db->GetRecordHistory(Ctx(token).get(), request, &out);
      },
      read);
  ExpectCodes("PutRecord",
              [](const std::string& token, const std::string& role) {
                v1::PutRecordRequest request;
                *request.mutable_record() = Note("todos", "by_" + role, "x");
                v1::Record out;
                return d_->db->PutRecord(Ctx(token).get(), request, &out);
              },
              {{"admin", kOk},
               {"reader", kDenied},
               {"writer", kOk},
               {"replicator", kDenied},
               {"nogrant", kDenied}});
  // Allowed callers reach the engine, which answers NOT_FOUND.
  ExpectCodes("DeleteRecord",
              [](const std::string& token, const std::string&) {
                v1::DeleteRecordRequest request;
                request.set_table("todos");
                request.set_id("nosuch");
                v1::Record out;
                return d_->db->DeleteRecord(Ctx(token).get(), request, &out);
              },
              {{"admin", kNotFound},
               {"reader", kDenied},
               {"writer", kNotFound},
               {"replicator", kDenied},
               {"nogrant", kDenied}});
  ExpectCodes("ResolveConflict",
              [](const std::string& token, const std::string&) {
                v1::ResolveConflictRequest request;
                *request.mutable_record() = Note("todos", "nosuch", "x");
                request.mutable_record()->set_revision("1-00000000000000000000000000000000");
                v1::Record out;
                return d_->db->ResolveConflict(Ctx(token).get(), request, &out);
              },
              {{"admin", kNotFound},
               {"reader", kDenied},
               {"writer", kNotFound},
               {"replicator", kDenied},
               {"nogrant", kDenied}});
  // Another table: nobody but the admin.
  ExpectCodes("GetRecord cases",
              [](const std::string& token, const std::string&) {
                v1::GetRecordRequest request;
                request.set_table("cases");
                request.set_id("r1");
                v1::Record out;
                return d_->db->GetRecord(Ctx(token).get(), request, &out);
              },
              {{"admin", kOk},
               {"reader", kDenied},
               {"writer", kDenied},
               {"replicator", kDenied},
               {"nogrant", kDenied}});
}

// The audit trail names the principal that made each revision: the writer's
// put and delete, then the admin's put, each under its own name.
TEST_F(AuthMatrixTest, EachRevisionRecordsThePrincipalThatMadeIt) {
  v1::Record record;
  v1::PutRecordRequest put;
  *put.mutable_record() = Note("todos", "audited", "by the writer");
  ASSERT_TRUE(d_->db->PutRecord(Ctx(tokens_->at("writer")).get(), put, &record).ok());
  v1::DeleteRecordRequest del;
  del.set_table("todos");
  del.set_id("audited");
  ASSERT_TRUE(d_->db->DeleteRecord(Ctx(tokens_->at("writer")).get(), del, &record).ok());
  *put.mutable_record() = Note("todos", "audited", "again, by the admin");
  ASSERT_TRUE(d_->db->PutRecord(Ctx(tokens_->at("admin")).get(), put, &record).ok());

  v1::GetRecordHistoryRequest request;
  request.set_table("todos");
  request.set_id("audited");
  v1::GetRecordHistoryResponse history;
  ASSERT_TRUE(d_->db->GetRecordHistory(Ctx(tokens_->at("reader")).get(), request, &history).ok());
  std::vector<std::string> authors;
  for (const v1::HistoryEntry& entry : history.entries()) authors.push_back(entry.author());
  // Newest first: the admin's recreation, the writer's tombstone and put.
  EXPECT_THAT(authors, ::testing::ElementsAre("admin", "writer", "writer"));
}

TEST_F(AuthMatrixTest, ImportRevisionsNeedsPushOnEveryTable) {
  ExpectCodes("ImportRevisions",
              [](const std::string& token, const std::string& role) {
                v1::ImportRevisionsRequest request;
                *request.add_revisions() = ForeignRevision("todos", "pushed_by_" + role);
                v1::ImportRevisionsResponse out;
                return d_->db->ImportRevisions(Ctx(token).get(), request, &out);
              },
              {{"admin", kOk},
               {"reader", kDenied},
               {"writer", kDenied},
               {"replicator", kOk},
               {"nogrant", kDenied}});
  // One refused table refuses the whole request: nothing of todos written.
  v1::ImportRevisionsRequest request;
  *request.add_revisions() = ForeignRevision("todos", "mixed");
  *request.add_revisions() = ForeignRevision("cases", "mixed");
  v1::ImportRevisionsResponse out;
  const grpc::Status status =
      d_->db->ImportRevisions(Ctx(tokens_->at("replicator")).get(), request, &out);
  EXPECT_EQ(status.error_code(), kDenied);
  EXPECT_EQ(status.error_message(), "principal replicator may not push table cases");
  v1::GetRecordRequest get;
  get.set_table("todos");
  get.set_id("mixed");
  v1::Record record;
  EXPECT_EQ(d_->db->GetRecord(Ctx(d_->admin_token).get(), get, &record).error_code(), kNotFound);
}

TEST_F(AuthMatrixTest, GetChangesNeedsReadOnEveryNamedTable) {
  ExpectCodes("GetChanges todos",
              [](const std::string& token, const std::string&) {
                v1::GetChangesRequest request;
                request.add_tables("todos");
                auto ctx = Ctx(token);
                auto reader = d_->db->GetChanges(ctx.get(), request);
                v1::Change change;
                while (reader->Read(&change)) {
                }
                return reader->Finish();
              },
              {{"admin", kOk},
               {"reader", kOk},
               {"writer", kOk},
               {"replicator", kDenied},
               {"nogrant", kDenied}});
  // The refusal names the table.
  v1::GetChangesRequest request;
  request.add_tables("todos");
  request.add_tables("cases");
  auto ctx = Ctx(tokens_->at("reader"));
  auto reader = d_->db->GetChanges(ctx.get(), request);
  v1::Change change;
  EXPECT_FALSE(reader->Read(&change));
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), kDenied);
  EXPECT_EQ(status.error_message(), "principal reader may not read table cases");
}

TEST_F(AuthMatrixTest, GetChangesOfAllTablesHoldsOnlyReadableOnes) {
  for (const auto& [role, expected] : std::map<std::string, std::set<std::string>>{
           {"admin", {"todos", "cases"}}, {"reader", {"todos"}}, {"nogrant", {}}}) {
    v1::GetChangesRequest request;
    auto ctx = Ctx(tokens_->at(role));
    auto reader = d_->db->GetChanges(ctx.get(), request);
    std::set<std::string> seen;
    v1::Change change;
    while (reader->Read(&change)) seen.insert(change.table());
    ASSERT_TRUE(reader->Finish().ok()) << role;
    for (const std::string& t : {std::string("todos"), std::string("cases")}) {
      EXPECT_EQ(seen.count(t), expected.count(t)) << role << " " << t;
    }
  }
}

// Follow mode: a table created while the stream is open is not leaked to a
// principal that may not read it.
TEST_F(AuthMatrixTest, FollowDoesNotLeakATableCreatedLater) {
  v1::GetChangesRequest request;
  request.set_follow(true);
  std::unique_ptr<grpc::ClientContext> ctx = Ctx(tokens_->at("reader"));
  auto reader = d_->db->GetChanges(ctx.get(), request);
  // Written after the stream opened: a new table and a record in it, then a
  // todos record the reader may see.
  v1::CreateTableRequest create;
  *create.mutable_table() = Notes("secret_later");
  v1::Table table;
  ASSERT_TRUE(d_->db->CreateTable(Ctx(d_->admin_token).get(), create, &table).ok());
  v1::PutRecordRequest put;
  *put.mutable_record() = Note("secret_later", "s1", "hidden");
  v1::Record record;
  ASSERT_TRUE(d_->db->PutRecord(Ctx(d_->admin_token).get(), put, &record).ok());
  *put.mutable_record() = Note("todos", "after_secret", "visible");
  ASSERT_TRUE(d_->db->PutRecord(Ctx(d_->admin_token).get(), put, &record).ok());
  v1::Change change;
  bool saw_marker = false;
  while (!saw_marker && reader->Read(&change)) {
    EXPECT_NE(change.table(), "secret_later");
    EXPECT_NE(change.table(), "cases");
    saw_marker = change.table() == "todos" && change.id() == "after_secret";
  }
  EXPECT_TRUE(saw_marker);
  ctx->TryCancel();
  reader->Finish();
}

TEST_F(AuthMatrixTest, AdminCallsNeedAdminButWhoAmI) {
  const std::map<std::string, grpc::StatusCode> admin_only = {{"admin", kOk},
                                                              {"reader", kDenied},
                                                              {"writer", kDenied},
                                                              {"replicator", kDenied},
                                                              {"nogrant", kDenied}};
  ExpectCodes(
      "GetStatus",
      [](const std::string& token, const std::string&) {
        v1::NodeStatus out;
        return d_->admin->GetStatus(Ctx(token).get(), v1::GetStatusRequest(), &out);
      },
      admin_only);
  ExpectCodes(
      "ListPeers",
      [](const std::string& token, const std::string&) {
        v1::ListPeersResponse out;
        return d_->admin->ListPeers(Ctx(token).get(), v1::ListPeersRequest(), &out);
      },
      admin_only);
  ExpectCodes(
      "ListPrincipals",
      [](const std::string& token, const std::string&) {
        v1::ListPrincipalsResponse out;
        return d_->admin->ListPrincipals(Ctx(token).get(), v1::ListPrincipalsRequest(), &out);
      },
      admin_only);
  ExpectCodes(
      "Backup",
      [](const std::string& token, const std::string&) {
        auto ctx = Ctx(token);
        auto reader = d_->admin->Backup(ctx.get(), v1::BackupRequest());
        v1::BackupChunk chunk;
        while (reader->Read(&chunk)) {
        }
        return reader->Finish();
      },
      admin_only);
  ExpectCodes("RemovePeer",
              [](const std::string& token, const std::string&) {
                v1::RemovePeerRequest request;
                request.set_address("nosuch.example:7470");
                v1::RemovePeerResponse out;
                return d_->admin->RemovePeer(Ctx(token).get(), request, &out);
              },
              {{"admin", kNotFound}, {"reader", kDenied}, {"nogrant", kDenied}});
  ExpectCodes(
      "AddPeer / Sync",
      [](const std::string& token, const std::string&) {
        v1::AddPeerRequest add;
        add.set_address("127.0.0.1:1");
        v1::Peer peer;
        const grpc::Status added = d_->admin->AddPeer(Ctx(token).get(), add, &peer);
        v1::SyncRequest sync;
        sync.set_address("127.0.0.1:1");
        v1::SyncResponse out;
        const grpc::Status synced = d_->admin->Sync(Ctx(token).get(), sync, &out);
        return added.ok() ? synced : added;
      },
      {{"reader", kDenied}, {"writer", kDenied}, {"replicator", kDenied}, {"nogrant", kDenied}});
  ExpectCodes(
      "CreatePrincipal / IssueToken / Grant",
      [](const std::string& token, const std::string& role) {
        v1::CreatePrincipalRequest create;
        create.set_name("made-by-" + role);
        v1::PrincipalInfo info;
        grpc::Status s = d_->admin->CreatePrincipal(Ctx(token).get(), create, &info);
        if (!s.ok()) return s;
        v1::IssueTokenRequest issue;
        issue.set_principal("made-by-" + role);
        v1::IssueTokenResponse issued;
        s = d_->admin->IssueToken(Ctx(token).get(), issue, &issued);
        if (!s.ok()) return s;
        v1::GrantRequest grant;
        grant.set_principal("made-by-" + role);
        grant.set_table_pattern("*");
        grant.add_permissions(v1::PERMISSION_READ);
        return d_->admin->Grant(Ctx(token).get(), grant, &info);
      },
      admin_only);
  // Every principal may ask who it is.
  for (const auto& [role, token] : *tokens_) {
    v1::PrincipalInfo info;
    ASSERT_TRUE(d_->admin->WhoAmI(Ctx(token).get(), v1::WhoAmIRequest(), &info).ok()) << role;
    EXPECT_EQ(info.name(), role);
  }
}

TEST_F(AuthMatrixTest, BadTokensAreUnauthenticatedAndNeverEchoed) {
  const std::string good = tokens_->at("reader");
  std::string wrong = good;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  std::string unknown = good;
  unknown[4] = unknown[4] == '0' ? '1' : '0';
  for (const std::string& bad : {std::string(""), std::string("rdb_short"), wrong, unknown,
                                 std::string("not a token at all")}) {
    v1::ListTablesResponse out;
    const grpc::Status status = d_->db->ListTables(Ctx(bad).get(), v1::ListTablesRequest(), &out);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << bad;
    if (bad.size() > 8) {
      EXPECT_THAT(status.error_message(), Not(HasSubstr(bad)));
    }
    EXPECT_THAT(status.error_message(), Not(HasSubstr(good.substr(21))));
    // The same on a stream and on the Admin service.
    v1::GetChangesRequest request;
    auto ctx = Ctx(bad);
    auto reader = d_->db->GetChanges(ctx.get(), request);
    v1::Change change;
    EXPECT_FALSE(reader->Read(&change));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
    v1::PrincipalInfo info;
    EXPECT_EQ(d_->admin->WhoAmI(Ctx(bad).get(), v1::WhoAmIRequest(), &info).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  // A scheme other than Bearer.
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Basic " + good);
  v1::ListTablesResponse out;
  EXPECT_EQ(d_->db->ListTables(&ctx, v1::ListTablesRequest(), &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthMatrixTest, RevokedTokenAndDeletedPrincipalAreRefusedOnTheNextCall) {
  const std::string first = d_->MakePrincipal("short-lived", {v1::PERMISSION_READ});
  v1::IssueTokenRequest issue;
  issue.set_principal("short-lived");
  v1::IssueTokenResponse second;
  ASSERT_TRUE(d_->admin->IssueToken(Ctx(d_->admin_token).get(), issue, &second).ok());
  v1::ListTablesResponse out;
  ASSERT_TRUE(d_->db->ListTables(Ctx(first).get(), v1::ListTablesRequest(), &out).ok());
  v1::RevokeTokenRequest revoke;
  revoke.set_principal("short-lived");
  revoke.set_token_id(*auth::ParseTokenId(first));
  v1::RevokeTokenResponse revoked;
  ASSERT_TRUE(d_->admin->RevokeToken(Ctx(d_->admin_token).get(), revoke, &revoked).ok());
  EXPECT_EQ(d_->db->ListTables(Ctx(first).get(), v1::ListTablesRequest(), &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(d_->db->ListTables(Ctx(second.token()).get(), v1::ListTablesRequest(), &out).ok());
  v1::DeletePrincipalRequest del;
  del.set_name("short-lived");
  v1::DeletePrincipalResponse deleted;
  ASSERT_TRUE(d_->admin->DeletePrincipal(Ctx(d_->admin_token).get(), del, &deleted).ok());
  EXPECT_EQ(
      d_->db->ListTables(Ctx(second.token()).get(), v1::ListTablesRequest(), &out).error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthMatrixTest, ListPrincipalsShowsNoSecrets) {
  v1::ListPrincipalsResponse out;
  ASSERT_TRUE(
      d_->admin->ListPrincipals(Ctx(d_->admin_token).get(), v1::ListPrincipalsRequest(), &out)
          .ok());
  const std::string text = out.DebugString();
  for (const auto& [role, token] : *tokens_) {
    EXPECT_THAT(text, Not(HasSubstr(token.substr(21)))) << role;
    EXPECT_THAT(text, Not(HasSubstr(auth::HashToken(token)))) << role;
    EXPECT_THAT(text, HasSubstr(*auth::ParseTokenId(token))) << role;
  }
}

TEST_F(AuthMatrixTest, BadNamesAreInvalidArgumentNamingTheField) {
  v1::CreatePrincipalRequest create;
  create.set_name("Not Valid");
  v1::PrincipalInfo info;
  grpc::Status status = d_->admin->CreatePrincipal(Ctx(d_->admin_token).get(), create, &info);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("name"));
  v1::GrantRequest grant;
  grant.set_principal("reader");
  grant.set_table_pattern("to*dos");
  grant.add_permissions(v1::PERMISSION_READ);
  status = d_->admin->Grant(Ctx(d_->admin_token).get(), grant, &info);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("table_pattern"));
}

// Health and reflection stay open: load balancers and grpc_cli probe them
// without credentials, and they tell nothing about the data.
TEST_F(AuthMatrixTest, HealthNeedsNoCredentials) { EXPECT_TRUE(d_->process->CheckHealth().ok()); }

TEST(AuthBootstrapTest, AMountedTokenFileBecomesTheAdminsToken) {
  TempDir data;
  const std::string file = data.File("mounted.token");
  const auth::NewToken token = *auth::GenerateToken();
  std::ofstream(file) << token.token << "\n";
  auto d = AuthDaemon::Start(data.path(), {"--admin_token_file=" + file});
  ASSERT_NE(d, nullptr);
  EXPECT_THAT(d->process->log(), HasSubstr(file));
  EXPECT_THAT(d->process->log(), Not(HasSubstr(token.token)));
  v1::PrincipalInfo info;
  ASSERT_TRUE(d->admin->WhoAmI(Ctx(token.token).get(), v1::WhoAmIRequest(), &info).ok());
  EXPECT_EQ(info.name(), "admin");
  EXPECT_TRUE(info.admin());
}

TEST(AuthBootstrapTest, AFreshTokenFileIsWrittenAndPrincipalsSurviveARestart) {
  TempDir data;
  std::string user;
  std::string admin_token;
  {
    auto d = AuthDaemon::Start(data.path());
    ASSERT_NE(d, nullptr);
    const auto token_file = data.path() / "admin.token";
    EXPECT_EQ(std::filesystem::status(token_file).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    d->admin_token = admin_token = testing::ReadTokenFile(token_file);
    EXPECT_THAT(d->process->log(), HasSubstr(token_file.string()));
    EXPECT_THAT(d->process->log(), Not(HasSubstr(admin_token)));
    user = d->MakePrincipal("alice", {v1::PERMISSION_READ}, "*");
    ASSERT_TRUE(d->process->Stop().ok());
  }
  auto d = AuthDaemon::Start(data.path());
  ASSERT_NE(d, nullptr);
  v1::PrincipalInfo info;
  ASSERT_TRUE(d->admin->WhoAmI(Ctx(user).get(), v1::WhoAmIRequest(), &info).ok());
  EXPECT_EQ(info.name(), "alice");
  ASSERT_EQ(info.grants_size(), 1);
  EXPECT_EQ(info.grants(0).table_pattern(), "*");
  EXPECT_TRUE(d->admin->WhoAmI(Ctx(admin_token).get(), v1::WhoAmIRequest(), &info).ok());
  // auth.json holds hashes only.
  std::ifstream in(data.path() / "auth.json");
  std::stringstream json;
  json << in.rdbuf();
  EXPECT_THAT(json.str(), Not(HasSubstr(user)));
  EXPECT_THAT(json.str(), HasSubstr(auth::HashToken(user)));
}

TEST(AuthBootstrapTest, MemoryStorageNeedsAnAdminTokenFile) {
  TempDir data;
  DaemonOptions options;
  options.data_dir = data.path();
  options.storage = "memory";
  options.extra_flags = {"--auth=on"};
  auto daemon = DaemonProcess::Spawn(options);
  ASSERT_TRUE(daemon.ok());
  auto code = (*daemon)->WaitForExit(absl::Seconds(20));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 1);
  EXPECT_THAT((*daemon)->log(), HasSubstr("--admin_token_file"));
}

TEST(AuthBootstrapTest, AMalformedTokenFileStopsTheStart) {
  TempDir data;
  const std::string file = data.File("bad.token");
  std::ofstream(file) << "rdb_not_a_real_token\n";
  DaemonOptions options;
  options.data_dir = data.path();
  options.extra_flags = {"--auth=on", "--admin_token_file=" + file};
  auto daemon = DaemonProcess::Spawn(options);
  ASSERT_TRUE(daemon.ok());
  auto code = (*daemon)->WaitForExit(absl::Seconds(20));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 1);
  EXPECT_THAT((*daemon)->log(), HasSubstr(file));
  EXPECT_THAT((*daemon)->log(), Not(HasSubstr("not_a_real")));
}

TEST(AuthFileTest, FilePrincipalsWorkAndAreReadOnly) {
  TempDir data;
  const auth::NewToken admin = *auth::GenerateToken();
  const std::string file = data.File("principals.json");
  std::ofstream(file) << R"({"principals": [{"name": "ops", "admin": true, "tokens": [{"id": ")"
                      << admin.id << R"(", "sha256": ")" << admin.sha256 << R"("}]}]})";
  auto d = AuthDaemon::Start(data.path(), {"--auth_file=" + file});
  ASSERT_NE(d, nullptr);
  // An admin from the file: no bootstrap.
  EXPECT_FALSE(std::filesystem::exists(data.path() / "admin.token"));
  v1::PrincipalInfo info;
  ASSERT_TRUE(d->admin->WhoAmI(Ctx(admin.token).get(), v1::WhoAmIRequest(), &info).ok());
  EXPECT_EQ(info.name(), "ops");
  EXPECT_EQ(info.source_file(), file);
  v1::IssueTokenRequest issue;
  issue.set_principal("ops");
  v1::IssueTokenResponse issued;
  const grpc::Status status = d->admin->IssueToken(Ctx(admin.token).get(), issue, &issued);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("ops"));
  EXPECT_THAT(status.error_message(), HasSubstr(file));
}

}  // namespace
}  // namespace recondb
