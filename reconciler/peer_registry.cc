// The peer manager's seen-peer registry: every node this node has had a
// link with (it dialed in, or was dialed), by node id and incarnation, with
// when it was connected, what moved and how far behind each side is; kept
// in node metadata so that it survives a restart. reconciler/DESIGN.md,
// "Seen peers". The rest of PeerManager is in peer_manager.cc and
// peer_links.cc.
#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "reconciler/internal/peer_state.h"
#include "reconciler/peer_manager.h"

namespace recondb::reconciler {
namespace {

using internal::Direction;
using internal::FromTimestamp;
using internal::ToTimestamp;

void AddCounts(v1::TransferCounts& total, const v1::TransferCounts& more) {
  total.set_batches(total.batches() + more.batches());
  total.set_records_offered(total.records_offered() + more.records_offered());
  total.set_revisions_sent(total.revisions_sent() + more.revisions_sent());
  total.set_stubs_sent(total.stubs_sent() + more.stubs_sent());
  total.set_revisions_grafted(total.revisions_grafted() + more.revisions_grafted());
  total.set_tables_sent(total.tables_sent() + more.tables_sent());
  total.set_bytes(total.bytes() + more.bytes());
}

// When a remembered (not connected) entry was last seen: the end of its
// last link, or its last handshake if this node stopped before it could
// record the end (a crash).
absl::Time LastSeen(const v1::Peer& record) {
  absl::Time t = absl::InfinitePast();
  if (record.has_last_connected_time()) t = FromTimestamp(record.last_connected_time());
  if (record.has_last_disconnected_time()) {
    t = std::max(t, FromTimestamp(record.last_disconnected_time()));
  }
  return t;
}

std::string KeyOf(const v1::Peer& record) {
  return PeerIdentity{record.node_id(), record.incarnation(), 0}.LinkKey();
}

}  // namespace

absl::Time PeerManager::Now() const { return absl::FromUnixMicros(options_.clock->NowMicros()); }

void PeerManager::SeenConnected(const std::shared_ptr<Link>& link, const PeerIdentity& peer) {
  const std::string key = peer.LinkKey();
  auto it = seen_.find(key);
  if (it == seen_.end()) {
    // A new incarnation of a node id whose entry is not connected is that
    // node again (each opening of a store is a new incarnation): it takes
    // the entry over. Two incarnations connected at once are two copies of
    // one store, and keep two entries.
    std::unique_ptr<Seen> entry;
    for (auto j = seen_.begin(); j != seen_.end(); ++j) {
      if (j->second->record.node_id() == peer.node_id && j->second->links.empty()) {
        entry = std::move(j->second);
        seen_.erase(j);
        break;
      }
    }
    if (entry == nullptr) {
      entry = std::make_unique<Seen>();
      entry->record.set_node_id(peer.node_id);
      *entry->record.mutable_first_connected_time() = ToTimestamp(Now());
      // Bounded: forget the entry seen longest ago that is not connected.
      while (static_cast<int>(seen_.size()) >= std::max(1, options_.max_seen_peers)) {
        auto oldest = seen_.end();
        for (auto j = seen_.begin(); j != seen_.end(); ++j) {
          if (!j->second->links.empty()) continue;
          if (oldest == seen_.end() ||
              LastSeen(j->second->record) < LastSeen(oldest->second->record)) {
            oldest = j;
          }
        }
        if (oldest == seen_.end()) break;
        seen_.erase(oldest);
      }
    }
    it = seen_.emplace(key, std::move(entry)).first;
  }
  Seen& seen = *it->second;
  seen.record.set_incarnation(peer.incarnation);
  seen.record.set_address(link->address);
  seen.record.set_origin(link->peer != nullptr ? v1::PEER_ORIGIN_CONFIGURED
                                               : v1::PEER_ORIGIN_ACCEPTED);
  seen.record.set_protocol_version(peer.protocol_version);
  *seen.record.mutable_last_connected_time() = ToTimestamp(Now());
  seen.links.push_back(link);
  link->seen_key = key;
}

void PeerManager::SeenDisconnected(const std::shared_ptr<Link>& link, const absl::Status& reason) {
  auto it = seen_.find(link->seen_key);
  if (it == seen_.end()) return;
  Seen& seen = *it->second;
  seen.links.erase(std::remove(seen.links.begin(), seen.links.end(), link), seen.links.end());
  v1::Peer& record = seen.record;
  const SessionProgress& progress = link->progress;
  AddCounts(*record.mutable_sent(), progress.sent);
  AddCounts(*record.mutable_received(), progress.received);
  *record.mutable_outgoing() = Direction(progress.outgoing_checkpoint, progress.local_last_seq);
  *record.mutable_incoming() = Direction(progress.incoming_checkpoint, progress.peer_last_seq);
  *record.mutable_grants() = internal::Grants(progress);
  *record.mutable_outgoing_catch_up() = progress.outgoing_catch_up;
  *record.mutable_incoming_catch_up() = progress.incoming_catch_up;
  if (link->last_sync_time != absl::InfinitePast() &&
      (!record.has_last_sync_time() || FromTimestamp(record.last_sync_time()) < link->last_sync_time)) {
    *record.mutable_last_sync_time() = ToTimestamp(link->last_sync_time);
  }
  if (seen.links.empty()) {
    *record.mutable_last_disconnected_time() = ToTimestamp(Now());
    record.set_last_disconnect_reason(reason.ok() ? "the session ended" : reason.ToString());
  }
}

std::set<std::string> PeerManager::CopiedNodeIds() const {
  std::set<std::string> once, copied;
  for (const auto& [key, seen] : seen_) {
    if (!once.insert(seen->record.node_id()).second) copied.insert(seen->record.node_id());
  }
  return copied;
}

v1::Peer PeerManager::SeenState(const Seen& seen, const std::set<std::string>& copied) const {
  v1::Peer p = seen.record;
  const absl::Time now = Now();
  // Outgoing lag is against this node's feed end now: what it wrote since
  // the peer last acknowledged is what the peer lacks.
  const int64_t last_seq = options_.engine->LastSeq();
  p.set_connected(!seen.links.empty());
  if (!seen.links.empty()) {
    // The live link if there is one, else a one-shot sync.
    const Link* shown = seen.links.front().get();
    for (const auto& l : seen.links) {
      if (!l->one_shot) shown = l.get();
    }
    absl::Time last_sync =
        p.has_last_sync_time() ? FromTimestamp(p.last_sync_time()) : absl::InfinitePast();
    for (const auto& l : seen.links) {
      AddCounts(*p.mutable_sent(), l->progress.sent);
      AddCounts(*p.mutable_received(), l->progress.received);
      last_sync = std::max(last_sync, l->last_sync_time);
    }
    if (last_sync != absl::InfinitePast()) *p.mutable_last_sync_time() = ToTimestamp(last_sync);
    const SessionProgress& progress = shown->progress;
    *p.mutable_outgoing() = Direction(progress.outgoing_checkpoint, last_seq);
    *p.mutable_incoming() = Direction(progress.incoming_checkpoint, progress.peer_last_seq);
    *p.mutable_grants() = internal::Grants(progress);
    *p.mutable_outgoing_catch_up() = progress.outgoing_catch_up;
    *p.mutable_incoming_catch_up() = progress.incoming_catch_up;
    *p.mutable_last_seen_time() = ToTimestamp(now);
  } else {
    *p.mutable_outgoing() = Direction(p.outgoing().checkpoint(), last_seq);
    // Nothing runs: a remembered catch-up is over (or was cut short).
    p.mutable_outgoing_catch_up()->set_running(false);
    p.mutable_incoming_catch_up()->set_running(false);
    const absl::Time seen_at = LastSeen(p);
    if (seen_at != absl::InfinitePast()) {
      *p.mutable_last_seen_time() = ToTimestamp(seen_at);
      p.set_stale(now - seen_at > options_.stale_after);
    }
  }
  p.set_copied_store(copied.count(p.node_id()) > 0);
  return p;
}

std::string PeerManager::MergeSeen(v1::Peer& p, const Peer& peer,
                                   const std::set<std::string>& copied) const {
  if (peer.node_id.empty()) return "";
  // The entry of the peer's last handshake; else one connected; else the
  // one seen last.
  auto rank = [&](const std::string& key, const Seen& seen) {
    return std::make_tuple(key == peer.link_key, !seen.links.empty(), LastSeen(seen.record));
  };
  const Seen* chosen = nullptr;
  std::string chosen_key;
  for (const auto& [key, seen] : seen_) {
    if (seen->record.node_id() != peer.node_id) continue;
    if (chosen == nullptr || rank(key, *seen) > rank(chosen_key, *chosen)) {
      chosen = seen.get();
      chosen_key = key;
    }
  }
  if (chosen == nullptr) return "";
  v1::Peer state = SeenState(*chosen, copied);
  // The configuration's own fields stay; the rest comes from the registry.
  state.set_address(p.address());
  *state.mutable_tables() = p.tables();
  state.set_failures(p.failures());
  state.set_last_error(p.last_error());
  if (p.has_last_error_time()) *state.mutable_last_error_time() = p.last_error_time();
  if (p.has_last_sync_time()) *state.mutable_last_sync_time() = p.last_sync_time();
  state.set_origin(v1::PEER_ORIGIN_CONFIGURED);
  p = std::move(state);
  return chosen_key;
}

absl::Status PeerManager::LoadSeen() {
  absl::StatusOr<std::string> text = options_.engine->GetNodeMeta(kSeenPeersMetaKey);
  if (absl::IsNotFound(text.status())) return absl::OkStatus();
  if (!text.ok()) return text.status();
  v1::ListPeersResponse list;
  auto parsed = google::protobuf::util::JsonStringToMessage(*text, &list);
  if (!parsed.ok()) {
    return absl::DataLossError(
        absl::StrCat("node metadata ", kSeenPeersMetaKey, " does not parse: ", parsed.ToString()));
  }
  absl::MutexLock lock(&mu_);
  for (v1::Peer& record : *list.mutable_peers()) {
    if (record.node_id().empty()) continue;
    auto seen = std::make_unique<Seen>();
    const std::string key = KeyOf(record);
    seen->record = std::move(record);
    seen_[key] = std::move(seen);
  }
  return absl::OkStatus();
}

void PeerManager::PersistSeen() {
  absl::MutexLock persist(&persist_mu_);
  v1::ListPeersResponse list;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [key, seen] : seen_) {
      v1::Peer* out = list.add_peers();
      *out = seen->record;
      // Live state is not remembered: it is recomputed.
      out->clear_connected();
      out->clear_stale();
      out->clear_copied_store();
      out->clear_last_seen_time();
    }
  }
  std::string json;
  auto printed = google::protobuf::util::MessageToJsonString(list, &json);
  absl::Status status = printed.ok() ? options_.engine->SetNodeMeta(kSeenPeersMetaKey, json)
                                     : absl::InternalError(printed.ToString());
  if (!status.ok()) logger_->warn("cannot persist the seen peers: {}", status.ToString());
}

}  // namespace recondb::reconciler
