// The peer manager's sessions: running a link, stopping it, the
// duplicate-link rule, accepted sessions and one-shot syncs. The rest of
// PeerManager is in peer_manager.cc.
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "reconciler/internal/peer_state.h"
#include "reconciler/peer_manager.h"

namespace recondb::reconciler {

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
  options.on_handshake = [this, raw](const PeerIdentity& peer) { return OnHandshake(raw, peer); };
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
  const SessionProgress final_progress = session.progress();  // Not under mu_.
  bool seen = false;
  {
    absl::MutexLock lock(&mu_);
    running_.erase(link->id);
    if (link->peer != nullptr && link->peer->link == link) link->peer->link.reset();
    auto live = live_by_node_.find(link->link_key);
    if (live != live_by_node_.end() && live->second == link) live_by_node_.erase(live);
    if (!link->seen_key.empty()) {
      seen = true;
      link->progress = final_progress;  // The final counts.
      SeenDisconnected(link, link->stopped ? link->stop_reason : status);
    }
  }
  if (seen) PersistSeen();
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

absl::Status PeerManager::OnHandshake(Link* link, const PeerIdentity& peer) {
  std::shared_ptr<Link> loser;
  absl::Status loser_reason;
  absl::Status result = absl::OkStatus();
  bool learnt = false;
  const std::string& peer_node_id = peer.node_id;
  // This node as the peer tells links apart (PeerIdentity::LinkKey): both
  // sides compare the same two keys.
  const std::string own =
      PeerIdentity{options_.engine->node_id(),
                   peer.incarnation.empty() ? "" : options_.engine->incarnation(),
                   peer.protocol_version}
          .LinkKey();
  const std::string theirs = peer.LinkKey();
  // Messages name nodes by node id; two copies of one store by incarnation.
  const bool same_id = peer_node_id == options_.engine->node_id();
  auto name = [&](const std::string& key) {
    const bool ours = key == own;
    const std::string id = QuoteInput(ours ? options_.engine->node_id() : peer_node_id);
    if (!same_id) return id;
    return absl::StrCat(id, " (incarnation ", ours ? options_.engine->incarnation() : peer.incarnation,
                        ")");
  };
  {
    absl::MutexLock lock(&mu_);
    link->node_id = peer_node_id;
    link->link_key = theirs;
    if (link->peer != nullptr) {
      learnt = link->peer->node_id != peer_node_id;
      link->peer->node_id = peer_node_id;
      link->peer->link_key = theirs;
      link->peer->failures = 0;
      link->peer->last_error.clear();
      link->peer->last_error_time = absl::InfinitePast();
    }
    if (!link->one_shot && theirs != own) {
      // The duplicate rule (reconciler/DESIGN.md): of two live links with
      // the same peer (node id and incarnation), both nodes keep the one
      // dialed by the node with the smaller key; of two dialed by the same
      // node, the newer one (its dialer has given up on the older one,
      // which may be a half-open connection this side has not noticed yet).
      const std::string& keeper = std::min(own, theirs);
      auto dialer_of = [&](const Link& l) { return l.dialed_by_us ? own : theirs; };
      std::shared_ptr<Link>& slot = live_by_node_[theirs];
      std::shared_ptr<Link> self = running_.count(link->id) ? running_[link->id] : nullptr;
      if (slot == nullptr || slot.get() == link) {
        slot = self;
      } else if (dialer_of(*link) == dialer_of(*slot)) {
        loser = slot;
        loser_reason = absl::AlreadyExistsError(
            absl::StrCat("the replication link between ", name(own), " and ", name(theirs),
                         " was replaced by a newer one dialed by ", name(dialer_of(*link))));
        slot = self;
      } else if (dialer_of(*link) == keeper) {
        loser = slot;
        loser_reason = absl::AlreadyExistsError(
            absl::StrCat("a replication link between ", name(own), " and ", name(theirs),
                         " already exists; the one dialed by ", name(keeper), " is kept"));
        slot = self;
      } else {
        result = absl::AlreadyExistsError(
            absl::StrCat("a replication link between ", name(own), " and ", name(theirs),
                         " already exists; the one dialed by ", name(keeper), " is kept"));
      }
    }
  }
  if (loser != nullptr) {
    logger_->info("duplicate link with {}: {}", QuoteInput(peer_node_id),
                  std::string(loser_reason.message()));
    // An accepted loser is not cancelled, so that its dialer gets the status.
    StopLink(loser, loser_reason, /*cancel=*/loser->dialed_by_us);
  }
  if (result.ok()) {
    {
      absl::MutexLock lock(&mu_);
      auto self = running_.find(link->id);
      // A one-shot Sync this node dialed is not a peer (its result is
      // returned to the caller); every other link is remembered.
      if (self != running_.end() && !link->stopped &&
          !(link->dialed_by_us && link->peer == nullptr)) {
        SeenConnected(self->second, peer);
      }
    }
    if (!link->seen_key.empty()) PersistSeen();
  }
  if (result.ok() && !link->one_shot) {
    logger_->info("replication link with {} ({}, {}) is up", QuoteInput(peer_node_id),
                  link->address, link->dialed_by_us ? "dialed" : "accepted");
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
    link->last_sync_time = Now();
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
                                        v1::SessionMode mode, PeerAccess access) {
  CallScope scope(this);
  auto link = std::make_shared<Link>();
  link->address = remote;
  link->one_shot = mode == v1::SESSION_MODE_ONE_SHOT;
  SessionOptions options = MakeSessionOptions(false, mode, {});
  options.access = std::move(access);
  const absl::Status status = RunLink(link, std::move(options), stream);
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
  SessionOptions options = MakeSessionOptions(true, v1::SESSION_MODE_ONE_SHOT,
                                              internal::SortedTables(std::move(tables)));
  options.resolve_access = [s = stream.get()] { return s->Access(); };
  absl::Status status = RunLink(link, std::move(options), stream.get());
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

}  // namespace recondb::reconciler
