// The clock seam: production code reads time through a Clock so that tests
// can fix it.
#ifndef RECONDB_COMMON_CLOCK_H_
#define RECONDB_COMMON_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace recondb {

// Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch, UTC.
  virtual int64_t NowMicros() const = 0;
  // The process-wide system clock; never null, never destroyed.
  static Clock* System();
};

// A clock that only moves when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now_micros) : now_(now_micros) {}
  int64_t NowMicros() const override { return now_.load(); }
  void Advance(int64_t micros) { now_ += micros; }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace recondb

#endif  // RECONDB_COMMON_CLOCK_H_
