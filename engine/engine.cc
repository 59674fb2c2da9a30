// Engine: opening, tables, the change feed and its listeners, and the commit
// path shared by every write. Record writes are in record_writes.cc, reads in
// record_reads.cc, grafting of foreign revisions in foreign_revisions.cc.
#include "engine/engine.h"

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/null_logger.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "engine/internal/attributes.h"
#include "engine/internal/conflicts.h"
#include "engine/internal/meta_keys.h"
#include "engine/internal/node_identity.h"
#include "engine/internal/records.h"
#include "engine/internal/validation.h"
#include "engine/internal/winner.h"

namespace recondb::engine {
absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(EngineOptions options) {
  if (options.storage == nullptr) return absl::InvalidArgumentError("EngineOptions.storage is null");
  if (options.clock == nullptr) options.clock = Clock::System();
  if (options.logger == nullptr) options.logger = NullLogger("recondb.engine");
  ASSIGN_OR_RETURN(internal::NodeIdentity identity,
                   internal::OpenNodeIdentity(*options.storage, *options.logger));
  return std::unique_ptr<Engine>(new Engine(std::move(options), std::move(identity)));
}

Engine::Engine(EngineOptions options, internal::NodeIdentity identity)
    : options_(std::move(options)),
      node_id_(std::move(identity.node_id)),
      copied_from_(std::move(identity.copied_from)),
      lineage_(std::move(identity.lineage)),
      last_seq_(identity.last_seq) {}

int64_t Engine::ResumePoint(std::string_view incarnation, int64_t seq) const {
  return VerifiedResumePoint(lineage_, LastSeq(), incarnation, seq);
}

Engine::~Engine() = default;

// ---- Tables ----

absl::StatusOr<v1::Table> Engine::CreateTable(const v1::Table& request) {
  ASSIGN_OR_RETURN(v1::Table table, internal::ValidateTableDefinition(request));
  const int64_t now = options_.clock->NowMicros();
  table.mutable_create_time()->set_seconds(now / 1000000);
  table.mutable_create_time()->set_nanos(static_cast<int32_t>(now % 1000000) * 1000);
  table.set_created_by(node_id_);

  absl::ReleasableMutexLock schema_lock(&schema_mu_);
  ASSIGN_OR_RETURN(auto txn, options_.storage->BeginWrite());
  absl::Status created = txn->CreateTable(table);
  if (absl::IsAlreadyExists(created)) {
    return absl::AlreadyExistsError(absl::StrCat("table \"", table.name(), "\" already exists"));
  }
  RETURN_IF_ERROR(created);
  ASSIGN_OR_RETURN(const int64_t seq, CommitTableChange(std::move(txn), table));
  schema_lock.Release();  // Listeners may read.
  NotifyListeners(seq);
  options_.logger->info("created table {} with {} columns", table.name(), table.columns_size());
  return table;
}

absl::StatusOr<v1::Table> Engine::AddColumns(std::string_view table_name,
                                             const std::vector<v1::Column>& columns) {
  RETURN_IF_ERROR(internal::ValidateTableName(table_name));
  if (columns.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no column to add to table \"", Sv(table_name), "\""));
  }
  absl::ReleasableMutexLock schema_lock(&schema_mu_);
  ASSIGN_OR_RETURN(auto txn, options_.storage->BeginWrite());
  ASSIGN_OR_RETURN(auto current, FindTable(txn.get(), table_name));
  v1::Table request = *current;
  for (const v1::Column& column : columns) {
    for (const v1::Column& existing : current->columns()) {
      if (existing.name() == column.name()) {
        return absl::AlreadyExistsError(absl::StrCat(
            "table \"", current->name(), "\" already has a column \"", column.name(), "\""));
      }
    }
    *request.add_columns() = column;
  }
  ASSIGN_OR_RETURN(v1::Table table, internal::ValidateTableDefinition(request));
  *table.mutable_create_time() = current->create_time();
  table.set_created_by(current->created_by());
  RETURN_IF_ERROR(AppendColumnsInTxn(*txn, *current, table));
  ASSIGN_OR_RETURN(const int64_t seq, CommitTableChange(std::move(txn), table));
  schema_lock.Release();  // Listeners may read.
  NotifyListeners(seq);
  options_.logger->info("added {} columns to table {}", columns.size(), table.name());
  return table;
}

absl::Status Engine::AppendColumnsInTxn(storage::WriteTransaction& txn, const v1::Table& current,
                                        const v1::Table& table) {
  for (int i = current.columns_size(); i < table.columns_size(); ++i) {
    RETURN_IF_ERROR(internal::CheckAdditiveColumn(table.name(), table.columns(i)));
  }
  return txn.AppendColumns(table);
}

absl::StatusOr<int64_t> Engine::CommitTableChange(std::unique_ptr<storage::WriteTransaction> txn,
                                                  const v1::Table& table) {
  v1::Change change;
  change.set_kind(v1::CHANGE_KIND_TABLE);
  change.set_table(table.name());
  ASSIGN_OR_RETURN(int64_t seq, txn->AppendChange(change));
  // Cached before the commit, which (in the memory backend) lets the next
  // writer in: it must find the new definition. Readers wait on schema_mu_.
  {
    absl::MutexLock lock(&tables_mu_);
    tables_[table.name()] = std::make_shared<const v1::Table>(table);
  }
  absl::Status committed = Commit(std::move(txn), seq);
  if (!committed.ok()) {
    absl::MutexLock lock(&tables_mu_);
    tables_.erase(table.name());  // Read again from the store when next needed.
    return committed;
  }
  return seq;
}

absl::StatusOr<Engine::TableRead> Engine::BeginReadOf(std::string_view name) {
  RETURN_IF_ERROR(internal::ValidateTableName(name));
  absl::ReaderMutexLock schema_lock(&schema_mu_);
  TableRead out;
  ASSIGN_OR_RETURN(out.txn, options_.storage->BeginRead());
  ASSIGN_OR_RETURN(out.table, FindTable(out.txn.get(), name));
  return out;
}

absl::StatusOr<v1::Table> Engine::GetTable(std::string_view name) {
  RETURN_IF_ERROR(internal::ValidateTableName(name));
  ASSIGN_OR_RETURN(auto table, FindTable(nullptr, name));
  return *table;
}

absl::StatusOr<std::vector<v1::Table>> Engine::ListTables() {
  ASSIGN_OR_RETURN(auto read, options_.storage->BeginRead());
  return read->ListTables();
}

absl::StatusOr<std::shared_ptr<const v1::Table>> Engine::FindTable(storage::ReadTransaction* txn,
                                                                   std::string_view name) {
  {
    absl::MutexLock lock(&tables_mu_);
    auto it = tables_.find(Sv(name));
    if (it != tables_.end()) return it->second;
  }
  std::unique_ptr<storage::ReadTransaction> own;
  if (txn == nullptr) {
    ASSIGN_OR_RETURN(own, options_.storage->BeginRead());
    txn = own.get();
  }
  auto table = txn->GetTable(name);
  if (absl::IsNotFound(table.status())) {
    return absl::NotFoundError(absl::StrCat("table \"", Sv(name), "\" does not exist"));
  }
  RETURN_IF_ERROR(table.status());
  auto shared = std::make_shared<const v1::Table>(*std::move(table));
  absl::MutexLock lock(&tables_mu_);
  tables_.emplace(std::string(name), shared);
  return shared;
}

// ---- Commit path ----

absl::StatusOr<Engine::Published> Engine::PublishWinner(
    storage::WriteTransaction& txn, const v1::Table& table, std::string_view id,
    std::vector<storage::StoredRevision> leaves) {
  internal::SortByPrecedence(leaves);
  const storage::StoredRevision& winner = leaves.front();
  ASSIGN_OR_RETURN(const internal::LeafConflicts conflicts,
                   internal::FindConflicts(txn, table, leaves));
  Published published;
  published.conflicted = conflicts.conflicted();
  if (winner.deleted) {
    RETURN_IF_ERROR(txn.DeleteViewRow(table, id));
  } else {
    // A revision written before an additive change holds fewer columns:
    // the view shows the others as their default (or null).
    v1::Record row = internal::ToRecord(table.name(), id, winner);
    row.set_conflicted(published.conflicted);
    row.clear_attributes();
    for (auto& [name, value] : internal::FillColumns(table, winner.attributes)) {
      (*row.mutable_attributes())[name] = std::move(value);
    }
    RETURN_IF_ERROR(txn.UpsertViewRow(table, row));
  }
  v1::Change change;
  change.set_kind(v1::CHANGE_KIND_RECORD);
  change.set_table(table.name());
  change.set_id(std::string(id));
  change.set_revision(winner.revision);
  change.set_deleted(winner.deleted);
  change.set_conflicted(published.conflicted);
  ASSIGN_OR_RETURN(published.seq, txn.AppendChange(change));
  return published;
}

absl::Status Engine::CommitAndNotify(std::unique_ptr<storage::WriteTransaction> txn,
                                     int64_t last_seq) {
  RETURN_IF_ERROR(Commit(std::move(txn), last_seq));
  NotifyListeners(last_seq);
  return absl::OkStatus();
}

absl::Status Engine::Commit(std::unique_ptr<storage::WriteTransaction> txn, int64_t last_seq) {
  absl::Status committed = txn->Commit();
  if (!committed.ok()) {
    options_.logger->error("commit failed: {}", committed.ToString());
    return committed;
  }
  // Still the only writer: last_seq_ only grows.
  if (last_seq > 0) last_seq_.store(last_seq, std::memory_order_release);
  return absl::OkStatus();
}

void Engine::NotifyListeners(int64_t last_seq) {
  if (last_seq <= 0) return;
  absl::ReaderMutexLock lock(&listeners_mu_);
  for (const auto& [id, listener] : listeners_) listener(last_seq);
}

// ---- Change feed ----

absl::StatusOr<std::vector<v1::Change>> Engine::GetChanges(int64_t since,
                                                           const std::vector<std::string>& tables,
                                                           int limit) {
  if (since < 0) return absl::InvalidArgumentError(absl::StrCat("since ", since, " is negative"));
  if (limit <= 0) return absl::InvalidArgumentError(absl::StrCat("limit ", limit, " must be > 0"));
  RETURN_IF_ERROR(internal::CheckTableFilterSize(tables.size()));
  ASSIGN_OR_RETURN(auto read, options_.storage->BeginRead());
  for (const std::string& name : tables) {
    RETURN_IF_ERROR(internal::ValidateTableName(name));
    RETURN_IF_ERROR(FindTable(read.get(), name).status());
  }
  return read->ScanChanges(since, tables, limit);
}

int64_t Engine::AddChangeListener(ChangeListener listener) {
  absl::MutexLock lock(&listeners_mu_);
  const int64_t id = next_listener_id_++;
  listeners_.emplace_back(id, std::move(listener));
  return id;
}

void Engine::RemoveChangeListener(int64_t id) {
  // The writer lock waits for listeners running under the reader lock.
  absl::MutexLock lock(&listeners_mu_);
  for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
    if (it->first == id) {
      listeners_.erase(it);
      return;
    }
  }
}

}  // namespace recondb::engine
