// recondb.v1.Admin: node status, peers, one-shot sync and backup, over
// gRPC's synchronous API (the calls are rare, and Sync and Backup block for
// as long as they take: a gRPC thread is the honest place to wait). The
// peers are the peer manager's (reconciler/peer_manager.h). Every method but
// WhoAmI needs the admin role (docs/api.md, "Authentication and
// permissions"); the principal methods are in admin_auth_methods.cc.
#ifndef RECONDB_DAEMON_ADMIN_SERVICE_H_
#define RECONDB_DAEMON_ADMIN_SERVICE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "auth/authorizer.h"
#include "engine/engine.h"
#include "reconciler/peer_manager.h"
#include "recondb/v1/admin.grpc.pb.h"
#include "spdlog/logger.h"

namespace recondb::daemon {

// The version of this build (CMake's project version).
std::string_view RecondbVersion();

// Sync's timeout when the request gives none.
inline constexpr absl::Duration kDefaultSyncTimeout = absl::Seconds(60);

struct AdminServiceOptions {
  // Required; not owned; outlive the service.
  engine::Engine* engine = nullptr;
  reconciler::PeerManager* peers = nullptr;
  auth::Authorizer* authorizer = nullptr;
  // NodeStatus.storage, e.g. "sqlite durability=full data_dir=./data".
  std::string storage_description;
  // Where Backup writes its temporary copies (the data directory, which
  // the daemon has locked). Empty: the node has no store on disk (memory)
  // and Backup is FAILED_PRECONDITION.
  std::string backup_dir;
  // The most file bytes in one BackupChunk. Default: 1 MiB.
  int64_t backup_chunk_bytes = 1 << 20;
  // For NodeStatus.uptime. Default: now.
  absl::Time start_time = absl::Now();
  std::shared_ptr<spdlog::logger> logger;
};

// Thread-safe.
class AdminService final : public v1::Admin::Service {
 public:
  explicit AdminService(AdminServiceOptions options) : options_(std::move(options)) {}

  grpc::Status GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest* request,
                         v1::NodeStatus* response) override;
  // INVALID_ARGUMENT naming `address` (not host:port) or `tables`.
  grpc::Status AddPeer(grpc::ServerContext* context, const v1::AddPeerRequest* request,
                       v1::Peer* response) override;
  // NOT_FOUND naming the address.
  grpc::Status RemovePeer(grpc::ServerContext* context, const v1::RemovePeerRequest* request,
                          v1::RemovePeerResponse* response) override;
  grpc::Status ListPeers(grpc::ServerContext* context, const v1::ListPeersRequest* request,
                         v1::ListPeersResponse* response) override;
  // Runs until both sides are caught up, `timeout` (default 60 s) or the
  // call's own deadline, whichever comes first. INVALID_ARGUMENT (address,
  // tables, negative timeout); UNAVAILABLE "sync with ADDR: ..." when the
  // peer cannot be reached; DEADLINE_EXCEEDED; the session's errors.
  grpc::Status Sync(grpc::ServerContext* context, const v1::SyncRequest* request,
                    v1::SyncResponse* response) override;
  // Writes a copy to a new temporary file in backup_dir (Engine::Backup),
  // streams the header and the file, and removes the file whether the
  // stream ends, fails or is cancelled (by the client, or by the server's
  // shutdown). FAILED_PRECONDITION with no backup_dir; the engine's errors
  // (UNAVAILABLE when the copy cannot be written, e.g. disk full);
  // CANCELLED if the client went away.
  grpc::Status Backup(grpc::ServerContext* context, const v1::BackupRequest* request,
                      grpc::ServerWriter<v1::BackupChunk>* writer) override;

  // Principals (admin_auth_methods.cc): the Authorizer's management calls
  // and their errors.
  grpc::Status CreatePrincipal(grpc::ServerContext* context,
                               const v1::CreatePrincipalRequest* request,
                               v1::PrincipalInfo* response) override;
  grpc::Status DeletePrincipal(grpc::ServerContext* context,
                               const v1::DeletePrincipalRequest* request,
                               v1::DeletePrincipalResponse* response) override;
  grpc::Status ListPrincipals(grpc::ServerContext* context,
                              const v1::ListPrincipalsRequest* request,
                              v1::ListPrincipalsResponse* response) override;
  grpc::Status IssueToken(grpc::ServerContext* context, const v1::IssueTokenRequest* request,
                          v1::IssueTokenResponse* response) override;
  grpc::Status RevokeToken(grpc::ServerContext* context, const v1::RevokeTokenRequest* request,
                           v1::RevokeTokenResponse* response) override;
  grpc::Status Grant(grpc::ServerContext* context, const v1::GrantRequest* request,
                     v1::PrincipalInfo* response) override;
  grpc::Status Revoke(grpc::ServerContext* context, const v1::RevokeRequest* request,
                      v1::PrincipalInfo* response) override;
  grpc::Status SetCertificateNames(grpc::ServerContext* context,
                                   const v1::SetCertificateNamesRequest* request,
                                   v1::PrincipalInfo* response) override;
  // Any authenticated caller: its own principal.
  grpc::Status WhoAmI(grpc::ServerContext* context, const v1::WhoAmIRequest* request,
                      v1::PrincipalInfo* response) override;

 private:
  // Streams the header then the file at `path`, as Backup.
  absl::Status StreamBackup(grpc::ServerContext* context, const engine::BackupInfo& info,
                            const std::string& path, grpc::ServerWriter<v1::BackupChunk>* writer);
  grpc::Status Answer(const char* method, const absl::Status& status);
  // The caller if it has the admin role; UNAUTHENTICATED or
  // PERMISSION_DENIED naming it and `method` otherwise.
  absl::StatusOr<std::shared_ptr<const auth::Principal>> RequireAdmin(
      const grpc::ServerContext& context, const char* method);

  const AdminServiceOptions options_;
};

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_ADMIN_SERVICE_H_
