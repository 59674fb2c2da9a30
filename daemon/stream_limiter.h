// Per-principal limits on concurrent long-lived calls (GetChanges and
// Replicate streams), so that one caller cannot hold every thread and
// socket of an exposed node (daemon/DESIGN.md, "Limits";
// --max_streams_per_principal).
#ifndef RECONDB_DAEMON_STREAM_LIMITER_H_
#define RECONDB_DAEMON_STREAM_LIMITER_H_

#include <map>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace recondb::daemon {

// Thread-safe. Must outlive every Lease it handed out.
class StreamLimiter {
 public:
  // One stream counted against a principal until the lease is destroyed
  // (or reset). Move-only; an empty lease counts nothing.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept { *this = std::move(other); }
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { Reset(); }
    // Releases the stream now.
    void Reset();

   private:
    friend class StreamLimiter;
    Lease(StreamLimiter* limiter, std::string key) : limiter_(limiter), key_(std::move(key)) {}
    StreamLimiter* limiter_ = nullptr;
    std::string key_;
  };

  // At most `max_per_principal` concurrent streams per principal; 0 or
  // less: no limit.
  explicit StreamLimiter(int max_per_principal) : max_(max_per_principal) {}

  // A lease for one more stream of `principal` (a name for messages and the
  // key of the count). RESOURCE_EXHAUSTED "principal P already has N
  // concurrent streams (GetChanges and Replicate), the limit
  // (--max_streams_per_principal)" when it holds the limit already.
  absl::StatusOr<Lease> Acquire(std::string_view principal);

  // The streams `principal` holds now.
  int Active(std::string_view principal) const;
  int max_per_principal() const { return max_; }

 private:
  void Release(const std::string& key);

  const int max_;
  mutable absl::Mutex mu_;
  std::map<std::string, int, std::less<>> active_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_STREAM_LIMITER_H_
