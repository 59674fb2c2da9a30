// recondb.v1.Replication over gRPC's synchronous API: each Replicate call
// holds one gRPC thread, which runs the accepting side of a session (the
// session's own threads do the rest) through the peer manager, and returns
// the session's status as the call's status. Mixing this sync service with
// the callback services in one grpc::Server is supported (reflection is a
// sync service too); see daemon/DESIGN.md.
#ifndef RECONDB_DAEMON_REPLICATION_SERVICE_H_
#define RECONDB_DAEMON_REPLICATION_SERVICE_H_

#include <memory>

#include "reconciler/peer_manager.h"
#include "recondb/v1/replication.grpc.pb.h"
#include "spdlog/logger.h"

namespace recondb::daemon {

// Thread-safe.
class ReplicationService final : public v1::Replication::Service {
 public:
  // `peers` is not owned and must outlive the server. Call
  // PeerManager::Shutdown() before grpc::Server::Shutdown(): it ends the
  // sessions, so that their calls do not hold the server's shutdown.
  ReplicationService(reconciler::PeerManager* peers, std::shared_ptr<spdlog::logger> logger)
      : peers_(peers), logger_(std::move(logger)) {}

  grpc::Status Replicate(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::ReplicateMessage, v1::ReplicateMessage>* stream) override;

 private:
  reconciler::PeerManager* const peers_;
  const std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_REPLICATION_SERVICE_H_
