#include "daemon/stream_limiter.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace recondb::daemon {

StreamLimiter::Lease& StreamLimiter::Lease::operator=(Lease&& other) noexcept {
  if (this == &other) return *this;
  Reset();
  limiter_ = std::exchange(other.limiter_, nullptr);
  key_ = std::move(other.key_);
  return *this;
}

void StreamLimiter::Lease::Reset() {
  if (limiter_ == nullptr) return;
  std::exchange(limiter_, nullptr)->Release(key_);
}

absl::StatusOr<StreamLimiter::Lease> StreamLimiter::Acquire(std::string_view principal) {
  absl::MutexLock lock(&mu_);
  auto it = active_.find(principal);
  const int held = it == active_.end() ? 0 : it->second;
  if (max_ > 0 && held >= max_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "principal ", QuoteInput(principal), " already has ", held,
        " concurrent streams (GetChanges and Replicate), the limit (--max_streams_per_principal=",
        max_, ")"));
  }
  if (it == active_.end()) it = active_.emplace(std::string(principal), 0).first;
  ++it->second;
  return Lease(this, it->first);
}

int StreamLimiter::Active(std::string_view principal) const {
  absl::MutexLock lock(&mu_);
  auto it = active_.find(principal);
  return it == active_.end() ? 0 : it->second;
}

void StreamLimiter::Release(const std::string& key) {
  absl::MutexLock lock(&mu_);
  auto it = active_.find(key);
  if (it == active_.end()) return;
  if (--it->second <= 0) active_.erase(it);
}

}  // namespace recondb::daemon
