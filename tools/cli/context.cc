// Connection, deadlines and the mapping of failures to exit codes.
#include <chrono>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/strings.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/client_interceptor.h"
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

namespace {

// Adds "authorization: Bearer <token>" to every call of the channel, so that
// no command has to remember it.
class BearerInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit BearerInterceptor(const std::string* value) : value_(value) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->insert({"authorization", *value_});
    }
    methods->Proceed();
  }

 private:
  const std::string* const value_;
};

class BearerInterceptorFactory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit BearerInterceptorFactory(std::string token) : value_("Bearer " + token) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override {
    return new BearerInterceptor(&value_);
  }

 private:
  const std::string value_;
};

}  // namespace

std::shared_ptr<grpc::Channel> Context::Channel() {
  if (channel_ != nullptr) return channel_;
  if (token.empty()) {
    channel_ = grpc::CreateChannel(addr, grpc::InsecureChannelCredentials());
    return channel_;
  }
  // grpc::AccessTokenCredentials would refuse an insecure channel: the
  // metadata is added by an interceptor instead (the daemon decides whether
  // a plaintext address is acceptable: loopback, or --insecure).
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> factories;
  factories.push_back(std::make_unique<BearerInterceptorFactory>(token));
  channel_ = grpc::experimental::CreateCustomChannelWithInterceptors(
      addr, grpc::InsecureChannelCredentials(), grpc::ChannelArguments(), std::move(factories));
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
