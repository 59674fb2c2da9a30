// Teaches ThreadSanitizer what Debian's absl::Mutex does (RECONDB_SANITIZE=thread).
//
// Debian builds libabsl_synchronization without ThreadSanitizer, so its lock
// and unlock are invisible to TSan, and every member guarded by an absl::Mutex
// would be reported as a data race. Linked into each executable of a TSan
// build, this file defines the out-of-line members of absl::Mutex and
// absl::CondVar; the dynamic linker picks these definitions before the
// library's (for libgrpc's calls too). Each one calls the library's own
// function (found with dlsym(RTLD_NEXT)) and tells TSan the happens-before
// edge: a release before the mutex is given up, an acquire once it is held.
// The library's own work, including the evaluation of Await conditions on
// behalf of other threads, runs with TSan ignoring this thread's accesses:
// it happens under the mutex, after the release annotation.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/synchronization/mutex.h"

extern "C" {
void __tsan_acquire(void* addr);
void __tsan_release(void* addr);
void __tsan_ignore_thread_begin();
void __tsan_ignore_thread_end();
}

namespace {

#define RECONDB_STRINGIFY_INNER(x) #x
#define RECONDB_STRINGIFY(x) RECONDB_STRINGIFY_INNER(x)

// The library's definition of a member, by its mangled name without the
// "_ZN4absl<inline namespace>" prefix.
template <typename Fn>
Fn Real(const char* suffix) {
  const std::string ns = RECONDB_STRINGIFY(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  const std::string name = "_ZN4absl" + std::to_string(ns.size()) + ns + suffix;
  void* fn = dlsym(RTLD_NEXT, name.c_str());
  if (fn == nullptr) {
    std::fprintf(stderr, "tsan_absl_mutex: %s not found\n", name.c_str());
    std::abort();
  }
  return reinterpret_cast<Fn>(fn);
}

// Runs the library's code with this thread's memory accesses ignored.
struct Uninstrumented {
  Uninstrumented() { __tsan_ignore_thread_begin(); }
  ~Uninstrumented() { __tsan_ignore_thread_end(); }
};

using absl::CondVar;
using absl::Condition;
using absl::Duration;
using absl::Mutex;
using absl::Time;

}  // namespace

#define REAL(type, suffix)                             \
  static const auto real = Real<type>(suffix);         \
  (void)0

void Mutex::Lock() {
  REAL(void (*)(Mutex*), "5Mutex4LockEv");
  { Uninstrumented u; real(this); }
  __tsan_acquire(this);
}

void Mutex::ReaderLock() {
  REAL(void (*)(Mutex*), "5Mutex10ReaderLockEv");
  { Uninstrumented u; real(this); }
  __tsan_acquire(this);
}

bool Mutex::TryLock() {
  REAL(bool (*)(Mutex*), "5Mutex7TryLockEv");
  bool locked;
  { Uninstrumented u; locked = real(this); }
  if (locked) __tsan_acquire(this);
  return locked;
}

bool Mutex::ReaderTryLock() {
  REAL(bool (*)(Mutex*), "5Mutex13ReaderTryLockEv");
  bool locked;
  { Uninstrumented u; locked = real(this); }
  if (locked) __tsan_acquire(this);
  return locked;
}

void Mutex::Unlock() {
  REAL(void (*)(Mutex*), "5Mutex6UnlockEv");
  __tsan_release(this);
  Uninstrumented u;
  real(this);
}

void Mutex::ReaderUnlock() {
  REAL(void (*)(Mutex*), "5Mutex12ReaderUnlockEv");
  __tsan_release(this);
  Uninstrumented u;
  real(this);
}

// Await and the timed waits may give the mutex up while they wait.
void Mutex::Await(const Condition& cond) {
  REAL(void (*)(Mutex*, const Condition&), "5Mutex5AwaitERKNS0_9ConditionE");
  __tsan_release(this);
  { Uninstrumented u; real(this, cond); }
  __tsan_acquire(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  REAL(bool (*)(Mutex*, const Condition&, Duration),
       "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  __tsan_release(this);
  bool met;
  { Uninstrumented u; met = real(this, cond, timeout); }
  __tsan_acquire(this);
  return met;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  REAL(bool (*)(Mutex*, const Condition&, Time),
       "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  __tsan_release(this);
  bool met;
  { Uninstrumented u; met = real(this, cond, deadline); }
  __tsan_acquire(this);
  return met;
}

void Mutex::LockWhen(const Condition& cond) {
  REAL(void (*)(Mutex*, const Condition&), "5Mutex8LockWhenERKNS0_9ConditionE");
  { Uninstrumented u; real(this, cond); }
  __tsan_acquire(this);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  REAL(void (*)(Mutex*, const Condition&), "5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  { Uninstrumented u; real(this, cond); }
  __tsan_acquire(this);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  REAL(bool (*)(Mutex*, const Condition&, Duration),
       "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  bool met;
  { Uninstrumented u; met = real(this, cond, timeout); }
  __tsan_acquire(this);
  return met;
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, Duration timeout) {
  REAL(bool (*)(Mutex*, const Condition&, Duration),
       "5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  bool met;
  { Uninstrumented u; met = real(this, cond, timeout); }
  __tsan_acquire(this);
  return met;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  REAL(bool (*)(Mutex*, const Condition&, Time),
       "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  bool met;
  { Uninstrumented u; met = real(this, cond, deadline); }
  __tsan_acquire(this);
  return met;
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, Time deadline) {
  REAL(bool (*)(Mutex*, const Condition&, Time),
       "5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  bool met;
  { Uninstrumented u; met = real(this, cond, deadline); }
  __tsan_acquire(this);
  return met;
}

void CondVar::Wait(Mutex* mu) {
  REAL(void (*)(CondVar*, Mutex*), "7CondVar4WaitEPNS0_5MutexE");
  __tsan_release(mu);
  { Uninstrumented u; real(this, mu); }
  __tsan_acquire(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  REAL(bool (*)(CondVar*, Mutex*, Duration), "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  __tsan_release(mu);
  bool timed_out;
  { Uninstrumented u; timed_out = real(this, mu, timeout); }
  __tsan_acquire(mu);
  return timed_out;
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  REAL(bool (*)(CondVar*, Mutex*, Time), "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  __tsan_release(mu);
  bool timed_out;
  { Uninstrumented u; timed_out = real(this, mu, deadline); }
  __tsan_acquire(mu);
  return timed_out;
}
