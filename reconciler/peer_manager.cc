#include "reconciler/peer_manager.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "google/protobuf/util/json_util.h"
#include "spdlog/sinks/null_sink.h"

namespace recondb::reconciler {

// One configured peer and its dial loop.
struct PeerManager::Peer {
  std::string address;
  std::vector<std::string> tables;
  // Learnt from the last handshake (persisted).
  std::string node_id;
  // The loop must end (RemovePeer).
  bool removed = false;
  // The loop must redial at once (the table filter changed).
  bool wake = false;
  int failures = 0;
  std::string last_error;
  absl::Time last_error_time = absl::InfinitePast();
  absl::Time last_sync_time = absl::InfinitePast();
  // Of the last link with the peer, kept for ListPeers while disconnected.
  std::optional<SessionProgress> last_progress;
  // The link of the session the loop is running, if any.
  std::shared_ptr<Link> link;
  std::thread thread;
};

// One session, dialed or accepted.
struct PeerManager::Link {
  int64_t id = 0;
  bool dialed_by_us = false;
  bool one_shot = false;
  // The configured address (dialed) or the transport's name of the remote.
  std::string address;
  // The configured peer whose loop dialed it; null otherwise. The loop
  // outlives the link.
  Peer* peer = nullptr;

  // Guarded by PeerManager::mu_.
  std::string node_id;  // After the handshake.
  absl::Status stop_reason = absl::OkStatus();
  bool stopped = false;
  SessionProgress progress;
  absl::Time last_sync_time = absl::InfinitePast();

  // Guards `running`, `session` and `stream`: StopLink() uses them only
  // while the session runs. Acquired before PeerManager::mu_.
  absl::Mutex run_mu;
  bool running ABSL_GUARDED_BY(run_mu) = false;
  Session* session ABSL_GUARDED_BY(run_mu) = nullptr;
  MessageStream* stream ABSL_GUARDED_BY(run_mu) = nullptr;
};

namespace {

bool IsTableName(std::string_view name) {
  if (name.empty() || name.size() > 63 || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t micros = absl::ToUnixMicros(t);
  ts.set_seconds(micros / 1000000);
  ts.set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  return ts;
}

v1::DirectionStatus Direction(int64_t checkpoint, int64_t last_seq) {
  v1::DirectionStatus d;
  d.set_checkpoint(checkpoint);
  d.set_last_seq(std::max(last_seq, checkpoint));
  d.set_lag(std::max<int64_t>(0, last_seq - checkpoint));
  return d;
}

std::vector<std::string> Sorted(std::vector<std::string> tables) {
  std::sort(tables.begin(), tables.end());
  tables.erase(std::unique(tables.begin(), tables.end()), tables.end());
  return tables;
}

}  // namespace

absl::Duration BackoffDelay(const BackoffPolicy& policy, int failures, std::mt19937_64& rng) {
  absl::Duration delay = policy.initial;
  for (int i = 1; i < failures && delay < policy.max; ++i) delay = delay * policy.multiplier;
  delay = std::min(delay, policy.max);
  if (policy.jitter > 0) {
    std::uniform_real_distribution<double> factor(1.0 - policy.jitter, 1.0 + policy.jitter);
    delay = delay * factor(rng);
  }
  return delay;
}

absl::Status ValidatePeerAddress(std::string_view address) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(Sv(address.substr(colon + 1)), &port) || port < 1 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "address \"", Sv(address), "\" is not host:port with a port between 1 and 65535"));
  }
  return absl::OkStatus();
}

absl::Status ValidateTableFilter(const std::vector<std::string>& tables) {
  for (const std::string& t : tables) {
    if (!IsTableName(t)) {
      return absl::InvalidArgumentError(
          absl::StrCat("tables: \"", t, "\" is not a table name (^[a-z][a-z0-9_]{0,62}$)"));
    }
  }
  return absl::OkStatus();
}

PeerManager::PeerManager(PeerManagerOptions options)
    : options_(std::move(options)),
      logger_(options_.logger != nullptr
                  ? options_.logger
                  : std::make_shared<spdlog::logger>(
                        "peers", std::make_shared<spdlog::sinks::null_sink_mt>())),
      rng_(options_.seed.has_value() ? *options_.seed : std::random_device()()) {}

PeerManager::~PeerManager() { Shutdown(); }

// ---- Configuration and persistence ----

absl::StatusOr<std::vector<v1::Peer>> PeerManager::LoadPersisted() {
  absl::StatusOr<std::string> text = options_.engine->GetNodeMeta(kPeersMetaKey);
  if (absl::IsNotFound(text.status())) return std::vector<v1::Peer>();
  if (!text.ok()) return text.status();
  v1::ListPeersResponse list;
  auto parsed = google::protobuf::util::JsonStringToMessage(*text, &list);
  if (!parsed.ok()) {
    return absl::DataLossError(
        absl::StrCat("node metadata ", kPeersMetaKey, " does not parse: ", parsed.ToString()));
  }
  return std::vector<v1::Peer>(list.peers().begin(), list.peers().end());
}

absl::Status PeerManager::WritePeers(const std::vector<v1::Peer>& peers) {
  v1::ListPeersResponse list;
  for (const v1::Peer& p : peers) {
    v1::Peer* out = list.add_peers();
    out->set_address(p.address());
    *out->mutable_tables() = p.tables();
    out->set_node_id(p.node_id());
  }
  std::string json;
  auto printed = google::protobuf::util::MessageToJsonString(list, &json);
  if (!printed.ok()) return absl::InternalError(printed.ToString());
  return options_.engine->SetNodeMeta(kPeersMetaKey, json);
}

std::vector<v1::Peer> PeerManager::ConfiguredLocked() const {
  std::vector<v1::Peer> out;
  for (const auto& [address, peer] : peers_) {
    v1::Peer& p = out.emplace_back();
    p.set_address(address);
    for (const std::string& t : peer->tables) p.add_tables(t);
    p.set_node_id(peer->node_id);
  }
  return out;
}

absl::Status PeerManager::PersistCurrent() {
  absl::MutexLock persist(&persist_mu_);
  std::vector<v1::Peer> peers;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::OkStatus();
    peers = ConfiguredLocked();
  }
  return WritePeers(peers);
}

absl::Status PeerManager::Start(const std::vector<std::string>& initial_peers) {
  for (const std::string& a : initial_peers) {
    if (absl::Status s = ValidatePeerAddress(a); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("peer: ", s.message()));
    }
  }
  absl::MutexLock persist(&persist_mu_);
  ASSIGN_OR_RETURN(std::vector<v1::Peer> peers, LoadPersisted());
  for (const std::string& a : initial_peers) {
    auto known = std::find_if(peers.begin(), peers.end(),
                              [&](const v1::Peer& p) { return p.address() == a; });
    if (known == peers.end()) peers.emplace_back().set_address(a);
  }
  RETURN_IF_ERROR(WritePeers(peers));
  absl::MutexLock lock(&mu_);
  if (started_ || stopping_) return absl::FailedPreconditionError("peer manager already started");
  started_ = true;
  for (const v1::Peer& p : peers) {
    auto peer = std::make_unique<Peer>();
    peer->address = p.address();
    peer->tables.assign(p.tables().begin(), p.tables().end());
    peer->node_id = p.node_id();
    Peer* raw = peer.get();
    peers_[p.address()] = std::move(peer);
    StartLoop(raw);
  }
  logger_->info("replicating with {} configured peer(s)", peers.size());
  return absl::OkStatus();
}

void PeerManager::StartLoop(Peer* peer) {
  peer->thread = std::thread([this, peer] { DialLoop(peer); });
}

absl::StatusOr<v1::Peer> PeerManager::AddPeer(const std::string& address,
                                              std::vector<std::string> tables) {
  RETURN_IF_ERROR(ValidatePeerAddress(address));
  RETURN_IF_ERROR(ValidateTableFilter(tables));
  tables = Sorted(std::move(tables));
  std::shared_ptr<Link> restart;
  v1::Peer state;
  {
    absl::MutexLock persist(&persist_mu_);
    std::vector<v1::Peer> peers;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return absl::UnavailableError("shutting down");
      if (!started_) return absl::FailedPreconditionError("peer manager not started");
      peers = ConfiguredLocked();
    }
    auto known = std::find_if(peers.begin(), peers.end(),
                              [&](const v1::Peer& p) { return p.address() == address; });
    v1::Peer& entry = known != peers.end() ? *known : peers.emplace_back();
    entry.set_address(address);
    entry.clear_tables();
    for (const std::string& t : tables) entry.add_tables(t);
    RETURN_IF_ERROR(WritePeers(peers));

    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::UnavailableError("shutting down");
    auto it = peers_.find(address);
    if (it == peers_.end()) {
      auto peer = std::make_unique<Peer>();
      peer->address = address;
      peer->tables = tables;
      Peer* raw = peer.get();
      peers_[address] = std::move(peer);
      StartLoop(raw);
      logger_->info("peer {} added", address);
    } else if (it->second->tables != tables) {
      it->second->tables = tables;
      it->second->wake = true;
      restart = it->second->link;
      logger_->info("peer {}: table filter now [{}]", address, absl::StrJoin(tables, ","));
    }
    state = PeerState(*peers_[address]);
  }
  if (restart != nullptr) StopLink(restart, absl::OkStatus(), /*cancel=*/true);
  return state;
}

absl::Status PeerManager::RemovePeer(const std::string& address) {
  std::unique_ptr<Peer> removed;
  std::shared_ptr<Link> link;
  {
    absl::MutexLock persist(&persist_mu_);
    std::vector<v1::Peer> peers;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return absl::UnavailableError("shutting down");
      if (peers_.count(address) == 0) {
        return absl::NotFoundError(absl::StrCat("peer \"", address, "\" is not configured"));
      }
      peers = ConfiguredLocked();
    }
    peers.erase(std::remove_if(peers.begin(), peers.end(),
                               [&](const v1::Peer& p) { return p.address() == address; }),
                peers.end());
    RETURN_IF_ERROR(WritePeers(peers));
    absl::MutexLock lock(&mu_);
    auto it = peers_.find(address);
    if (it == peers_.end()) return absl::OkStatus();  // Removed meanwhile.
    removed = std::move(it->second);
    peers_.erase(it);
    removed->removed = true;
    link = removed->link;
  }
  // Outside persist_mu_: the loop may be persisting a node id.
  if (link != nullptr) StopLink(link, absl::CancelledError("peer removed"), /*cancel=*/true);
  if (removed->thread.joinable()) removed->thread.join();
  logger_->info("peer {} removed", address);
  return absl::OkStatus();
}

std::vector<v1::Peer> PeerManager::ListPeers() {
  absl::MutexLock lock(&mu_);
  std::vector<v1::Peer> out;
  for (const auto& [address, peer] : peers_) out.push_back(PeerState(*peer));
  return out;
}

v1::Peer PeerManager::PeerState(const Peer& peer) const {
  v1::Peer p;
  p.set_address(peer.address);
  for (const std::string& t : peer.tables) p.add_tables(t);
  p.set_node_id(peer.node_id);
  p.set_failures(peer.failures);
  p.set_last_error(peer.last_error);
  if (peer.last_error_time != absl::InfinitePast()) {
    *p.mutable_last_error_time() = ToTimestamp(peer.last_error_time);
  }
  absl::Time last_sync = peer.last_sync_time;
  const SessionProgress* progress = peer.last_progress ? &*peer.last_progress : nullptr;
  if (!peer.node_id.empty()) {
    auto live = live_by_node_.find(peer.node_id);
    if (live != live_by_node_.end()) {
      p.set_connected(true);
      progress = &live->second->progress;
      last_sync = std::max(last_sync, live->second->last_sync_time);
    }
  }
  if (last_sync != absl::InfinitePast()) *p.mutable_last_sync_time() = ToTimestamp(last_sync);
  if (progress != nullptr) {
    *p.mutable_outgoing() = Direction(progress->outgoing_checkpoint, progress->local_last_seq);
    *p.mutable_incoming() = Direction(progress->incoming_checkpoint, progress->peer_last_seq);
  }
  return p;
}

// ---- Dial loops ----

void PeerManager::DialLoop(Peer* peer) {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (peer->removed || stopping_) return;
      peer->wake = false;
    }
    bool handshaken = false;
    const absl::Status status = DialOnce(peer, &handshaken);
    absl::Duration delay;
    int failures;
    std::string node_id;
    {
      absl::MutexLock lock(&mu_);
      if (peer->removed || stopping_) return;
      if (peer->wake) continue;  // New table filter: redial at once.
      node_id = peer->node_id;
      if (absl::IsAlreadyExists(status) && !node_id.empty()) {
        // The link with this node is up through the stream it dialed to us
        // (the duplicate rule kept that one). Dial again once it is gone.
        peer->failures = 0;
        peer->last_error.clear();
        auto gone = [this, peer, &node_id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return peer->removed || stopping_ || peer->wake || live_by_node_.count(node_id) == 0;
        };
        mu_.Await(absl::Condition(&gone));
        if (peer->removed || stopping_) return;
        // At least the first backoff step, so that two nodes refusing each
        // other's streams cannot spin.
        delay = BackoffDelay(options_.backoff, 1, rng_);
        failures = 0;
      } else {
        if (handshaken) peer->failures = 0;  // The link worked: start the backoff over.
        ++peer->failures;
        peer->last_error = status.ok() ? "the peer closed the link" : status.ToString();
        peer->last_error_time = absl::Now();
        failures = peer->failures;
        delay = BackoffDelay(options_.backoff, failures, rng_);
      }
    }
    if (failures == 0) {
      if (!WaitBeforeRetry(peer, delay)) return;
      continue;
    }
    logger_->log(failures == 1 ? spdlog::level::info : spdlog::level::debug,
                 "peer {}: link {} ({}); retrying in {}", peer->address,
                 handshaken ? "lost" : "failed", status.ToString(), absl::FormatDuration(delay));
    if (options_.on_retry) options_.on_retry(peer->address, failures, delay);
    if (!WaitBeforeRetry(peer, delay)) return;
  }
}

bool PeerManager::WaitBeforeRetry(Peer* peer, absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  auto interrupted = [this, peer]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return peer->removed || stopping_ || peer->wake;
  };
  mu_.AwaitWithTimeout(absl::Condition(&interrupted), delay);
  return !peer->removed && !stopping_;
}

absl::Status PeerManager::DialOnce(Peer* peer, bool* handshaken) {
  std::vector<std::string> tables;
  {
    absl::MutexLock lock(&mu_);
    tables = peer->tables;
  }
  absl::StatusOr<std::unique_ptr<DialedStream>> stream =
      options_.dialer->Dial(peer->address, v1::SESSION_MODE_LIVE, absl::InfiniteFuture());
  if (!stream.ok()) return stream.status();
  auto link = std::make_shared<Link>();
  link->dialed_by_us = true;
  link->address = peer->address;
  link->peer = peer;
  absl::Status status =
      RunLink(link, MakeSessionOptions(true, v1::SESSION_MODE_LIVE, tables), stream->get());
  status = (*stream)->Finish(status);
  absl::MutexLock lock(&mu_);
  *handshaken = !link->node_id.empty();
  if (*handshaken) peer->last_progress = link->progress;
  peer->last_sync_time = std::max(peer->last_sync_time, link->last_sync_time);
  if (link->stopped) return link->stop_reason;
  return status;
}

// ---- Sessions ----

SessionOptions PeerManager::MakeSessionOptions(bool dialer, v1::SessionMode mode,
                                               std::vector<std::string> tables) const {
  SessionOptions o = options_.session_defaults;
  o.engine = options_.engine;
  o.dialer = dialer;
  o.mode = mode;
  o.tables = std::move(tables);
  o.logger = logger_;
  return o;
}

absl::Status PeerManager::RunLink(const std::shared_ptr<Link>& link, SessionOptions options,
                                  MessageStream* stream) {
  Link* raw = link.get();
  options.on_handshake = [this, raw](const std::string& node_id) {
    return OnHandshake(raw, node_id);
  };
  options.on_progress = [this, raw](const SessionProgress& p) { OnProgress(raw, p); };
  Session session(std::move(options), stream);
  {
    absl::MutexLock run(&link->run_mu);
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::UnavailableError("shutting down");
    if (link->peer != nullptr && (link->peer->removed || link->peer->wake)) {
      return absl::CancelledError("peer removed or changed");
    }
    link->id = next_link_id_++;
    running_[link->id] = link;
    if (link->peer != nullptr) link->peer->link = link;
    link->running = true;
    link->session = &session;
    link->stream = stream;
  }
  const absl::Status status = session.Run();
  {
    absl::MutexLock run(&link->run_mu);
    link->running = false;
    link->session = nullptr;
    link->stream = nullptr;
  }
  absl::MutexLock lock(&mu_);
  running_.erase(link->id);
  if (link->peer != nullptr && link->peer->link == link) link->peer->link.reset();
  auto live = live_by_node_.find(link->node_id);
  if (live != live_by_node_.end() && live->second == link) live_by_node_.erase(live);
  return status;
}

void PeerManager::StopLink(const std::shared_ptr<Link>& link, const absl::Status& reason,
                           bool cancel) {
  {
    absl::MutexLock lock(&mu_);
    if (!link->stopped) {
      link->stopped = true;
      link->stop_reason = reason;
    }
  }
  absl::MutexLock run(&link->run_mu);
  if (!link->running) return;
  link->session->Stop();
  if (cancel) link->stream->Cancel();
}

absl::Status PeerManager::OnHandshake(Link* link, const std::string& peer_node_id) {
  std::shared_ptr<Link> loser;
  absl::Status result = absl::OkStatus();
  bool learnt = false;
  const std::string& own = options_.engine->node_id();
  {
    absl::MutexLock lock(&mu_);
    link->node_id = peer_node_id;
    if (link->peer != nullptr) {
      learnt = link->peer->node_id != peer_node_id;
      link->peer->node_id = peer_node_id;
      link->peer->failures = 0;
      link->peer->last_error.clear();
      link->peer->last_error_time = absl::InfinitePast();
    }
    if (!link->one_shot && peer_node_id != own) {
      // The duplicate rule (reconciler/DESIGN.md): of two live links with
      // the same node, both nodes keep the one dialed by the node with the
      // smaller id; with the same dialer, the older one.
      const std::string& keeper = std::min(own, peer_node_id);
      auto dialer_of = [&](const Link& l) { return l.dialed_by_us ? own : peer_node_id; };
      std::shared_ptr<Link>& slot = live_by_node_[peer_node_id];
      std::shared_ptr<Link> self = running_.count(link->id) ? running_[link->id] : nullptr;
      if (slot == nullptr || slot.get() == link) {
        slot = self;
      } else if (dialer_of(*link) == keeper && dialer_of(*slot) != keeper) {
        loser = slot;
        slot = self;
      } else {
        result = absl::AlreadyExistsError(
            absl::StrCat("a replication link between ", own, " and ", peer_node_id,
                         " already exists; the one dialed by ", keeper, " is kept"));
      }
    }
  }
  if (loser != nullptr) {
    logger_->info("duplicate link with {}: keeping the stream dialed by {}", peer_node_id,
                  std::min(own, peer_node_id));
    StopLink(loser,
             absl::AlreadyExistsError(absl::StrCat(
                 "a replication link between ", own, " and ", peer_node_id,
                 " already exists; the one dialed by ", std::min(own, peer_node_id), " is kept")),
             /*cancel=*/loser->dialed_by_us);
  }
  if (result.ok() && !link->one_shot) {
    logger_->info("replication link with {} ({}, {}) is up", peer_node_id, link->address,
                  link->dialed_by_us ? "dialed" : "accepted");
  }
  if (learnt) {
    if (absl::Status s = PersistCurrent(); !s.ok()) {
      logger_->warn("cannot persist the node id of peer {}: {}", link->address, s.ToString());
    }
  }
  return result;
}

void PeerManager::OnProgress(Link* link, const SessionProgress& progress) {
  absl::MutexLock lock(&mu_);
  link->progress = progress;
  if (progress.outgoing_caught_up && progress.incoming_caught_up) {
    link->last_sync_time = absl::Now();
    if (link->peer != nullptr) link->peer->last_sync_time = link->last_sync_time;
  }
}

// Counts a ServeAccepted or Sync call from its start to its end.
class PeerManager::CallScope {
 public:
  explicit CallScope(PeerManager* m) : m_(m) {
    absl::MutexLock lock(&m_->mu_);
    ++m_->active_calls_;
  }
  ~CallScope() {
    absl::MutexLock lock(&m_->mu_);
    --m_->active_calls_;
  }

 private:
  PeerManager* const m_;
};

absl::Status PeerManager::ServeAccepted(MessageStream* stream, const std::string& remote,
                                        v1::SessionMode mode) {
  CallScope scope(this);
  auto link = std::make_shared<Link>();
  link->address = remote;
  link->one_shot = mode == v1::SESSION_MODE_ONE_SHOT;
  const absl::Status status = RunLink(link, MakeSessionOptions(false, mode, {}), stream);
  absl::MutexLock lock(&mu_);
  if (link->stopped) return link->stop_reason;
  if (!link->node_id.empty()) {
    // The node's configured entry, if any, keeps the progress for ListPeers.
    for (auto& [address, peer] : peers_) {
      if (peer->node_id != link->node_id) continue;
      peer->last_progress = link->progress;
      peer->last_sync_time = std::max(peer->last_sync_time, link->last_sync_time);
    }
  }
  return status;
}

absl::StatusOr<SyncResult> PeerManager::Sync(const std::string& address,
                                             std::vector<std::string> tables,
                                             absl::Duration timeout) {
  RETURN_IF_ERROR(ValidatePeerAddress(address));
  RETURN_IF_ERROR(ValidateTableFilter(tables));
  CallScope scope(this);
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::UnavailableError("shutting down");
  }
  const absl::Time deadline = absl::Now() + timeout;
  ASSIGN_OR_RETURN(std::unique_ptr<DialedStream> stream,
                   options_.dialer->Dial(address, v1::SESSION_MODE_ONE_SHOT, deadline));
  auto link = std::make_shared<Link>();
  link->dialed_by_us = true;
  link->one_shot = true;
  link->address = address;

  // Ends the session at the deadline whatever the transport does.
  absl::Mutex done_mu;
  bool done = false;
  const absl::Status timed_out = absl::DeadlineExceededError(
      absl::StrCat("did not finish within ", absl::FormatDuration(timeout)));
  std::thread watchdog([&] {
    absl::MutexLock lock(&done_mu);
    if (done_mu.AwaitWithTimeout(absl::Condition(&done), deadline - absl::Now())) return;
    StopLink(link, timed_out, /*cancel=*/true);
  });
  absl::Status status =
      RunLink(link, MakeSessionOptions(true, v1::SESSION_MODE_ONE_SHOT, Sorted(std::move(tables))),
              stream.get());
  {
    absl::MutexLock lock(&done_mu);
    done = true;
  }
  watchdog.join();
  status = stream->Finish(status);
  SyncResult result;
  {
    absl::MutexLock lock(&mu_);
    if (link->stopped) status = link->stop_reason;
    result.peer_node_id = link->node_id;
    result.sent = link->progress.sent;
    result.received = link->progress.received;
  }
  if (!status.ok() && absl::Now() >= deadline &&
      (absl::IsUnavailable(status) || absl::IsCancelled(status))) {
    status = timed_out;
  }
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat("sync with ", address, ": ", status.message()));
  }
  return result;
}

void PeerManager::Shutdown() {
  std::vector<std::shared_ptr<Link>> links;
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return active_calls_ == 0; };
      mu_.Await(absl::Condition(&idle));
      return;
    }
    stopping_ = true;
    for (auto& [id, link] : running_) links.push_back(link);
    for (auto& [address, peer] : peers_) {
      if (peer->thread.joinable()) threads.push_back(std::move(peer->thread));
    }
  }
  for (const auto& link : links) {
    StopLink(link, absl::UnavailableError("node shutting down"), /*cancel=*/true);
  }
  for (std::thread& t : threads) t.join();
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return active_calls_ == 0; };
  mu_.Await(absl::Condition(&idle));
}

}  // namespace recondb::reconciler
