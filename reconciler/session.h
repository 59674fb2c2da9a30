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
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/engine.h"
#include "reconciler/message_stream.h"
#include "recondb/v1/admin.pb.h"
#include "recondb/v1/replication.pb.h"
#include "spdlog/logger.h"

namespace recondb::reconciler {

// The version this build speaks; a peer with another one is refused.
inline constexpr int32_t kProtocolVersion = 1;

// Progress of one session, as the peer manager and Admin report it.
struct SessionProgress {
  std::string peer_node_id;            // Empty before the handshake.
  int64_t outgoing_checkpoint = 0;     // Our seq the peer acknowledged.
  int64_t local_last_seq = 0;          // Our last seq when last looked at.
  int64_t incoming_checkpoint = 0;     // Peer seq we made durable.
  int64_t peer_last_seq = 0;           // Highest peer seq we heard of.
  bool outgoing_caught_up = false;     // We sent CaughtUp and it holds.
  bool incoming_caught_up = false;     // The peer's last CaughtUp reached us.
  v1::TransferCounts sent;
  v1::TransferCounts received;
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
  // Called after the handshake with the peer's node id; a non-OK status
  // ends the session with it (e.g. a duplicate link). May be empty.
  std::function<absl::Status(const std::string& peer_node_id)> on_handshake;
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
  //  - FAILED_PRECONDITION: protocol version mismatch, or the peer claims
  //    this node's id;
  //  - INVALID_ARGUMENT / NOT_FOUND: the peer sent malformed or
  //    inconsistent data (nothing of the refused batch is kept);
  //  - UNAVAILABLE: the stream broke;
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
