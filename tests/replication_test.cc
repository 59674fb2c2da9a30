// Replication between real recondbd processes on loopback (tests/support/
// cluster.h): a one-shot Admin.Sync, a live link made by --peer, a chain of
// three nodes, and peers that keep their state across restarts. Changes are
// awaited on the receiving node's GetChanges follow stream (pushed by the
// daemon as they commit) with a deadline; nothing polls for the sync itself.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/support/cluster.h"
#include "tests/support/db_client.h"
#include "tests/support/status_matchers.h"

namespace recondb::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

v1::Record Todo(DbClient& db, const std::string& id, const std::string& title) {
  absl::StatusOr<v1::Record> r = db.Create("todos", {{"title", StringValue(title)}}, id);
  EXPECT_OK(r);
  return r.ok() ? *r : v1::Record();
}

TEST(ReplicationTest, SyncCopiesAWriteAndReportsCounts) {
  Cluster cluster;
  ASSERT_OK_AND_ASSIGN(int a, cluster.AddNode());
  ASSERT_OK_AND_ASSIGN(int b, cluster.AddNode());
  DbClient db_a(cluster.node(a).NewChannel());
  DbClient db_b(cluster.node(b).NewChannel());
  ASSERT_OK(db_a.CreateTable(TodoTable()));
  const v1::Record t1 = Todo(db_a, "t1", "Buy water filters");
  Todo(db_a, "t2", "Boil water");

  ASSERT_OK_AND_ASSIGN(v1::SyncResponse sync, cluster.Sync(b, cluster.address(a)));
  EXPECT_EQ(sync.peer_node_id(), cluster.node_id(a));
  EXPECT_EQ(sync.received().revisions_grafted(), 2);
  EXPECT_EQ(sync.received().tables_sent(), 1);
  EXPECT_EQ(sync.sent().revisions_sent(), 0);

  // The table came along, and the record is the same revision.
  ASSERT_OK_AND_ASSIGN(v1::Record copy, db_b.GetRecord("todos", "t1"));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(copy, t1))
      << copy.ShortDebugString() << " vs " << t1.ShortDebugString();

  // Both ways: a write on b goes back to a with the next sync; nothing else
  // moves again.
  Todo(db_b, "t3", "from b");
  ASSERT_OK_AND_ASSIGN(sync, cluster.Sync(b, cluster.address(a)));
  EXPECT_EQ(sync.sent().revisions_sent(), 1);  // Grafts are counted by the receiver.
  EXPECT_EQ(sync.received().revisions_grafted(), 0);
  ASSERT_OK(db_a.GetRecord("todos", "t3"));

  // Sync adds no peer.
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Peer> peers, cluster.ListPeers(b));
  EXPECT_THAT(peers, SizeIs(0));

  // Status counts live records per table.
  ASSERT_OK_AND_ASSIGN(v1::NodeStatus status, cluster.GetStatus(b));
  EXPECT_EQ(status.node_id(), cluster.node_id(b));
  ASSERT_THAT(status.tables(), SizeIs(1));
  EXPECT_EQ(status.tables(0).records(), 3);
  EXPECT_FALSE(status.version().empty());
  db_a.Close();
  db_b.Close();
}

TEST(ReplicationTest, SyncErrorsNameThePeer) {
  Cluster cluster;
  ASSERT_OK_AND_ASSIGN(int a, cluster.AddNode());
  // Nothing listens on port 1.
  EXPECT_THAT(cluster.Sync(a, "127.0.0.1:1"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("sync with 127.0.0.1:1")));
  EXPECT_THAT(cluster.Sync(a, "127.0.0.1"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("address")));
  // A node syncing with itself is refused by the protocol.
  EXPECT_THAT(cluster.Sync(a, cluster.address(a)), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(cluster.Sync(a, "127.0.0.1:1", absl::Seconds(-1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("timeout must be positive")));
  EXPECT_THAT(cluster.AddPeer(a, "no-port"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("address")));
  EXPECT_THAT(cluster.AddPeer(a, "127.0.0.1:9", {"Bad"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tables")));
}

TEST(ReplicationTest, LiveLinkCarriesWritesBothWaysAsTheyCommit) {
  Cluster cluster;
  ASSERT_OK_AND_ASSIGN(int b, cluster.AddNode());
  ASSERT_OK_AND_ASSIGN(int a, cluster.AddNode({b}));  // a --peer=b
  DbClient db_a(cluster.node(a).NewChannel());
  DbClient db_b(cluster.node(b).NewChannel());
  ASSERT_OK(db_a.CreateTable(TodoTable()));
  const v1::Record t1 = Todo(db_a, "t1", "written on a");
  ASSERT_OK(cluster.WaitForChange(b, "todos", "t1", t1.revision()));

  // And the other way, over the same link.
  const v1::Record t2 = Todo(db_b, "t2", "written on b");
  ASSERT_OK(cluster.WaitForChange(a, "todos", "t2", t2.revision()));
  // An update follows too.
  absl::StatusOr<v1::Record> t1v2 =
      db_a.PutRecord(MakeRecord("todos", "t1", t1.revision(), {{"completed", BoolValue(true)}}),
                     std::vector<std::string>{"completed"});
  ASSERT_OK(t1v2);
  ASSERT_OK(cluster.WaitForChange(b, "todos", "t1", t1v2->revision()));
  db_a.Close();
  db_b.Close();
}

TEST(ReplicationTest, ChainOfThreeRelaysAWriteFromEndToEnd) {
  Cluster cluster;
  ASSERT_OK_AND_ASSIGN(int c, cluster.AddNode());
  ASSERT_OK_AND_ASSIGN(int b, cluster.AddNode({c}));  // b --peer=c
  ASSERT_OK_AND_ASSIGN(int a, cluster.AddNode({b}));  // a --peer=b
  DbClient db_a(cluster.node(a).NewChannel());
  DbClient db_c(cluster.node(c).NewChannel());
  ASSERT_OK(db_a.CreateTable(TodoTable()));
  const v1::Record t1 = Todo(db_a, "t1", "from the end of the chain");
  ASSERT_OK(cluster.WaitForChange(c, "todos", "t1", t1.revision()));
  // And back from c to a.
  const v1::Record t2 = Todo(db_c, "t2", "from the other end");
  ASSERT_OK(cluster.WaitForChange(a, "todos", "t2", t2.revision()));
  db_a.Close();
  db_c.Close();
}

TEST(ReplicationTest, PeersAreListedWithStateAndSurviveRestarts) {
  Cluster cluster;
  ASSERT_OK_AND_ASSIGN(int b, cluster.AddNode());
  ASSERT_OK_AND_ASSIGN(int a, cluster.AddNode({b}));
  ASSERT_OK_AND_ASSIGN(v1::Peer peer, cluster.WaitForConnectedPeer(a, cluster.address(b)));
  EXPECT_EQ(peer.node_id(), cluster.node_id(b));
  EXPECT_EQ(peer.failures(), 0);
  EXPECT_EQ(peer.last_error(), "");

  // A peer added at run time, with a table filter, that cannot be reached.
  ASSERT_OK_AND_ASSIGN(v1::Peer added, cluster.AddPeer(a, "127.0.0.1:1", {"todos"}));
  EXPECT_EQ(added.address(), "127.0.0.1:1");

  DbClient db_a(cluster.node(a).NewChannel());
  ASSERT_OK(db_a.CreateTable(TodoTable()));
  const v1::Record t1 = Todo(db_a, "t1", "before the restart");
  ASSERT_OK(cluster.WaitForChange(b, "todos", "t1", t1.revision()));
  // Caught up both ways: no lag, a last sync time.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (true) {
    ASSERT_OK_AND_ASSIGN(peer, cluster.WaitForConnectedPeer(a, cluster.address(b)));
    if (peer.has_last_sync_time() && peer.outgoing().lag() == 0 &&
        peer.outgoing().checkpoint() > 0) {
      break;
    }
    ASSERT_LT(absl::Now(), deadline) << peer.ShortDebugString();
    absl::SleepFor(absl::Milliseconds(50));
  }
  db_a.Close();

  // Restarted without --peer: both peers are still there (kept in a's
  // database), and the link with b comes back.
  ASSERT_OK(cluster.Stop(a));
  ASSERT_OK(cluster.Restart(a, std::vector<std::string>{}));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Peer> peers, cluster.ListPeers(a));
  ASSERT_THAT(peers, SizeIs(2));
  EXPECT_EQ(peers[0].address(), "127.0.0.1:1");
  EXPECT_THAT(peers[0].tables(), ::testing::ElementsAre("todos"));
  EXPECT_EQ(peers[1].address(), cluster.address(b));
  EXPECT_EQ(peers[1].node_id(), cluster.node_id(b));  // Known before reconnecting.
  ASSERT_OK(cluster.WaitForConnectedPeer(a, cluster.address(b)).status());

  // The unreachable one reports its failures.
  const absl::Time until = absl::Now() + absl::Seconds(30);
  v1::Peer down;
  do {
    ASSERT_LT(absl::Now(), until);
    absl::SleepFor(absl::Milliseconds(50));
    ASSERT_OK_AND_ASSIGN(peers, cluster.ListPeers(a));
    down = peers[0];
  } while (down.failures() == 0);
  EXPECT_FALSE(down.connected());
  EXPECT_THAT(down.last_error(), HasSubstr("UNAVAILABLE"));
  EXPECT_TRUE(down.has_last_error_time());

  // b goes away and comes back: a redials, and what a wrote meanwhile
  // arrives.
  ASSERT_OK(cluster.Stop(b));
  DbClient db_a2(cluster.node(a).NewChannel());
  const v1::Record t2 = Todo(db_a2, "t2", "while b was down");
  ASSERT_OK(cluster.Restart(b));
  ASSERT_OK(cluster.WaitForChange(b, "todos", "t2", t2.revision()));
  db_a2.Close();
}

TEST(ReplicationTest, NodesPeeringEachOtherKeepOneLink) {
  Cluster cluster;
  ASSERT_OK_AND_ASSIGN(int b, cluster.AddNode());
  ASSERT_OK_AND_ASSIGN(int a, cluster.AddNode({b}));
  ASSERT_OK(cluster.AddPeer(b, cluster.address(a)).status());
  ASSERT_OK(cluster.WaitForConnectedPeer(a, cluster.address(b)).status());
  ASSERT_OK(cluster.WaitForConnectedPeer(b, cluster.address(a)).status());
  DbClient db_a(cluster.node(a).NewChannel());
  DbClient db_b(cluster.node(b).NewChannel());
  ASSERT_OK(db_a.CreateTable(TodoTable()));
  const v1::Record t1 = Todo(db_a, "t1", "a");
  ASSERT_OK(cluster.WaitForChange(b, "todos", "t1", t1.revision()));
  const v1::Record t2 = Todo(db_b, "t2", "b");
  ASSERT_OK(cluster.WaitForChange(a, "todos", "t2", t2.revision()));
  // The node with the larger id logged that it kept the other's stream, or
  // refused its own; either way neither reports an error.
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Peer> pa, cluster.ListPeers(a));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Peer> pb, cluster.ListPeers(b));
  EXPECT_EQ(pa[0].last_error(), "");
  EXPECT_EQ(pb[0].last_error(), "");
  // The duplicate was seen and resolved.
  const std::string logs = cluster.node(a).log() + cluster.node(b).log();
  // Node ids are quoted in messages (QuoteInput: they are the peer's to choose).
  EXPECT_THAT(logs, HasSubstr("already exists; the one dialed by \"" +
                              std::min(cluster.node_id(a), cluster.node_id(b)) + "\" is kept"));
  db_a.Close();
  db_b.Close();
}

}  // namespace
}  // namespace recondb::testing
