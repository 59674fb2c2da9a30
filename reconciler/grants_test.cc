// Replication obeys grants (SessionOptions::access, docs/replication-protocol.md
// "Version 3: grants"): what a peer may pull is all it is ever sent, what it
// may not push is refused with nothing written, and a node id belongs to one
// principal.
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "engine/revision.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reconciler/pipe_stream.h"
#include "reconciler/session.h"
#include "reconciler/testing.h"
#include "tests/support/status_matchers.h"

namespace recondb::reconciler {
namespace {

using ::recondb::testing::IsOk;
using ::recondb::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::MemoryNode;
using testing::Node;
using testing::Sync;
using testing::SyncOptions;

v1::Table TableNamed(const std::string& name) {
  v1::Table t;
  t.set_name(name);
  auto* title = t.add_columns();
  title->set_name("title");
  title->set_type(v1::COLUMN_TYPE_STRING);
  return t;
}

void Put(engine::Engine& engine, const std::string& table, const std::string& id) {
  v1::Record r;
  r.set_table(table);
  r.set_id(id);
  (*r.mutable_attributes())["title"].set_string("x");
  ASSERT_THAT(engine.PutRecord(r, nullptr), IsOk());
}

// How many records `engine` has in `table`; -1 if it has no such table.
int Count(engine::Engine& engine, const std::string& table) {
  if (!engine.GetTable(table).ok()) return -1;
  v1::ListRecordsRequest list;
  list.set_table(table);
  list.set_page_size(1000);
  auto page = engine.ListRecords(list);
  return page.ok() ? page->records_size() : -1;
}

PeerAccess Only(const std::string& principal, const std::string& pull, const std::string& push) {
  PeerAccess a;
  a.principal = principal;
  a.may_pull = [pull](std::string_view t) { return pull == "*" || t == pull; };
  a.may_push = [push](std::string_view t) { return push == "*" || t == push; };
  return a;
}

// A hub holding todos and cases, and a peer whose principal may pull only
// todos from it.
struct Hub {
  Node hub = MemoryNode();
  Hub() {
    EXPECT_THAT(hub.engine->CreateTable(TableNamed("todos")), IsOk());
    EXPECT_THAT(hub.engine->CreateTable(TableNamed("cases")), IsOk());
    for (int i = 0; i < 3; ++i) {
      Put(*hub.engine, "todos", "t" + std::to_string(i));
      Put(*hub.engine, "cases", "c" + std::to_string(i));
    }
  }
};

TEST(GrantsTest, APeerThatMayPullOnlyTodosNeverReceivesCasesEvenAskingForIt) {
  for (const int version : {kProtocolVersion, 2}) {
    SCOPED_TRACE(absl::StrCat("hub speaks version ", version));
    for (const std::vector<std::string>& asked :
         {std::vector<std::string>{"cases", "todos"}, std::vector<std::string>{"cases"},
          std::vector<std::string>{}}) {
      SCOPED_TRACE(absl::StrCat("asked for ", asked.size(), " tables"));
      Hub h;
      Node laptop = MemoryNode();
      SyncOptions o;
      o.dialer_tables = asked;
      o.acceptor_access = Only("laptop", "todos", "*");
      o.acceptor_max_protocol_version = version;
      auto result = Sync(*laptop.engine, *h.hub.engine, o);
      ASSERT_THAT(result.dialer, IsOk());
      ASSERT_THAT(result.acceptor, IsOk());
      EXPECT_EQ(Count(*laptop.engine, "cases"), -1);
      EXPECT_EQ(Count(*laptop.engine, "todos"), asked.size() == 1 ? -1 : 3);
      EXPECT_THAT(result.acceptor_progress.withheld_from_peer, ElementsAre("cases"));
      EXPECT_EQ(result.acceptor_progress.peer_principal, "laptop");
      if (version >= 3) {
        // Told by name what it asked for and was refused; not told names it
        // did not ask for.
        if (asked.empty()) {
          EXPECT_THAT(result.dialer_progress.withheld_by_peer, IsEmpty());
          EXPECT_TRUE(result.dialer_progress.peer_withheld_unnamed);
        } else {
          EXPECT_THAT(result.dialer_progress.withheld_by_peer, ElementsAre("cases"));
          EXPECT_FALSE(result.dialer_progress.peer_withheld_unnamed);
        }
      } else {
        // A version-2 peer is not told, and still never sent cases.
        EXPECT_THAT(result.dialer_progress.withheld_by_peer, IsEmpty());
        EXPECT_FALSE(result.dialer_progress.peer_withheld_unnamed);
      }
    }
  }
}

TEST(GrantsTest, ATableCreatedLaterIsWithheldToo) {
  Node hub = MemoryNode(), laptop = MemoryNode();
  ASSERT_THAT(hub.engine->CreateTable(TableNamed("todos")), IsOk());
  Put(*hub.engine, "todos", "t0");
  SyncOptions o;
  o.acceptor_access = Only("laptop", "todos", "*");
  auto first = Sync(*laptop.engine, *hub.engine, o);
  ASSERT_THAT(first.dialer, IsOk());
  EXPECT_THAT(first.acceptor_progress.withheld_from_peer, IsEmpty());
  // Created after the laptop's checkpoint, within one live session's reach
  // too: the feed's table entry and records are judged page by page.
  ASSERT_THAT(hub.engine->CreateTable(TableNamed("cases")), IsOk());
  Put(*hub.engine, "cases", "c0");
  Put(*hub.engine, "todos", "t1");
  auto second = Sync(*laptop.engine, *hub.engine, o);
  ASSERT_THAT(second.dialer, IsOk());
  EXPECT_EQ(Count(*laptop.engine, "cases"), -1);
  EXPECT_EQ(Count(*laptop.engine, "todos"), 2);
  EXPECT_THAT(second.acceptor_progress.withheld_from_peer, ElementsAre("cases"));
}

TEST(GrantsTest, ALiveSessionWithholdsATableCreatedDuringIt) {
  Node hub = MemoryNode(), laptop = MemoryNode();
  ASSERT_THAT(hub.engine->CreateTable(TableNamed("todos")), IsOk());
  PipeEnds pipe = MakePipe(16);
  auto options = [](engine::Engine& e, bool dialer) {
    SessionOptions o;
    o.engine = &e;
    o.dialer = dialer;
    o.mode = v1::SESSION_MODE_LIVE;
    return o;
  };
  SessionOptions hub_options = options(*hub.engine, false);
  hub_options.access = Only("laptop", "todos", "*");
  Session hub_side(hub_options, pipe.second.get());
  Session laptop_side(options(*laptop.engine, true), pipe.first.get());
  // Stopping one side may end the other with a broken stream: the statuses
  // are not the point.
  std::thread a([&] { hub_side.Run().IgnoreError(); });
  std::thread b([&] { laptop_side.Run().IgnoreError(); });
  ASSERT_THAT(hub.engine->CreateTable(TableNamed("cases")), IsOk());
  Put(*hub.engine, "cases", "c0");
  Put(*hub.engine, "todos", "after");  // After cases in the feed.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (Count(*laptop.engine, "todos") != 1 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(Count(*laptop.engine, "todos"), 1);
  EXPECT_EQ(Count(*laptop.engine, "cases"), -1);
  EXPECT_THAT(hub_side.progress().withheld_from_peer, ElementsAre("cases"));
  hub_side.Stop();
  laptop_side.Stop();
  a.join();
  b.join();
}

TEST(GrantsTest, ARelayNeverLeaksATableToAPeerThatMayNotPullIt) {
  Hub a;  // A: todos and cases.
  Node b = MemoryNode(), c = MemoryNode();
  ASSERT_THAT(Sync(*b.engine, *a.hub.engine).dialer, IsOk());  // B may have everything.
  ASSERT_EQ(Count(*b.engine, "cases"), 3);
  for (const std::vector<std::string>& asked :
       {std::vector<std::string>{}, std::vector<std::string>{"cases", "todos"}}) {
    SyncOptions o;
    o.dialer_tables = asked;
    o.acceptor_access = Only("c", "todos", "*");
    auto result = Sync(*c.engine, *b.engine, o);
    ASSERT_THAT(result.dialer, IsOk());
    EXPECT_EQ(Count(*c.engine, "todos"), 3);
    EXPECT_EQ(Count(*c.engine, "cases"), -1);
  }
}

TEST(GrantsTest, PushingIntoAForbiddenTableIsRefusedWithNothingWritten) {
  for (const int version : {kProtocolVersion, 2}) {
    SCOPED_TRACE(absl::StrCat("laptop speaks version ", version));
    Node hub = MemoryNode(), laptop = MemoryNode();
    // The laptop made both tables: their definitions and records are in
    // its first batch, which the hub must refuse whole.
    ASSERT_THAT(laptop.engine->CreateTable(TableNamed("todos")), IsOk());
    ASSERT_THAT(laptop.engine->CreateTable(TableNamed("cases")), IsOk());
    Put(*laptop.engine, "todos", "t0");
    Put(*laptop.engine, "cases", "c0");
    SyncOptions o;
    o.dialer_max_protocol_version = version;
    o.acceptor_access = Only("laptop", "*", "todos");
    auto result = Sync(*laptop.engine, *hub.engine, o);
    EXPECT_THAT(result.acceptor,
                StatusIs(absl::StatusCode::kPermissionDenied,
                         AllOf(HasSubstr("principal \"laptop\""), HasSubstr("push table \"cases\""))));
    EXPECT_EQ(Count(*hub.engine, "cases"), -1);
    EXPECT_EQ(Count(*hub.engine, "todos"), -1);
    auto checkpoint = hub.engine->GetCheckpoint(CheckpointKey(laptop.engine->node_id(), {}));
    ASSERT_THAT(checkpoint, IsOk());
    EXPECT_EQ(checkpoint->seq, 0);
  }
}

// A pull-only version-2 peer offers back what it pulled (the definition and
// the records): echoes, which write nothing, pass; the sync completes.
TEST(GrantsTest, APullOnlyOldPeerMayOfferBackWhatItPulled) {
  Hub h;
  Node laptop = MemoryNode();
  SyncOptions o;
  o.dialer_tables = {"todos"};
  o.dialer_max_protocol_version = 2;
  o.acceptor_access = Only("laptop", "todos", "none");
  auto result = Sync(*laptop.engine, *h.hub.engine, o);
  ASSERT_THAT(result.acceptor, IsOk());
  ASSERT_THAT(result.dialer, IsOk());
  EXPECT_EQ(Count(*laptop.engine, "todos"), 3);
  // Another sync: the laptop's feed now holds todos and offers them.
  auto again = Sync(*laptop.engine, *h.hub.engine, o);
  ASSERT_THAT(again.acceptor, IsOk());
  // But a change of its own is a push, and refused.
  Put(*laptop.engine, "todos", "mine");
  auto pushed = Sync(*laptop.engine, *h.hub.engine, o);
  EXPECT_THAT(pushed.acceptor,
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("push table \"todos\"")));
  EXPECT_EQ(Count(*h.hub.engine, "todos"), 3);
}

TEST(GrantsTest, AVersion3SourceLeavesOutWhatTheReceiverSaysItRefuses) {
  Node hub = MemoryNode(), laptop = MemoryNode();
  // Both know cases (the laptop pulled it from the hub); the laptop may
  // not push it, and is told so: it offers todos only, and the link works.
  ASSERT_THAT(hub.engine->CreateTable(TableNamed("cases")), IsOk());
  Put(*hub.engine, "cases", "c0");
  ASSERT_THAT(Sync(*laptop.engine, *hub.engine).dialer, IsOk());
  ASSERT_THAT(laptop.engine->CreateTable(TableNamed("todos")), IsOk());
  Put(*laptop.engine, "todos", "t0");
  Put(*laptop.engine, "cases", "c1");
  SyncOptions o;
  o.acceptor_access = Only("laptop", "*", "todos");
  auto result = Sync(*laptop.engine, *hub.engine, o);
  ASSERT_THAT(result.dialer, IsOk());
  ASSERT_THAT(result.acceptor, IsOk());
  EXPECT_EQ(Count(*hub.engine, "todos"), 1);
  EXPECT_EQ(Count(*hub.engine, "cases"), 1);  // c1 stayed on the laptop.
  EXPECT_THAT(result.dialer_progress.refused_by_peer, ElementsAre("cases"));
  EXPECT_THAT(result.acceptor_progress.refused_from_peer, ElementsAre("cases"));
}

// The registry of node ids a real Authorizer keeps: the first principal to
// present an id owns it.
class NodeIds {
 public:
  PeerAccess For(const std::string& principal) {
    PeerAccess a;
    a.principal = principal;
    a.claim_node_id = [this, principal](std::string_view id) {
      absl::MutexLock lock(&mu_);
      auto [it, inserted] = owners_.emplace(std::string(id), principal);
      if (inserted || it->second == principal) return absl::OkStatus();
      return absl::PermissionDeniedError("the node id belongs to another principal");
    };
    return a;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::string> owners_ ABSL_GUARDED_BY(mu_);
};

TEST(GrantsTest, ANodeIdClaimedByAnotherPrincipalIsRefused) {
  Node hub = MemoryNode(), laptop = MemoryNode();
  ASSERT_THAT(laptop.engine->CreateTable(TableNamed("todos")), IsOk());
  Put(*laptop.engine, "todos", "t0");
  NodeIds ids;
  SyncOptions as_laptop;
  as_laptop.acceptor_access = ids.For("laptop");
  ASSERT_THAT(Sync(*laptop.engine, *hub.engine, as_laptop).acceptor, IsOk());
  const std::string key = CheckpointKey(laptop.engine->node_id(), {});
  const int64_t checkpoint = hub.engine->GetCheckpoint(key)->seq;
  // An impostor presents the laptop's id (read from its GetStatus) with
  // a feed of its own that runs further.
  Node copy = testing::CopyOf(laptop, /*keep_identity=*/true);
  for (int i = 0; i < 5; ++i) Put(*copy.engine, "todos", "fake" + std::to_string(i));
  SyncOptions as_mallory;
  as_mallory.acceptor_access = ids.For("mallory");
  auto refused = Sync(*copy.engine, *hub.engine, as_mallory);
  EXPECT_THAT(refused.acceptor,
              StatusIs(absl::StatusCode::kPermissionDenied,
                       AllOf(HasSubstr("principal \"mallory\""), HasSubstr("node id"))));
  EXPECT_EQ(hub.engine->GetCheckpoint(key)->seq, checkpoint);
  EXPECT_EQ(Count(*hub.engine, "todos"), 1);
  // The real node's next writes still arrive.
  Put(*laptop.engine, "todos", "t1");
  ASSERT_THAT(Sync(*laptop.engine, *hub.engine, as_laptop).acceptor, IsOk());
  EXPECT_EQ(Count(*hub.engine, "todos"), 2);
}

// A peer speaking the protocol by hand: after the node's first Summaries it
// asks for a record of a table it was never offered.
TEST(GrantsTest, AskingForAWithheldRecordExplicitlyIsRefused) {
  Hub h;
  PipeEnds pipe = MakePipe(64);
  SessionOptions options;
  options.engine = h.hub.engine.get();
  options.dialer = false;
  options.access = Only("laptop", "todos", "*");
  Session session(options, pipe.second.get());
  absl::Status status;
  std::thread runner([&] { status = session.Run(); });
  v1::ReplicateMessage hello;
  hello.mutable_hello()->set_node_id("laptop-node");
  hello.mutable_hello()->set_protocol_version(kMinProtocolVersion);
  hello.mutable_hello()->set_mode(v1::SESSION_MODE_ONE_SHOT);
  ASSERT_TRUE(pipe.first->Write(hello));
  v1::ReplicateMessage ack;
  ack.mutable_ack()->set_batch(0);
  ASSERT_TRUE(pipe.first->Write(ack));
  v1::ReplicateMessage in;
  int64_t batch = -1;
  while (batch < 0 && pipe.first->Read(&in)) {
    if (!in.has_summaries()) continue;
    batch = in.summaries().batch();
    for (const auto& r : in.summaries().records()) EXPECT_EQ(r.table(), "todos");
    for (const auto& t : in.summaries().tables()) EXPECT_EQ(t.name(), "todos");
  }
  ASSERT_EQ(batch, 1);
  v1::ReplicateMessage want;
  want.mutable_want()->set_batch(batch);
  auto* w = want.mutable_want()->add_records();
  w->set_table("cases");
  w->set_id("c0");
  w->add_missing("1-00000000000000000000000000000000");
  ASSERT_TRUE(pipe.first->Write(want));
  while (pipe.first->Read(&in)) {
    EXPECT_FALSE(in.has_revisions() && in.revisions().revisions_size() > 0 &&
                 in.revisions().revisions(0).table() == "cases");
  }
  runner.join();
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kPermissionDenied,
                               AllOf(HasSubstr("may not pull table \"cases\""),
                                     HasSubstr("principal \"laptop\""))));
}

// Revisions of a forbidden table inside a batch whose Summaries named only
// an allowed one: the part is refused before anything of it is grafted.
TEST(GrantsTest, RevisionsOfAForbiddenTableRefuseTheWholePart) {
  Node hub = MemoryNode();
  PipeEnds pipe = MakePipe(64);
  SessionOptions options;
  options.engine = hub.engine.get();
  options.dialer = false;
  options.access = Only("laptop", "*", "todos");
  Session session(options, pipe.second.get());
  absl::Status status;
  std::thread runner([&] { status = session.Run(); });
  auto body = [](const std::string& table, const std::string& id) {
    v1::RevisionBody b;
    b.set_table(table);
    b.set_id(id);
    (*b.mutable_attributes())["title"].set_string("x");
    std::map<std::string, v1::Value> attributes(b.attributes().begin(), b.attributes().end());
    engine::RevisionContent content{table, id, "", false, &attributes};
    b.set_revision(engine::ComputeRevision(1, content));
    return b;
  };
  std::vector<v1::ReplicateMessage> script(4);
  script[0].mutable_hello()->set_node_id("laptop-node");
  script[0].mutable_hello()->set_protocol_version(kMinProtocolVersion);
  script[0].mutable_hello()->set_mode(v1::SESSION_MODE_ONE_SHOT);
  script[1].mutable_ack()->set_batch(0);
  v1::Summaries* s = script[2].mutable_summaries();
  s->set_batch(1);
  s->set_up_to_seq(10);
  *s->add_tables() = TableNamed("todos");
  auto* r = s->add_records();
  r->set_table("todos");
  r->set_id("t0");
  *r->add_leaves() = body("todos", "t0").revision();
  v1::Revisions* revs = script[3].mutable_revisions();
  revs->set_batch(1);
  revs->set_up_to_seq(10);
  revs->set_last_part(true);
  *revs->add_revisions() = body("todos", "t0");
  *revs->add_revisions() = body("cases", "c0");
  for (const auto& m : script) {
    if (!pipe.first->Write(m)) break;
  }
  v1::ReplicateMessage ignored;
  while (pipe.first->Read(&ignored)) {
  }
  runner.join();
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("push table \"cases\"")));
  EXPECT_EQ(Count(*hub.engine, "todos"), 0);  // The table came; t0 did not.
  EXPECT_EQ(hub.engine->GetCheckpoint(CheckpointKey("laptop-node", {}))->seq, 0);
}

}  // namespace
}  // namespace recondb::reconciler
