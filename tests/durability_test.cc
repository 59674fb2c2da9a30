// Durability of acknowledged writes across daemon restarts (SIGTERM and
// SIGKILL), and the single-owner rules of the data directory and the port.
#include <signal.h>

#include <atomic>
#include <csignal>
#include <map>
#include <mutex>
#include <thread>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "tests/support/daemon_process.h"
#include "tests/support/db_client.h"
#include "tests/support/proto_matchers.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace recondb::testing {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr int kRecords = 40;

class DurabilityTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::unique_ptr<DaemonProcess>> StartDaemon(
      std::vector<std::string> extra_flags = {}) {
    DaemonOptions options;
    options.data_dir = data_.path();
    options.extra_flags = std::move(extra_flags);
    return DaemonProcess::Start(options);
  }

  // Writes kRecords todos, updates every third and deletes every fifth, and
  // remembers what each acknowledged write returned.
  void WriteWorkload(DbClient& db) {
    ASSERT_OK(db.CreateTable(TodoTable()));
    for (int i = 0; i < kRecords; ++i) {
      ASSERT_OK_AND_ASSIGN(
          v1::Record r,
          db.Create("todos", {{"title", StringValue(absl::StrCat("todo ", i))},
                              {"description", StringValue(std::string(i, 'x'))}}));
      if (i % 3 == 0) {
        ASSERT_OK_AND_ASSIGN(r, db.PutRecord(MakeRecord("todos", r.id(), r.revision(),
                                                        {{"completed", BoolValue(true)}}),
                                             std::vector<std::string>{"completed"}));
      }
      if (i % 5 == 0) {
        ASSERT_OK_AND_ASSIGN(v1::Record tomb, db.DeleteRecord("todos", r.id()));
        deleted_[r.id()] = tomb;
      } else {
        live_[r.id()] = r;
      }
    }
    ASSERT_OK_AND_ASSIGN(last_seq_, db.LastSeq());
  }

  // Every acknowledged write is there with the same revision and values.
  void CheckWorkload(DbClient& db) {
    ASSERT_OK_AND_ASSIGN(v1::Table table, db.GetTable("todos"));
    EXPECT_THAT(table, EqualsProto(table_));
    for (const auto& [id, want] : live_) {
      ASSERT_OK_AND_ASSIGN(v1::Record got, db.GetRecord("todos", id));
      EXPECT_THAT(got, EqualsProto(want));
    }
    for (const auto& [id, tomb] : deleted_) {
      EXPECT_THAT(db.GetRecord("todos", id), StatusIs(absl::StatusCode::kNotFound));
      ASSERT_OK_AND_ASSIGN(v1::Record got, db.GetRecord("todos", id, tomb.revision()));
      EXPECT_TRUE(got.deleted());
    }
    v1::ListRecordsRequest req;
    req.set_table("todos");
    ASSERT_OK_AND_ASSIGN(std::vector<v1::Record> all, db.ListAll(req));
    EXPECT_THAT(all, SizeIs(live_.size()));
    ASSERT_OK_AND_ASSIGN(int64_t seq, db.LastSeq());
    EXPECT_EQ(seq, last_seq_);
  }

  TempDir data_;
  v1::Table table_;
  std::map<std::string, v1::Record> live_;
  std::map<std::string, v1::Record> deleted_;
  int64_t last_seq_ = 0;
};

TEST_F(DurabilityTest, AcknowledgedWritesSurviveACleanRestart) {
  std::string node_id;
  {
    ASSERT_OK_AND_ASSIGN(auto daemon, StartDaemon());
    DbClient db(daemon->NewChannel());
    WriteWorkload(db);
    ASSERT_OK_AND_ASSIGN(table_, db.GetTable("todos"));
    node_id = table_.created_by();
    db.Close();
    ASSERT_OK_AND_ASSIGN(int code, daemon->Stop());
    EXPECT_EQ(code, 0);
    EXPECT_THAT(daemon->log(), HasSubstr(node_id));
  }
  ASSERT_OK_AND_ASSIGN(auto daemon, StartDaemon());
  // Same node id after a restart.
  EXPECT_THAT(daemon->log(), HasSubstr(node_id));
  if (!daemon->node_id().empty()) {
    EXPECT_EQ(daemon->node_id(), node_id);
  }
  DbClient db(daemon->NewChannel());
  CheckWorkload(db);

  // And it keeps working: new writes go on from where it was.
  ASSERT_OK_AND_ASSIGN(v1::Record r, db.Create("todos", {{"title", StringValue("after restart")}}));
  ASSERT_OK_AND_ASSIGN(int64_t seq, db.LastSeq());
  EXPECT_GT(seq, last_seq_);
  db.Close();
  ASSERT_OK_AND_ASSIGN(int code, daemon->Stop());
  EXPECT_EQ(code, 0);
}

TEST_F(DurabilityTest, AcknowledgedWritesSurviveSigkill) {
  {
    ASSERT_OK_AND_ASSIGN(auto daemon, StartDaemon());
    DbClient db(daemon->NewChannel());
    WriteWorkload(db);
    ASSERT_OK_AND_ASSIGN(table_, db.GetTable("todos"));
    EXPECT_EQ(daemon->Kill(), 128 + SIGKILL);
  }
  // The killed daemon's lock is gone with it: a new one starts at once.
  ASSERT_OK_AND_ASSIGN(auto daemon, StartDaemon());
  DbClient db(daemon->NewChannel());
  CheckWorkload(db);
  db.Close();
  ASSERT_OK_AND_ASSIGN(int code, daemon->Stop());
  EXPECT_EQ(code, 0);
}

TEST_F(DurabilityTest, SigkillWhileWritingLosesNoAcknowledgedWrite) {
  std::map<std::string, std::string> acked;  // id -> revision
  {
    ASSERT_OK_AND_ASSIGN(auto daemon, StartDaemon());
    DbClient db(daemon->NewChannel());
    ASSERT_OK(db.CreateTable(TodoTable()));
    // A writer thread keeps writing while the daemon is killed under it.
    std::atomic<bool> stop{false};
    std::mutex mu;
    std::thread writer([&] {
      DbClient w(daemon->NewChannel(), absl::Seconds(5));
      for (int i = 0; !stop.load(); ++i) {
        absl::StatusOr<v1::Record> r =
            w.Create("todos", {{"title", StringValue(absl::StrCat("w", i))}});
        if (!r.ok()) break;
        std::lock_guard<std::mutex> l(mu);
        acked[r->id()] = r->revision();
      }
    });
    // Bounded wait until some writes are acknowledged.
    absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      {
        std::lock_guard<std::mutex> l(mu);
        if (acked.size() >= 20) break;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    daemon->Kill();
    stop = true;
    writer.join();
  }
  ASSERT_GE(acked.size(), 20u);
  ASSERT_OK_AND_ASSIGN(auto daemon, StartDaemon());
  DbClient db(daemon->NewChannel());
  for (const auto& [id, revision] : acked) {
    ASSERT_OK_AND_ASSIGN(v1::Record got, db.GetRecord("todos", id));
    EXPECT_EQ(got.revision(), revision);
  }
  db.Close();
  ASSERT_OK_AND_ASSIGN(int code, daemon->Stop());
  EXPECT_EQ(code, 0);
}

TEST_F(DurabilityTest, SecondDaemonOnTheSameDataDirFailsAtOnce) {
  ASSERT_OK_AND_ASSIGN(auto first, StartDaemon());
  DaemonOptions options;
  options.data_dir = data_.path();
  ASSERT_OK_AND_ASSIGN(auto second, DaemonProcess::Spawn(options));
  absl::StatusOr<int> code = second->WaitForExit(absl::Seconds(20));
  ASSERT_OK(code);
  EXPECT_EQ(*code, 1);
  EXPECT_THAT(second->log(), HasSubstr(data_.path().string()));
  EXPECT_THAT(second->log(), AnyOf(HasSubstr("data dir"), HasSubstr("data_dir"),
                                   HasSubstr("LOCK"), HasSubstr("lock")));
  // The first one is unharmed.
  EXPECT_OK(first->CheckHealth());
  DbClient db(first->NewChannel());
  EXPECT_OK(db.CreateTable(TodoTable()));
  db.Close();
  ASSERT_OK_AND_ASSIGN(int first_code, first->Stop());
  EXPECT_EQ(first_code, 0);
}

TEST_F(DurabilityTest, SecondDaemonOnTheSamePortFailsAtOnce) {
  ASSERT_OK_AND_ASSIGN(auto first, StartDaemon());
  TempDir other_data;
  DaemonOptions options;
  options.data_dir = other_data.path();
  options.listen = first->address();
  ASSERT_OK_AND_ASSIGN(auto second, DaemonProcess::Spawn(options));
  absl::StatusOr<int> code = second->WaitForExit(absl::Seconds(20));
  ASSERT_OK(code) << second->log();
  EXPECT_EQ(*code, 1);
  EXPECT_THAT(second->log(), HasSubstr(first->address()));
  EXPECT_OK(first->CheckHealth());
  ASSERT_OK_AND_ASSIGN(int first_code, first->Stop());
  EXPECT_EQ(first_code, 0);
}

TEST_F(DurabilityTest, SigtermEndsFollowStreamsAndExitsZero) {
  ASSERT_OK_AND_ASSIGN(auto daemon, StartDaemon());
  DbClient db(daemon->NewChannel());
  ASSERT_OK(db.CreateTable(TodoTable()));
  grpc::ClientContext ctx;
  SetDeadline(&ctx, absl::Seconds(60));
  v1::GetChangesRequest req;
  req.set_follow(true);
  std::unique_ptr<grpc::ClientReader<v1::Change>> reader = db.stub()->GetChanges(&ctx, req);
  v1::Change change;
  ASSERT_TRUE(reader->Read(&change));  // the stream is open on the server
  EXPECT_EQ(change.kind(), v1::CHANGE_KIND_TABLE);

  // SIGTERM while the stream is open: the stream ends (it does not wait
  // for the client's deadline) and the daemon exits 0.
  ::kill(daemon->pid(), SIGTERM);
  while (reader->Read(&change)) {
  }
  grpc::Status s = reader->Finish();
  EXPECT_NE(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  reader.reset();
  // (Exit can take ~5 s here: gRPC 1.51's Server::Shutdown sometimes waits
  // that long for a client connection that is closing; the trivial echo
  // server of tools/ does the same.)
  db.Close();
  ASSERT_OK_AND_ASSIGN(int code, daemon->WaitForExit(absl::Seconds(30)));
  EXPECT_EQ(code, 0);
}

TEST_F(DurabilityTest, MemoryStorageKeepsNothingAcrossRestarts) {
  DaemonOptions options;
  options.data_dir = data_.path();
  options.storage = "memory";
  {
    ASSERT_OK_AND_ASSIGN(auto daemon, DaemonProcess::Start(options));
    DbClient db(daemon->NewChannel());
    ASSERT_OK(db.CreateTable(TodoTable()));
    ASSERT_OK(db.Create("todos", {{"title", StringValue("ephemeral")}}, "e1"));
    ASSERT_OK(db.GetRecord("todos", "e1"));
    db.Close();
    ASSERT_OK_AND_ASSIGN(int code, daemon->Stop());
    EXPECT_EQ(code, 0);
  }
  ASSERT_OK_AND_ASSIGN(auto daemon, DaemonProcess::Start(options));
  DbClient db(daemon->NewChannel());
  EXPECT_THAT(db.GetTable("todos"), StatusIs(absl::StatusCode::kNotFound));
  db.Close();
  ASSERT_OK_AND_ASSIGN(int code, daemon->Stop());
  EXPECT_EQ(code, 0);
}

TEST_F(DurabilityTest, HealthIsServingWhileUp) {
  ASSERT_OK_AND_ASSIGN(auto daemon, StartDaemon());
  EXPECT_OK(daemon->CheckHealth());
  ASSERT_OK_AND_ASSIGN(int code, daemon->Stop());
  EXPECT_EQ(code, 0);
  // A line per start and stop.
  EXPECT_THAT(absl::AsciiStrToLower(daemon->log()),
              AnyOf(HasSubstr("stop"), HasSubstr("shut"), HasSubstr("exit")));
}

}  // namespace
}  // namespace recondb::testing
