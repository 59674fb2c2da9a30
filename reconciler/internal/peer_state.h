// The state of the peer manager's configured peers and links, shared by
// peer_manager.cc (configuration, dial loops) and peer_links.cc (sessions).
#ifndef RECONDB_RECONCILER_INTERNAL_PEER_STATE_H_
#define RECONDB_RECONCILER_INTERNAL_PEER_STATE_H_

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "reconciler/peer_manager.h"

namespace recondb::reconciler {

// One configured peer and its dial loop.
struct PeerManager::Peer {
  std::string address;
  std::vector<std::string> tables;
  // Learnt from the last handshake (persisted).
  std::string node_id;
  // PeerIdentity::LinkKey of the last handshake (not persisted: the
  // incarnation changes each time the peer starts).
  std::string link_key;
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
  std::string node_id;   // After the handshake.
  std::string link_key;  // PeerIdentity::LinkKey, after the handshake.
  absl::Status stop_reason = absl::OkStatus();
  bool stopped = false;
  SessionProgress progress;
  absl::Time last_sync_time = absl::InfinitePast();
  // The registry entry (PeerManager::seen_ key) the link was recorded
  // under at its handshake; empty if it was not (refused, or none).
  std::string seen_key;

  // Guards `running`, `session` and `stream`: StopLink() uses them only
  // while the session runs. Acquired before PeerManager::mu_.
  absl::Mutex run_mu;
  bool running ABSL_GUARDED_BY(run_mu) = false;
  Session* session ABSL_GUARDED_BY(run_mu) = nullptr;
  MessageStream* stream ABSL_GUARDED_BY(run_mu) = nullptr;
};

// One node of the seen-peer registry: a node id and incarnation this node
// has had a link with (reconciler/DESIGN.md, "Seen peers").
struct PeerManager::Seen {
  // What is remembered (and persisted): node_id, incarnation, address,
  // origin, protocol_version, the times, last_disconnect_reason, the totals
  // of the links that ended (sent, received) and the last ended link's
  // directions and catch-ups.
  v1::Peer record;
  // The links with it running now, after their handshake.
  std::vector<std::shared_ptr<Link>> links;
};

namespace internal {

inline google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t micros = absl::ToUnixMicros(t);
  ts.set_seconds(micros / 1000000);
  ts.set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  return ts;
}

inline absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// One direction's state. The lag never goes negative: a source restored
// from a backup resumes below what its receiver once acknowledged
// (docs/replication-protocol.md, "Verified checkpoints"), so a receiver's
// checkpoint can be above the source's feed end until the source has
// written past it again.
inline v1::DirectionStatus Direction(int64_t checkpoint, int64_t last_seq) {
  v1::DirectionStatus d;
  d.set_checkpoint(checkpoint);
  d.set_last_seq(std::max(last_seq, checkpoint));
  d.set_lag(std::max<int64_t>(0, last_seq - checkpoint));
  return d;
}

// What grants do to a link, for ListPeers.
inline v1::PeerGrants Grants(const SessionProgress& p) {
  v1::PeerGrants g;
  g.set_principal(p.peer_principal);
  for (const auto& t : p.withheld_from_peer) g.add_withheld_from_peer(t);
  for (const auto& t : p.withheld_by_peer) g.add_withheld_by_peer(t);
  g.set_peer_withheld_unnamed(p.peer_withheld_unnamed);
  for (const auto& t : p.refused_from_peer) g.add_refused_from_peer(t);
  for (const auto& t : p.refused_by_peer) g.add_refused_by_peer(t);
  return g;
}

// `tables` sorted, without duplicates: the canonical form of a filter.
inline std::vector<std::string> SortedTables(std::vector<std::string> tables) {
  std::sort(tables.begin(), tables.end());
  tables.erase(std::unique(tables.begin(), tables.end()), tables.end());
  return tables;
}

}  // namespace internal
}  // namespace recondb::reconciler

#endif  // RECONDB_RECONCILER_INTERNAL_PEER_STATE_H_
