// The peer manager: which nodes this node replicates with, the link to each
// (one dial loop per configured peer, with jittered exponential backoff),
// the sessions other nodes open to us, one-shot syncs, and the state that
// Admin.ListPeers reports. Independent of gRPC: streams come from an
// injected Dialer (the daemon's opens a Replication.Replicate call) and from
// the transport that accepts them (ServeAccepted). Design:
// reconciler/DESIGN.md, "Peer manager".
#ifndef RECONDB_RECONCILER_PEER_MANAGER_H_
#define RECONDB_RECONCILER_PEER_MANAGER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "engine/engine.h"
#include "reconciler/message_stream.h"
#include "reconciler/peer_access.h"
#include "reconciler/session.h"
#include "recondb/v1/admin.pb.h"
#include "recondb/v1/replication.pb.h"
#include "spdlog/logger.h"

namespace recondb::reconciler {

// The node-metadata key under which the configured peers are kept (proto3
// JSON of a v1.ListPeersResponse holding address, tables and node_id).
inline constexpr char kPeersMetaKey[] = "reconciler/peers";
// The node-metadata key under which the nodes this node has had a link with
// (accepted or dialed) are remembered: proto3 JSON of a v1.ListPeersResponse
// whose peers hold what ListPeers reports of them when not connected
// (reconciler/DESIGN.md, "Seen peers").
inline constexpr char kSeenPeersMetaKey[] = "reconciler/seen_peers";

// A stream this node opened to a peer.
class DialedStream : public MessageStream {
 public:
  // Ends the call once the session over it returned `session_status`, and
  // returns the status of the link: `session_status`, except that when it
  // is UNAVAILABLE (the stream broke) and the peer ended the call with a
  // status of its own (ALREADY_EXISTS for a duplicate link,
  // FAILED_PRECONDITION, DEADLINE_EXCEEDED...), that status is returned.
  // Cancels the call unless `session_status` is OK. Call once, after the
  // session's Run returned.
  virtual absl::Status Finish(const absl::Status& session_status) = 0;
  // What the dialed peer may do on this link (reconciler/peer_access.h),
  // called once, before the session writes its Hello (the stream is open,
  // so the connection is up and the peer's verified certificate known). An
  // error ends the session with it, before anything was sent.
  // Default: everything.
  virtual absl::StatusOr<PeerAccess> Access() { return PeerAccess(); }
};

// Opens streams to peers. Thread-safe.
class Dialer {
 public:
  virtual ~Dialer() = default;
  // Opens a replication stream to `address` ("host:port") that breaks at
  // `deadline` (absl::InfiniteFuture() for a live link). Must not block on
  // the network: connection failures show as a broken stream (Read/Write
  // return false) and in Finish()'s status, so that Cancel() can interrupt
  // a connection attempt. `mode` is the mode the dialing session asks for
  // (a transport passes it on so that the accepting side knows it before
  // the handshake). Errors only for an address the transport cannot use.
  virtual absl::StatusOr<std::unique_ptr<DialedStream>> Dial(const std::string& address,
                                                             v1::SessionMode mode,
                                                             absl::Time deadline) = 0;
};

// How long a dial loop waits after failed attempts.
struct BackoffPolicy {
  // Delay after the first failure. Default: 0.5 s.
  absl::Duration initial = absl::Milliseconds(500);
  // Each further failure multiplies the delay by this. Default: 2.
  double multiplier = 2.0;
  // Upper bound of the delay (before jitter). Default: 30 s.
  absl::Duration max = absl::Seconds(30);
  // Each delay is multiplied by a uniform factor in [1 - jitter, 1 + jitter],
  // so that peers that failed together do not retry together. Default: 0.2.
  double jitter = 0.2;
};

// The delay before the next attempt after `failures` consecutive failures
// (>= 1): min(initial * multiplier^(failures-1), max), jittered with `rng`.
absl::Duration BackoffDelay(const BackoffPolicy& policy, int failures, std::mt19937_64& rng);

// INVALID_ARGUMENT naming `address` unless it is "host:port" with a port in
// 1..65535 and a host that is a DNS name (at most 253 bytes of dot-separated
// [A-Za-z0-9-] labels of 1-63 bytes, no leading or trailing hyphen), a
// dotted-quad IPv4 address, or an IPv6 address in brackets. The message
// quotes the address with QuoteInput (common/strings.h): bounded, escaped.
absl::Status ValidatePeerAddress(std::string_view address);
// INVALID_ARGUMENT naming `tables` unless every name is a valid table name
// (ValidateTableName, common/table_names.h: the engine's rule) and there are
// at most engine::kMaxTableFilter.
// Tables need not exist (yet).
absl::Status ValidateTableFilter(const std::vector<std::string>& tables);

struct PeerManagerOptions {
  // Required. Not owned; must outlive the manager.
  engine::Engine* engine = nullptr;
  // Required. Not owned; must outlive the manager.
  Dialer* dialer = nullptr;
  // Dial loops' backoff. Default: BackoffPolicy().
  BackoffPolicy backoff;
  // Seed of the jitter. Default: from std::random_device.
  std::optional<uint64_t> seed;
  // Passed to every session (batch sizes, window...). `engine`, `dialer`,
  // `mode`, `tables`, `on_handshake`, `on_progress` and `logger` are set by
  // the manager.
  SessionOptions session_defaults;
  // Called by a dial loop (on its thread) each time it schedules a retry:
  // the peer's address, the failures so far and the delay. For tests and
  // logs; may be empty.
  std::function<void(const std::string& address, int failures, absl::Duration delay)> on_retry;
  // Default: a logger that drops everything.
  std::shared_ptr<spdlog::logger> logger;
  // The time of the peers' connect, disconnect, error and sync times and of
  // staleness (not of backoff waits or deadlines, which are real time). Not
  // owned. Default: the system clock.
  Clock* clock = Clock::System();
  // A peer not connected and last seen longer ago than this is stale in
  // ListPeers. Default: 7 days (recondbd --stale_peer_after).
  absl::Duration stale_after = absl::Hours(24 * 7);
  // How many nodes the seen-peer registry remembers; beyond it, the one not
  // connected that was seen longest ago is forgotten. Default: 1000.
  int max_seen_peers = 1000;
};

// What a one-shot sync moved.
struct SyncResult {
  std::string peer_node_id;
  v1::TransferCounts sent;
  v1::TransferCounts received;
};

// Thread-safe. Lock order: mu_ is a leaf (no engine call, no session call
// and no stream call is made under it), except persist_mu_ -> mu_.
class PeerManager {
 public:
  explicit PeerManager(PeerManagerOptions options);
  // Shutdown() if it has not run.
  ~PeerManager();
  PeerManager(const PeerManager&) = delete;
  PeerManager& operator=(const PeerManager&) = delete;

  // Loads the persisted peers, adds `initial_peers` (addresses, all tables)
  // that are not among them, persists the union and starts a dial loop per
  // peer. INVALID_ARGUMENT for a malformed address in `initial_peers`;
  // storage errors; a persisted list that does not parse is DATA_LOSS.
  // Call once.
  absl::Status Start(const std::vector<std::string>& initial_peers);

  // Stops every session (dialed, accepted, one-shot), stops the dial loops
  // and waits for them and for ServeAccepted and Sync calls to return. Accepted sessions return
  // UNAVAILABLE "shutting down" from ServeAccepted soon after. Later calls are refused with
  // UNAVAILABLE. Idempotent.
  void Shutdown();

  // Adds a peer, or changes the table filter of a known one (its link is
  // then re-established with the new filter); persists the list first.
  // INVALID_ARGUMENT naming `address` or `tables`. Returns its state.
  absl::StatusOr<v1::Peer> AddPeer(const std::string& address, std::vector<std::string> tables);
  // Forgets a peer: its dial loop stops at once and its link closes.
  // NOT_FOUND naming the address if it is not a configured peer.
  absl::Status RemovePeer(const std::string& address);
  // The configured peers, by address, with their link's state, then the
  // other nodes this node has had a link with (those that dialed in: origin
  // ACCEPTED), by node id, connected or remembered (reconciler/DESIGN.md,
  // "Seen peers"). From memory only: no storage work.
  std::vector<v1::Peer> ListPeers();

  // Runs the accepting side of a session over `stream` (opened by the
  // remote node, from `remote` as the transport names it) until it ends, on
  // the calling thread. `mode` is what the transport learnt of the dialer's
  // mode (UNSPECIFIED if nothing: treated as live). Returns the session's
  // status; ALREADY_EXISTS if the link duplicates another one with the same
  // node and loses (see DESIGN.md); UNAVAILABLE when shutting down.
  // `access` is what the remote node's principal may do (default:
  // everything).
  absl::Status ServeAccepted(MessageStream* stream, const std::string& remote,
                             v1::SessionMode mode, PeerAccess access = PeerAccess());

  // Dials `address`, runs a one-shot session with filter `tables` until both
  // sides are caught up or `timeout` passes, and returns what moved. Does
  // not add a peer. INVALID_ARGUMENT (address, tables); UNAVAILABLE if the
  // peer cannot be reached; DEADLINE_EXCEEDED after `timeout`; the
  // session's errors otherwise.
  absl::StatusOr<SyncResult> Sync(const std::string& address, std::vector<std::string> tables,
                                  absl::Duration timeout);

 private:
  struct Peer;
  struct Link;
  struct Seen;
  class CallScope;

  void DialLoop(Peer* peer);
  // One dial and session of `peer`'s loop; returns the link's final status
  // and whether the handshake succeeded.
  absl::Status DialOnce(Peer* peer, bool* handshaken);
  // Waits up to `delay`, or until the peer is removed or changed or shutdown
  // begins; false if the loop must end.
  bool WaitBeforeRetry(Peer* peer, absl::Duration delay);

  // Runs a session over `stream` as `link` on the calling thread, registered
  // in running_ (so that Shutdown and StopLink reach it) from start to end.
  // Returns the session's own status; the caller looks at stop_reason.
  absl::Status RunLink(const std::shared_ptr<Link>& link, SessionOptions options,
                       MessageStream* stream) ABSL_LOCKS_EXCLUDED(mu_);
  // Ends `link`'s session if it runs (and records `reason` as the link's
  // outcome); with `cancel`, also breaks its stream so that it ends at once.
  void StopLink(const std::shared_ptr<Link>& link, const absl::Status& reason, bool cancel)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The sessions' callbacks. OnHandshake applies the duplicate rule.
  absl::Status OnHandshake(Link* link, const PeerIdentity& peer) ABSL_LOCKS_EXCLUDED(mu_);
  void OnProgress(Link* link, const SessionProgress& progress) ABSL_LOCKS_EXCLUDED(mu_);

  SessionOptions MakeSessionOptions(bool dialer, v1::SessionMode mode,
                                    std::vector<std::string> tables) const;
  v1::Peer PeerState(const Peer& peer) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // address, tables and node_id of every configured peer.
  std::vector<v1::Peer> ConfiguredLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::vector<v1::Peer>> LoadPersisted();
  absl::Status WritePeers(const std::vector<v1::Peer>& peers)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(persist_mu_);
  // Writes the current configuration (after a node id was learnt).
  absl::Status PersistCurrent() ABSL_LOCKS_EXCLUDED(persist_mu_, mu_);
  void StartLoop(Peer* peer) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // The seen-peer registry (peer_registry.cc). SeenConnected records a
  // link's handshake, SeenDisconnected its end with `reason`; both return
  // whether the registry must be persisted.
  void SeenConnected(const std::shared_ptr<Link>& link, const PeerIdentity& peer)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SeenDisconnected(const std::shared_ptr<Link>& link, const absl::Status& reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The node ids with more than one entry (copies of one store).
  std::set<std::string> CopiedNodeIds() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // What ListPeers reports of `seen` now; `copied` from CopiedNodeIds().
  v1::Peer SeenState(const Seen& seen, const std::set<std::string>& copied) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Fills the registry's fields of configured peer `p` from the entry of its
  // node (if any); returns that entry's key, or "".
  std::string MergeSeen(v1::Peer& p, const Peer& peer, const std::set<std::string>& copied) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status LoadSeen() ABSL_LOCKS_EXCLUDED(mu_);
  // Writes the registry; logs (does not return) a failure: the registry is
  // a report, and replication goes on without it.
  void PersistSeen() ABSL_LOCKS_EXCLUDED(persist_mu_, mu_);
  absl::Time Now() const;

  const PeerManagerOptions options_;
  const std::shared_ptr<spdlog::logger> logger_;

  absl::Mutex persist_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  // Configured peers by address.
  std::map<std::string, std::unique_ptr<Peer>> peers_ ABSL_GUARDED_BY(mu_);
  // Every running session, by link id.
  std::map<int64_t, std::shared_ptr<Link>> running_ ABSL_GUARDED_BY(mu_);
  // The live (not one-shot) link kept with each peer, by
  // PeerIdentity::LinkKey, after the handshake.
  std::map<std::string, std::shared_ptr<Link>> live_by_node_ ABSL_GUARDED_BY(mu_);
  int64_t next_link_id_ ABSL_GUARDED_BY(mu_) = 1;
  // The seen-peer registry, by PeerIdentity::LinkKey.
  std::map<std::string, std::unique_ptr<Seen>> seen_ ABSL_GUARDED_BY(mu_);
  // ServeAccepted and Sync calls in progress; Shutdown waits for them.
  int active_calls_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace recondb::reconciler

#endif  // RECONDB_RECONCILER_PEER_MANAGER_H_
