#include "daemon/admin_service.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "daemon/rpc_logging.h"
#include "daemon/status_conversion.h"

#ifndef RECONDB_VERSION
#define RECONDB_VERSION "unknown"
#endif

namespace recondb::daemon {

std::string_view RecondbVersion() { return RECONDB_VERSION; }

grpc::Status AdminService::Answer(const char* method, const absl::Status& status) {
  if (!status.ok() && options_.logger != nullptr) LogRpcFailure(*options_.logger, method, status);
  return ToGrpcStatus(status);
}

grpc::Status AdminService::GetStatus(grpc::ServerContext* context,
                                     const v1::GetStatusRequest* request,
                                     v1::NodeStatus* response) {
  engine::Engine& engine = *options_.engine;
  response->set_node_id(engine.node_id());
  response->set_incarnation(engine.incarnation());
  response->set_copy_of(engine.copied_from());
  response->set_version(std::string(RecondbVersion()));
  const absl::Duration uptime = absl::Now() - options_.start_time;
  response->mutable_uptime()->set_seconds(absl::ToInt64Seconds(uptime));
  response->mutable_uptime()->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(uptime % absl::Seconds(1))));
  response->set_storage(options_.storage_description);
  // Read before the tables, so that it is a lower bound of what is counted.
  response->set_last_seq(engine.LastSeq());
  absl::StatusOr<std::vector<v1::Table>> tables = engine.ListTables();
  if (!tables.ok()) return Answer("GetStatus", tables.status());
  for (const v1::Table& t : *tables) {
    absl::StatusOr<int64_t> count = engine.CountLiveRecords(t.name());
    if (!count.ok()) return Answer("GetStatus", count.status());
    v1::TableStatus* status = response->add_tables();
    status->set_name(t.name());
    status->set_records(*count);
  }
  return grpc::Status::OK;
}

grpc::Status AdminService::AddPeer(grpc::ServerContext* context, const v1::AddPeerRequest* request,
                                   v1::Peer* response) {
  absl::StatusOr<v1::Peer> peer = options_.peers->AddPeer(
      request->address(),
      std::vector<std::string>(request->tables().begin(), request->tables().end()));
  if (!peer.ok()) return Answer("AddPeer", peer.status());
  *response = std::move(peer).value();
  return grpc::Status::OK;
}

grpc::Status AdminService::RemovePeer(grpc::ServerContext* context,
                                      const v1::RemovePeerRequest* request,
                                      v1::RemovePeerResponse* response) {
  return Answer("RemovePeer", options_.peers->RemovePeer(request->address()));
}

grpc::Status AdminService::ListPeers(grpc::ServerContext* context,
                                     const v1::ListPeersRequest* request,
                                     v1::ListPeersResponse* response) {
  for (v1::Peer& p : options_.peers->ListPeers()) *response->add_peers() = std::move(p);
  return grpc::Status::OK;
}

grpc::Status AdminService::Sync(grpc::ServerContext* context, const v1::SyncRequest* request,
                                v1::SyncResponse* response) {
  absl::Duration timeout = kDefaultSyncTimeout;
  if (request->has_timeout()) {
    timeout =
        absl::Seconds(request->timeout().seconds()) + absl::Nanoseconds(request->timeout().nanos());
    if (timeout <= absl::ZeroDuration()) {
      return Answer("Sync", absl::InvalidArgumentError(absl::StrCat(
                                "timeout must be positive, got ", absl::FormatDuration(timeout))));
    }
  }
  // No use going on after the caller has given up.
  const absl::Time call_deadline = absl::FromChrono(context->deadline());
  timeout = std::min(timeout, call_deadline - absl::Now());
  absl::StatusOr<reconciler::SyncResult> result = options_.peers->Sync(
      request->address(),
      std::vector<std::string>(request->tables().begin(), request->tables().end()), timeout);
  if (!result.ok()) return Answer("Sync", result.status());
  response->set_peer_node_id(result->peer_node_id);
  *response->mutable_sent() = result->sent;
  *response->mutable_received() = result->received;
  return grpc::Status::OK;
}

}  // namespace recondb::daemon
