// The client side of reconciler::MessageStream over gRPC: a
// Replication.Replicate call opened by GrpcDialer (the dialing node). The
// server side is the reactor in daemon/replication_service.cc. The
// reconciler knows nothing of gRPC; these adapters are all it needs.
#ifndef RECONDB_DAEMON_REPLICATION_STREAM_H_
#define RECONDB_DAEMON_REPLICATION_STREAM_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/sync_stream.h"
#include "reconciler/message_stream.h"
#include "reconciler/peer_manager.h"
#include "recondb/v1/replication.grpc.pb.h"

namespace recondb::daemon {

// The metadata key by which a dialer tells the accepting side its session
// mode before the handshake ("live" or "one-shot"), so that one-shot syncs
// are kept out of the duplicate-link rule.
inline constexpr char kSessionModeMetadata[] = "recondb-session-mode";

// "live" / "one-shot" and back (UNSPECIFIED for anything else).
std::string SessionModeText(v1::SessionMode mode);
v1::SessionMode SessionModeFromText(std::string_view text);

// The client side of one Replicate call, owning its ClientContext.
class ClientReplicationStream final : public reconciler::DialedStream {
 public:
  // Starts the call on `channel` (it connects lazily: failures show in
  // Read/Write and Finish). `deadline` may be absl::InfiniteFuture().
  // `access` judges the dialed peer from the call's auth context once
  // connected (Access()); empty: everything allowed.
  ClientReplicationStream(const std::shared_ptr<grpc::Channel>& channel, v1::SessionMode mode,
                          absl::Time deadline,
                          std::function<absl::StatusOr<reconciler::PeerAccess>(
                              const grpc::AuthContext*)> access = nullptr);
  ~ClientReplicationStream() override;

  bool Read(v1::ReplicateMessage* message) override;
  bool Write(const v1::ReplicateMessage& message) override;
  void WritesDone() override;
  // context.TryCancel(), unless the server has already ended the call (a
  // Read returned false): its status is then kept for Finish.
  void Cancel() override;
  // OK session: half-closes, reads what is left (the peer ends the call
  // once done) and returns OK. UNAVAILABLE (the stream broke): returns the
  // status the server ended the call with if it is an error of its own
  // (ALREADY_EXISTS, FAILED_PRECONDITION, DEADLINE_EXCEEDED, UNAVAILABLE
  // "failed to connect"...), else UNAVAILABLE. Any other status: cancels
  // the call and returns it. Waits for the server at most kFinishGrace.
  absl::Status Finish(const absl::Status& session_status) override;
  // The dialed peer's access from its verified server certificate (the
  // constructor's `access`), called once its Hello has arrived.
  absl::StatusOr<reconciler::PeerAccess> Access() override;

  // The names in the peer's verified server certificate
  // (auth/certificate_names.h); empty over plaintext. Meaningful once the
  // call has started: after the first Read that returned true.
  std::vector<std::string> PeerCertificateNames() const;

  static constexpr absl::Duration kFinishGrace = absl::Seconds(5);

 private:
  const std::function<absl::StatusOr<reconciler::PeerAccess>(const grpc::AuthContext*)> access_;
  std::unique_ptr<v1::Replication::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::ReplicateMessage, v1::ReplicateMessage>> stream_;
  absl::Mutex write_mu_;
  bool writes_done_ ABSL_GUARDED_BY(write_mu_) = false;
  bool finished_ = false;
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> read_over_{false};
};

struct GrpcDialerOptions {
  // Largest message sent or received. Default: 4 MiB (the daemon passes
  // --max_message_bytes).
  int max_message_bytes = 4 << 20;
  // HTTP/2 keepalive pings on idle links, so that a peer that vanished (a
  // laptop losing its network) is noticed. Default: every 20 s, 10 s to
  // answer. The daemon's server accepts pings every 10 s.
  absl::Duration keepalive_time = absl::Seconds(20);
  absl::Duration keepalive_timeout = absl::Seconds(10);
  // The channel credentials of every dial (daemon/tls_credentials.h), shared
  // by all channels. Default (null): plaintext.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // What a dialed peer may do, from the call's auth context (its verified
  // server certificate; null if there is none): daemon/replication_access.h
  // DialedPeerAccess. Empty: everything (auth off).
  std::function<absl::StatusOr<reconciler::PeerAccess>(const grpc::AuthContext*)> peer_access;
};

// Opens Replicate calls to "host:port", each on a channel of its own (so
// that gRPC's channel-level reconnect backoff never hides our own). Never
// blocks: the call connects lazily.
class GrpcDialer final : public reconciler::Dialer {
 public:
  explicit GrpcDialer(GrpcDialerOptions options = {}) : options_(std::move(options)) {}
  absl::StatusOr<std::unique_ptr<reconciler::DialedStream>> Dial(const std::string& address,
                                                                 v1::SessionMode mode,
                                                                 absl::Time deadline) override;

 private:
  const GrpcDialerOptions options_;
};

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_REPLICATION_STREAM_H_
