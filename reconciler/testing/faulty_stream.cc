#include "reconciler/testing/faulty_stream.h"

#include <utility>

#include "absl/time/time.h"

namespace recondb::reconciler::testing {

const char* StreamFaultName(StreamFault fault) {
  switch (fault) {
    case StreamFault::kNone: return "none";
    case StreamFault::kDrop: return "drop";
    case StreamFault::kDelay: return "delay";
    case StreamFault::kDuplicate: return "duplicate";
    case StreamFault::kBreak: return "break";
    case StreamFault::kCorrupt: return "corrupt";
    case StreamFault::kStall: return "stall";
  }
  return "?";
}

bool CorruptMessage(v1::ReplicateMessage* message, std::mt19937_64& rng) {
  std::string bytes = message->SerializeAsString();
  if (bytes.empty()) return false;
  if (rng() % 2 == 0) {
    bytes.resize(rng() % bytes.size());  // Cut short.
  } else {
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < flips; ++i) bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);
  }
  v1::ReplicateMessage parsed;
  if (!parsed.ParseFromString(bytes)) return false;
  *message = std::move(parsed);
  return true;
}

FaultyStream::FaultyStream(MessageStream* inner, FaultyStreamOptions options)
    : inner_(inner), options_(std::move(options)), rng_(options_.seed) {
  if (options_.clock == nullptr) {
    own_clock_ = std::make_unique<FakeClock>(0);
    options_.clock = own_clock_.get();
    if (!options_.sleep) {
      FakeClock* clock = own_clock_.get();
      options_.sleep = [clock](int64_t micros) { clock->Advance(micros); };
    }
  }
  if (!options_.sleep) {
    // A caller's clock without a way to wait on it: wait in real time until
    // that clock has moved on (its owner advances it).
    Clock* clock = options_.clock;
    options_.sleep = [clock](int64_t micros) {
      const int64_t until = clock->NowMicros() + micros;
      for (int i = 0; i < 100000 && clock->NowMicros() < until; ++i) absl::SleepFor(absl::Microseconds(100));
    };
  }
}

StreamFault FaultyStream::Choose(const v1::ReplicateMessage& message) {
  const int body = static_cast<int>(message.body_case());
  const int64_t index_all = per_kind_[0]++;
  const int64_t index_kind = body < 32 ? per_kind_[body]++ : -1;
  for (const ScriptedFault& s : options_.script) {
    if (s.body == 0 ? s.index == index_all : (s.body == body && s.index == index_kind)) return s.fault;
  }
  if (index_all < options_.spare_first) return StreamFault::kNone;
  std::uniform_real_distribution<double> p(0, 1);
  // One draw per kind, always all of them, so that the PRNG's sequence
  // does not depend on which fault fired.
  const bool stall = p(rng_) < options_.stall;
  const bool drop = p(rng_) < options_.drop;
  const bool corrupt = p(rng_) < options_.corrupt;
  const bool duplicate = p(rng_) < options_.duplicate;
  const bool delay = p(rng_) < options_.delay;
  if (stall) return StreamFault::kStall;
  if (drop) return StreamFault::kDrop;
  if (corrupt) return StreamFault::kCorrupt;
  if (duplicate) return StreamFault::kDuplicate;
  if (delay) return StreamFault::kDelay;
  return StreamFault::kNone;
}

bool FaultyStream::BlockUntilCancelled() {
  stats_.stalled = true;
  ++stats_.blocked_writes;
  mu_.Await(absl::Condition(&cancelled_));
  return false;
}

bool FaultyStream::Break() {
  stats_.broken = true;
  inner_->Cancel();
  return false;
}

bool FaultyStream::Read(v1::ReplicateMessage* message) { return inner_->Read(message); }

bool FaultyStream::Write(const v1::ReplicateMessage& message) {
  v1::ReplicateMessage out = message;
  StreamFault fault;
  {
    absl::MutexLock lock(&mu_);
    ++stats_.written;
    if (cancelled_ || stats_.broken) return false;
    if (stats_.stalled) return BlockUntilCancelled();
    if (options_.break_after >= 0 && stats_.written > options_.break_after) return Break();
    fault = Choose(message);
    switch (fault) {
      case StreamFault::kDrop:
        ++stats_.dropped;
        return true;
      case StreamFault::kBreak:
        return Break();
      case StreamFault::kStall:
        return BlockUntilCancelled();
      case StreamFault::kCorrupt:
        ++stats_.corrupted;
        if (!CorruptMessage(&out, rng_)) return Break();
        break;
      case StreamFault::kDelay:
        ++stats_.delayed;
        break;
      case StreamFault::kDuplicate:
        ++stats_.duplicated;
        break;
      case StreamFault::kNone:
        break;
    }
  }
  if (fault == StreamFault::kDelay) options_.sleep(options_.delay_micros);
  const int copies = fault == StreamFault::kDuplicate ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    if (!inner_->Write(out)) return false;
    absl::MutexLock lock(&mu_);
    ++stats_.delivered;
  }
  return true;
}

void FaultyStream::WritesDone() { inner_->WritesDone(); }

void FaultyStream::Cancel() {
  {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
  }
  inner_->Cancel();
}

FaultyStreamStats FaultyStream::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

bool FaultyStream::AwaitBlockedWrites(int64_t blocked, int64_t timeout_micros) {
  absl::MutexLock lock(&mu_);
  auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stats_.blocked_writes >= blocked; };
  return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Microseconds(timeout_micros));
}

}  // namespace recondb::reconciler::testing
