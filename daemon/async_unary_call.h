// One unary method served from a server completion queue (gRPC's async
// API). A call object waits for the next call of its method; when one
// arrives, the queue thread that takes it first puts a new call object in
// its place (so the method keeps accepting calls while this one runs), then
// runs the handler and sends the answer, all on that same thread.
#ifndef RECONDB_DAEMON_ASYNC_UNARY_CALL_H_
#define RECONDB_DAEMON_ASYNC_UNARY_CALL_H_

#include <functional>

#include "daemon/completion_queue_threads.h"
#include "grpcpp/completion_queue.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/async_unary_call.h"
#include "grpcpp/support/status.h"

namespace recondb::daemon {

template <typename Request, typename Response>
struct UnaryMethod {
  // Asks gRPC for the next call of the method: the generated
  // AsyncService::Request<Method>, with `queue` for both of its queues.
  std::function<void(grpc::ServerContext*, Request*, grpc::ServerAsyncResponseWriter<Response>*,
                     grpc::ServerCompletionQueue* queue, void* tag)>
      request_next;
  // Answers one call; `context` is the call's (its metadata and peer
  // identity authenticate the caller). Runs on a queue thread; may block
  // (storage work).
  std::function<grpc::Status(grpc::ServerContext& context, const Request&, Response*)> handle;
  grpc::ServerCompletionQueue* queue = nullptr;
};

template <typename Request, typename Response>
class AsyncUnaryCall final : public CompletionQueueTag {
 public:
  // Waits for the next call of `method`, which must outlive every call
  // object (the service owns it; the server's shutdown ends them all).
  static void Start(const UnaryMethod<Request, Response>* method) {
    auto* call = new AsyncUnaryCall(method);
    method->request_next(&call->context_, &call->request_, &call->responder_, method->queue, call);
  }

  void Proceed(bool ok) override {
    // The answer has been sent (or could not be), or no call came because
    // the server is shutting down: either way this call is over.
    if (answered_ || !ok) {
      delete this;
      return;
    }
    Start(method_);
    answered_ = true;
    const grpc::Status status = method_->handle(context_, request_, &response_);
    if (status.ok()) {
      responder_.Finish(response_, status, this);
    } else {
      responder_.FinishWithError(status, this);
    }
  }

 private:
  explicit AsyncUnaryCall(const UnaryMethod<Request, Response>* method)
      : method_(method), responder_(&context_) {}

  const UnaryMethod<Request, Response>* const method_;
  grpc::ServerContext context_;
  Request request_;
  Response response_;
  grpc::ServerAsyncResponseWriter<Response> responder_;
  bool answered_ = false;
};

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_ASYNC_UNARY_CALL_H_
