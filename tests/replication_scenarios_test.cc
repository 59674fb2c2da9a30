// The reconciliation scenarios of real deployments, with real recondbd
// processes on loopback: conflicting edits at both ends of a chain while the
// middle node is down; a node killed with SIGKILL in the middle of a large
// sync; and a peer that speaks Replicate but lies.
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/revision.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "recondb/v1/replication.grpc.pb.h"
#include "tests/support/cluster.h"
#include "tests/support/db_client.h"
#include "tests/support/status_matchers.h"
#include "tests/support/values.h"

namespace recondb::testing {
namespace {

using ::testing::HasSubstr;

v1::Record Todo(DbClient& db, const std::string& id, const std::string& title) {
  absl::StatusOr<v1::Record> r = db.Create("todos", {{"title", StringValue(title)}}, id);
  EXPECT_OK(r);
  return r.ok() ? *r : v1::Record();
}

// Polls (bounded) until node `db` shows record `id` with `winner` and
// exactly `conflicts`.
absl::Status WaitForWinnerAndConflicts(DbClient& db, const std::string& id, const std::string& winner,
                                       const std::vector<std::string>& conflicts) {
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  std::string last;
  while (absl::Now() < deadline) {
    v1::GetRecordRequest request;
    request.set_table("todos");
    request.set_id(id);
    request.set_include_conflicts(true);
    grpc::ClientContext context;
    v1::Record record;
    grpc::Status status = db.stub()->GetRecord(&context, request, &record);
    if (status.ok()) {
      std::vector<std::string> got(record.conflicts().begin(), record.conflicts().end());
      if (record.revision() == winner && got == conflicts) return absl::OkStatus();
      last = record.ShortDebugString();
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError(absl::StrCat("record ", id, " never converged; last: ", last));
}

TEST(ReplicationScenariosTest, ChainConvergesOnConflictingEditsMadeWhileTheMiddleWasDown) {
  Cluster cluster;
  ASSERT_OK_AND_ASSIGN(int c, cluster.AddNode());
  ASSERT_OK_AND_ASSIGN(int b, cluster.AddNode({c}));  // b --peer=c
  ASSERT_OK_AND_ASSIGN(int a, cluster.AddNode({b}));  // a --peer=b
  DbClient db_a(cluster.node(a).NewChannel());
  DbClient db_c(cluster.node(c).NewChannel());
  ASSERT_OK(db_a.CreateTable(TodoTable()));
  const v1::Record first = Todo(db_a, "water", "Buy water filters");
  ASSERT_OK(cluster.WaitForChange(c, "todos", "water", first.revision()));

  // The middle goes down; both ends edit the same todo from the same revision.
  ASSERT_OK(cluster.Stop(b));
  ASSERT_OK_AND_ASSIGN(v1::Record on_a,
                       db_a.PutRecord(MakeRecord("todos", "water", first.revision(),
                                                 {{"title", StringValue("Buy ceramic filters")}}),
                                      std::vector<std::string>{"title"}));
  ASSERT_OK_AND_ASSIGN(v1::Record on_c,
                       db_c.PutRecord(MakeRecord("todos", "water", first.revision(),
                                                 {{"completed", BoolValue(true)}}),
                                      std::vector<std::string>{"completed"}));
  ASSERT_NE(on_a.revision(), on_c.revision());
  // The winner rule: same generation, so the greater hex wins.
  const std::string winner = std::max(on_a.revision(), on_c.revision());
  const std::string loser = std::min(on_a.revision(), on_c.revision());

  // Heal: every node ends with the same winner and reports the same conflict.
  ASSERT_OK(cluster.Restart(b));
  DbClient db_b(cluster.node(b).NewChannel());
  for (DbClient* db : {&db_a, &db_b, &db_c}) {
    EXPECT_OK(WaitForWinnerAndConflicts(*db, "water", winner, {loser}));
  }
  db_a.Close();
  db_b.Close();
  db_c.Close();
}

// ImportRevisions requests of `count` first revisions of todo-sized records.
std::vector<v1::ImportRevisionsRequest> TodoImports(int count) {
  std::vector<v1::ImportRevisionsRequest> requests;
  for (int start = 0; start < count; start += 1000) {
    v1::ImportRevisionsRequest request;
    for (int i = start; i < std::min(count, start + 1000); ++i) {
      std::map<std::string, v1::Value> attributes;
      attributes["title"] = StringValue(absl::StrCat("Check the filters of site ", i));
      attributes["description"] = StringValue("Ceramic first; then the carbon ones.");
      attributes["completed"] = BoolValue(false);
      attributes["deadline_at"] = NullValue();
      const std::string id = absl::StrCat("site-", 1000000 + i);
      engine::RevisionContent content{"todos", id, "", false, &attributes};
      v1::HistoryEntry* entry = request.add_revisions();
      entry->mutable_record()->set_table("todos");
      entry->mutable_record()->set_id(id);
      entry->mutable_record()->set_revision(engine::ComputeRevision(1, content));
      for (auto& [k, v] : attributes) (*entry->mutable_record()->mutable_attributes())[k] = v;
    }
    requests.push_back(std::move(request));
  }
  return requests;
}

int64_t LiveRecords(Cluster& cluster, int node) {
  absl::StatusOr<v1::NodeStatus> status = cluster.GetStatus(node);
  if (!status.ok()) return -1;
  for (const auto& t : status->tables()) {
    if (t.name() == "todos") return t.records();
  }
  return 0;
}

TEST(ReplicationScenariosTest, ANodeKilledInTheMiddleOfASyncResumesFromItsCheckpoint) {
  constexpr int kRecords = 40000;
  Cluster cluster;
  ASSERT_OK_AND_ASSIGN(int a, cluster.AddNode());
  ASSERT_OK_AND_ASSIGN(int b, cluster.AddNode());
  {
    DbClient db_a(cluster.node(a).NewChannel());
    ASSERT_OK(db_a.CreateTable(TodoTable()));
    for (const auto& request : TodoImports(kRecords)) {
      grpc::ClientContext context;
      v1::ImportRevisionsResponse response;
      ASSERT_TRUE(db_a.stub()->ImportRevisions(&context, request, &response).ok());
    }
    db_a.Close();
  }
  // b pulls from a; once part of it is durable on b, b is killed.
  std::thread sync([&] { (void)cluster.Sync(b, cluster.address(a), absl::Seconds(120)); });
  int64_t before_kill = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline && (before_kill = LiveRecords(cluster, b)) <= 0) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  cluster.Kill(b);
  sync.join();
  ASSERT_GT(before_kill, 0) << "b never started grafting";

  ASSERT_OK(cluster.Restart(b));
  // What survived is whole: every record b has is exactly a's.
  const int64_t kept = LiveRecords(cluster, b);
  ASSERT_GE(kept, before_kill);
  ASSERT_LT(kept, kRecords) << "the kill came after the sync finished: nothing to resume";
  ASSERT_OK_AND_ASSIGN(v1::SyncResponse resumed, cluster.Sync(b, cluster.address(a), absl::Seconds(120)));
  // Resumed from the checkpoint, not from zero: what was durable is not
  // offered again, and every revision is grafted exactly once overall.
  EXPECT_LT(resumed.received().records_offered(), kRecords);
  EXPECT_EQ(resumed.received().revisions_grafted(), kRecords - kept);
  EXPECT_EQ(LiveRecords(cluster, b), kRecords);

  DbClient db_a(cluster.node(a).NewChannel());
  DbClient db_b(cluster.node(b).NewChannel());
  v1::ListRecordsRequest list;
  list.set_table("todos");
  list.set_page_size(1000);
  ASSERT_OK_AND_ASSIGN(auto all_a, db_a.ListAll(list));
  ASSERT_OK_AND_ASSIGN(auto all_b, db_b.ListAll(list));
  ASSERT_EQ(all_a.size(), all_b.size());
  for (size_t i = 0; i < all_a.size(); ++i) {
    ASSERT_EQ(all_a[i].ShortDebugString(), all_b[i].ShortDebugString());
  }
  // No record has more than its one revision.
  for (size_t i = 0; i < all_b.size(); i += 997) {
    v1::GetRecordHistoryRequest history;
    history.set_table("todos");
    history.set_id(all_b[i].id());
    grpc::ClientContext context;
    v1::GetRecordHistoryResponse response;
    ASSERT_TRUE(db_b.stub()->GetRecordHistory(&context, history, &response).ok());
    EXPECT_EQ(response.entries_size(), 1);
  }
  db_a.Close();
  db_b.Close();
}

TEST(ReplicationScenariosTest, ReplicatesUnderASmallMessageLimit) {
  // Revisions travel in parts sized from --max_message_bytes, not in one
  // message per batch.
  constexpr int kRecords = 3000;  // ~250 bytes each: ~750 KB in all.
  const std::vector<std::string> flags = {"--max_message_bytes=65536"};
  Cluster cluster;
  ASSERT_OK_AND_ASSIGN(int a, cluster.AddNode({}, flags));
  ASSERT_OK_AND_ASSIGN(int b, cluster.AddNode({}, flags));
  {
    DbClient db_a(cluster.node(a).NewChannel());
    ASSERT_OK(db_a.CreateTable(TodoTable()));
    for (const auto& request : TodoImports(kRecords)) {
      for (int start = 0; start < request.revisions_size(); start += 100) {
        v1::ImportRevisionsRequest part;  // Under the 64 KiB limit too.
        for (int i = start; i < std::min(request.revisions_size(), start + 100); ++i) {
          *part.add_revisions() = request.revisions(i);
        }
        grpc::ClientContext context;
        v1::ImportRevisionsResponse response;
        ASSERT_TRUE(db_a.stub()->ImportRevisions(&context, part, &response).ok());
      }
    }
    db_a.Close();
  }
  ASSERT_OK_AND_ASSIGN(v1::SyncResponse sync, cluster.Sync(b, cluster.address(a)));
  EXPECT_EQ(sync.received().revisions_grafted(), kRecords);
  EXPECT_EQ(LiveRecords(cluster, b), kRecords);
}

// A client that speaks Replicate and lies: each kind of bad message ends the
// stream with the right status and leaves the node's data unchanged.
class LyingPeer {
 public:
  explicit LyingPeer(DaemonProcess& node)
      : stub_(v1::Replication::NewStub(node.NewChannel())), stream_(stub_->Replicate(&context_)) {}

  // Sends Hello, reads the node's Hello and starting Ack.
  bool Handshake(int version = 1) {
    v1::ReplicateMessage hello;
    hello.mutable_hello()->set_node_id("a-lying-peer");
    hello.mutable_hello()->set_protocol_version(version);
    hello.mutable_hello()->set_mode(v1::SESSION_MODE_ONE_SHOT);
    if (!stream_->Write(hello)) return false;
    v1::ReplicateMessage reply;
    return stream_->Read(&reply) && reply.has_hello() && stream_->Read(&reply) && reply.has_ack();
  }
  void Send(const v1::ReplicateMessage& m) { stream_->Write(m); }
  // Half-closes, drains, returns the node's status.
  grpc::Status Finish() {
    stream_->WritesDone();
    v1::ReplicateMessage ignored;
    while (stream_->Read(&ignored)) {
    }
    return stream_->Finish();
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<v1::Replication::Stub> stub_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::ReplicateMessage, v1::ReplicateMessage>> stream_;
};

v1::RevisionBody Body(const std::string& id, const std::string& title, const std::string& parent = "",
                      int64_t generation = 1) {
  std::map<std::string, v1::Value> attributes;
  attributes["title"] = StringValue(title);
  attributes["description"] = NullValue();
  attributes["completed"] = BoolValue(false);
  attributes["deadline_at"] = NullValue();
  engine::RevisionContent content{"todos", id, parent, false, &attributes};
  v1::RevisionBody body;
  body.set_table("todos");
  body.set_id(id);
  body.set_parent(parent);
  body.set_revision(engine::ComputeRevision(generation, content));
  for (auto& [k, v] : attributes) (*body.mutable_attributes())[k] = v;
  return body;
}

TEST(ReplicationScenariosTest, ALyingPeerGetsTheRightStatusAndChangesNothing) {
  Cluster cluster;
  ASSERT_OK_AND_ASSIGN(int n, cluster.AddNode());
  DbClient db(cluster.node(n).NewChannel());
  ASSERT_OK(db.CreateTable(TodoTable()));
  Todo(db, "kept", "already here");
  auto state = [&]() {
    v1::ListRecordsRequest list;
    list.set_table("todos");
    auto all = db.ListAll(list);
    std::string out;
    if (all.ok()) {
      for (const auto& r : *all) out += r.ShortDebugString() + "\n";
    }
    absl::StatusOr<v1::NodeStatus> status = cluster.GetStatus(n);
    return absl::StrCat(out, "last_seq=", status.ok() ? status->last_seq() : -1);
  };
  const std::string before = state();

  v1::RevisionBody forged = Body("forged", "real");
  (*forged.mutable_attributes())["title"] = StringValue("forged");
  v1::RevisionBody bad_id = Body("bad-id", "x");
  bad_id.set_revision("1-nothex");
  v1::RevisionBody orphan = Body("orphan", "x", "1-" + std::string(32, 'a'), 2);
  struct Case {
    std::string name;
    v1::RevisionBody body;
    grpc::StatusCode code;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"hash", forged, grpc::StatusCode::INVALID_ARGUMENT, "hash"},
           {"revision id", bad_id, grpc::StatusCode::INVALID_ARGUMENT, "1-nothex"},
           {"unknown parent", orphan, grpc::StatusCode::NOT_FOUND, "parent"},
       }) {
    SCOPED_TRACE(c.name);
    LyingPeer peer(cluster.node(n));
    ASSERT_TRUE(peer.Handshake());
    v1::ReplicateMessage summaries;
    summaries.mutable_summaries()->set_batch(1);
    summaries.mutable_summaries()->set_up_to_seq(5);
    auto* record = summaries.mutable_summaries()->add_records();
    record->set_table("todos");
    record->set_id(c.body.id());
    record->add_leaves("1-" + std::string(32, 'b'));
    peer.Send(summaries);
    v1::ReplicateMessage revisions;
    revisions.mutable_revisions()->set_batch(1);
    revisions.mutable_revisions()->set_up_to_seq(5);
    revisions.mutable_revisions()->set_last_part(true);
    *revisions.mutable_revisions()->add_revisions() = Body("innocent", "fine");
    *revisions.mutable_revisions()->add_revisions() = c.body;
    peer.Send(revisions);
    grpc::Status status = peer.Finish();
    EXPECT_EQ(status.error_code(), c.code) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.message));
    EXPECT_EQ(state(), before);
  }
  {
    SCOPED_TRACE("protocol version");
    LyingPeer peer(cluster.node(n));
    EXPECT_FALSE(peer.Handshake(99));
    grpc::Status status = peer.Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(status.error_message(), HasSubstr("versions 99-99"));
  }
  {
    SCOPED_TRACE("out of turn");
    LyingPeer peer(cluster.node(n));
    ASSERT_TRUE(peer.Handshake());
    v1::ReplicateMessage ack;
    ack.mutable_ack()->set_batch(7);
    ack.mutable_ack()->set_checkpoint(1);
    peer.Send(ack);
    grpc::Status status = peer.Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("batch 7"));
  }
  EXPECT_EQ(state(), before);
  // And the node still replicates with an honest peer afterwards.
  ASSERT_OK_AND_ASSIGN(int m, cluster.AddNode());
  ASSERT_OK_AND_ASSIGN(v1::SyncResponse sync, cluster.Sync(m, cluster.address(n)));
  EXPECT_EQ(sync.received().revisions_grafted(), 1);
  db.Close();
}

}  // namespace
}  // namespace recondb::testing
