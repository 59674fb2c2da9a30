#include "daemon/daemon.h"

#include <algorithm>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "daemon/backup_files.h"
#include "daemon/created_directories.h"
#include "daemon/data_dir.h"
#include "daemon/listen_address.h"
#include "daemon/replication_access.h"
#include "daemon/listen_probe.h"
#include "daemon/server_builder.h"
#include "storage/memory_storage.h"
#include "storage/sqlite_storage.h"

namespace recondb::daemon {
namespace {

// What the server and the dialer speak (TLS, mTLS, plaintext), and the
// warning of an --insecure network address.
void LogTransportSecurity(const Config& config, const std::string& address,
                          spdlog::logger& logger) {
  if (!config.tls_cert.empty()) {
    logger.info("TLS on {}: certificate {}, {}; files re-read every {}", address, config.tls_cert,
                config.tls_client_ca.empty()
                    ? std::string("client certificates not asked for")
                    : absl::StrCat("clients must present a certificate of ", config.tls_client_ca),
                absl::FormatDuration(config.tls_reload_interval));
  }
  if (!config.peer_tls_ca.empty()) {
    logger.info("peers dialed over TLS, verified against {}{}", config.peer_tls_ca,
                config.peer_tls_cert.empty()
                    ? std::string(", no client certificate")
                    : absl::StrCat(", client certificate ", config.peer_tls_cert));
  }
  if (config.insecure && !SecuredForNetwork(config)) {
    if (auto listen = ParseListenAddress(config.listen); listen.ok() && !listen->IsLocalOnly()) {
      logger.warn(
          "--insecure: {} is reachable from the network without TLS and --auth=on; traffic "
          "may be read on the way, or anyone who reaches it can read and change every table",
          config.listen);
    }
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Start(const Config& config,
                                                      std::shared_ptr<spdlog::logger> logger) {
  // A port in use is the likeliest failure of a start: said in one line,
  // before the data directory is created and before gRPC would log its own
  // lines about it.
  RETURN_IF_ERROR(CheckCanListen(config.listen));
  CreatedDirectories created;
  if (config.storage == StorageKind::kSqlite) created = CreatedDirectories::Before(config.data_dir);
  absl::StatusOr<std::unique_ptr<Daemon>> daemon = StartInOrder(config, std::move(logger));
  if (daemon.ok()) return daemon;
  // The daemon that failed is gone: its store is closed, its LOCK released.
  if (absl::Status removed = created.Remove(); !removed.ok()) {
    return absl::Status(daemon.status().code(),
                        absl::StrCat(daemon.status().message(), "; ", removed.message()));
  }
  return daemon.status();
}

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::StartInOrder(
    const Config& config, std::shared_ptr<spdlog::logger> logger) {
  std::unique_ptr<Daemon> daemon(new Daemon(config, std::move(logger)));
  RETURN_IF_ERROR(daemon->OpenStorage());
  RETURN_IF_ERROR(daemon->OpenEngine());
  RETURN_IF_ERROR(daemon->OpenAuthorizer());
  daemon->pool_ = std::make_unique<WorkerPool>(config.worker_threads);
  daemon->stream_limiter_ = std::make_unique<StreamLimiter>(config.max_streams_per_principal);
  daemon->service_ = std::make_unique<DatabaseService>(
      daemon->engine_.get(), daemon->pool_.get(), daemon->authorizer_.get(), daemon->logger_,
      daemon->stream_limiter_.get());
  daemon->MakeReplication();
  RETURN_IF_ERROR(daemon->StartServer());
  daemon->logger_->info("recondbd listening on {} node_id={} storage={}", daemon->address_,
                        daemon->engine_->node_id(), daemon->StorageDescription());
  LogTransportSecurity(config, daemon->address_, *daemon->logger_);
  if (config.auth) {
    daemon->logger_->info(
        "authentication on: every call needs a bearer token or a client "
        "certificate mapped to a principal");
  }
  // Dial loops start once this node can answer its peers' streams too.
  RETURN_IF_ERROR(daemon->peers_->Start(config.peers));
  return daemon;
}

Daemon::~Daemon() { Shutdown(); }

absl::Status Daemon::OpenStorage() {
  if (config_.storage == StorageKind::kMemory) {
    storage_ = storage::NewMemoryStorage();
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(lock_, DataDirLock::Acquire(config_.data_dir));
  // Under the lock: a backup copy found here was left by a daemon that died
  // while taking it.
  for (const std::string& name : RemoveStaleTempBackups(config_.data_dir)) {
    logger_->info("removed {} (a backup copy left by an earlier daemon)", name);
  }
  storage::SqliteOptions options;
  options.path = (std::filesystem::path(config_.data_dir) / kDatabaseFile).string();
  options.durability = config_.durability;
  options.page_size = config_.page_size;
  logger_->debug("opening {}", options.path);
  ASSIGN_OR_RETURN(storage_, storage::OpenSqliteStorage(options));
  return absl::OkStatus();
}

absl::Status Daemon::OpenAuthorizer() {
  auth::AuthorizerOptions options;
  options.enabled = config_.auth;
  if (config_.storage == StorageKind::kSqlite) {
    options.store_path = (std::filesystem::path(config_.data_dir) / kAuthFile).string();
  }
  options.auth_file = config_.auth_file;
  ASSIGN_OR_RETURN(authorizer_, auth::Authorizer::Open(std::move(options)));
  if (!config_.auth) return absl::OkStatus();
  ASSIGN_OR_RETURN(const auth::BootstrapResult bootstrap,
                   authorizer_->BootstrapAdmin(config_.admin_token_file));
  if (bootstrap.created_admin && bootstrap.wrote_token_file) {
    // The path only: the token is a secret, read it from the file.
    logger_->warn("created principal admin; its token is in {} (mode 0600): keep it secret",
                  config_.admin_token_file);
  } else if (bootstrap.created_admin) {
    logger_->info("created principal admin with the token in {}", config_.admin_token_file);
  }
  return absl::OkStatus();
}

absl::Status Daemon::OpenEngine() {
  engine::EngineOptions options;
  options.storage = storage_.get();
  options.logger = logger_;
  options.max_record_bytes = config_.max_record_bytes;
  ASSIGN_OR_RETURN(engine_, engine::Engine::Open(std::move(options)));
  return absl::OkStatus();
}

void Daemon::MakeReplication() {
  GrpcDialerOptions dialer;
  dialer.max_message_bytes = config_.max_message_bytes;
  if (!config_.peer_tls_ca.empty()) {
    TlsFiles files{config_.peer_tls_cert, config_.peer_tls_key, config_.peer_tls_ca,
                   config_.tls_reload_interval};
    WatchedCredentials<grpc::ChannelCredentials> tls = MakeTlsChannelCredentials(files);
    tls_providers_.push_back(std::move(tls.provider));
    dialer.credentials = std::move(tls.credentials);
  }
  dialer.peer_access = [authorizer = authorizer_.get()](const grpc::AuthContext* context) {
    return DialedPeerAccess(authorizer, context);
  };
  dialer_ = std::make_unique<GrpcDialer>(std::move(dialer));
  reconciler::PeerManagerOptions peers;
  peers.engine = engine_.get();
  peers.dialer = dialer_.get();
  peers.logger = logger_;
  peers.stale_after = config_.stale_peer_after;
  peers.session_defaults.batch_records = config_.replication_batch_records;
  // Revisions parts stay well under the message limit (of this node, and of
  // its peers if the mesh shares its configuration): a part may exceed its
  // target by one record and that record's ancestry.
  peers.session_defaults.part_bytes =
      std::clamp<int64_t>(config_.max_message_bytes / 4, 16 << 10, 1 << 20);
  peers_ = std::make_unique<reconciler::PeerManager>(std::move(peers));
  replication_ = std::make_unique<ReplicationService>(peers_.get(), authorizer_.get(), logger_,
                                                      stream_limiter_.get());
  AdminServiceOptions admin;
  admin.engine = engine_.get();
  admin.peers = peers_.get();
  admin.authorizer = authorizer_.get();
  admin.storage_description = StorageDescription();
  if (config_.storage == StorageKind::kSqlite) admin.backup_dir = config_.data_dir;
  admin.backup_chunk_bytes = std::clamp<int64_t>(config_.max_message_bytes / 4, 16 << 10, 1 << 20);
  admin.logger = logger_;
  admin_ = std::make_unique<AdminService>(std::move(admin));
}

absl::Status Daemon::StartServer() {
  ServerOptions options;
  options.listen = config_.listen;
  options.max_message_bytes = config_.max_message_bytes;
  options.unary_call_queue = true;
  if (!config_.tls_cert.empty()) {
    TlsFiles files{config_.tls_cert, config_.tls_key, config_.tls_client_ca,
                   config_.tls_reload_interval};
    WatchedCredentials<grpc::ServerCredentials> tls = MakeTlsServerCredentials(files);
    tls_providers_.push_back(std::move(tls.provider));
    options.credentials = std::move(tls.credentials);
  }
  options.max_connection_idle = config_.max_connection_idle;
  options.keepalive_time = config_.keepalive_time;
  options.keepalive_timeout = config_.keepalive_timeout;
  options.min_ping_interval = config_.min_ping_interval;
  options.max_ping_strikes = config_.max_ping_strikes;
  ASSIGN_OR_RETURN(
      StartedServer started,
      StartGrpcServer(options,
                      {{std::string(v1::Database::service_full_name()), service_.get()},
                       {std::string(v1::Replication::service_full_name()), replication_.get()},
                       {std::string(v1::Admin::service_full_name()), admin_.get()}}));
  server_ = std::move(started.server);
  unix_socket_lock_ = std::move(started.unix_socket_lock);
  unary_call_queue_ = std::move(started.unary_call_queue);
  service_->StartUnaryCalls(unary_call_queue_.get());
  unary_call_threads_ =
      std::make_unique<CompletionQueueThreads>(unary_call_queue_.get(), config_.worker_threads);
  address_ = std::move(started.address);
  port_ = started.port;
  return absl::OkStatus();
}

std::string Daemon::StorageDescription() const {
  if (config_.storage == StorageKind::kMemory) return "memory durability=none";
  std::string description = absl::StrCat("sqlite durability=", Sv(DurabilityName(config_.durability)),
                                         " data_dir=", config_.data_dir);
  const std::string settings = storage_->Settings();
  if (!settings.empty()) absl::StrAppend(&description, " ", settings);
  return description;
}

void Daemon::Shutdown() {
  if (server_ != nullptr) {
    MarkNotServing(*server_);
    service_->BeginShutdown();
    // Sessions end (accepted ones return UNAVAILABLE) and dial loops stop,
    // so that no replication call holds the server's shutdown.
    peers_->Shutdown();
    server_->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
    server_->Wait();
    // Only now may the queue shut down (gRPC's order); its threads run
    // what is left in it and end.
    unary_call_threads_.reset();
    unary_call_queue_.reset();
    server_.reset();
    // gRPC has removed the socket file; another daemon may take the path.
    unix_socket_lock_.reset();
  }
  // Calls are over, but their pool tasks may still be returning; they use
  // the service and the engine.
  pool_.reset();
  if (peers_ != nullptr) peers_->Shutdown();  // If the server never started.
  admin_.reset();
  replication_.reset();
  peers_.reset();
  dialer_.reset();
  service_.reset();
  stream_limiter_.reset();
  authorizer_.reset();
  engine_.reset();
  storage_.reset();
  lock_.reset();
}

}  // namespace recondb::daemon
