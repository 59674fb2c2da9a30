// The peer manager without sockets: a fake dialer whose streams are
// in-process pipes to another manager's ServeAccepted (or fail at once),
// engines over the memory backend, tiny backoff delays. Waits are bounded
// polling with a deadline; nothing asserts on elapsed time.
#include "reconciler/peer_manager.h"

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/table_names.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reconciler/testing.h"
#include "storage/memory_storage.h"
#include "tests/support/status_matchers.h"

namespace recondb::reconciler {
namespace {

using ::recondb::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

constexpr absl::Duration kWait = absl::Seconds(20);

// Polls `done` every few milliseconds until it holds or kWait passes.
template <typename F>
bool Eventually(F done) {
  const absl::Time deadline = absl::Now() + kWait;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

// The shared state of a pipe: two one-way queues.
struct PipeState {
  absl::Mutex mu;
  std::deque<v1::ReplicateMessage> queue[2] ABSL_GUARDED_BY(mu);
  bool closed[2] ABSL_GUARDED_BY(mu) = {false, false};  // Writer half-closed.
  bool broken ABSL_GUARDED_BY(mu) = false;
  // Only the dialer's end is broken: a half-open connection whose accepting
  // side has not noticed anything.
  bool dialer_broken ABSL_GUARDED_BY(mu) = false;
};

// One end of an in-process pipe: end `side` reads queue[side] and writes
// queue[1 - side].
class PipeEnd : public DialedStream {
 public:
  PipeEnd(std::shared_ptr<PipeState> state, int side) : state_(std::move(state)), side_(side) {}

  bool Read(v1::ReplicateMessage* message) override {
    absl::MutexLock lock(&state_->mu);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
      return Broken() || !state_->queue[side_].empty() || state_->closed[1 - side_];
    };
    state_->mu.Await(absl::Condition(&ready));
    if (Broken() || state_->queue[side_].empty()) return false;
    *message = std::move(state_->queue[side_].front());
    state_->queue[side_].pop_front();
    return true;
  }
  bool Write(const v1::ReplicateMessage& message) override {
    absl::MutexLock lock(&state_->mu);
    if (Broken() || state_->closed[side_]) return false;
    state_->queue[1 - side_].push_back(message);
    return true;
  }
  void WritesDone() override {
    absl::MutexLock lock(&state_->mu);
    if (side_ == 0 && state_->dialer_broken) return;  // Lost on the way.
    state_->closed[side_] = true;
  }
  void Cancel() override {
    absl::MutexLock lock(&state_->mu);
    // A half-open connection's cancel never reaches the other side.
    if (side_ == 0 && state_->dialer_broken) return;
    state_->broken = true;
  }
  // The accepting side's status, once its ServeAccepted returned, is what
  // the dialer sees when its own session saw a broken stream.
  absl::Status Finish(const absl::Status& session_status) override {
    if (!session_status.ok()) Cancel();
    if (!absl::IsUnavailable(session_status) || server_status_ == nullptr) return session_status;
    absl::MutexLock lock(&state_->mu);
    if (state_->dialer_broken) return session_status;  // No status comes back.
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
      return server_status_->has_value();
    };
    state_->mu.AwaitWithTimeout(absl::Condition(&done), absl::Seconds(5));
    if (server_status_->has_value() && !(*server_status_)->ok() &&
        !absl::IsCancelled(**server_status_)) {
      return **server_status_;
    }
    return session_status;
  }

  std::shared_ptr<std::optional<absl::Status>> server_status_;

 private:
  bool Broken() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
    return state_->broken || (side_ == 0 && state_->dialer_broken);
  }

  std::shared_ptr<PipeState> state_;
  const int side_;
};

// A node: an engine over the memory backend and its peer manager.
struct Node {
  std::unique_ptr<storage::Storage> storage;
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<PeerManager> peers;
};

// Dials "node-N:1" by running the accepting side on node N's manager in a
// thread, over a pipe; any other address fails like a refused connection.
class FakeDialer : public Dialer {
 public:
  ~FakeDialer() override { JoinAll(); }

  void Register(const std::string& address, PeerManager* target) {
    absl::MutexLock lock(&mu_);
    targets_[address] = target;
  }

  absl::StatusOr<std::unique_ptr<DialedStream>> Dial(const std::string& address,
                                                     v1::SessionMode mode,
                                                     absl::Time deadline) override {
    auto state = std::make_shared<PipeState>();
    auto dialer_end = std::make_unique<PipeEnd>(state, 0);
    absl::MutexLock lock(&mu_);
    ++attempts_;
    if (address.rfind("blackhole", 0) == 0) {
      // Connected, but nobody ever answers.
      blackholes_.push_back(std::make_unique<PipeEnd>(state, 1));
      return std::unique_ptr<DialedStream>(std::move(dialer_end));
    }
    auto it = targets_.find(address);
    if (it == targets_.end()) {
      // Like a refused connection: the stream is broken from the start.
      dialer_end->Cancel();
      return std::unique_ptr<DialedStream>(std::make_unique<RefusedStream>(std::move(dialer_end)));
    }
    live_.push_back(state);
    auto status = std::make_shared<std::optional<absl::Status>>();
    dialer_end->server_status_ = status;
    PeerManager* target = it->second;
    ++open_;
    // The remote address as a transport would name it: one per connection.
    const std::string remote = absl::StrCat("pipe:", attempts_);
    threads_.emplace_back([this, state, status, target, mode, remote] {
      PipeEnd accepted(state, 1);
      absl::Status s = target->ServeAccepted(&accepted, remote, mode);
      {
        absl::MutexLock state_lock(&state->mu);
        *status = s;
        // The server's end of the call: the dialer's reads end.
        state->closed[1] = true;
      }
      absl::MutexLock lock(&mu_);
      --open_;
    });
    return std::unique_ptr<DialedStream>(std::move(dialer_end));
  }

  // Breaks the dialer's end of every pipe made so far, leaving the accepting
  // ends open (half-open connections).
  void BreakDialerSides() {
    absl::MutexLock lock(&mu_);
    for (auto& state : live_) {
      absl::MutexLock state_lock(&state->mu);
      state->dialer_broken = true;
    }
  }

  int attempts() {
    absl::MutexLock lock(&mu_);
    return attempts_;
  }
  // Accepting sessions still running.
  int open() {
    absl::MutexLock lock(&mu_);
    return open_;
  }
  void JoinAll() {
    std::vector<std::thread> threads;
    {
      absl::MutexLock lock(&mu_);
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
  }

 private:
  class RefusedStream : public DialedStream {
   public:
    explicit RefusedStream(std::unique_ptr<PipeEnd> end) : end_(std::move(end)) {}
    bool Read(v1::ReplicateMessage* m) override { return end_->Read(m); }
    bool Write(const v1::ReplicateMessage& m) override { return end_->Write(m); }
    void WritesDone() override { end_->WritesDone(); }
    void Cancel() override { end_->Cancel(); }
    absl::Status Finish(const absl::Status&) override {
      return absl::UnavailableError("connection refused");
    }

   private:
    std::unique_ptr<PipeEnd> end_;
  };

  absl::Mutex mu_;
  std::map<std::string, PeerManager*> targets_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<PipeEnd>> blackholes_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<PipeState>> live_ ABSL_GUARDED_BY(mu_);
  int attempts_ ABSL_GUARDED_BY(mu_) = 0;
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

BackoffPolicy FastBackoff() {
  BackoffPolicy b;
  b.initial = absl::Milliseconds(1);
  b.max = absl::Milliseconds(4);
  b.jitter = 0;
  return b;
}

class PeerManagerTest : public ::testing::Test {
 protected:
  ~PeerManagerTest() override {
    // Every manager stops before any is destroyed: a node still dialing would
    // otherwise run ServeAccepted (on the fake dialer's thread) in a manager
    // already freed (a heap-use-after-free found by TSan). After Shutdown,
    // ServeAccepted refuses at once, so JoinAll returns.
    for (auto& n : nodes_) {
      if (n->peers) n->peers->Shutdown();
    }
    dialer_.JoinAll();
    for (auto& n : nodes_) n->peers.reset();
  }

  std::unique_ptr<engine::Engine> OpenEngine(storage::Storage* storage) {
    engine::EngineOptions o;
    o.storage = storage;
    absl::StatusOr<std::unique_ptr<engine::Engine>> e = engine::Engine::Open(std::move(o));
    EXPECT_OK(e);
    return e.ok() ? std::move(e).value() : nullptr;
  }

  PeerManagerOptions Options(engine::Engine* engine) {
    PeerManagerOptions o;
    o.engine = engine;
    o.dialer = &dialer_;
    o.backoff = FastBackoff();
    o.seed = 1;
    o.clock = &clock_;
    o.stale_after = absl::Hours(1);
    o.on_retry = [this](const std::string& address, int failures, absl::Duration delay) {
      absl::MutexLock lock(&mu_);
      retries_.push_back({failures, delay});
    };
    return o;
  }

  // A node reachable as "node-<index>:1".
  Node* AddNode(std::vector<std::string> initial_peers = {}) {
    auto node = std::make_unique<Node>();
    node->storage = storage::NewMemoryStorage();
    node->engine = OpenEngine(node->storage.get());
    node->peers = std::make_unique<PeerManager>(Options(node->engine.get()));
    dialer_.Register(absl::StrCat("node-", nodes_.size(), ":1"), node->peers.get());
    EXPECT_OK(node->peers->Start(initial_peers));
    nodes_.push_back(std::move(node));
    return nodes_.back().get();
  }

  std::vector<std::pair<int, absl::Duration>> Retries() {
    absl::MutexLock lock(&mu_);
    return retries_;
  }

  // 2026-01-01T00:00:00Z; moves only when a test says so.
  FakeClock clock_{1767225600LL * 1000000};
  FakeDialer dialer_;
  std::vector<std::unique_ptr<Node>> nodes_;
  absl::Mutex mu_;
  std::vector<std::pair<int, absl::Duration>> retries_ ABSL_GUARDED_BY(mu_);
};

v1::Table NotesTable() {
  v1::Table t;
  t.set_name("notes");
  v1::Column* c = t.add_columns();
  c->set_name("body");
  c->set_type(v1::COLUMN_TYPE_STRING);
  c->set_nullable(true);
  return t;
}

absl::StatusOr<v1::Record> PutNote(engine::Engine& engine, const std::string& id,
                                   const std::string& body) {
  v1::Record r;
  r.set_table("notes");
  r.set_id(id);
  (*r.mutable_attributes())["body"].set_string(body);
  return engine.PutRecord(r, nullptr);
}

bool HasNote(engine::Engine& engine, const std::string& id) {
  v1::GetRecordRequest get;
  get.set_table("notes");
  get.set_id(id);
  return engine.GetRecord(get).ok();
}

TEST(BackoffDelayTest, DoublesFromHalfASecondUpToThirtySeconds) {
  BackoffPolicy policy;
  policy.jitter = 0;
  std::mt19937_64 rng(7);
  std::vector<absl::Duration> delays;
  for (int failures = 1; failures <= 9; ++failures) {
    delays.push_back(BackoffDelay(policy, failures, rng));
  }
  EXPECT_THAT(delays, ElementsAre(absl::Milliseconds(500), absl::Seconds(1), absl::Seconds(2),
                                  absl::Seconds(4), absl::Seconds(8), absl::Seconds(16),
                                  absl::Seconds(30), absl::Seconds(30), absl::Seconds(30)));
  // Bounded however many failures there were.
  EXPECT_EQ(BackoffDelay(policy, 1'000'000, rng), absl::Seconds(30));
}

TEST(BackoffDelayTest, JitterStaysWithinTwentyPercentAndVaries) {
  BackoffPolicy policy;  // jitter 0.2
  std::mt19937_64 rng(42);
  std::set<int64_t> seen;
  for (int failures = 1; failures <= 12; ++failures) {
    for (int i = 0; i < 50; ++i) {
      const absl::Duration base =
          std::min(absl::Milliseconds(500) * (1 << std::min(failures - 1, 10)), absl::Seconds(30));
      const absl::Duration d = BackoffDelay(policy, failures, rng);
      EXPECT_GE(d, base * 0.8) << failures;
      EXPECT_LE(d, base * 1.2) << failures;
      if (failures == 1) seen.insert(absl::ToInt64Microseconds(d));
    }
  }
  EXPECT_GT(seen.size(), 10u);  // Peers that failed together do not retry together.
}

TEST(ValidationTest, AddressesAndTables) {
  EXPECT_OK(ValidatePeerAddress("127.0.0.1:7470"));
  EXPECT_OK(ValidatePeerAddress("node-b.example:1"));
  EXPECT_OK(ValidatePeerAddress("[::1]:7470"));
  for (const char* bad : {"", "host", ":7470", "host:", "host:0", "host:65536", "host:x"}) {
    EXPECT_THAT(ValidatePeerAddress(bad),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("address")))
        << bad;
  }
  EXPECT_OK(ValidateTableFilter({"todos", "notes_2"}));
  EXPECT_THAT(
      ValidateTableFilter({"todos", "Bad"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tables: table name \"Bad\"")));
}

// The filter applied the identifier shape only, so it let through names the
// engine refuses (reserved suffixes and prefixes): it now applies the one
// rule, common/table_names.h, and refuses exactly what the engine refuses.
TEST(ValidationTest, TableFiltersRefuseWhatTheEngineRefuses) {
  for (const char* name : {"todos", "x_history_log", "t_1", "todos_history", "sqlite_master",
                           "sqlite_x", "Bad", "_audit", "", "t\xc3\xa9"}) {
    const absl::Status engine_rule = ValidateTableName(name);
    const absl::Status filter = ValidateTableFilter({"todos", name});
    EXPECT_EQ(filter.ok(), engine_rule.ok()) << name;
    if (!engine_rule.ok()) {
      EXPECT_THAT(filter, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tables: ")))
          << name;
    }
  }
  EXPECT_THAT(ValidateTableFilter({"todos_history"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("_history are reserved")));
  EXPECT_THAT(ValidateTableFilter({"sqlite_master"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sqlite_ are reserved")));
}

// Issue 14 point 6: "127.0.0.1:1:2" and a 10,000-character host were
// accepted and dialed.
TEST(ValidationTest, HostsThatAreNotDnsNamesOrIpAddressesAreRefused) {
  EXPECT_OK(ValidatePeerAddress("10.0.0.7:7470"));
  EXPECT_OK(ValidatePeerAddress("Node-B.example.org.:7470"));
  EXPECT_OK(ValidatePeerAddress("[2001:db8::1]:7470"));
  EXPECT_OK(ValidatePeerAddress(std::string(63, 'a') + "." + std::string(63, 'b') + ":1"));
  const std::string huge(10000, 'h');
  for (const std::string& bad :
       {std::string("127.0.0.1:1:2"), std::string("::1:7470"), std::string("[::1:7470"),
        std::string("[not-ip6]:7470"), std::string("[]:7470"), std::string("999.0.0.1:7470"),
        std::string("1.2.3:7470"), std::string("under_score:1"), std::string("a..b:1"),
        std::string("-lead:1"), std::string("trail-:1"), std::string("sp ace:1"),
        std::string("new\nline:1"), std::string(64, 'l') + ".example:1",
        std::string(254, 'a') + ":1", huge + ":7470"}) {
    const absl::Status status = ValidatePeerAddress(bad);
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("address")))
        << bad.substr(0, 80);
    EXPECT_LT(status.message().size(), 600u) << bad.substr(0, 80);
    EXPECT_EQ(status.message().find('\n'), std::string::npos);
  }
}

TEST(ValidationTest, TableFiltersOverTheLimitAreRefused) {
  EXPECT_OK(ValidateTableFilter(std::vector<std::string>(1000, "todos")));
  EXPECT_THAT(ValidateTableFilter(std::vector<std::string>(1001, "todos")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(HasSubstr("tables"), HasSubstr("1000"))));
}

TEST_F(PeerManagerTest, RemovingAHugeUnknownAddressIsAShortNotFound) {
  Node* a = AddNode({});
  const std::string huge(10000, 'h');
  const absl::Status status = a->peers->RemovePeer(huge + ":1");
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kNotFound, HasSubstr("not configured")));
  EXPECT_LT(status.message().size(), 300u);
}

TEST_F(PeerManagerTest, FailedDialsBackOffAndAreReported) {
  Node* a = AddNode({"nowhere:1"});
  ASSERT_TRUE(Eventually([&] { return Retries().size() >= 5; }));
  const auto retries = Retries();
  // 1, 2, 4, then the 4 ms bound; failures counted one by one.
  EXPECT_EQ(retries[0], std::make_pair(1, absl::Milliseconds(1)));
  EXPECT_EQ(retries[1], std::make_pair(2, absl::Milliseconds(2)));
  EXPECT_EQ(retries[2], std::make_pair(3, absl::Milliseconds(4)));
  EXPECT_EQ(retries[3], std::make_pair(4, absl::Milliseconds(4)));
  std::vector<v1::Peer> peers = a->peers->ListPeers();
  ASSERT_THAT(peers, SizeIs(1));
  EXPECT_EQ(peers[0].address(), "nowhere:1");
  EXPECT_FALSE(peers[0].connected());
  EXPECT_GE(peers[0].failures(), 4);
  EXPECT_THAT(peers[0].last_error(), HasSubstr("connection refused"));
  EXPECT_TRUE(peers[0].has_last_error_time());
}

TEST_F(PeerManagerTest, RemoveStopsTheLoopAtOnce) {
  Node* a = AddNode();
  // Give the loop a delay it would never finish in a test.
  a->peers.reset();
  PeerManagerOptions slow = Options(a->engine.get());
  slow.backoff.initial = absl::Hours(1);
  slow.backoff.max = absl::Hours(1);
  a->peers = std::make_unique<PeerManager>(std::move(slow));
  ASSERT_OK(a->peers->Start({}));
  ASSERT_OK(a->peers->AddPeer("nowhere:1", {}).status());
  ASSERT_TRUE(Eventually([&] { return !Retries().empty(); }));
  // Returns although the loop is waiting out an hour-long delay.
  ASSERT_OK(a->peers->RemovePeer("nowhere:1"));
  EXPECT_THAT(a->peers->ListPeers(), SizeIs(0));
  const int attempts = dialer_.attempts();
  EXPECT_EQ(attempts, 1);
  EXPECT_THAT(a->peers->RemovePeer("nowhere:1"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nowhere:1")));
  // Shutdown does not wait for the delay either.
  ASSERT_OK(a->peers->AddPeer("nowhere:2", {}).status());
  ASSERT_TRUE(Eventually([&] { return dialer_.attempts() == 2; }));
  a->peers->Shutdown();
  EXPECT_THAT(a->peers->AddPeer("nowhere:3", {}), StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(PeerManagerTest, AddPeerValidates) {
  Node* a = AddNode();
  EXPECT_THAT(a->peers->AddPeer("no-port", {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("address")));
  EXPECT_THAT(a->peers->AddPeer("h:1", {"BAD-name"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tables")));
  EXPECT_THAT(a->peers->ListPeers(), SizeIs(0));
  PeerManager other(Options(a->engine.get()));
  EXPECT_THAT(other.Start({"bad"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("address")));
}

TEST_F(PeerManagerTest, PeersSurviveRecreation) {
  Node* a = AddNode({"first:1"});
  ASSERT_OK(a->peers->AddPeer("second:2", {"todos", "notes"}).status());
  ASSERT_OK(a->peers->AddPeer("third:3", {}).status());
  ASSERT_OK(a->peers->RemovePeer("third:3"));
  a->peers.reset();

  a->peers = std::make_unique<PeerManager>(Options(a->engine.get()));
  ASSERT_OK(a->peers->Start({}));
  std::vector<v1::Peer> peers = a->peers->ListPeers();
  ASSERT_THAT(peers, SizeIs(2));
  EXPECT_EQ(peers[0].address(), "first:1");
  EXPECT_THAT(peers[0].tables(), SizeIs(0));
  EXPECT_EQ(peers[1].address(), "second:2");
  EXPECT_THAT(peers[1].tables(), ElementsAre("notes", "todos"));

  // Initial peers add to the persisted ones; a known one keeps its filter.
  a->peers.reset();
  a->peers = std::make_unique<PeerManager>(Options(a->engine.get()));
  ASSERT_OK(a->peers->Start({"second:2", "fourth:4"}));
  peers = a->peers->ListPeers();
  ASSERT_THAT(peers, SizeIs(3));
  EXPECT_EQ(peers[1].address(), "fourth:4");
  EXPECT_THAT(peers[2].tables(), ElementsAre("notes", "todos"));
  ASSERT_OK_AND_ASSIGN(std::string stored, a->engine->GetNodeMeta(kPeersMetaKey));
  EXPECT_THAT(stored, HasSubstr("fourth:4"));
}

TEST_F(PeerManagerTest, LiveLinkReplicatesBothWaysAndReportsState) {
  Node* a = AddNode();
  Node* b = AddNode();
  ASSERT_OK(a->engine->CreateTable(NotesTable()).status());
  ASSERT_OK(PutNote(*a->engine, "from-a", "hello").status());
  ASSERT_OK(a->peers->AddPeer("node-1:1", {}).status());
  ASSERT_TRUE(Eventually([&] { return HasNote(*b->engine, "from-a"); }));
  // Live: later writes on either side flow without a new dial.
  ASSERT_OK(PutNote(*b->engine, "from-b", "hi").status());
  ASSERT_TRUE(Eventually([&] { return HasNote(*a->engine, "from-b"); }));
  ASSERT_OK(PutNote(*a->engine, "later", "again").status());
  ASSERT_TRUE(Eventually([&] { return HasNote(*b->engine, "later"); }));
  EXPECT_EQ(dialer_.attempts(), 1);

  ASSERT_TRUE(Eventually([&] {
    std::vector<v1::Peer> p = a->peers->ListPeers();
    return p.size() == 1 && p[0].connected() && p[0].has_last_sync_time() &&
           p[0].outgoing().lag() == 0 && p[0].incoming().lag() == 0 &&
           p[0].outgoing().checkpoint() == a->engine->LastSeq();
  }));
  v1::Peer p = a->peers->ListPeers()[0];
  EXPECT_EQ(p.node_id(), b->engine->node_id());
  EXPECT_EQ(p.failures(), 0);
  EXPECT_EQ(p.last_error(), "");

  // Removing the peer closes the link; the accepting side's session ends.
  ASSERT_OK(a->peers->RemovePeer("node-1:1"));
  ASSERT_TRUE(Eventually([&] { return dialer_.open() == 0; }));
}

TEST_F(PeerManagerTest, TwoNodesDialingEachOtherKeepOneLink) {
  Node* a = AddNode();
  Node* b = AddNode();
  ASSERT_OK(a->engine->CreateTable(NotesTable()).status());
  ASSERT_OK(a->peers->AddPeer("node-1:1", {}).status());
  ASSERT_OK(b->peers->AddPeer("node-0:1", {}).status());
  // Both report a connected peer, over exactly one accepted stream: the one
  // dialed by the node with the smaller id.
  ASSERT_TRUE(Eventually([&] {
    auto pa = a->peers->ListPeers();
    auto pb = b->peers->ListPeers();
    return pa[0].connected() && pb[0].connected() && dialer_.open() == 1;
  }));
  ASSERT_OK(PutNote(*a->engine, "x", "1").status());
  ASSERT_TRUE(Eventually([&] { return HasNote(*b->engine, "x"); }));
  ASSERT_OK(PutNote(*b->engine, "y", "2").status());
  ASSERT_TRUE(Eventually([&] { return HasNote(*a->engine, "y"); }));
  EXPECT_EQ(dialer_.open(), 1);
  // The refused dialer is not failing: it waits for the kept link to end.
  EXPECT_EQ(a->peers->ListPeers()[0].last_error(), "");
  EXPECT_EQ(b->peers->ListPeers()[0].last_error(), "");
}

TEST_F(PeerManagerTest, OneNodeUnderTwoAddressesKeepsOneLink) {
  Node* a = AddNode();
  Node* b = AddNode();
  dialer_.Register("alias-of-1:1", b->peers.get());
  ASSERT_OK(a->engine->CreateTable(NotesTable()).status());
  ASSERT_OK(a->peers->AddPeer("node-1:1", {}).status());
  ASSERT_OK(a->peers->AddPeer("alias-of-1:1", {}).status());
  // Of two links dialed by the same node, the newer one is kept, and the
  // other address waits for it to end instead of redialing.
  ASSERT_TRUE(Eventually([&] {
    auto p = a->peers->ListPeers();
    return p.size() == 2 && p[0].connected() && p[1].connected() && dialer_.open() == 1;
  }));
  ASSERT_OK(PutNote(*a->engine, "x", "1").status());
  ASSERT_TRUE(Eventually([&] { return HasNote(*b->engine, "x"); }));
  EXPECT_EQ(dialer_.open(), 1);
}

// Regression: a half-open link (the dialer gave up on it, the accepting side
// has not noticed) must not lock the dialer out: the newer link replaces it.
TEST_F(PeerManagerTest, RedialReplacesAHalfOpenLink) {
  Node* a = AddNode();
  Node* b = AddNode();
  ASSERT_OK(a->engine->CreateTable(NotesTable()).status());
  ASSERT_OK(a->peers->AddPeer("node-1:1", {}).status());
  ASSERT_TRUE(Eventually([&] {
    auto p = a->peers->ListPeers();
    return p[0].connected() && dialer_.open() == 1;
  }));
  dialer_.BreakDialerSides();
  ASSERT_OK(PutNote(*a->engine, "after", "the break").status());
  ASSERT_TRUE(Eventually([&] { return HasNote(*b->engine, "after"); }));
  // The stale accepted session was stopped.
  ASSERT_TRUE(Eventually([&] { return dialer_.open() == 1; }));
  EXPECT_GE(dialer_.attempts(), 2);
}

TEST_F(PeerManagerTest, SyncMovesEverythingOnceAndReportsCounts) {
  Node* a = AddNode();
  Node* b = AddNode();
  ASSERT_OK(a->engine->CreateTable(NotesTable()).status());
  for (int i = 0; i < 5; ++i) ASSERT_OK(PutNote(*a->engine, absl::StrCat("n", i), "x").status());
  ASSERT_OK_AND_ASSIGN(SyncResult result, b->peers->Sync("node-0:1", {}, absl::Seconds(30)));
  EXPECT_EQ(result.peer_node_id, a->engine->node_id());
  EXPECT_EQ(result.received.revisions_grafted(), 5);
  EXPECT_EQ(result.sent.revisions_grafted(), 0);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(HasNote(*b->engine, absl::StrCat("n", i)));
  // Not a peer.
  EXPECT_THAT(b->peers->ListPeers(), SizeIs(0));
  // Nothing new the second time.
  ASSERT_OK_AND_ASSIGN(result, b->peers->Sync("node-0:1", {}, absl::Seconds(30)));
  EXPECT_EQ(result.received.revisions_grafted(), 0);

  EXPECT_THAT(b->peers->Sync("nowhere:1", {}, absl::Seconds(30)),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("sync with nowhere:1")));
  // A peer that never answers: the sync gives up at its deadline.
  EXPECT_THAT(b->peers->Sync("blackhole:1", {}, absl::Milliseconds(50)),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       HasSubstr("sync with blackhole:1: did not finish within 50ms")));
  EXPECT_THAT(b->peers->Sync("bad", {}, absl::Seconds(30)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("address")));
}

// The registry entry of `node` in `manager`'s ListPeers, if listed.
std::optional<v1::Peer> Listed(PeerManager& manager, const Node& node) {
  for (const v1::Peer& p : manager.ListPeers()) {
    if (p.node_id() == node.engine->node_id()) return p;
  }
  return std::nullopt;
}

TEST_F(PeerManagerTest, AHubListsTheNodesThatDialedIn) {
  Node* hub = AddNode();
  Node* laptop1 = AddNode({"node-0:1"});
  Node* laptop2 = AddNode({"node-0:1"});
  ASSERT_OK(laptop1->engine->CreateTable(NotesTable()).status());
  ASSERT_OK(PutNote(*laptop1->engine, "l1", "from the field").status());
  ASSERT_TRUE(Eventually([&] { return HasNote(*hub->engine, "l1"); }));
  ASSERT_TRUE(Eventually([&] {
    std::optional<v1::Peer> a = Listed(*hub->peers, *laptop1);
    std::optional<v1::Peer> b = Listed(*hub->peers, *laptop2);
    return a && b && a->connected() && b->connected() && a->received().revisions_grafted() == 1 &&
           a->incoming().lag() == 0 && !a->incoming_catch_up().running() &&
           a->has_last_sync_time();
  }));
  std::vector<v1::Peer> peers = hub->peers->ListPeers();
  ASSERT_THAT(peers, SizeIs(2));  // The hub configures no peer.
  for (const v1::Peer& p : peers) {
    EXPECT_EQ(p.origin(), v1::PEER_ORIGIN_ACCEPTED);
    EXPECT_THAT(p.address(), ::testing::StartsWith("pipe:"));
    EXPECT_EQ(p.incarnation().size(), 32u);
    EXPECT_EQ(p.protocol_version(), kProtocolVersion);
    EXPECT_TRUE(p.has_first_connected_time());
    EXPECT_EQ(p.last_connected_time().seconds(), 1767225600);
    EXPECT_EQ(p.last_seen_time().seconds(), 1767225600);
    EXPECT_FALSE(p.has_last_disconnected_time());
    EXPECT_FALSE(p.stale());
    EXPECT_FALSE(p.copied_store());
  }
  v1::Peer p1 = *Listed(*hub->peers, *laptop1);
  EXPECT_EQ(p1.incarnation(), laptop1->engine->incarnation());
  EXPECT_EQ(p1.incoming().last_seq(), laptop1->engine->LastSeq());
  EXPECT_EQ(p1.incoming().checkpoint(), laptop1->engine->LastSeq());
  EXPECT_GT(p1.received().bytes(), 0);

  // A laptop goes away: still listed, not connected, with what it moved.
  clock_.Advance(absl::ToInt64Microseconds(absl::Minutes(5)));
  laptop1->peers.reset();
  ASSERT_TRUE(Eventually([&] { return !Listed(*hub->peers, *laptop1)->connected(); }));
  p1 = *Listed(*hub->peers, *laptop1);
  EXPECT_EQ(p1.last_disconnected_time().seconds(), 1767225600 + 300);
  EXPECT_EQ(p1.last_seen_time().seconds(), 1767225600 + 300);
  EXPECT_THAT(p1.last_disconnect_reason(), Not(::testing::IsEmpty()));
  EXPECT_EQ(p1.received().revisions_grafted(), 1);
  EXPECT_EQ(p1.incoming().lag(), 0);
  // Kept from its link, which was caught up until it ended.
  EXPECT_GE(p1.last_sync_time().seconds(), 1767225600);
  EXPECT_LE(p1.last_sync_time().seconds(), p1.last_disconnected_time().seconds());
  EXPECT_FALSE(p1.stale());
  // The hub writes while it is away: the outgoing lag grows.
  ASSERT_OK(PutNote(*hub->engine, "h1", "for everyone").status());
  EXPECT_EQ(Listed(*hub->peers, *laptop1)->outgoing().lag(), 1);
  ASSERT_TRUE(Eventually([&] { return HasNote(*laptop2->engine, "h1"); }));
  // The hub relayed laptop 1's table and note, and sent its own, to laptop 2.
  ASSERT_TRUE(Eventually([&] {
    const v1::TransferCounts sent = Listed(*hub->peers, *laptop2)->sent();
    return sent.tables_sent() >= 1 && sent.revisions_sent() == 2 && sent.bytes() > 0;
  }));

  // Stale once not seen for longer than stale_after; a connected node never is.
  clock_.Advance(absl::ToInt64Microseconds(absl::Hours(1)));
  EXPECT_FALSE(Listed(*hub->peers, *laptop1)->stale());  // Exactly stale_after: not yet.
  clock_.Advance(1);
  EXPECT_TRUE(Listed(*hub->peers, *laptop1)->stale());
  EXPECT_FALSE(Listed(*hub->peers, *laptop2)->stale());
  EXPECT_TRUE(Listed(*hub->peers, *laptop2)->connected());

  // It comes back (a new incarnation, as after any restart): one entry again.
  laptop1->peers = std::make_unique<PeerManager>(Options(laptop1->engine.get()));
  ASSERT_OK(laptop1->peers->Start({}));
  ASSERT_TRUE(Eventually([&] { return Listed(*hub->peers, *laptop1)->connected(); }));
  EXPECT_THAT(hub->peers->ListPeers(), SizeIs(2));
  p1 = *Listed(*hub->peers, *laptop1);
  EXPECT_FALSE(p1.stale());
  EXPECT_EQ(p1.first_connected_time().seconds(), 1767225600);
  EXPECT_EQ(p1.last_connected_time().seconds(), 1767225600 + 3900);
}

TEST_F(PeerManagerTest, TheHubRemembersItsNodesAcrossARestart) {
  Node* hub = AddNode();
  Node* laptop = AddNode({"node-0:1"});
  ASSERT_OK(laptop->engine->CreateTable(NotesTable()).status());
  ASSERT_OK(PutNote(*laptop->engine, "l1", "x").status());
  ASSERT_OK(PutNote(*laptop->engine, "l2", "y").status());
  ASSERT_TRUE(Eventually([&] { return HasNote(*hub->engine, "l2"); }));
  ASSERT_TRUE(Eventually([&] {
    std::optional<v1::Peer> p = Listed(*hub->peers, *laptop);
    return p && p->received().revisions_grafted() == 2 && p->incoming().lag() == 0;
  }));
  clock_.Advance(absl::ToInt64Microseconds(absl::Minutes(1)));
  laptop->peers.reset();
  ASSERT_TRUE(Eventually([&] { return !Listed(*hub->peers, *laptop)->connected(); }));
  const v1::Peer before = *Listed(*hub->peers, *laptop);

  // The hub restarts (its manager is rebuilt over the same store) while
  // the laptop stays away for three months.
  hub->peers.reset();
  clock_.Advance(absl::ToInt64Microseconds(absl::Hours(24 * 90)));
  hub->peers = std::make_unique<PeerManager>(Options(hub->engine.get()));
  dialer_.Register("node-0:1", hub->peers.get());
  ASSERT_OK(hub->peers->Start({}));
  std::optional<v1::Peer> after = Listed(*hub->peers, *laptop);
  ASSERT_TRUE(after.has_value());
  EXPECT_FALSE(after->connected());
  EXPECT_TRUE(after->stale());
  EXPECT_EQ(after->origin(), v1::PEER_ORIGIN_ACCEPTED);
  EXPECT_EQ(after->address(), before.address());
  EXPECT_EQ(after->incarnation(), laptop->engine->incarnation());
  EXPECT_EQ(after->first_connected_time().seconds(), before.first_connected_time().seconds());
  EXPECT_EQ(after->last_disconnected_time().seconds(), 1767225600 + 60);
  EXPECT_EQ(after->last_disconnect_reason(), before.last_disconnect_reason());
  EXPECT_EQ(after->received().revisions_grafted(), 2);
  EXPECT_EQ(after->received().bytes(), before.received().bytes());
  EXPECT_EQ(after->incoming().checkpoint(), laptop->engine->LastSeq());
  ASSERT_OK_AND_ASSIGN(std::string stored, hub->engine->GetNodeMeta(kSeenPeersMetaKey));
  EXPECT_THAT(stored, HasSubstr(laptop->engine->node_id()));
}

TEST_F(PeerManagerTest, TheRegistryForgetsTheNodeSeenLongestAgoBeyondItsBound) {
  Node* hub = AddNode();
  hub->peers.reset();
  PeerManagerOptions o = Options(hub->engine.get());
  o.max_seen_peers = 2;
  hub->peers = std::make_unique<PeerManager>(o);
  dialer_.Register("node-0:1", hub->peers.get());
  ASSERT_OK(hub->peers->Start({}));
  std::vector<Node*> laptops;
  for (int i = 0; i < 3; ++i) {
    Node* laptop = AddNode({"node-0:1"});
    ASSERT_TRUE(Eventually([&] {
      std::optional<v1::Peer> p = Listed(*hub->peers, *laptop);
      return p && p->connected();
    }));
    clock_.Advance(absl::ToInt64Microseconds(absl::Minutes(1)));
    laptop->peers.reset();
    ASSERT_TRUE(Eventually([&] { return !Listed(*hub->peers, *laptop)->connected(); }));
    laptops.push_back(laptop);
  }
  EXPECT_THAT(hub->peers->ListPeers(), SizeIs(2));
  EXPECT_FALSE(Listed(*hub->peers, *laptops[0]).has_value());
  EXPECT_TRUE(Listed(*hub->peers, *laptops[2]).has_value());
}

TEST_F(PeerManagerTest, TwoRunningCopiesOfOneStoreAreBothListedAndFlagged) {
  Node* hub = AddNode();
  // A disk image of a laptop, running beside the original: same node id,
  // another incarnation.
  testing::Node original = testing::MemoryNode();
  testing::Node copy = testing::CopyOf(original, /*keep_identity=*/true);
  ASSERT_EQ(original.engine->node_id(), copy.engine->node_id());
  PeerManager first(Options(original.engine.get()));
  PeerManager second(Options(copy.engine.get()));
  ASSERT_OK(first.Start({"node-0:1"}));
  ASSERT_OK(second.Start({"node-0:1"}));
  std::vector<v1::Peer> peers;
  ASSERT_TRUE(Eventually([&] {
    peers = hub->peers->ListPeers();
    return peers.size() == 2 && peers[0].connected() && peers[1].connected();
  }));
  std::set<std::string> incarnations;
  for (const v1::Peer& p : peers) {
    EXPECT_EQ(p.node_id(), original.engine->node_id());
    EXPECT_TRUE(p.copied_store());
    incarnations.insert(p.incarnation());
  }
  EXPECT_EQ(incarnations,
            (std::set<std::string>{original.engine->incarnation(), copy.engine->incarnation()}));
  first.Shutdown();
  second.Shutdown();
}

TEST_F(PeerManagerTest, AConfiguredPeerShowsWhatTheRegistryKnowsOfIt) {
  Node* a = AddNode();
  Node* b = AddNode();
  ASSERT_OK(a->peers->AddPeer("node-1:1", {}).status());
  ASSERT_TRUE(Eventually([&] {
    std::vector<v1::Peer> p = a->peers->ListPeers();
    return p.size() == 1 && p[0].connected();
  }));
  v1::Peer p = a->peers->ListPeers()[0];
  EXPECT_EQ(p.origin(), v1::PEER_ORIGIN_CONFIGURED);
  EXPECT_EQ(p.address(), "node-1:1");
  EXPECT_EQ(p.incarnation(), b->engine->incarnation());
  EXPECT_TRUE(p.has_first_connected_time());
  // And the accepting side lists the dialer.
  ASSERT_TRUE(Eventually([&] {
    std::optional<v1::Peer> q = Listed(*b->peers, *a);
    return q && q->connected() && q->origin() == v1::PEER_ORIGIN_ACCEPTED;
  }));
}

}  // namespace
}  // namespace recondb::reconciler
