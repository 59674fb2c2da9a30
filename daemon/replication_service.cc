#include "daemon/replication_service.h"

#include <string>

#include "daemon/replication_stream.h"
#include "daemon/rpc_logging.h"
#include "daemon/status_conversion.h"

namespace recondb::daemon {

grpc::Status ReplicationService::Replicate(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::ReplicateMessage, v1::ReplicateMessage>* stream) {
  v1::SessionMode mode = v1::SESSION_MODE_UNSPECIFIED;
  auto it = context->client_metadata().find(kSessionModeMetadata);
  if (it != context->client_metadata().end()) {
    mode = SessionModeFromText(std::string_view(it->second.data(), it->second.size()));
  }
  ServerReplicationStream adapter(context, stream);
  const std::string remote = context->peer();
  logger_->debug("replication stream from {} ({})", remote, SessionModeText(mode));
  const absl::Status status = peers_->ServeAccepted(&adapter, remote, mode);
  if (absl::IsUnavailable(status) || absl::IsAlreadyExists(status)) {
    // A peer going away or a duplicate link is part of normal operation.
    logger_->info("replication stream from {} ended: {}", remote, status.ToString());
  } else if (!status.ok()) {
    LogRpcFailure(*logger_, "Replicate", status);
  }
  return ToGrpcStatus(status);
}

}  // namespace recondb::daemon
