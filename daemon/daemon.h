// One running recondbd: the data directory lock, the storage, the engine, the
// worker pool, the Database service, the peer manager with the Replication
// and Admin services, the gRPC server and the threads answering its unary
// calls, started in that order and stopped in the reverse one (the peers'
// dial loops start last).
#ifndef RECONDB_DAEMON_DAEMON_H_
#define RECONDB_DAEMON_DAEMON_H_

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "auth/authorizer.h"
#include "daemon/admin_service.h"
#include "daemon/completion_queue_threads.h"
#include "daemon/config.h"
#include "daemon/data_dir_lock.h"
#include "daemon/database_service.h"
#include "daemon/pid_lock_file.h"
#include "daemon/replication_service.h"
#include "daemon/replication_stream.h"
#include "daemon/tls_credentials.h"
#include "daemon/stream_limiter.h"
#include "daemon/worker_pool.h"
#include "engine/engine.h"
#include "grpcpp/server.h"
#include "reconciler/peer_manager.h"
#include "spdlog/logger.h"
#include "storage/storage.h"

namespace recondb::daemon {

// How long Shutdown() lets in-flight calls finish before gRPC cancels them.
inline constexpr std::chrono::seconds kShutdownGrace{10};

// Not thread-safe: Start, Shutdown and the destructor run on one thread.
class Daemon {
 public:
  // Opens everything `config` describes and starts serving; logs one info
  // line "listening on <host>:<port> node_id=... storage=... durability=..."
  // (or "listening on unix:PATH ..."). With --listen=unix:PATH it claims the
  // path first (ClaimUnixSocketPath: FAILED_PRECONDITION if another process
  // holds it or it is not a socket).
  // Before anything else it probes a TCP address (CheckCanListen):
  // UNAVAILABLE "cannot listen on ADDR: address already in use (is another
  // recondbd running?)", with nothing created. With sqlite storage it then
  // locks <data_dir>/LOCK (creating data_dir):
  // FAILED_PRECONDITION "data directory X is locked by another recondbd".
  // UNAVAILABLE "cannot listen on ADDR: address in use or invalid" if the
  // port cannot be bound after all; storage and engine errors as they are.
  // Nothing is left open on failure, and the directories this start created
  // for data_dir are removed again (CreatedDirectories; a data directory
  // that existed is left as it was). `logger` is never null.
  static absl::StatusOr<std::unique_ptr<Daemon>> Start(const Config& config,
                                                       std::shared_ptr<spdlog::logger> logger);

  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;
  // Shutdown() if it has not run.
  ~Daemon();

  // Stops gracefully: health NOT_SERVING; follow streams end with
  // UNAVAILABLE; replication sessions stop and dial loops end; new calls
  // refused; in-flight calls finish (cancelled after
  // kShutdownGrace); the unary-call threads stop and the worker pool
  // drains; the engine and the storage
  // close (SQLite checkpoints and closes its file); the lock is released.
  // Idempotent.
  void Shutdown();

  // "host:port" with the port actually bound, or "unix:PATH" (port 0).
  const std::string& address() const { return address_; }
  int port() const { return port_; }
  // REQUIRES: Shutdown() has not run.
  engine::Engine& engine() { return *engine_; }
  // REQUIRES: Shutdown() has not run.
  reconciler::PeerManager& peers() { return *peers_; }

 private:
  Daemon(Config config, std::shared_ptr<spdlog::logger> logger)
      : config_(std::move(config)), logger_(std::move(logger)) {}

  // Start() but for the probe and the removal of created directories.
  static absl::StatusOr<std::unique_ptr<Daemon>> StartInOrder(
      const Config& config, std::shared_ptr<spdlog::logger> logger);
  absl::Status OpenStorage();
  absl::Status OpenEngine();
  // The principals (<data_dir>/auth.json, or memory) and, with --auth=on,
  // the bootstrap of the first admin.
  absl::Status OpenAuthorizer();
  void MakeReplication();
  absl::Status StartServer();
  std::string StorageDescription() const;

  const Config config_;
  const std::shared_ptr<spdlog::logger> logger_;
  // Declared in start order; Shutdown() releases them in reverse.
  // The TLS certificate providers (daemon/tls_credentials.h) of the server
  // and the dialer: declared first, so they outlive both.
  std::vector<std::shared_ptr<grpc::experimental::CertificateProviderInterface>> tls_providers_;
  std::unique_ptr<DataDirLock> lock_;
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  std::unique_ptr<WorkerPool> pool_;
  std::unique_ptr<StreamLimiter> stream_limiter_;
  std::unique_ptr<DatabaseService> service_;
  std::unique_ptr<GrpcDialer> dialer_;
  std::unique_ptr<reconciler::PeerManager> peers_;
  std::unique_ptr<ReplicationService> replication_;
  std::unique_ptr<AdminService> admin_;
  // The claim on a Unix socket path (--listen=unix:PATH); null for TCP.
  std::unique_ptr<PidLockFile> unix_socket_lock_;
  std::unique_ptr<grpc::Server> server_;
  // The unary calls' queue and the threads that answer them; the threads
  // are declared last so that they stop first.
  std::unique_ptr<grpc::ServerCompletionQueue> unary_call_queue_;
  std::unique_ptr<CompletionQueueThreads> unary_call_threads_;
  std::string address_;
  int port_ = 0;
};

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_DAEMON_H_
