#include "storage/internal/shared_gate.h"

#include <cassert>

namespace recondb::storage::internal {

void SharedGate::LockShared() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(this, &SharedGate::CanShare));
  ++readers_;
}

void SharedGate::UnlockShared() {
  absl::MutexLock lock(&mu_);
  assert(readers_ > 0);
  --readers_;
}

void SharedGate::Lock() {
  absl::MutexLock lock(&mu_);
  ++writers_waiting_;
  mu_.Await(absl::Condition(this, &SharedGate::IsFree));
  --writers_waiting_;
  writer_ = true;
}

bool SharedGate::CanShare() const { return !writer_ && writers_waiting_ == 0; }

bool SharedGate::IsFree() const { return !writer_ && readers_ == 0; }

void SharedGate::Unlock() {
  absl::MutexLock lock(&mu_);
  assert(writer_);
  writer_ = false;
}

}  // namespace recondb::storage::internal
