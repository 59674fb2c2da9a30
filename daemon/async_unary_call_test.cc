// AsyncUnaryCall and CompletionQueueThreads on a real server over loopback,
// with the tools' trivial Echo service, whose handler the tests control.
#include "daemon/async_unary_call.h"

#include <atomic>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "bench/echo.grpc.pb.h"
#include "daemon/completion_queue_threads.h"
#include "daemon/server_builder.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace recondb::daemon {
namespace {

using EchoRequest = bench::v1::EchoRequest;
using EchoResponse = bench::v1::EchoResponse;

constexpr auto kDeadline = std::chrono::seconds(30);

class EchoService final : public bench::v1::Echo::AsyncService {};

class AsyncUnaryCallTest : public ::testing::Test {
 protected:
  // Serves Echo with `handle` on `threads` queue threads.
  void Serve(int threads, std::function<grpc::Status(const EchoRequest&, EchoResponse*)> handle) {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.unary_call_queue = true;
    ASSERT_OK_AND_ASSIGN(StartedServer started,
                         StartGrpcServer(options, {{"recondb.bench.v1.Echo", &service_}}));
    server_ = std::move(started.server);
    queue_ = std::move(started.unary_call_queue);
    method_.queue = queue_.get();
    method_.request_next = [this](grpc::ServerContext* context, EchoRequest* request,
                                  grpc::ServerAsyncResponseWriter<EchoResponse>* responder,
                                  grpc::ServerCompletionQueue* queue, void* tag) {
      service_.RequestEcho(context, request, responder, queue, queue, tag);
    };
    method_.handle = [handle = std::move(handle)](grpc::ServerContext&, const EchoRequest& request,
                                                  EchoResponse* response) {
      return handle(request, response);
    };
    AsyncUnaryCall<EchoRequest, EchoResponse>::Start(&method_);
    threads_ = std::make_unique<CompletionQueueThreads>(queue_.get(), threads);
    stub_ = bench::v1::Echo::NewStub(
        grpc::CreateChannel(started.address, grpc::InsecureChannelCredentials()));
  }

  void TearDown() override { Stop(); }

  // The daemon's order: the server, then the queue threads.
  void Stop() {
    if (server_ == nullptr) return;
    server_->Shutdown(std::chrono::system_clock::now() + kDeadline);
    threads_.reset();
    queue_.reset();
    server_.reset();
  }

  grpc::Status Echo(const std::string& payload, std::string* answer = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kDeadline);
    EchoRequest request;
    request.set_payload(payload);
    EchoResponse response;
    grpc::Status status = stub_->Echo(&context, request, &response);
    if (answer != nullptr) *answer = response.payload();
    return status;
  }

  EchoService service_;
  UnaryMethod<EchoRequest, EchoResponse> method_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::ServerCompletionQueue> queue_;
  std::unique_ptr<CompletionQueueThreads> threads_;
  std::unique_ptr<bench::v1::Echo::Stub> stub_;
};

grpc::Status Copy(const EchoRequest& request, EchoResponse* response) {
  response->set_payload(request.payload());
  return grpc::Status::OK;
}

TEST_F(AsyncUnaryCallTest, AnswersEveryCallOfManyConcurrentClients) {
  Serve(2, Copy);
  std::vector<std::future<bool>> calls;
  for (int i = 0; i < 64; ++i) {
    calls.push_back(std::async(std::launch::async, [this, i] {
      std::string answer;
      return Echo(std::to_string(i), &answer).ok() && answer == std::to_string(i);
    }));
  }
  for (auto& call : calls) EXPECT_TRUE(call.get());
}

TEST_F(AsyncUnaryCallTest, AnErrorStatusReachesTheClient) {
  Serve(1, [](const EchoRequest& request, EchoResponse*) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad payload: " + request.payload());
  });
  const grpc::Status status = Echo("x");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "bad payload: x");
}

TEST_F(AsyncUnaryCallTest, TwoQueueThreadsRunTwoHandlersAtOnce) {
  // The handler of the first call waits until a second call has reached its
  // own handler: this only ends if two queue threads run handlers at once,
  // i.e. a blocked handler holds its thread and not the method.
  absl::Notification a_started, b_started;
  Serve(2, [&](const EchoRequest& request, EchoResponse* response) {
    const bool is_a = request.payload() == "a";
    (is_a ? a_started : b_started).Notify();
    // Bounded, so that a server running one handler at a time fails here
    // instead of hanging.
    if (!(is_a ? b_started : a_started).WaitForNotificationWithTimeout(absl::Seconds(20))) {
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "the other call never started");
    }
    return Copy(request, response);
  });
  auto first = std::async(std::launch::async, [this] { return Echo("a").ok(); });
  auto second = std::async(std::launch::async, [this] { return Echo("b").ok(); });
  EXPECT_TRUE(first.get());
  EXPECT_TRUE(second.get());
}

TEST_F(AsyncUnaryCallTest, ShutdownWaitsForTheCallInFlight) {
  absl::Notification in_handler, release;
  std::atomic<bool> answered{false};
  Serve(1, [&](const EchoRequest& request, EchoResponse* response) {
    in_handler.Notify();
    release.WaitForNotification();
    answered = true;
    return Copy(request, response);
  });
  auto call = std::async(std::launch::async, [this] { return Echo("late"); });
  in_handler.WaitForNotification();
  std::thread stopper([this] { Stop(); });
  release.Notify();
  stopper.join();
  EXPECT_TRUE(answered);
  EXPECT_TRUE(call.get().ok());
}

}  // namespace
}  // namespace recondb::daemon
