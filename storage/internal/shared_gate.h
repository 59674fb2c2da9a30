// A readers-writer lock for transactions that may end on another thread than
// the one that began them (a gRPC reaction hands work between threads):
// absl::Mutex and std::shared_mutex must be released by their owner thread.
#ifndef RECONDB_STORAGE_INTERNAL_SHARED_GATE_H_
#define RECONDB_STORAGE_INTERNAL_SHARED_GATE_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace recondb::storage::internal {

// Any number of shared holders, or one exclusive holder. A waiting exclusive
// holder keeps new shared holders out, so a stream of overlapping readers
// cannot starve the writer; hence a thread that already holds the gate
// shared must not ask for it again (shared or exclusive). Thread-safe.
class SharedGate {
 public:
  SharedGate() = default;
  SharedGate(const SharedGate&) = delete;
  SharedGate& operator=(const SharedGate&) = delete;

  // Blocks until no exclusive holder is active or waiting.
  void LockShared();
  // REQUIRES: a matching LockShared (by any thread).
  void UnlockShared();
  // Blocks until there is no other holder at all.
  void Lock();
  // REQUIRES: a matching Lock (by any thread).
  void Unlock();

 private:
  bool CanShare() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool IsFree() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  int readers_ ABSL_GUARDED_BY(mu_) = 0;
  int writers_waiting_ ABSL_GUARDED_BY(mu_) = 0;
  bool writer_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace recondb::storage::internal

#endif  // RECONDB_STORAGE_INTERNAL_SHARED_GATE_H_
