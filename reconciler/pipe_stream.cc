#include "reconciler/pipe_stream.h"

#include <deque>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace recondb::reconciler {
namespace {

// Both directions of one pipe.
struct PipeState {
  explicit PipeState(int capacity) : capacity(capacity) {}
  const int capacity;
  absl::Mutex mu;
  std::deque<v1::ReplicateMessage> queue[2] ABSL_GUARDED_BY(mu);  // Indexed by the reading end.
  bool writes_done[2] ABSL_GUARDED_BY(mu) = {false, false};  // By the writing end.
  bool broken ABSL_GUARDED_BY(mu) = false;
};

class PipeEnd final : public MessageStream {
 public:
  PipeEnd(std::shared_ptr<PipeState> state, int self) : state_(std::move(state)), self_(self) {}
  ~PipeEnd() override { Cancel(); }

  bool Read(v1::ReplicateMessage* message) override {
    absl::MutexLock lock(&state_->mu);
    auto& queue = state_->queue[self_];
    auto readable = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
      return state_->broken || !state_->queue[self_].empty() || state_->writes_done[1 - self_];
    };
    state_->mu.Await(absl::Condition(&readable));
    if (state_->broken || queue.empty()) return false;
    *message = std::move(queue.front());
    queue.pop_front();
    return true;
  }

  bool Write(const v1::ReplicateMessage& message) override {
    absl::MutexLock lock(&state_->mu);
    auto& queue = state_->queue[1 - self_];
    auto writable = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
      return state_->broken || static_cast<int>(state_->queue[1 - self_].size()) < state_->capacity;
    };
    state_->mu.Await(absl::Condition(&writable));
    if (state_->broken || state_->writes_done[self_]) return false;
    queue.push_back(message);
    return true;
  }

  void WritesDone() override {
    absl::MutexLock lock(&state_->mu);
    state_->writes_done[self_] = true;
  }

  void Cancel() override {
    absl::MutexLock lock(&state_->mu);
    state_->broken = true;
  }

 private:
  std::shared_ptr<PipeState> state_;
  const int self_;
};

}  // namespace

PipeEnds MakePipe(int capacity) {
  auto state = std::make_shared<PipeState>(capacity < 1 ? 1 : capacity);
  return PipeEnds{std::make_unique<PipeEnd>(state, 0), std::make_unique<PipeEnd>(state, 1)};
}

}  // namespace recondb::reconciler
