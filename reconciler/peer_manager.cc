#include "reconciler/peer_manager.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/null_logger.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/table_names.h"
#include "engine/limits.h"
#include "google/protobuf/util/json_util.h"
#include "reconciler/internal/peer_state.h"

namespace recondb::reconciler {

namespace {

// A DNS name (RFC 1123: at most 253 bytes, dot-separated labels of 1-63
// letters, digits and hyphens, not starting or ending with a hyphen; one
// trailing dot allowed) or a dotted-quad IPv4 address: a name whose last
// label is all digits is read as an IPv4 address, as resolvers do.
bool IsHostName(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty() || host.size() > 253) return false;
  std::string_view last;
  for (absl::string_view label : absl::StrSplit(Sv(host), '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    last = StdSv(label);
  }
  if (std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    in_addr ip4;
    return inet_pton(AF_INET, std::string(host).c_str(), &ip4) == 1;
  }
  return true;
}

using internal::Direction;
using internal::ToTimestamp;

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
  const auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("address ", QuoteInput(address), " ", Sv(why)));
  };
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(Sv(address.substr(colon + 1)), &port) || port < 1 || port > 65535) {
    return bad("is not host:port with a port between 1 and 65535");
  }
  const std::string_view host = address.substr(0, colon);
  if (host.front() == '[') {
    in6_addr ip6;
    if (host.size() < 3 || host.back() != ']' ||
        inet_pton(AF_INET6, std::string(host.substr(1, host.size() - 2)).c_str(), &ip6) != 1) {
      return bad("has a host in brackets that is not an IPv6 address");
    }
    return absl::OkStatus();
  }
  if (!IsHostName(host)) {
    return bad(
        "has a host that is neither a DNS name (at most 253 bytes of labels of [A-Za-z0-9-], "
        "dot-separated), an IPv4 address nor an IPv6 address in brackets");
  }
  return absl::OkStatus();
}

absl::Status ValidateTableFilter(const std::vector<std::string>& tables) {
  if (tables.size() > static_cast<size_t>(engine::kMaxTableFilter)) {
    return absl::InvalidArgumentError(absl::StrCat("tables has ", tables.size(),
                                                   " table names, over the limit of ",
                                                   engine::kMaxTableFilter));
  }
  for (const std::string& t : tables) {
    if (absl::Status s = ValidateTableName(t); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("tables: ", s.message()));
    }
  }
  return absl::OkStatus();
}

PeerManager::PeerManager(PeerManagerOptions options)
    : options_(std::move(options)),
      logger_(options_.logger != nullptr ? options_.logger : NullLogger("peers")),
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
  if (absl::Status s = LoadSeen(); !s.ok()) {
    // A report, not configuration: start without it rather than not at all.
    logger_->warn("forgetting the seen peers: {}", s.ToString());
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
  tables = internal::SortedTables(std::move(tables));
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
        return absl::NotFoundError(
            absl::StrCat("peer ", QuoteInput(address), " is not configured"));
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
  std::set<std::string> merged;
  const std::set<std::string> copied = CopiedNodeIds();
  for (const auto& [address, peer] : peers_) {
    v1::Peer& p = out.emplace_back(PeerState(*peer));
    const std::string key = MergeSeen(p, *peer, copied);
    if (!key.empty()) merged.insert(key);
  }
  // The others, by node id (the registry is keyed by node id first).
  for (const auto& [key, seen] : seen_) {
    if (merged.count(key) > 0) continue;
    v1::Peer p = SeenState(*seen, copied);
    p.set_origin(v1::PEER_ORIGIN_ACCEPTED);
    out.push_back(std::move(p));
  }
  return out;
}

v1::Peer PeerManager::PeerState(const Peer& peer) const {
  v1::Peer p;
  p.set_address(peer.address);
  for (const std::string& t : peer.tables) p.add_tables(t);
  p.set_node_id(peer.node_id);
  p.set_failures(peer.failures);
  p.set_origin(v1::PEER_ORIGIN_CONFIGURED);
  p.set_last_error(peer.last_error);
  if (peer.last_error_time != absl::InfinitePast()) {
    *p.mutable_last_error_time() = ToTimestamp(peer.last_error_time);
  }
  absl::Time last_sync = peer.last_sync_time;
  const SessionProgress* progress = peer.last_progress ? &*peer.last_progress : nullptr;
  if (!peer.link_key.empty()) {
    auto live = live_by_node_.find(peer.link_key);
    if (live != live_by_node_.end()) {
      p.set_connected(true);
      progress = &live->second->progress;
      last_sync = std::max(last_sync, live->second->last_sync_time);
    }
  }
  if (last_sync != absl::InfinitePast()) *p.mutable_last_sync_time() = ToTimestamp(last_sync);
  if (progress != nullptr) {
    *p.mutable_outgoing() = Direction(progress->outgoing_checkpoint, options_.engine->LastSeq());
    *p.mutable_incoming() = Direction(progress->incoming_checkpoint, progress->peer_last_seq);
    *p.mutable_grants() = internal::Grants(*progress);
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
    std::string link_key;
    {
      absl::MutexLock lock(&mu_);
      if (peer->removed || stopping_) return;
      if (peer->wake) continue;  // New table filter: redial at once.
      link_key = peer->link_key;
      if (absl::IsAlreadyExists(status) && !link_key.empty()) {
        // The link with this node is up through the stream it dialed to us
        // (the duplicate rule kept that one). Dial again once it is gone.
        peer->failures = 0;
        peer->last_error.clear();
        auto gone = [this, peer, &link_key]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return peer->removed || stopping_ || peer->wake || live_by_node_.count(link_key) == 0;
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
        peer->last_error_time = Now();
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
  SessionOptions options = MakeSessionOptions(true, v1::SESSION_MODE_LIVE, tables);
  options.resolve_access = [s = stream->get()] { return s->Access(); };
  absl::Status status = RunLink(link, std::move(options), stream->get());
  status = (*stream)->Finish(status);
  absl::MutexLock lock(&mu_);
  *handshaken = !link->node_id.empty();
  if (*handshaken) peer->last_progress = link->progress;
  peer->last_sync_time = std::max(peer->last_sync_time, link->last_sync_time);
  if (link->stopped) return link->stop_reason;
  return status;
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
