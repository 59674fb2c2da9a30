// The hub sees its field nodes (issue 12): real recondbd processes, laptops
// dialing a hub with --peer (or Admin.AddPeer), and the hub's
// Admin.ListPeers, polled with a deadline. What a poll sees is checked
// against the laptops' own state; nothing asserts on elapsed time.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/cluster.h"
#include "tests/support/db_client.h"
#include "tests/support/status_matchers.h"

namespace recondb::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr absl::Duration kWait = absl::Seconds(60);

// Node `node_id` as hub `i` lists it, if it does.
std::optional<v1::Peer> Listed(Cluster& cluster, int i, const std::string& node_id) {
  absl::StatusOr<std::vector<v1::Peer>> peers = cluster.ListPeers(i);
  EXPECT_OK(peers);
  if (!peers.ok()) return std::nullopt;
  for (const v1::Peer& p : *peers) {
    if (p.node_id() == node_id) return p;
  }
  return std::nullopt;
}

// Polls hub `i` until `done` holds for node `node_id`'s entry; returns the
// entry, or nullopt after kWait.
template <typename F>
std::optional<v1::Peer> WaitForListed(Cluster& cluster, int i, const std::string& node_id, F done) {
  const absl::Time deadline = absl::Now() + kWait;
  while (absl::Now() < deadline) {
    std::optional<v1::Peer> p = Listed(cluster, i, node_id);
    if (p.has_value() && done(*p)) return p;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return std::nullopt;
}

int64_t Records(Cluster& cluster, int i) {
  absl::StatusOr<v1::NodeStatus> status = cluster.GetStatus(i);
  EXPECT_OK(status);
  if (!status.ok()) return -1;
  for (const v1::TableStatus& t : status->tables()) {
    if (t.name() == "todos") return t.records();
  }
  return 0;
}

TEST(HubViewTest, AHubListsTheLaptopsThatDialItAndRemembersThem) {
  Cluster cluster;
  ASSERT_OK_AND_ASSIGN(int hub, cluster.AddNode({}, {"--stale_peer_after=2s"}));
  ASSERT_OK_AND_ASSIGN(int laptop1, cluster.AddNode({hub}));
  ASSERT_OK_AND_ASSIGN(int laptop2, cluster.AddNode({hub}));
  DbClient db1(cluster.node(laptop1).NewChannel());
  ASSERT_OK(db1.CreateTable(TodoTable()));
  ASSERT_OK_AND_ASSIGN(v1::Record t1, db1.Create("todos", {{"title", StringValue("field")}}, "t1"));
  ASSERT_OK(cluster.WaitForChange(laptop2, "todos", "t1", t1.revision()));  // Through the hub.
  db1.Close();

  for (int laptop : {laptop1, laptop2}) {
    std::optional<v1::Peer> p =
        WaitForListed(cluster, hub, cluster.node_id(laptop), [](const v1::Peer& p) {
          return p.connected() && p.incoming().lag() == 0 && p.outgoing().lag() == 0;
        });
    ASSERT_TRUE(p.has_value()) << "laptop " << laptop;
    EXPECT_EQ(p->origin(), v1::PEER_ORIGIN_ACCEPTED);
    EXPECT_THAT(p->address(), HasSubstr("127.0.0.1"));
    EXPECT_EQ(p->incarnation().size(), 32u);
    EXPECT_TRUE(p->has_first_connected_time());
    EXPECT_TRUE(p->has_last_connected_time());
    EXPECT_TRUE(p->has_last_seen_time());
    EXPECT_FALSE(p->stale());
    EXPECT_FALSE(p->copied_store());
  }
  std::optional<v1::Peer> from1 = Listed(cluster, hub, cluster.node_id(laptop1));
  ASSERT_TRUE(from1.has_value());
  EXPECT_EQ(from1->received().revisions_grafted(), 1);
  EXPECT_GE(from1->received().tables_sent(), 1);
  EXPECT_GT(from1->received().bytes(), 0);
  std::optional<v1::Peer> to2 =
      WaitForListed(cluster, hub, cluster.node_id(laptop2),
                    [](const v1::Peer& p) { return p.sent().revisions_sent() == 1; });
  ASSERT_TRUE(to2.has_value());
  EXPECT_GT(to2->sent().bytes(), 0);
  // The hub configures no peer: the two laptops are all it lists.
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Peer> peers, cluster.ListPeers(hub));
  EXPECT_EQ(peers.size(), 2u);

  // Laptop 2 goes away: still listed, not connected, with why it ended.
  ASSERT_OK(cluster.Stop(laptop2));
  std::optional<v1::Peer> gone = WaitForListed(cluster, hub, cluster.node_id(laptop2),
                                               [](const v1::Peer& p) { return !p.connected(); });
  ASSERT_TRUE(gone.has_value());
  EXPECT_TRUE(gone->has_last_disconnected_time());
  EXPECT_FALSE(gone->last_disconnect_reason().empty());
  EXPECT_EQ(gone->sent().revisions_sent(), 1);
  // Not seen for longer than --stale_peer_after: stale, and still listed.
  ASSERT_TRUE(WaitForListed(cluster, hub, cluster.node_id(laptop2), [](const v1::Peer& p) {
                return p.stale();
              }).has_value());
  EXPECT_FALSE(Listed(cluster, hub, cluster.node_id(laptop1))->stale());  // Connected.

  // The hub restarts: laptop 2 is still listed, as it was.
  ASSERT_OK(cluster.Stop(hub));
  ASSERT_OK(cluster.Restart(hub));
  std::optional<v1::Peer> remembered = Listed(cluster, hub, cluster.node_id(laptop2));
  ASSERT_TRUE(remembered.has_value());
  EXPECT_FALSE(remembered->connected());
  EXPECT_EQ(remembered->origin(), v1::PEER_ORIGIN_ACCEPTED);
  EXPECT_EQ(remembered->first_connected_time().seconds(), gone->first_connected_time().seconds());
  EXPECT_EQ(remembered->last_disconnected_time().seconds(),
            gone->last_disconnected_time().seconds());
  EXPECT_EQ(remembered->sent().revisions_sent(), 1);
  EXPECT_TRUE(remembered->has_last_sync_time());
  // Laptop 1 redials the restarted hub.
  ASSERT_TRUE(WaitForListed(cluster, hub, cluster.node_id(laptop1), [](const v1::Peer& p) {
                return p.connected();
              }).has_value());
}

// Regression (issue 12): a 6,000-change backlog read 1000, then 4000, then
// 0 on the receiver. At every poll of the hub during a laptop's catch-up,
// the incoming lag is the laptop's real backlog (its last seq minus the
// hub's checkpoint), it reads 0 only once the hub has every record, and
// the records remaining go down to 0.
TEST(HubViewTest, TheIncomingLagIsTheLaptopsRealBacklogAtEveryPollOfACatchUp) {
  Cluster cluster;
  ASSERT_OK_AND_ASSIGN(int hub, cluster.AddNode());
  // Small batches: many steps to poll.
  ASSERT_OK_AND_ASSIGN(
      int laptop, cluster.AddNode({}, {"--replication_batch_records=5", "--durability=normal"}));
  constexpr int kRecords = 3000;
  {
    DbClient db(cluster.node(laptop).NewChannel());
    ASSERT_OK(db.CreateTable(TodoTable()));
    for (int i = 0; i < kRecords; ++i) {
      ASSERT_OK(
          db.Create("todos", {{"title", StringValue("offline")}}, absl::StrCat("t", i)).status());
    }
  }
  ASSERT_OK_AND_ASSIGN(v1::NodeStatus before, cluster.GetStatus(laptop));
  const int64_t laptop_last_seq = before.last_seq();
  ASSERT_OK(cluster.AddPeer(laptop, cluster.address(hub)).status());

  int polls = 0;
  int mid_catch_up = 0;
  int64_t last_remaining = kRecords + 1;
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  v1::Peer p;
  while (true) {
    ASSERT_LT(absl::Now(), deadline) << p.ShortDebugString();
    std::optional<v1::Peer> listed = Listed(cluster, hub, cluster.node_id(laptop));
    const int64_t hub_records = Records(cluster, hub);  // After the poll: never fewer.
    if (!listed.has_value() || !listed->connected()) {
      absl::SleepFor(absl::Milliseconds(2));
      continue;
    }
    p = *listed;
    ++polls;
    // Lag: the laptop's feed end as it is, minus the hub's checkpoint.
    EXPECT_EQ(p.incoming().last_seq(), laptop_last_seq) << p.ShortDebugString();
    EXPECT_EQ(p.incoming().lag(), laptop_last_seq - p.incoming().checkpoint())
        << p.ShortDebugString();
    if (p.incoming().lag() == 0) {
      EXPECT_EQ(hub_records, kRecords) << "lag 0 before the hub has everything";
    } else {
      ++mid_catch_up;
    }
    const v1::CatchUpProgress& c = p.incoming_catch_up();
    if (c.running()) {
      EXPECT_TRUE(c.remaining_known());
      EXPECT_LE(c.records_remaining(), last_remaining) << c.ShortDebugString();
      EXPECT_EQ(c.records_done() + c.records_remaining(), kRecords) << c.ShortDebugString();
      last_remaining = c.records_remaining();
    }
    if (p.incoming().lag() == 0 && !c.running()) break;
    absl::SleepFor(absl::Milliseconds(2));
  }
  EXPECT_GT(mid_catch_up, 0) << "no poll saw the catch-up running (" << polls << " polls)";
  EXPECT_EQ(Records(cluster, hub), kRecords);
  EXPECT_EQ(p.incoming_catch_up().records_remaining(), 0);
  EXPECT_EQ(p.incoming_catch_up().records_done(), kRecords);
  EXPECT_GT(p.incoming_catch_up().bytes_done(), 0);
  EXPECT_EQ(p.received().revisions_grafted(), kRecords);
  // The laptop wrote nothing meanwhile: its backlog was what it said.
  ASSERT_OK_AND_ASSIGN(v1::NodeStatus after, cluster.GetStatus(laptop));
  EXPECT_EQ(after.last_seq(), laptop_last_seq);
}

}  // namespace
}  // namespace recondb::testing
