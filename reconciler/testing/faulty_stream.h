// A MessageStream decorator that misbehaves on purpose, for reconciler tests
// and the deterministic simulation (docs/reliability.md, "Fault injection:
// the message stream and deterministic simulation"). It acts on what this
// end WRITES: a message can be dropped, delayed, duplicated or corrupted, the
// stream can be broken after N messages, and the peer can be made to stop
// reading (writes then block until Cancel). Faults come from an explicit
// script or from a seeded PRNG; nothing reads the wall clock.
#ifndef RECONDB_RECONCILER_TESTING_FAULTY_STREAM_H_
#define RECONDB_RECONCILER_TESTING_FAULTY_STREAM_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "reconciler/message_stream.h"

namespace recondb::reconciler::testing {

enum class StreamFault {
  kNone,
  kDrop,       // The message is not sent; Write reports success.
  kDelay,      // Sent after `delay_micros` on the injected clock.
  kDuplicate,  // Sent twice.
  kBreak,      // Not sent; the stream breaks (both ends, like a reset).
  kCorrupt,    // Its serialized bytes are flipped or cut; a message that no
               // longer parses breaks the stream, as a transport would.
  kStall,      // Not sent; from now on the peer reads nothing: this and
               // every later Write block until Cancel.
};

const char* StreamFaultName(StreamFault fault);

// One scripted fault: applied to the `index`-th message (0-based) that this
// end writes among those of `body` (ReplicateMessage::BodyCase; 0 means
// every kind). Counting per kind keeps a script aimed at the same message
// when the session's threads interleave their writes differently.
struct ScriptedFault {
  int body = 0;
  int64_t index = 0;
  StreamFault fault = StreamFault::kNone;
};

struct FaultyStreamOptions {
  // Scripted faults, applied first.
  std::vector<ScriptedFault> script;
  // Random faults: each message written (after the first `spare_first`,
  // so that the handshake can pass) gets each fault with its probability.
  uint64_t seed = 0;
  int spare_first = 1;
  double drop = 0, delay = 0, duplicate = 0, corrupt = 0, stall = 0;
  // The stream breaks once this many messages were written (-1: never).
  int64_t break_after = -1;
  int64_t delay_micros = 1000;
  // The clock delays are measured on, and how the stream waits on it.
  // Default: a FakeClock owned by the stream, which `sleep` advances (a
  // delay costs no real time).
  Clock* clock = nullptr;
  std::function<void(int64_t micros)> sleep;
};

// What a FaultyStream did, for assertions.
struct FaultyStreamStats {
  int64_t written = 0;  // Write calls.
  int64_t delivered = 0;  // Messages handed to the inner stream.
  int64_t dropped = 0, delayed = 0, duplicated = 0, corrupted = 0;
  bool broken = false;
  bool stalled = false;
  int64_t blocked_writes = 0;  // Writes that blocked because of a stall.
};

// Thread-safe as MessageStream requires (one Read and one Write at a time).
class FaultyStream final : public MessageStream {
 public:
  // `inner` is not owned and must outlive this.
  FaultyStream(MessageStream* inner, FaultyStreamOptions options);

  bool Read(v1::ReplicateMessage* message) override;
  bool Write(const v1::ReplicateMessage& message) override;
  void WritesDone() override;
  void Cancel() override;

  FaultyStreamStats stats() const;
  // Waits (bounded by `timeout_micros` of real time) until `blocked` Writes
  // are blocked by a stall. True if they are.
  bool AwaitBlockedWrites(int64_t blocked, int64_t timeout_micros);

 private:
  StreamFault Choose(const v1::ReplicateMessage& message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool BlockUntilCancelled() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Break() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  MessageStream* const inner_;
  FaultyStreamOptions options_;
  std::unique_ptr<FakeClock> own_clock_;
  mutable absl::Mutex mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  int64_t per_kind_[32] ABSL_GUARDED_BY(mu_) = {};
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  FaultyStreamStats stats_ ABSL_GUARDED_BY(mu_);
};

// Flips a few bytes of `message`'s encoding or cuts it short, as `rng`
// says. False if the result no longer parses (`message` is then unchanged).
bool CorruptMessage(v1::ReplicateMessage* message, std::mt19937_64& rng);

}  // namespace recondb::reconciler::testing

#endif  // RECONDB_RECONCILER_TESTING_FAULTY_STREAM_H_
