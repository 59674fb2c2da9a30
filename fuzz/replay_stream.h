// A MessageStream whose peer is a recorded (or fuzzed) list of messages:
// Read returns them in order, then false (the peer finished writing);
// Write takes anything (a peer that reads everything).
#ifndef RECONDB_FUZZ_REPLAY_STREAM_H_
#define RECONDB_FUZZ_REPLAY_STREAM_H_

#include <cstddef>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "reconciler/message_stream.h"

namespace recondb::fuzz {

class ReplayStream final : public reconciler::MessageStream {
 public:
  explicit ReplayStream(std::vector<v1::ReplicateMessage> messages)
      : messages_(std::move(messages)) {}

  bool Read(v1::ReplicateMessage* message) override {
    absl::MutexLock lock(&mu_);
    if (cancelled_ || next_ == messages_.size()) return false;
    *message = messages_[next_++];
    return true;
  }
  bool Write(const v1::ReplicateMessage& message) override {
    absl::MutexLock lock(&mu_);
    if (cancelled_ || writes_done_) return false;
    ++written_;
    return true;
  }
  void WritesDone() override {
    absl::MutexLock lock(&mu_);
    writes_done_ = true;
  }
  void Cancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
  }

 private:
  absl::Mutex mu_;
  const std::vector<v1::ReplicateMessage> messages_;
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
  size_t written_ ABSL_GUARDED_BY(mu_) = 0;
  bool writes_done_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace recondb::fuzz

#endif  // RECONDB_FUZZ_REPLAY_STREAM_H_
