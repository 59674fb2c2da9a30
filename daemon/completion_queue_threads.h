// The threads that answer unary calls: each takes the next event from a
// server completion queue and runs it to its end on the same thread, so a
// call's storage work never runs on one of gRPC's own threads and never
// waits for a hand-off to another thread.
#ifndef RECONDB_DAEMON_COMPLETION_QUEUE_THREADS_H_
#define RECONDB_DAEMON_COMPLETION_QUEUE_THREADS_H_

#include <thread>
#include <vector>

#include "grpcpp/completion_queue.h"

namespace recondb::daemon {

// What every tag given to the queue points to.
class CompletionQueueTag {
 public:
  virtual ~CompletionQueueTag() = default;
  // Runs on a queue thread. `ok` is gRPC's verdict on the operation the tag
  // was given to (false: the call or the server is going away).
  virtual void Proceed(bool ok) = 0;
};

class CompletionQueueThreads {
 public:
  // Starts `threads` threads taking events from `queue` (not owned, must
  // outlive this object), whose tags are all CompletionQueueTag*.
  // REQUIRES: threads > 0.
  CompletionQueueThreads(grpc::ServerCompletionQueue* queue, int threads);
  CompletionQueueThreads(const CompletionQueueThreads&) = delete;
  CompletionQueueThreads& operator=(const CompletionQueueThreads&) = delete;

  // Shuts the queue down, runs what is left in it (every remaining tag sees
  // ok = false and releases its call) and joins the threads. REQUIRES: the
  // server's Shutdown() has returned: gRPC wants a server's queues shut
  // down after the server.
  ~CompletionQueueThreads();

 private:
  void Loop();

  grpc::ServerCompletionQueue* const queue_;
  std::vector<std::thread> threads_;
};

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_COMPLETION_QUEUE_THREADS_H_
