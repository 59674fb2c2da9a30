// recondb_echo_server: a trivial gRPC service (tools/bench/echo.proto) that
// answers each call with its request's payload, built like recondbd (callback
// API, loopback, no SO_REUSEPORT). `recondb_bench --mode=echo` against it
// measures the unary-call ceiling of gRPC on this machine, the yardstick for
// GetRecord. Logs `listening on HOST:PORT` on stderr once serving; exits 0 on
// SIGINT/SIGTERM.
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "bench/echo.grpc.pb.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/security/server_credentials.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0",
          "HOST:PORT to listen on (port 0 picks a free port), or unix:PATH.");

namespace recondb::tools {
namespace {

class EchoService final : public bench::v1::Echo::CallbackService {
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx, const bench::v1::EchoRequest* req,
                                 bench::v1::EchoResponse* resp) override {
    resp->set_payload(req->payload());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

// The host part of "HOST:PORT".
std::string HostOf(const std::string& listen) {
  size_t colon = listen.rfind(':');
  return colon == std::string::npos ? listen : listen.substr(0, colon);
}

int Run() {
  // Signals are taken by sigwait below, not by a handler: block them before
  // gRPC starts its threads so that they all inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const std::string listen = absl::GetFlag(FLAGS_listen);
  EchoService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "recondb_echo_server: cannot listen on %s\n", listen.c_str());
    return 1;
  }
  if (listen.rfind("unix:", 0) == 0) {  // gRPC reports port 1 for a socket.
    std::fprintf(stderr, "recondb_echo_server: listening on %s\n", listen.c_str());
  } else {
    std::fprintf(stderr, "recondb_echo_server: listening on %s:%d\n", HostOf(listen).c_str(), port);
  }

  int sig = 0;
  sigwait(&signals, &sig);
  std::fprintf(stderr, "recondb_echo_server: signal %d, stopping\n", sig);
  server->Shutdown();
  return 0;
}

}  // namespace
}  // namespace recondb::tools

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("A trivial gRPC echo service for recondb_bench --mode=echo.");
  absl::ParseCommandLine(argc, argv);
  return recondb::tools::Run();
}
