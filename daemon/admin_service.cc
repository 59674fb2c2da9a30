#include "daemon/admin_service.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "daemon/backup_files.h"
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

absl::StatusOr<std::shared_ptr<const auth::Principal>> AdminService::RequireAdmin(
    const grpc::ServerContext& context, const char* method) {
  ASSIGN_OR_RETURN(std::shared_ptr<const auth::Principal> principal,
                   options_.authorizer->Authenticate(context));
  RETURN_IF_ERROR(options_.authorizer->CheckAdmin(*principal, absl::StrCat("Admin.", method)));
  return principal;
}

// Answers `method`'s call with its error unless the caller is an admin.
#define RECONDB_REQUIRE_ADMIN(method)                                         \
  do {                                                                        \
    absl::StatusOr<std::shared_ptr<const auth::Principal>> recondb_admin_ =   \
        RequireAdmin(*context, method);                                       \
    if (!recondb_admin_.ok()) return Answer(method, recondb_admin_.status()); \
  } while (0)

grpc::Status AdminService::GetStatus(grpc::ServerContext* context,
                                     const v1::GetStatusRequest* request,
                                     v1::NodeStatus* response) {
  RECONDB_REQUIRE_ADMIN("GetStatus");
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
  RECONDB_REQUIRE_ADMIN("AddPeer");
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
  RECONDB_REQUIRE_ADMIN("RemovePeer");
  return Answer("RemovePeer", options_.peers->RemovePeer(request->address()));
}

grpc::Status AdminService::ListPeers(grpc::ServerContext* context,
                                     const v1::ListPeersRequest* request,
                                     v1::ListPeersResponse* response) {
  RECONDB_REQUIRE_ADMIN("ListPeers");
  for (v1::Peer& p : options_.peers->ListPeers()) *response->add_peers() = std::move(p);
  return grpc::Status::OK;
}

grpc::Status AdminService::Sync(grpc::ServerContext* context, const v1::SyncRequest* request,
                                v1::SyncResponse* response) {
  RECONDB_REQUIRE_ADMIN("Sync");
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

grpc::Status AdminService::Backup(grpc::ServerContext* context, const v1::BackupRequest* request,
                                  grpc::ServerWriter<v1::BackupChunk>* writer) {
  RECONDB_REQUIRE_ADMIN("Backup");
  if (options_.backup_dir.empty()) {
    return Answer("Backup", absl::FailedPreconditionError(
                                "this node keeps its data in memory (--storage=memory): there is "
                                "no store on disk to back up"));
  }
  TempBackupFile file(NewTempBackupPath(options_.backup_dir));
  absl::StatusOr<engine::BackupInfo> info = options_.engine->Backup(file.path());
  if (!info.ok()) return Answer("Backup", info.status());
  if (options_.logger != nullptr) {
    options_.logger->info("backup: {} bytes, last_seq={}, streaming", info->bytes, info->last_seq);
  }
  absl::Status streamed = StreamBackup(context, *info, file.path(), writer);
  if (absl::IsCancelled(streamed)) {
    // The client's choice (or the server's shutdown), not a failure.
    if (options_.logger != nullptr)
      options_.logger->info("backup: {}", std::string(streamed.message()));
    return ToGrpcStatus(streamed);
  }
  return Answer("Backup", streamed);
}

absl::Status AdminService::StreamBackup(grpc::ServerContext* context,
                                        const engine::BackupInfo& info, const std::string& path,
                                        grpc::ServerWriter<v1::BackupChunk>* writer) {
  const absl::Status gone =
      absl::CancelledError("the client went away before the end of the backup");
  if (context->IsCancelled()) return gone;
  ASSIGN_OR_RETURN(const std::string sha256, Sha256OfFile(path));
  v1::BackupChunk chunk;
  v1::BackupHeader* header = chunk.mutable_header();
  header->set_node_id(info.node_id);
  header->set_last_seq(info.last_seq);
  const int64_t micros = absl::ToUnixMicros(info.taken_at);
  header->mutable_taken_at()->set_seconds(micros / 1000000);
  header->mutable_taken_at()->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  header->set_total_bytes(info.bytes);
  header->set_sha256(sha256);
  header->set_storage("sqlite");
  if (!writer->Write(chunk)) return gone;
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::UnavailableError(absl::StrCat("cannot read the backup copy ", path));
  std::vector<char> buffer(static_cast<size_t>(std::max<int64_t>(options_.backup_chunk_bytes, 1)));
  int64_t sent = 0;
  while (sent < info.bytes) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    chunk.set_data(buffer.data(), static_cast<size_t>(got));
    if (!writer->Write(chunk)) return gone;
    sent += got;
  }
  if (sent != info.bytes) {
    return absl::InternalError(
        absl::StrCat("the backup copy ", path, " has ", sent, " bytes, not ", info.bytes));
  }
  return absl::OkStatus();
}

}  // namespace recondb::daemon
