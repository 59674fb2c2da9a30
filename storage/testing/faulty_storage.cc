#include "storage/testing/faulty_storage.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

// In a transaction wrapper: returns the injected failure of `op`, if any.
#define RETURN_IF_INJECTED(op) RETURN_IF_ERROR(faults_->Check(op))

namespace recondb::storage {
namespace {

// The read half of both transaction wrappers: checks, then forwards.
template <typename Txn>
class FaultyRead : public Txn {
 public:
  FaultyRead(FaultyStorage* faults, std::unique_ptr<Txn> base)
      : faults_(faults), base_(std::move(base)) {}

  absl::StatusOr<std::vector<v1::Table>> ListTables() override {
    RETURN_IF_INJECTED(StorageOp::kListTables);
    return base_->ListTables();
  }
  absl::StatusOr<v1::Table> GetTable(std::string_view name) override {
    RETURN_IF_INJECTED(StorageOp::kGetTable);
    return base_->GetTable(name);
  }
  absl::StatusOr<StoredRevision> GetRevision(const v1::Table& table, std::string_view id,
                                             std::string_view revision) override {
    RETURN_IF_INJECTED(StorageOp::kGetRevision);
    return base_->GetRevision(table, id, revision);
  }
  absl::StatusOr<std::vector<StoredRevision>> GetLeaves(const v1::Table& table,
                                                        std::string_view id) override {
    RETURN_IF_INJECTED(StorageOp::kGetLeaves);
    return base_->GetLeaves(table, id);
  }
  absl::StatusOr<std::vector<StoredRevision>> GetHistory(const v1::Table& table,
                                                         std::string_view id) override {
    RETURN_IF_INJECTED(StorageOp::kGetHistory);
    return base_->GetHistory(table, id);
  }
  absl::StatusOr<v1::Record> GetViewRow(const v1::Table& table, std::string_view id) override {
    RETURN_IF_INJECTED(StorageOp::kGetViewRow);
    return base_->GetViewRow(table, id);
  }
  absl::StatusOr<int64_t> CountViewRows(const v1::Table& table) override {
    RETURN_IF_INJECTED(StorageOp::kCountViewRows);
    return base_->CountViewRows(table);
  }
  absl::StatusOr<std::vector<v1::Record>> QueryView(const v1::Table& table,
                                                    const ViewQuery& query) override {
    RETURN_IF_INJECTED(StorageOp::kQueryView);
    return base_->QueryView(table, query);
  }
  absl::StatusOr<std::vector<v1::Change>> ScanChanges(int64_t since,
                                                      const std::vector<std::string>& tables,
                                                      int limit) override {
    RETURN_IF_INJECTED(StorageOp::kScanChanges);
    return base_->ScanChanges(since, tables, limit);
  }
  absl::StatusOr<int64_t> CountChanges(int64_t since,
                                       const std::vector<std::string>& tables) override {
    RETURN_IF_INJECTED(StorageOp::kCountChanges);
    return base_->CountChanges(since, tables);
  }
  absl::StatusOr<int64_t> LastSeq() override {
    RETURN_IF_INJECTED(StorageOp::kLastSeq);
    return base_->LastSeq();
  }
  absl::StatusOr<std::string> GetMeta(std::string_view key) override {
    RETURN_IF_INJECTED(StorageOp::kGetMeta);
    return base_->GetMeta(key);
  }

 protected:
  FaultyStorage* const faults_;
  const std::unique_ptr<Txn> base_;
};

class FaultyReadTransaction final : public FaultyRead<ReadTransaction> {
 public:
  using FaultyRead::FaultyRead;
};

class FaultyWriteTransaction final : public FaultyRead<WriteTransaction> {
 public:
  using FaultyRead::FaultyRead;

  absl::Status CreateTable(const v1::Table& table) override {
    RETURN_IF_INJECTED(StorageOp::kCreateTable);
    return base_->CreateTable(table);
  }
  absl::Status AppendColumns(const v1::Table& table) override {
    RETURN_IF_INJECTED(StorageOp::kAppendColumns);
    return base_->AppendColumns(table);
  }
  absl::Status InsertRevision(const v1::Table& table, const StoredRevision& rev) override {
    RETURN_IF_INJECTED(StorageOp::kInsertRevision);
    return base_->InsertRevision(table, rev);
  }
  absl::Status FillStub(const v1::Table& table, const StoredRevision& rev) override {
    RETURN_IF_INJECTED(StorageOp::kFillStub);
    return base_->FillStub(table, rev);
  }
  absl::Status SetRevisionAudit(const v1::Table& table, std::string_view id,
                                std::string_view revision, const RevisionAudit& audit) override {
    RETURN_IF_INJECTED(StorageOp::kSetRevisionAudit);
    return base_->SetRevisionAudit(table, id, revision, audit);
  }
  absl::Status UpsertViewRow(const v1::Table& table, const v1::Record& winner) override {
    RETURN_IF_INJECTED(StorageOp::kUpsertViewRow);
    return base_->UpsertViewRow(table, winner);
  }
  absl::Status DeleteViewRow(const v1::Table& table, std::string_view id) override {
    RETURN_IF_INJECTED(StorageOp::kDeleteViewRow);
    return base_->DeleteViewRow(table, id);
  }
  absl::StatusOr<int64_t> AppendChange(const v1::Change& change) override {
    RETURN_IF_INJECTED(StorageOp::kAppendChange);
    return base_->AppendChange(change);
  }
  absl::Status SetMeta(std::string_view key, std::string_view value) override {
    RETURN_IF_INJECTED(StorageOp::kSetMeta);
    return base_->SetMeta(key, value);
  }
  // A failed Commit does not reach the wrapped transaction, which then rolls
  // back when this one is destroyed.
  absl::Status Commit() override {
    RETURN_IF_INJECTED(StorageOp::kCommit);
    return base_->Commit();
  }
};

constexpr std::string_view kOpNames[kStorageOpCount] = {
    "Any",
    "BeginRead",
    "BeginWrite",
    "Backup",
    "ListTables",
    "GetTable",
    "GetRevision",
    "GetLeaves",
    "GetHistory",
    "GetViewRow",
    "CountViewRows",
    "QueryView",
    "ScanChanges",
    "CountChanges",
    "LastSeq",
    "GetMeta",
    "CreateTable",
    "AppendColumns",
    "InsertRevision",
    "FillStub",
    "SetRevisionAudit",
    "UpsertViewRow",
    "DeleteViewRow",
    "AppendChange",
    "SetMeta",
    "Commit",
};

}  // namespace

std::string_view StorageOpName(StorageOp op) { return kOpNames[static_cast<int>(op)]; }

FaultyStorage::FaultyStorage(Storage* base) : base_(base) {}
FaultyStorage::FaultyStorage(std::unique_ptr<Storage> base)
    : owned_(std::move(base)), base_(owned_.get()) {}
FaultyStorage::~FaultyStorage() = default;

absl::Status FaultyStorage::InjectedError(StorageOp op) {
  return absl::UnavailableError(absl::StrCat("injected fault: ", std::string(StorageOpName(op))));
}

void FaultyStorage::Add(Fault fault) {
  absl::MutexLock lock(&mu_);
  faults_.push_back(std::move(fault));
}

void FaultyStorage::FailNext(StorageOp op, absl::Status status) {
  FailAfter(op, 0, FaultPersistence::kTransient, std::move(status));
}

void FaultyStorage::FailAfter(StorageOp op, int64_t n, FaultPersistence persistence,
                              absl::Status status) {
  Fault fault;
  fault.op = op;
  fault.skip = n;
  fault.persistence = persistence;
  fault.status = std::move(status);
  Add(std::move(fault));
}

void FaultyStorage::FailFrom(StorageOp op, int64_t n, absl::Status status) {
  FailAfter(op, n, FaultPersistence::kPermanent, std::move(status));
}

void FaultyStorage::FailRandomly(StorageOp op, double probability, uint32_t seed,
                                 FaultPersistence persistence, absl::Status status) {
  Fault fault;
  fault.op = op;
  fault.probability = probability;
  fault.rng.seed(seed);
  fault.persistence = persistence;
  fault.status = std::move(status);
  Add(std::move(fault));
}

void FaultyStorage::Heal() {
  absl::MutexLock lock(&mu_);
  faults_.clear();
}

int64_t FaultyStorage::CallCount(StorageOp op) const {
  absl::MutexLock lock(&mu_);
  return calls_[static_cast<int>(op)];
}

int64_t FaultyStorage::InjectedCount() const {
  absl::MutexLock lock(&mu_);
  return injected_;
}

void FaultyStorage::ResetCounts() {
  absl::MutexLock lock(&mu_);
  for (int64_t& n : calls_) n = 0;
  injected_ = 0;
}

absl::Status FaultyStorage::Check(StorageOp op) {
  absl::MutexLock lock(&mu_);
  ++calls_[static_cast<int>(op)];
  ++calls_[static_cast<int>(StorageOp::kAny)];
  std::optional<absl::Status> failure;
  // Every matching fault sees the call (so counts and random draws do not
  // depend on which other faults are set); the first one that fires wins.
  for (Fault& fault : faults_) {
    if (fault.done || (fault.op != StorageOp::kAny && fault.op != op)) continue;
    bool fires = fault.fired;
    if (!fires && fault.probability.has_value()) {
      fires = std::uniform_real_distribution<double>(0, 1)(fault.rng) < *fault.probability;
    } else if (!fires) {
      fires = fault.skip-- == 0;
    }
    if (!fires) continue;
    if (fault.persistence == FaultPersistence::kPermanent) {
      fault.fired = true;
    } else if (!fault.probability.has_value()) {
      fault.done = true;  // A random transient fault stays: it fails calls one at a time.
    }
    if (!failure.has_value()) failure = fault.status.ok() ? InjectedError(op) : fault.status;
  }
  if (!failure.has_value()) return absl::OkStatus();
  ++injected_;
  return *failure;
}

absl::StatusOr<std::unique_ptr<ReadTransaction>> FaultyStorage::BeginRead() {
  RETURN_IF_ERROR(Check(StorageOp::kBeginRead));
  ASSIGN_OR_RETURN(std::unique_ptr<ReadTransaction> base, base_->BeginRead());
  return std::make_unique<FaultyReadTransaction>(this, std::move(base));
}

absl::StatusOr<std::unique_ptr<WriteTransaction>> FaultyStorage::BeginWrite() {
  RETURN_IF_ERROR(Check(StorageOp::kBeginWrite));
  ASSIGN_OR_RETURN(std::unique_ptr<WriteTransaction> base, base_->BeginWrite());
  return std::make_unique<FaultyWriteTransaction>(this, std::move(base));
}

absl::StatusOr<int64_t> FaultyStorage::Backup(const std::string& path, const BackupEdit& edit) {
  RETURN_IF_ERROR(Check(StorageOp::kBackup));
  return base_->Backup(path, edit);
}

}  // namespace recondb::storage
