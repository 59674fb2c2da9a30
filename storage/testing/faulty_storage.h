// A storage::Storage that forwards every call to another one and fails the
// calls it is told to: the storage layer of fault injection (docs/reliability.md,
// "Fault injection: storage"; after leveldb's fault_injection_test and
// rocksdb's FaultInjectionTestFS). For tests and simulation only.
//
// A fault names an operation (one enumerator per fallible method of Storage,
// ReadTransaction and WriteTransaction, Commit included, or kAny for every
// one of them) and when it fires: after a number of calls of that operation
// succeed, or at random with a probability from a seeded std::mt19937 (the
// same seed fails the same calls). A counted fault fires once (transient)
// or, once fired, fails every later call of its operation until Heal()
// (permanent); a random one draws every call until Heal() (transient) or
// fails every call after its first failure (permanent). A failed
// call does not reach the wrapped store: it returns the fault's status, by
// default UNAVAILABLE "injected fault: <operation>" (what a backend returns
// when the disk cannot be written). A failed Commit commits nothing; the
// transaction's writes are rolled back when it is destroyed, as the storage
// contract says.
//
//   FaultyStorage storage(NewMemoryStorage());
//   storage.FailNext(StorageOp::kCommit);               // the next commit fails
//   storage.FailFrom(StorageOp::kInsertRevision, 2);    // the 3rd and later fail
//   storage.FailAfter(StorageOp::kAny, 4);              // the 5th call of anything
//   storage.FailRandomly(StorageOp::kAny, 0.01, seed);  // 1% of every call
//   storage.Heal();                                     // no fault any more
//   storage.CallCount(StorageOp::kCommit);              // commits tried so far
//
// Thread-safe: faults may be set and calls made from any thread. Counting is
// over all threads, so "the Nth call" is deterministic only when the calls
// themselves are (one writer, or a test that serializes them).
#ifndef RECONDB_STORAGE_TESTING_FAULTY_STORAGE_H_
#define RECONDB_STORAGE_TESTING_FAULTY_STORAGE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "storage/storage.h"

namespace recondb::storage {

// Every fallible call of the storage seam, one per method (Name, Settings
// and Identity cannot fail and are not counted).
enum class StorageOp {
  kAny,  // Matches every operation below (in faults and in CallCount).
  // Storage.
  kBeginRead,
  kBeginWrite,
  kBackup,
  // ReadTransaction (also when called on a WriteTransaction).
  kListTables,
  kGetTable,
  kGetRevision,
  kGetLeaves,
  kGetHistory,
  kGetViewRow,
  kCountViewRows,
  kQueryView,
  kScanChanges,
  kCountChanges,
  kLastSeq,
  kGetMeta,
  // WriteTransaction.
  kCreateTable,
  kAppendColumns,
  kInsertRevision,
  kFillStub,
  kSetRevisionAudit,
  kUpsertViewRow,
  kDeleteViewRow,
  kAppendChange,
  kSetMeta,
  kCommit,
};
// One past the last enumerator, for loops over every operation.
inline constexpr int kStorageOpCount = static_cast<int>(StorageOp::kCommit) + 1;

// The method's name ("Commit", "InsertRevision", "Any").
std::string_view StorageOpName(StorageOp op);

// Once or from then on.
enum class FaultPersistence {
  kTransient,  // Fails one call, then is gone.
  kPermanent,  // Fails every call of its operation from the first until Heal().
};

class FaultyStorage final : public Storage {
 public:
  // Wraps `base`, which must outlive this object. No fault is set.
  explicit FaultyStorage(Storage* base);
  // Wraps and owns `base`.
  explicit FaultyStorage(std::unique_ptr<Storage> base);
  // REQUIRES: every transaction begun through this object has ended.
  ~FaultyStorage() override;

  // The default status of a fault that fired on a call of `op`:
  // UNAVAILABLE "injected fault: <op>".
  static absl::Status InjectedError(StorageOp op);

  // Each of the following adds a fault; faults add up (a call fails if any
  // fault fires, the first added one giving the status). An empty
  // `status` (the default) means InjectedError of the failing call.

  // The next call of `op` fails, once.
  void FailNext(StorageOp op, absl::Status status = absl::OkStatus());
  // After `n` (>= 0) more calls of `op` succeed, the next one fails: once
  // (kTransient), or it and every later call of `op` (kPermanent).
  void FailAfter(StorageOp op, int64_t n,
                 FaultPersistence persistence = FaultPersistence::kTransient,
                 absl::Status status = absl::OkStatus());
  // FailAfter(op, n, kPermanent): every call of `op` after the next `n` fails.
  void FailFrom(StorageOp op, int64_t n, absl::Status status = absl::OkStatus());
  // Each call of `op` fails with `probability` (0..1), drawn from a
  // std::mt19937 seeded with `seed` and used by this fault alone: the same
  // sequence of calls fails at the same places for the same seed. The
  // fault stays until Heal(): with kTransient each call is drawn anew; with
  // kPermanent, the first failure fails every later call of `op`.
  void FailRandomly(StorageOp op, double probability, uint32_t seed,
                    FaultPersistence persistence = FaultPersistence::kTransient,
                    absl::Status status = absl::OkStatus());
  // Removes every fault (counts are kept).
  void Heal();

  // How many calls of `op` were made (kAny: of every operation) since
  // construction or ResetCounts(), failed ones included.
  int64_t CallCount(StorageOp op) const;
  // How many calls failed by injection since construction or ResetCounts().
  int64_t InjectedCount() const;
  void ResetCounts();

  // ---- Storage: forwarded ----
  absl::StatusOr<std::unique_ptr<ReadTransaction>> BeginRead() override;
  absl::StatusOr<std::unique_ptr<WriteTransaction>> BeginWrite() override;
  // The copy and `edit` run on the wrapped store; only the Backup call
  // itself can be failed.
  absl::StatusOr<int64_t> Backup(const std::string& path, const BackupEdit& edit) override;
  std::string_view Name() const override { return base_->Name(); }
  std::string Settings() const override { return base_->Settings(); }
  std::string Identity() const override { return base_->Identity(); }

  // Counts a call of `op` and returns the status of the fault that fires
  // on it, or OK to forward it. For the transaction wrappers.
  absl::Status Check(StorageOp op);

 private:
  struct Fault {
    StorageOp op = StorageOp::kAny;
    int64_t skip = 0;                   // Calls to let through first.
    std::optional<double> probability;  // Set: random instead of counted.
    std::mt19937 rng;
    FaultPersistence persistence = FaultPersistence::kTransient;
    absl::Status status;
    bool fired = false;  // A permanent fault that has fired fails every call.
    bool done = false;   // A transient fault that has fired.
  };
  void Add(Fault fault);

  std::unique_ptr<Storage> owned_;
  Storage* const base_;

  mutable absl::Mutex mu_;
  std::vector<Fault> faults_ ABSL_GUARDED_BY(mu_);
  int64_t calls_[kStorageOpCount] ABSL_GUARDED_BY(mu_) = {};
  int64_t injected_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace recondb::storage

#endif  // RECONDB_STORAGE_TESTING_FAULTY_STORAGE_H_
