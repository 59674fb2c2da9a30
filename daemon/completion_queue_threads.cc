#include "daemon/completion_queue_threads.h"

#include <cassert>

namespace recondb::daemon {

CompletionQueueThreads::CompletionQueueThreads(grpc::ServerCompletionQueue* queue, int threads)
    : queue_(queue) {
  assert(threads > 0);
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

CompletionQueueThreads::~CompletionQueueThreads() {
  queue_->Shutdown();
  for (std::thread& t : threads_) t.join();
}

void CompletionQueueThreads::Loop() {
  void* tag = nullptr;
  bool ok = false;
  // Next() returns false once the queue is shut down and empty.
  while (queue_->Next(&tag, &ok)) static_cast<CompletionQueueTag*>(tag)->Proceed(ok);
}

}  // namespace recondb::daemon
