#include "daemon/server_builder.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "daemon/listen_address.h"
#include "daemon/unix_socket_claim.h"
#include "grpc/grpc.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/server_builder.h"

namespace recondb::daemon {
namespace {

// The default health service is implemented without the C++ protobuf types,
// so nothing would pull grpc/health/v1/health.pb.cc into the binary, and
// reflection could not describe grpc.health.v1.Health. Naming one of its
// symbols keeps it, and with it the file's descriptors in the pool.
const google::protobuf::Descriptor* KeepHealthDescriptors() {
  return grpc::health::v1::HealthCheckRequest::descriptor();
}

}  // namespace

absl::StatusOr<StartedServer> StartGrpcServer(const ServerOptions& options,
                                              const std::vector<NamedService>& services) {
  ASSIGN_OR_RETURN(ListenAddress requested, ParseListenAddress(options.listen));
  std::unique_ptr<PidLockFile> unix_socket_lock;
  if (requested.is_unix()) {
    ASSIGN_OR_RETURN(unix_socket_lock, ClaimUnixSocketPath(requested.unix_path));
  }
  if (KeepHealthDescriptors() == nullptr) {
    return absl::InternalError("grpc.health.v1 descriptors are missing");
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  int selected_port = 0;
  builder.AddListeningPort(
      options.listen,
      options.credentials != nullptr ? options.credentials : grpc::InsecureServerCredentials(),
      &selected_port);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  auto ms = [](absl::Duration d) {
    return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(d), INT32_MAX));
  };
  // Replication links send keepalive pings while idle (every 20 s, see
  // GrpcDialerOptions); accept them (min_ping_interval, default 10 s)
  // instead of answering "too many pings", but a client that pings faster
  // is sent GOAWAY after max_ping_strikes strikes, so abusive pings cost
  // it its connection.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             ms(options.min_ping_interval));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, options.max_ping_strikes);
  // And ping idle calls ourselves (default every 60 s, 20 s to answer, for
  // as long as the call lasts), so that the accepted side of a link whose
  // dialer vanished without closing its socket ends its session instead of
  // holding it for hours.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, ms(options.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, ms(options.keepalive_timeout));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // A connection with no call open is closed after max_connection_idle
  // (default 30 min): idle sockets of clients that went away do not pile up.
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, ms(options.max_connection_idle));
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  for (const NamedService& s : services) builder.RegisterService(s.service);

  std::unique_ptr<grpc::ServerCompletionQueue> unary_call_queue;
  if (options.unary_call_queue) unary_call_queue = builder.AddCompletionQueue();
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || selected_port <= 0) {
    if (server != nullptr) server->Shutdown();
    if (unary_call_queue != nullptr) {
      // Nothing was requested on it yet: shut down, it is empty at once.
      unary_call_queue->Shutdown();
      void* tag = nullptr;
      bool ok = false;
      while (unary_call_queue->Next(&tag, &ok)) {
      }
    }
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen, ": address in use or invalid"));
  }
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  if (health != nullptr) {
    health->SetServingStatus(true);
    for (const NamedService& s : services) health->SetServingStatus(s.name, true);
  }
  StartedServer started;
  started.server = std::move(server);
  started.unary_call_queue = std::move(unary_call_queue);
  started.unix_socket_lock = std::move(unix_socket_lock);
  if (requested.is_unix()) {
    started.address = options.listen;
  } else {
    started.port = selected_port;
    started.address = absl::StrCat(requested.tcp.host, ":", selected_port);
  }
  return started;
}

void MarkNotServing(grpc::Server& server) {
  grpc::HealthCheckServiceInterface* health = server.GetHealthCheckService();
  // Shutdown() sets every status NOT_SERVING and ignores later updates.
  if (health != nullptr) health->Shutdown();
}

}  // namespace recondb::daemon
