// Replication through a real recondbd obeys grants (--auth=on, peers
// authenticated here by bearer tokens on a raw Replicate call: a session of
// an in-process node speaks the protocol through the generated stub): a
// principal that may pull only todos never receives cases, a push into a
// table it may not push is refused with nothing written, a node id belongs
// to the first principal that presents it. And the port holds: per-principal
// stream limits over GetChanges and Replicate (--max_streams_per_principal);
// with --auth=off replication stays allowed as before grants.
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "auth/token.h"
#include "reconciler/message_stream.h"
#include "reconciler/session.h"
#include "reconciler/testing.h"
#include "recondb/v1/admin.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "recondb/v1/database.grpc.pb.h"
#include "recondb/v1/replication.grpc.pb.h"
#include "tests/support/auth_calls.h"
#include "tests/support/daemon_process.h"
#include "tests/support/db_client.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/values.h"

namespace recondb::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// One open GetChanges follow stream that has received its first change
// (so the daemon has admitted it).
struct FollowStream {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::Change>> reader;
};

// Opens a follow stream from 0; OK once a change arrived, else the call's
// status.
absl::Status OpenFollow(v1::Database::Stub& stub, FollowStream& s) {
  SetDeadline(&s.context, absl::Seconds(30));
  v1::GetChangesRequest request;
  request.set_follow(true);
  s.reader = stub.GetChanges(&s.context, request);
  v1::Change change;
  if (s.reader->Read(&change)) return absl::OkStatus();
  return ToAbslStatus(s.reader->Finish());
}

// A raw Replicate call: the status the daemon ends it with if it does so
// before answering a Hello, or OK if it answers.
absl::Status ReplicateOnce(const std::shared_ptr<grpc::Channel>& channel,
                           const std::string& token = "",
                           const std::string& node_id = "raw-client") {
  auto stub = v1::Replication::NewStub(channel);
  grpc::ClientContext context;
  SetDeadline(&context, absl::Seconds(10));
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
  auto stream = stub->Replicate(&context);
  v1::ReplicateMessage hello;
  hello.mutable_hello()->set_node_id(node_id);
  hello.mutable_hello()->set_protocol_version(1);
  hello.mutable_hello()->set_mode(v1::SESSION_MODE_ONE_SHOT);
  stream->Write(hello);
  v1::ReplicateMessage answer;
  if (stream->Read(&answer) && answer.has_hello()) {
    context.TryCancel();
    stream->Finish();
    return absl::OkStatus();
  }
  return ToAbslStatus(stream->Finish());
}

class StreamLimitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DaemonOptions options;
    options.data_dir = dir_.path();
    options.extra_flags = {"--max_streams_per_principal=2"};
    auto daemon = DaemonProcess::Start(options);
    ASSERT_THAT(daemon, IsOk());
    daemon_ = *std::move(daemon);
    DbClient db(daemon_->NewChannel());
    ASSERT_THAT(db.CreateTable(TodoTable()), IsOk());
  }

  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(StreamLimitTest, AThirdStreamOfOneCallerIsRefusedNamingThePrincipalAndTheLimit) {
  auto channel = daemon_->NewChannel();
  auto stub = v1::Database::NewStub(channel);
  FollowStream first, second, third;
  ASSERT_THAT(OpenFollow(*stub, first), IsOk());
  ASSERT_THAT(OpenFollow(*stub, second), IsOk());
  // With --auth=off every caller is "anonymous": counted by its host.
  EXPECT_THAT(OpenFollow(*stub, third),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr("principal \"anonymous@ipv4:127.0.0.1\""),
                             HasSubstr("--max_streams_per_principal=2"))));
  // Replicate streams count against the same limit.
  EXPECT_THAT(ReplicateOnce(channel), StatusIs(absl::StatusCode::kResourceExhausted,
                                               HasSubstr("max_streams_per_principal")));
  // A stream that ends frees its place (once the daemon is done with it).
  first.context.TryCancel();
  first.reader->Finish();
  absl::Status again = absl::UnknownError("not tried");
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  std::vector<std::unique_ptr<FollowStream>> tries;
  while (absl::Now() < deadline) {
    tries.push_back(std::make_unique<FollowStream>());
    again = OpenFollow(*stub, *tries.back());
    if (again.ok()) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_THAT(again, IsOk());
  second.context.TryCancel();
  second.reader->Finish();
  if (again.ok()) {
    tries.back()->context.TryCancel();
    tries.back()->reader->Finish();
  }
}

TEST_F(StreamLimitTest, WithAuthOffAReplicateCallIsAnsweredAsBefore) {
  EXPECT_THAT(ReplicateOnce(daemon_->NewChannel()), IsOk());
}

// ---- Grants (--auth=on) ----

// The dialing side of a Replicate call carrying a bearer token, as the
// session's MessageStream.
class TokenStream final : public reconciler::MessageStream {
 public:
  TokenStream(const std::shared_ptr<grpc::Channel>& channel, const std::string& token)
      : stub_(v1::Replication::NewStub(channel)) {
    SetDeadline(&context_, absl::Seconds(30));
    context_.AddMetadata("authorization", "Bearer " + token);
    context_.AddMetadata("recondb-session-mode", "one-shot");
    stream_ = stub_->Replicate(&context_);
  }
  bool Read(v1::ReplicateMessage* message) override {
    if (stream_->Read(message)) return true;
    absl::MutexLock lock(&mu_);
    read_over_ = true;
    return false;
  }
  bool Write(const v1::ReplicateMessage& message) override { return stream_->Write(message); }
  void WritesDone() override { stream_->WritesDone(); }
  // Keeps the daemon's status for Finish once it has ended the call.
  void Cancel() override {
    absl::MutexLock lock(&mu_);
    if (!read_over_) context_.TryCancel();
  }
  absl::Status Finish() { return ToAbslStatus(stream_->Finish()); }

 private:
  std::unique_ptr<v1::Replication::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::ReplicateMessage, v1::ReplicateMessage>> stream_;
  absl::Mutex mu_;
  bool read_over_ ABSL_GUARDED_BY(mu_) = false;
};

struct SessionResult {
  absl::Status session;  // The in-process side's.
  absl::Status daemon;   // The call's status, as the daemon ended it.
  reconciler::SessionProgress progress;
};

// A one-shot session of `node` with the daemon, as the principal of
// `token`, asking for `tables`.
SessionResult SyncAs(engine::Engine& node, const std::shared_ptr<grpc::Channel>& channel,
                     const std::string& token, std::vector<std::string> tables,
                     int max_protocol_version = reconciler::kProtocolVersion) {
  TokenStream stream(channel, token);
  reconciler::SessionOptions options;
  options.engine = &node;
  options.dialer = true;
  options.mode = v1::SESSION_MODE_ONE_SHOT;
  options.tables = std::move(tables);
  options.max_protocol_version = max_protocol_version;
  reconciler::Session session(options, &stream);
  SessionResult result;
  result.session = session.Run();
  result.daemon = result.session.ok() ? absl::OkStatus() : stream.Finish();
  result.progress = session.progress();
  return result;
}

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) { return testing::CallAs(token); }

v1::Table Notes(const std::string& name) { return testing::TitleTable(name); }

v1::Record Note(const std::string& table, const std::string& id) {
  return testing::TitleRecord(table, id, "x");
}

// How many records `engine` has in `table`; -1 without the table.
int Count(engine::Engine& engine, const std::string& table) {
  if (!engine.GetTable(table).ok()) return -1;
  v1::ListRecordsRequest list;
  list.set_table(table);
  list.set_page_size(1000);
  auto page = engine.ListRecords(list);
  return page.ok() ? page->records_size() : -1;
}

// A daemon with --auth=on holding todos and cases (two records each).
class GrantsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DaemonOptions options;
    options.data_dir = dir_.path();
    options.extra_flags = {"--auth=on"};
    auto daemon = DaemonProcess::Start(options);
    ASSERT_THAT(daemon, IsOk());
    daemon_ = *std::move(daemon);
    admin_token_ = testing::ReadTokenFile(dir_.path() / "admin.token");
    ASSERT_THAT(auth::ParseTokenId(admin_token_), IsOk());
    db_ = daemon_->NewDatabaseStub();
    admin_ = v1::Admin::NewStub(daemon_->NewChannel());
    for (const char* name : {"todos", "cases"}) {
      v1::CreateTableRequest create;
      *create.mutable_table() = Notes(name);
      v1::Table table;
      ASSERT_TRUE(db_->CreateTable(Ctx(admin_token_).get(), create, &table).ok());
      for (const char* id : {"r1", "r2"}) {
        v1::PutRecordRequest put;
        *put.mutable_record() = Note(name, id);
        v1::Record record;
        ASSERT_TRUE(db_->PutRecord(Ctx(admin_token_).get(), put, &record).ok());
      }
    }
  }

  // Creates `name` with `permissions` on `pattern` and returns its token.
  std::string MakePrincipal(const std::string& name, std::vector<v1::Permission> permissions,
                            const std::string& pattern = "todos") {
    return testing::MakePrincipal(*admin_, admin_token_, name, permissions, pattern);
  }

  // The daemon's records of `table`, as the admin sees them.
  int DaemonCount(const std::string& table) {
    v1::ListRecordsRequest list;
    list.set_table(table);
    v1::ListRecordsResponse response;
    grpc::Status s = db_->ListRecords(Ctx(admin_token_).get(), list, &response);
    return s.ok() ? response.records_size() : -1;
  }

  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::string admin_token_;
  std::unique_ptr<v1::Database::Stub> db_;
  std::unique_ptr<v1::Admin::Stub> admin_;
};

TEST_F(GrantsTest, APrincipalThatMayPullOnlyTodosNeverReceivesCasesEvenAskingForIt) {
  const std::string token = MakePrincipal("laptop", {v1::PERMISSION_PULL});
  for (const std::vector<std::string>& asked :
       {std::vector<std::string>{"cases", "todos"}, std::vector<std::string>{}}) {
    reconciler::testing::Node laptop = reconciler::testing::MemoryNode();
    SessionResult result = SyncAs(*laptop.engine, daemon_->NewChannel(), token, asked);
    ASSERT_THAT(result.session, IsOk());
    EXPECT_EQ(Count(*laptop.engine, "todos"), 2);
    EXPECT_EQ(Count(*laptop.engine, "cases"), -1);
    if (asked.empty()) {
      EXPECT_TRUE(result.progress.peer_withheld_unnamed);
    } else {
      EXPECT_THAT(result.progress.withheld_by_peer, ::testing::ElementsAre("cases"));
    }
  }
  // A version-2 peer is not told, and gets no cases either.
  reconciler::testing::Node old = reconciler::testing::MemoryNode();
  SessionResult v2 = SyncAs(*old.engine, daemon_->NewChannel(), token, {"cases", "todos"}, 2);
  ASSERT_THAT(v2.session, IsOk());
  EXPECT_EQ(Count(*old.engine, "cases"), -1);
  EXPECT_EQ(Count(*old.engine, "todos"), 2);
}

TEST_F(GrantsTest, APushIntoATableThePrincipalMayNotPushIsRefusedWithNothingWritten) {
  const std::string token =
      MakePrincipal("pusher", {v1::PERMISSION_PULL, v1::PERMISSION_PUSH});  // todos only
  reconciler::testing::Node laptop = reconciler::testing::MemoryNode();
  ASSERT_THAT(laptop.engine->CreateTable(Notes("todos")), IsOk());
  ASSERT_THAT(laptop.engine->CreateTable(Notes("secrets")), IsOk());
  ASSERT_THAT(laptop.engine->PutRecord(Note("todos", "mine"), nullptr), IsOk());
  ASSERT_THAT(laptop.engine->PutRecord(Note("secrets", "s1"), nullptr), IsOk());
  SessionResult result = SyncAs(*laptop.engine, daemon_->NewChannel(), token, {});
  EXPECT_THAT(result.daemon, StatusIs(absl::StatusCode::kPermissionDenied,
                                      AllOf(HasSubstr("principal \"pusher\""),
                                            HasSubstr("push table \"secrets\""))));
  // The refused batch held todos/mine too: nothing of it was written.
  EXPECT_EQ(DaemonCount("secrets"), -1);
  EXPECT_EQ(DaemonCount("todos"), 2);
  // A table the daemon knows and refuses is announced (v3): the laptop
  // leaves it out, and its todos arrive.
  reconciler::testing::Node told = reconciler::testing::MemoryNode();
  ASSERT_THAT(told.engine->CreateTable(Notes("todos")), IsOk());
  ASSERT_THAT(told.engine->CreateTable(Notes("cases")), IsOk());
  ASSERT_THAT(told.engine->PutRecord(Note("todos", "mine"), nullptr), IsOk());
  ASSERT_THAT(told.engine->PutRecord(Note("cases", "c9"), nullptr), IsOk());
  SessionResult ok = SyncAs(*told.engine, daemon_->NewChannel(), token, {});
  ASSERT_THAT(ok.session, IsOk());
  EXPECT_THAT(ok.progress.refused_by_peer, ::testing::ElementsAre("cases"));
  EXPECT_EQ(DaemonCount("todos"), 3);
  EXPECT_EQ(DaemonCount("cases"), 2);
}

TEST_F(GrantsTest, AHelloClaimingAnotherPrincipalsNodeIdIsRefused) {
  const std::string laptop_token = MakePrincipal("laptop", {v1::PERMISSION_PULL});
  const std::string mallory_token = MakePrincipal("mallory", {v1::PERMISSION_PULL});
  reconciler::testing::Node laptop = reconciler::testing::MemoryNode();
  ASSERT_THAT(SyncAs(*laptop.engine, daemon_->NewChannel(), laptop_token, {}).session, IsOk());
  // The laptop's node id, as its GetStatus would tell anyone.
  EXPECT_THAT(ReplicateOnce(daemon_->NewChannel(), mallory_token, laptop.engine->node_id()),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       AllOf(HasSubstr("principal \"mallory\""), HasSubstr("node id"))));
  EXPECT_THAT(ReplicateOnce(daemon_->NewChannel(), laptop_token, laptop.engine->node_id()),
              IsOk());
}

TEST_F(GrantsTest, ReplicateNeedsCredentialsAndAPullOrPushGrant) {
  EXPECT_THAT(ReplicateOnce(daemon_->NewChannel()),
              StatusIs(absl::StatusCode::kUnauthenticated));
  const std::string reader = MakePrincipal("reader", {v1::PERMISSION_READ});
  EXPECT_THAT(ReplicateOnce(daemon_->NewChannel(), reader),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       AllOf(HasSubstr("principal \"reader\""), HasSubstr("pull or push"))));
}

}  // namespace
}  // namespace recondb::testing
