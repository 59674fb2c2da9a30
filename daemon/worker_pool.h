// A fixed set of threads that run storage work for callback reactors (the
// GetChanges streams), so that gRPC's reaction threads never wait on a disk
// or a lock.
#ifndef RECONDB_DAEMON_WORKER_POOL_H_
#define RECONDB_DAEMON_WORKER_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace recondb::daemon {

// Thread-safe. Tasks run in the order they were scheduled (first in, first
// out) on whichever thread is free; a task may schedule further tasks.
//
// The queue is not bounded: gRPC's own resource quota and the clients'
// deadlines bound how many calls are in flight, and a refused task would
// leave a call without an answer.
class WorkerPool {
 public:
  // Starts `threads` threads. REQUIRES: threads > 0.
  explicit WorkerPool(int threads);
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs every task already scheduled (and those they schedule), then joins
  // the threads. REQUIRES: not called from a task of this pool.
  ~WorkerPool();

  // Queues `task` to run on a pool thread. REQUIRES: the destructor has not
  // started.
  void Schedule(std::function<void()> task);

 private:
  void Loop();

  absl::Mutex mu_;
  absl::CondVar work_available_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_WORKER_POOL_H_
