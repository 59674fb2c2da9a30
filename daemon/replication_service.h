// recondb.v1.Replication over gRPC's callback API. Each Replicate call is a
// bidirectional reactor that is also the reconciler::MessageStream of the
// accepting side of a session; the session (through the peer manager) runs
// on a thread of its own, and its status becomes the call's status.
#ifndef RECONDB_DAEMON_REPLICATION_SERVICE_H_
#define RECONDB_DAEMON_REPLICATION_SERVICE_H_

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "auth/authorizer.h"
#include "daemon/stream_limiter.h"
#include "reconciler/peer_manager.h"
#include "recondb/v1/replication.grpc.pb.h"
#include "spdlog/logger.h"

namespace recondb::daemon {

// Thread-safe.
class ReplicationService final : public v1::Replication::CallbackService {
 public:
  // `peers` and `authorizer` are not owned and must outlive the service;
  // `authorizer` authenticates the dialing peers and decides what they may
  // pull and push (issue 13, point 4: the grants). Call
  // PeerManager::Shutdown() before grpc::Server::Shutdown(): it ends the
  // sessions, so that their calls do not hold the server's shutdown. The
  // destructor waits for the sessions' threads to be gone.
  //
  // Each call's caller is authenticated by `authorizer` and must have PULL
  // or PUSH on some table (daemon/replication_access.h), and the session
  // obeys its grants; null: auth off, everything allowed. Each call holds
  // one stream of its caller in `limiter` (RESOURCE_EXHAUSTED over the
  // limit); null: no limit. Neither is owned; both must outlive the service.
  ReplicationService(reconciler::PeerManager* peers, auth::Authorizer* authorizer,
                     std::shared_ptr<spdlog::logger> logger, StreamLimiter* limiter = nullptr)
      : peers_(peers), authorizer_(authorizer), logger_(std::move(logger)), limiter_(limiter) {}
  ~ReplicationService() override;

  grpc::ServerBidiReactor<v1::ReplicateMessage, v1::ReplicateMessage>* Replicate(
      grpc::CallbackServerContext* context) override;

 private:
  friend class ReplicateCall;
  void ThreadStarted();
  void ThreadExited();

  reconciler::PeerManager* const peers_;
  auth::Authorizer* const authorizer_;
  const std::shared_ptr<spdlog::logger> logger_;
  StreamLimiter* const limiter_;
  absl::Mutex mu_;
  int threads_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_REPLICATION_SERVICE_H_
