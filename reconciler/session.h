// One replication session: both directions of the protocol of
// docs/replication-protocol.md over one MessageStream. This node is the
// source of its own changes and the receiver of the peer's.
#ifndef RECONDB_RECONCILER_SESSION_H_
#define RECONDB_RECONCILER_SESSION_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/engine.h"
#include "reconciler/message_stream.h"
#include "reconciler/peer_access.h"
#include "recondb/v1/admin.pb.h"
#include "recondb/v1/replication.pb.h"
#include "spdlog/logger.h"

namespace recondb::reconciler {

// The protocol versions this build speaks. Version 2 adds incarnations
// (verified checkpoints, links told apart by the identity no copy shares)
// and the source's feed end for honest lag; version 3 adds the audit trail
// of revisions (RevisionBody.audit, RecordSummary.leaf_audits; below it,
// revisions travel without audit) and tells the peer which tables its
// grants withhold from it and which it may not push. With an older peer the
// session speaks its version (docs/replication-protocol.md, "Versions").
// Grants are enforced with every version.
inline constexpr int32_t kMinProtocolVersion = 1;
inline constexpr int32_t kProtocolVersion = 3;
// The first version whose revisions carry their audit.
inline constexpr int32_t kAuditProtocolVersion = 3;

// Who the peer is, from its Hello.
struct PeerIdentity {
  std::string node_id;
  // Its incarnation (Engine::incarnation()); empty for a version-1 peer.
  std::string incarnation;
  // The protocol version the session speaks with it.
  int32_t protocol_version = kProtocolVersion;
  // What tells two live links apart: the node id and the incarnation, so
  // that two running copies of one store (which share a node id if the copy
  // was not noticed) are two peers; the node id alone for a version-1 peer.
  std::string LinkKey() const {
    return incarnation.empty() ? node_id : node_id + "/" + incarnation;
  }
};

// Progress of one session, as the peer manager and Admin report it.
struct SessionProgress {
  std::string peer_node_id;            // Empty before the handshake.
  std::string peer_incarnation;        // Empty before it, or for a v1 peer.
  int32_t protocol_version = 0;        // Spoken with the peer; 0 before.
  // Outgoing: the checkpoint the peer's Ack 0 claimed, and where this node
  // resumed it after verifying it (Engine::ResumePoint): below the claim
  // when the claim was not provably part of this node's feed.
  int64_t peer_claimed_checkpoint = 0;
  int64_t resumed_from = 0;
  int64_t outgoing_checkpoint = 0;     // Our seq the peer acknowledged.
  int64_t local_last_seq = 0;          // Our last seq when last looked at.
  int64_t incoming_checkpoint = 0;     // Peer seq we made durable.
  // The peer's feed end as it last told us (Hello, then each Summaries
  // and CaughtUp), so lag = peer_last_seq - incoming_checkpoint is honest
  // during a catch-up.
  int64_t peer_last_seq = 0;
  bool outgoing_caught_up = false;     // We sent CaughtUp and it holds.
  bool incoming_caught_up = false;     // The peer's last CaughtUp reached us.
  v1::TransferCounts sent;
  v1::TransferCounts received;
  // The catch-up of each direction (v1.CatchUpProgress in admin.proto):
  // records done and remaining, bytes done and (estimated) remaining. The
  // incoming one's remaining count is the peer's (Summaries'
  // records_remaining); unknown with a source that does not send it.
  v1::CatchUpProgress outgoing_catch_up;
  v1::CatchUpProgress incoming_catch_up;
  // Grants (docs/replication-protocol.md, "Version 3: grants"). The peer's
  // principal (PeerAccess::principal); empty before the handshake.
  std::string peer_principal;
  // Tables this node does not send the peer because its principal may not
  // pull them: those of its filter, or (when it asked for every table) this
  // node's tables at the handshake. Sorted.
  std::vector<std::string> withheld_from_peer;
  // What the peer's Ack 0 said it withholds from this node (version 3):
  // the tables of this node's filter, and whether it withholds others too.
  std::vector<std::string> withheld_by_peer;
  bool peer_withheld_unnamed = false;
  // Tables the peer said it refuses from this node (version 3), which this
  // node therefore does not offer it; and those this node refuses from the
  // peer. Sorted.
  std::vector<std::string> refused_by_peer;
  std::vector<std::string> refused_from_peer;
};

struct SessionOptions {
  // Required. Not owned.
  engine::Engine* engine = nullptr;
  // True on the side that opened the stream: it sends its Hello first and
  // chooses the mode. The accepting side answers with the dialer's mode.
  bool dialer = true;
  // Meaningful on the dialer only. Default: live.
  v1::SessionMode mode = v1::SESSION_MODE_LIVE;
  // This side's table filter for the link; empty means every table.
  std::vector<std::string> tables;
  // Records per Summaries batch. Default: 1000.
  int batch_records = 1000;
  // Approximate byte bound of one Revisions part. Default: 1 MiB.
  int64_t part_bytes = 1 << 20;
  // Summaries batches in flight (sent, not yet acknowledged). Default: 4.
  int window = 4;
  // The peer's Hello must arrive within this (a stream that never sends
  // one would otherwise hold its threads for ever): DEADLINE_EXCEEDED.
  // Default: 30 s.
  absl::Duration handshake_timeout = absl::Seconds(30);
  // The highest protocol version to speak (tests set 1 to act as an old
  // build). Default: kProtocolVersion.
  int32_t max_protocol_version = kProtocolVersion;
  // What the peer may do: the tables it may pull from and push to this
  // node, and whether it may use the node id of its Hello. Default:
  // everything (authentication off).
  PeerAccess access;
  // If set, called once for the access that replaces `access`: a dialer
  // calls it before it writes its Hello (a dialed transport knows the peer's
  // verified certificate once connected, so a peer that may do nothing is
  // sent nothing), an accepting side once the peer's Hello has been read.
  // An error ends the session with it. May be empty.
  std::function<absl::StatusOr<PeerAccess>()> resolve_access;
  // Called after the handshake with the peer's identity, once on_progress
  // has been given the handshake's progress (the peer's feed end, our
  // checkpoint for it); a non-OK status ends the session with it (e.g. a
  // duplicate link). May be empty.
  std::function<absl::Status(const PeerIdentity& peer)> on_handshake;
  // Called (from session threads) whenever progress changes. May be empty.
  std::function<void(const SessionProgress&)> on_progress;
  // Default: a logger that drops everything.
  std::shared_ptr<spdlog::logger> logger;
};

class Session {
 public:
  // `stream` is not owned and must outlive Run().
  Session(SessionOptions options, MessageStream* stream);
  ~Session();

  // Runs both directions until the session ends:
  //  - OK: a one-shot session in which both sides caught up, or a session
  //    stopped by Stop();
  //  - FAILED_PRECONDITION: no protocol version in common, or the peer is
  //    this very process (its incarnation; for a version-1 peer, its node
  //    id);
  //  - INVALID_ARGUMENT / NOT_FOUND: the peer sent malformed or
  //    inconsistent data (nothing of the refused batch is kept);
  //  - UNAVAILABLE: the stream broke;
  //  - DEADLINE_EXCEEDED: no Hello from the peer within handshake_timeout;
  //  - PERMISSION_DENIED: the peer's principal may not use its node id, or
  //    it sent a table definition or revisions of a table it may not push
  //    (nothing of that batch or part is written, the checkpoint stays), or
  //    asked for revisions of a table it may not pull; the message names the
  //    principal and the table;
  //  - the engine's error otherwise.
  // Call once.
  absl::Status Run();

  // Ends a running session soon: Run returns OK. Safe from any thread.
  void Stop();

  SessionProgress progress() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The checkpoint key of a source node for a table filter (sorted, joined).
std::string CheckpointKey(const std::string& source_node_id, std::vector<std::string> tables);

}  // namespace recondb::reconciler

#endif  // RECONDB_RECONCILER_SESSION_H_
