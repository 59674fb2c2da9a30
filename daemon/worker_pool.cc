#include "daemon/worker_pool.h"

#include <cassert>
#include <utility>

namespace recondb::daemon {

WorkerPool::WorkerPool(int threads) {
  assert(threads > 0);
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

WorkerPool::~WorkerPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  work_available_.SignalAll();
  for (std::thread& t : threads_) t.join();
}

void WorkerPool::Schedule(std::function<void()> task) {
  {
    absl::MutexLock lock(&mu_);
    tasks_.push_back(std::move(task));
  }
  // One task needs one thread: waking exactly one idle thread (instead of
  // letting every waiter re-check a condition) keeps a call to one context
  // switch.
  work_available_.Signal();
}

void WorkerPool::Loop() {
  while (true) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      while (tasks_.empty() && !stopping_) work_available_.Wait(&mu_);
      // Stopping only ends a thread once the queue is empty, so that work
      // scheduled before (or by) the last tasks still runs.
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace recondb::daemon
