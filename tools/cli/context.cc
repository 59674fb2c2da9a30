// Connection, deadlines and the mapping of failures to exit codes.
#include <chrono>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/strings.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "tools/cli/cli.h"

namespace recondb::cli {

// As in grpc_cli and absl.
std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return absl::StrCat("CODE_", static_cast<int>(code));
  }
}

std::shared_ptr<grpc::Channel> Context::Channel() {
  if (channel_ == nullptr) {
    if (tls_ca.empty()) {
      channel_ = grpc::CreateChannel(addr, grpc::InsecureChannelCredentials());
    } else {
      grpc::SslCredentialsOptions tls;
      tls.pem_root_certs = tls_ca;
      tls.pem_cert_chain = tls_cert;
      tls.pem_private_key = tls_key;
      grpc::ChannelArguments args;
      if (!tls_server_name.empty()) args.SetSslTargetNameOverride(tls_server_name);
      channel_ = grpc::CreateCustomChannel(addr, grpc::SslCredentials(tls), args);
    }
  }
  return channel_;
}

v1::Database::Stub& Context::Db() {
  if (db_ == nullptr) db_ = v1::Database::NewStub(Channel());
  return *db_;
}

v1::Admin::Stub& Context::Admin() {
  if (admin_ == nullptr) admin_ = v1::Admin::NewStub(Channel());
  return *admin_;
}

std::chrono::system_clock::time_point Deadline(const Context& ctx) {
  return absl::ToChronoTime(absl::Now() + ctx.timeout);
}

int UsageError(Context& ctx, std::string_view message) {
  *ctx.err << "recondb: " << message << "\nRun 'recondb " << ctx.command
           << (ctx.command.empty() ? "" : " ") << "--help' for usage.\n";
  return kExitUsage;
}

int RpcError(Context& ctx, const grpc::Status& status, std::string_view what) {
  const grpc::StatusCode code = status.error_code();
  if (code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED) {
    *ctx.err << "recondb: cannot reach recondbd at " << ctx.addr << " (" << what
             << "): " << CodeName(code) << ": " << status.error_message() << "\n";
    return kExitUnreachable;
  }
  *ctx.err << "recondb: " << what << ": " << CodeName(code) << ": " << status.error_message()
           << "\n";
  return kExitRefused;
}

int InputError(Context& ctx, std::string_view message) {
  *ctx.err << "recondb: " << message << "\n";
  return kExitInput;
}

}  // namespace recondb::cli
