// Builds and starts recondbd's gRPC server: the given services plus the
// standard health service and server reflection.
#ifndef RECONDB_DAEMON_SERVER_BUILDER_H_
#define RECONDB_DAEMON_SERVER_BUILDER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/pid_lock_file.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"

namespace grpc {
class Service;
}  // namespace grpc

namespace recondb::daemon {

struct ServerOptions {
  // "host:port" (port 0 picks a free port) or "unix:PATH". No default.
  std::string listen;
  // Largest message received or sent. Default: 4 MiB.
  int max_message_bytes = 4 << 20;
  // The listening port's credentials (daemon/tls_credentials.h). Default
  // (null): plaintext.
  std::shared_ptr<grpc::ServerCredentials> credentials;
  // Whether to add a completion queue for services with async methods
  // (StartedServer::unary_call_queue). Default: no.
  bool unary_call_queue = false;
  // Connection limits (daemon/DESIGN.md, "Limits"; the --flags of the same
  // names). A connection with no call for max_connection_idle is closed
  // (GRPC_ARG_MAX_CONNECTION_IDLE_MS). Idle calls are pinged every
  // keepalive_time and the connection is closed if a ping is not answered
  // within keepalive_timeout. A client's pings closer than
  // min_ping_interval without data are strikes; after max_ping_strikes it
  // is sent GOAWAY (0: never).
  absl::Duration max_connection_idle = absl::Minutes(30);
  absl::Duration keepalive_time = absl::Seconds(60);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  absl::Duration min_ping_interval = absl::Seconds(10);
  int max_ping_strikes = 2;
};

// A service to register and the name under which the health service reports
// it, e.g. "recondb.v1.Database".
struct NamedService {
  std::string name;
  grpc::Service* service;  // Not owned; must outlive the server.
};

struct StartedServer {
  std::unique_ptr<grpc::Server> server;
  // TCP: the host of options.listen and the port actually bound,
  // "host:port". Unix socket: options.listen as given, and port 0.
  std::string address;
  int port = 0;
  // Unix socket only: the claim on the path (ClaimUnixSocketPath). Release
  // it after the server is gone.
  std::unique_ptr<PidLockFile> unix_socket_lock;
  // When ServerOptions::unary_call_queue: the server's completion queue for
  // async calls. Shut it down (CompletionQueueThreads does) after the
  // server's Shutdown() has returned, never before.
  std::unique_ptr<grpc::ServerCompletionQueue> unary_call_queue;
};

// Registers `services`, grpc.health.v1.Health (the default health service,
// whose descriptors are linked in so that reflection can describe it) and
// server reflection; listens on options.listen with SO_REUSEPORT off, so
// that a port in use is an error instead of a silently shared port; starts
// the server; and marks the whole server and each service SERVING.
// UNAVAILABLE "cannot listen on ADDR: address in use or invalid" if the port
// cannot be bound; INVALID_ARGUMENT if options.listen is neither host:port
// nor unix:PATH; a Unix socket path another process holds, or that is not a
// socket, as ClaimUnixSocketPath says.
absl::StatusOr<StartedServer> StartGrpcServer(const ServerOptions& options,
                                              const std::vector<NamedService>& services);

// Marks the whole server and every service NOT_SERVING for good; health
// checks from now on see the server going away. Call first at shutdown.
void MarkNotServing(grpc::Server& server);

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_SERVER_BUILDER_H_
