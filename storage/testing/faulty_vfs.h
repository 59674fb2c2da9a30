// A SQLite VFS for tests that fails reads, writes and syncs on demand and
// has a disk of limited size. It forwards every call to the default VFS
// (sqlite3_vfs_find(nullptr)) and is registered, not as the default, under
// kFaultyVfsName; a store opens on it with SqliteOptions::vfs. Design and
// use: docs/reliability.md, "Fault injection: the SQLite file system".
#ifndef RECONDB_STORAGE_TESTING_FAULTY_VFS_H_
#define RECONDB_STORAGE_TESTING_FAULTY_VFS_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

struct sqlite3_file;

namespace recondb::storage::testing {

inline constexpr char kFaultyVfsName[] = "recondb-faulty";

// The operations that can be made to fail.
enum class FaultyOp {
  kRead,   // xRead -> SQLITE_IOERR_READ
  kWrite,  // xWrite -> SQLITE_IOERR_WRITE
  kSync,   // xSync -> SQLITE_IOERR_FSYNC
};

// Kinds of file, as a bit mask (FaultyVfs::RestrictTo).
enum FaultyFileKind : int {
  kMainDbFile = 1,  // the database file
  kWalFile = 2,     // its write-ahead log
  kOtherFile = 4,   // rollback journals, temporary files
  kAnyFile = 7,
};

struct FaultyOpCounts {
  int64_t calls = 0;     // every call of the operation, failed or not
  int64_t failures = 0;  // calls this VFS made fail
};

// Thread-safe: connections on several threads may use it at once, and the
// controls may be called while they do.
class FaultyVfs {
 public:
  // The process's one instance, registered on first use. It is never
  // unregistered (SQLite may still hold files of it), so tests that share a
  // process call Reset() first.
  static FaultyVfs& Get();

  FaultyVfs(const FaultyVfs&) = delete;
  FaultyVfs& operator=(const FaultyVfs&) = delete;

  // The `n`th call of `op` from now (1: the next one) fails; with
  // `and_after`, it and every later call fail until Heal. Replaces any
  // earlier fault of `op`. REQUIRES: n >= 1.
  void FailNth(FaultyOp op, int64_t n, bool and_after = false);
  void FailAll(FaultyOp op) { FailNth(op, 1, /*and_after=*/true); }
  // Faults (not the disk's size) apply only to files of these kinds.
  void RestrictTo(int file_kinds);

  // The disk has `bytes` free from now: writes that grow files consume it,
  // truncating and deleting files give it back, and a write that does not
  // fit writes what fits and fails with SQLITE_FULL (as a real full disk
  // does).
  void SetFreeSpace(int64_t bytes);
  // Adds `bytes` of free space (a user freeing the disk).
  void AddFreeSpace(int64_t bytes);
  // No limit (the default).
  void UnlimitedSpace();
  // -1 when unlimited.
  int64_t free_space() const;

  // Stops every fault and lifts the space limit; counters are kept.
  void Heal();
  // Heal, every file kind, counters zero.
  void Reset();

  FaultyOpCounts counts(FaultyOp op) const;
  // Writes that failed with SQLITE_FULL.
  int64_t full_failures() const;

  // ---- For the VFS callbacks (faulty_vfs.cc) ----
  // Whether this call of `op` on a file of `kind` fails (counts it).
  bool NextCallFails(FaultyOp op, int kind);
  // A write of `amount` bytes at `offset` to `file` (the real one, whose
  // size is read), done under the space limit. Returns the SQLite code.
  int WriteWithinSpace(sqlite3_file* file, const void* data, int amount, int64_t offset);
  int TruncateGivingSpaceBack(sqlite3_file* file, int64_t size);
  // Before a file of `bytes` is deleted.
  void OnDeleted(int64_t bytes);

 private:
  struct OpFault {
    int64_t countdown = 0;  // 0: no fault armed
    bool and_after = false;
    bool failing = false;   // the Nth call passed with and_after
    FaultyOpCounts counts;
  };

  FaultyVfs() = default;

  mutable absl::Mutex mu_;
  OpFault ops_[3] ABSL_GUARDED_BY(mu_);
  int file_kinds_ ABSL_GUARDED_BY(mu_) = kAnyFile;
  int64_t free_space_ ABSL_GUARDED_BY(mu_) = -1;
  int64_t full_failures_ ABSL_GUARDED_BY(mu_) = 0;
  // Serialises writes and truncations while space is limited, so that a
  // file's size and the free space change together.
  absl::Mutex space_mu_ ABSL_ACQUIRED_BEFORE(mu_);
};

}  // namespace recondb::storage::testing

#endif  // RECONDB_STORAGE_TESTING_FAULTY_VFS_H_
