// The memory backend. Transactions work on one shared State in place:
// readers hold a SharedGate shared for their whole life and the single writer
// holds it exclusively, so every reader sees a consistent snapshot without
// copying. The writer applies each write at once and logs its inverse; a
// writer destroyed without Commit replays the inverses newest first, which
// restores the previous state exactly (including the change feed's seqs).
#include "storage/memory_storage.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "storage/internal/revision_columns.h"
#include "storage/internal/shared_gate.h"
#include "storage/internal/value_order.h"

namespace recondb::storage {
namespace {

using internal::ComparePositions;
using internal::IsNull;
using internal::Satisfies;

// The revision tree of one record.
struct RecordTree {
  std::map<std::string, StoredRevision> revisions;  // By revision.
  // Parent revision -> number of stored children. Kept for parents not (yet)
  // stored too, so that a parent grafted after its child is not a leaf.
  std::map<std::string, int> child_count;
  std::set<std::string> leaves;  // Stored revisions without a stored child.
};

// A view row: the winner of a live record.
struct ViewRow {
  std::string revision;
  bool conflicted = false;
  Attributes attributes;  // Every column of the table.
};

struct TableData {
  v1::Table definition;
  std::map<std::string, RecordTree> records;  // By id.
  std::map<std::string, ViewRow> view;        // By id: id order is free.
  // The ids of the view rows with `conflicted` set: the index of
  // conflicted-only queries. Changed only by SetViewRow / EraseViewRow.
  std::set<std::string> conflicted;
};

void EraseViewRow(TableData& data, const std::string& id) {
  data.view.erase(id);
  data.conflicted.erase(id);
}

void SetViewRow(TableData& data, const std::string& id, ViewRow row) {
  EraseViewRow(data, id);
  if (row.conflicted) data.conflicted.insert(id);
  data.view.emplace(id, std::move(row));
}

// (kind, table, id): the feed keeps one entry per key.
using ChangeKey = std::tuple<int, std::string, std::string>;

ChangeKey KeyOf(const v1::Change& change) { return {change.kind(), change.table(), change.id()}; }

struct State {
  std::map<std::string, TableData> tables;  // By name: ListTables' order.
  std::map<int64_t, v1::Change> changes;    // By seq.
  std::map<ChangeKey, int64_t> change_seqs;
  int64_t last_seq = 0;
  std::map<std::string, std::string> meta;
};

v1::Value NullValue() {
  v1::Value v;
  v.set_null(google::protobuf::NULL_VALUE);
  return v;
}

// What SQL backends store for the first `held` columns of the table: one
// value per column (a missing or unset value is null). Unknown names are
// dropped.
Attributes Normalize(const v1::Table& table, const Attributes& given, int held) {
  Attributes out;
  for (int i = 0; i < held && i < table.columns_size(); ++i) {
    const std::string& name = table.columns(i).name();
    auto it = given.find(name);
    out[name] = (it == given.end() || IsNull(it->second)) ? NullValue() : it->second;
  }
  return out;
}

absl::StatusOr<const TableData*> FindTable(const State& state, std::string_view name) {
  auto it = state.tables.find(std::string(name));
  if (it == state.tables.end()) {
    return absl::NotFoundError(absl::StrCat("table '", Sv(name), "' does not exist"));
  }
  return &it->second;
}

absl::StatusOr<TableData*> FindTable(State& state, std::string_view name) {
  ASSIGN_OR_RETURN(const TableData* table, FindTable(std::as_const(state), name));
  return const_cast<TableData*>(table);
}

StoredRevision WithLeafFlag(const RecordTree& tree, const StoredRevision& rev) {
  StoredRevision out = rev;
  out.leaf = tree.child_count.count(rev.revision) == 0;
  return out;
}

v1::Record ToRecord(std::string_view table, const std::string& id, const ViewRow& row) {
  v1::Record record;
  record.set_table(std::string(table));
  record.set_id(id);
  record.set_revision(row.revision);
  record.set_conflicted(row.conflicted);
  for (const auto& [name, value] : row.attributes) (*record.mutable_attributes())[name] = value;
  return record;
}

// ---- Queries ----

// The value of a table column in a view row (null if absent).
const v1::Value& AttributeOf(const ViewRow& row, const std::string& column) {
  static const v1::Value* const kNull = new v1::Value(NullValue());
  auto it = row.attributes.find(column);
  return it == row.attributes.end() ? *kNull : it->second;
}

// The value of `column` ("id" or a table column) in a view row, valid while
// `row` and `scratch` (which holds the id as a Value) are.
const v1::Value& ColumnValue(const std::string& column, const std::string& id, const ViewRow& row,
                             v1::Value& scratch) {
  if (column != "id") return AttributeOf(row, column);
  scratch.set_string(id);
  return scratch;
}

absl::Status CheckColumn(const v1::Table& definition, const std::string& column) {
  if (column == "id") return absl::OkStatus();
  for (const v1::Column& c : definition.columns()) {
    if (c.name() == column) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("table '", definition.name(), "' has no column '", column, "'"));
}

absl::Status CheckQuery(const v1::Table& definition, const ViewQuery& query) {
  if (query.limit <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("query limit must be > 0, got ", query.limit));
  }
  RETURN_IF_ERROR(CheckColumn(definition, query.order_by));
  for (const ViewCondition& condition : query.conditions) {
    RETURN_IF_ERROR(CheckColumn(definition, condition.column));
  }
  return absl::OkStatus();
}

bool Matches(const ViewQuery& query, const std::string& id, const ViewRow& row) {
  if (query.conflicted_only && !row.conflicted) return false;
  v1::Value scratch;
  for (const ViewCondition& c : query.conditions) {
    if (!Satisfies(ColumnValue(c.column, id, row, scratch), c.op, c.value)) return false;
  }
  return true;
}

using ViewIterator = std::map<std::string, ViewRow>::const_iterator;

// Ordered by id, conflicted rows only: walks the index of conflicted ids
// from the cursor and stops at the limit.
std::vector<ViewIterator> QueryConflictedById(const TableData& table, const ViewQuery& query) {
  std::vector<ViewIterator> out;
  const auto& ids = table.conflicted;
  auto take = [&](const std::string& id) {
    auto row = table.view.find(id);
    if (Matches(query, row->first, row->second)) out.push_back(row);
  };
  if (!query.descending) {
    auto it = query.after ? ids.upper_bound(query.after->id) : ids.begin();
    for (; it != ids.end() && out.size() < static_cast<size_t>(query.limit); ++it) take(*it);
    return out;
  }
  auto it = query.after ? ids.lower_bound(query.after->id) : ids.end();
  while (it != ids.begin() && out.size() < static_cast<size_t>(query.limit)) take(*--it);
  return out;
}

// Ordered by id: walks the view map from the cursor and stops at the limit.
std::vector<ViewIterator> QueryById(const TableData& table, const ViewQuery& query) {
  if (query.conflicted_only) return QueryConflictedById(table, query);
  std::vector<ViewIterator> out;
  const auto& view = table.view;
  if (!query.descending) {
    auto it = query.after ? view.upper_bound(query.after->id) : view.begin();
    for (; it != view.end() && out.size() < static_cast<size_t>(query.limit); ++it) {
      if (Matches(query, it->first, it->second)) out.push_back(it);
    }
    return out;
  }
  auto it = query.after ? view.lower_bound(query.after->id) : view.end();
  while (it != view.begin() && out.size() < static_cast<size_t>(query.limit)) {
    --it;
    if (Matches(query, it->first, it->second)) out.push_back(it);
  }
  return out;
}

// Ordered by a table column (not "id"): one scan keeping the rows past the cursor, then a
// partial sort of the first `limit`.
std::vector<ViewIterator> QueryByColumn(const TableData& table, const ViewQuery& query) {
  const std::string& column = query.order_by;
  const int sign = query.descending ? -1 : 1;
  auto position = [&](ViewIterator it) -> const v1::Value& {
    return AttributeOf(it->second, column);
  };
  std::vector<ViewIterator> rows;
  auto consider = [&](ViewIterator it) {
    if (query.after && sign * ComparePositions(position(it), it->first, query.after->order_value,
                                               query.after->id) <=
                           0) {
      return;
    }
    if (Matches(query, it->first, it->second)) rows.push_back(it);
  };
  if (query.conflicted_only) {  // Only the indexed rows.
    for (const std::string& id : table.conflicted) consider(table.view.find(id));
  } else {
    for (auto it = table.view.begin(); it != table.view.end(); ++it) consider(it);
  }
  auto before = [&](ViewIterator a, ViewIterator b) {
    return sign * ComparePositions(position(a), a->first, position(b), b->first) < 0;
  };
  const size_t n = std::min(rows.size(), static_cast<size_t>(query.limit));
  std::partial_sort(rows.begin(), rows.begin() + n, rows.end(), before);
  rows.resize(n);
  return rows;
}

absl::StatusOr<std::vector<v1::Record>> RunQuery(const State& state, const v1::Table& table,
                                                 const ViewQuery& query) {
  ASSIGN_OR_RETURN(const TableData* data, FindTable(state, table.name()));
  RETURN_IF_ERROR(CheckQuery(data->definition, query));
  std::vector<ViewIterator> rows =
      query.order_by == "id" ? QueryById(*data, query) : QueryByColumn(*data, query);
  std::vector<v1::Record> out;
  out.reserve(rows.size());
  for (ViewIterator it : rows) out.push_back(ToRecord(table.name(), it->first, it->second));
  return out;
}

// ---- Transactions ----

// The read half of both transaction kinds, over a State the caller keeps
// locked. `Interface` is ReadTransaction or WriteTransaction.
template <typename Interface>
class MemoryReader : public Interface {
 public:
  absl::StatusOr<std::vector<v1::Table>> ListTables() override {
    RETURN_IF_ERROR(CheckActive());
    std::vector<v1::Table> out;
    for (const auto& [name, data] : state_->tables) out.push_back(data.definition);
    return out;
  }

  absl::StatusOr<v1::Table> GetTable(std::string_view name) override {
    RETURN_IF_ERROR(CheckActive());
    ASSIGN_OR_RETURN(const TableData* data, FindTable(*state_, name));
    return data->definition;
  }

  absl::StatusOr<StoredRevision> GetRevision(const v1::Table& table, std::string_view id,
                                             std::string_view revision) override {
    RETURN_IF_ERROR(CheckActive());
    ASSIGN_OR_RETURN(const TableData* data, FindTable(*state_, table.name()));
    auto record = data->records.find(std::string(id));
    if (record != data->records.end()) {
      auto it = record->second.revisions.find(std::string(revision));
      if (it != record->second.revisions.end()) return WithLeafFlag(record->second, it->second);
    }
    return absl::NotFoundError(absl::StrCat("record '", Sv(id), "' of table '", table.name(),
                                            "' has no revision '", Sv(revision), "'"));
  }

  absl::StatusOr<std::vector<StoredRevision>> GetLeaves(const v1::Table& table,
                                                        std::string_view id) override {
    RETURN_IF_ERROR(CheckActive());
    ASSIGN_OR_RETURN(const TableData* data, FindTable(*state_, table.name()));
    std::vector<StoredRevision> out;
    auto record = data->records.find(std::string(id));
    if (record == data->records.end()) return out;
    for (const std::string& leaf : record->second.leaves) {
      out.push_back(WithLeafFlag(record->second, record->second.revisions.at(leaf)));
    }
    return out;
  }

  absl::StatusOr<std::vector<StoredRevision>> GetHistory(const v1::Table& table,
                                                         std::string_view id) override {
    RETURN_IF_ERROR(CheckActive());
    ASSIGN_OR_RETURN(const TableData* data, FindTable(*state_, table.name()));
    std::vector<StoredRevision> out;
    auto record = data->records.find(std::string(id));
    if (record == data->records.end()) return out;
    for (const auto& [revision, rev] : record->second.revisions) {
      out.push_back(WithLeafFlag(record->second, rev));
    }
    return out;
  }

  absl::StatusOr<v1::Record> GetViewRow(const v1::Table& table, std::string_view id) override {
    RETURN_IF_ERROR(CheckActive());
    ASSIGN_OR_RETURN(const TableData* data, FindTable(*state_, table.name()));
    auto it = data->view.find(std::string(id));
    if (it == data->view.end()) {
      return absl::NotFoundError(
          absl::StrCat("record '", Sv(id), "' of table '", table.name(), "' has no live winner"));
    }
    return ToRecord(table.name(), it->first, it->second);
  }

  absl::StatusOr<int64_t> CountViewRows(const v1::Table& table) override {
    RETURN_IF_ERROR(CheckActive());
    ASSIGN_OR_RETURN(const TableData* data, FindTable(*state_, table.name()));
    return static_cast<int64_t>(data->view.size());
  }

  absl::StatusOr<std::vector<v1::Record>> QueryView(const v1::Table& table,
                                                    const ViewQuery& query) override {
    RETURN_IF_ERROR(CheckActive());
    return RunQuery(*state_, table, query);
  }

  absl::StatusOr<std::vector<v1::Change>> ScanChanges(int64_t since,
                                                      const std::vector<std::string>& tables,
                                                      int limit) override {
    RETURN_IF_ERROR(CheckActive());
    if (limit <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("scan limit must be > 0, got ", limit));
    }
    const std::set<std::string> wanted(tables.begin(), tables.end());
    std::vector<v1::Change> out;
    for (auto it = state_->changes.upper_bound(since);
         it != state_->changes.end() && out.size() < static_cast<size_t>(limit); ++it) {
      if (wanted.empty() || wanted.count(it->second.table()) > 0) out.push_back(it->second);
    }
    return out;
  }

  absl::StatusOr<int64_t> CountChanges(int64_t since,
                                       const std::vector<std::string>& tables) override {
    RETURN_IF_ERROR(CheckActive());
    const std::set<std::string> wanted(tables.begin(), tables.end());
    int64_t count = 0;
    for (auto it = state_->changes.upper_bound(since); it != state_->changes.end(); ++it) {
      if (wanted.empty() || wanted.count(it->second.table()) > 0) ++count;
    }
    return count;
  }

  absl::StatusOr<int64_t> LastSeq() override {
    RETURN_IF_ERROR(CheckActive());
    return state_->last_seq;
  }

  absl::StatusOr<std::string> GetMeta(std::string_view key) override {
    RETURN_IF_ERROR(CheckActive());
    auto it = state_->meta.find(std::string(key));
    if (it == state_->meta.end()) {
      return absl::NotFoundError(absl::StrCat("meta key '", Sv(key), "' is not set"));
    }
    return it->second;
  }

 protected:
  explicit MemoryReader(State* state) : state_(state) {}

  // OK while the transaction may still be used.
  virtual absl::Status CheckActive() const { return absl::OkStatus(); }

  State* const state_;  // Guarded by the gate the transaction holds.
};

class MemoryReadTransaction final : public MemoryReader<ReadTransaction> {
 public:
  // REQUIRES: `gate` is held shared; this transaction releases it.
  MemoryReadTransaction(State* state, internal::SharedGate* gate)
      : MemoryReader(state), gate_(gate) {}
  ~MemoryReadTransaction() override { gate_->UnlockShared(); }

 private:
  internal::SharedGate* const gate_;
};

class MemoryWriteTransaction final : public MemoryReader<WriteTransaction> {
 public:
  // REQUIRES: `gate` is held exclusively; this transaction releases it.
  MemoryWriteTransaction(State* state, internal::SharedGate* gate)
      : MemoryReader(state), gate_(gate) {}

  ~MemoryWriteTransaction() override {
    if (finished_) return;
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) (*it)(*state_);
    gate_->Unlock();
  }

  absl::Status CreateTable(const v1::Table& table) override {
    RETURN_IF_ERROR(CheckActive());
    auto [it, inserted] = state_->tables.try_emplace(table.name());
    if (!inserted) {
      return absl::AlreadyExistsError(absl::StrCat("table '", table.name(), "' already exists"));
    }
    it->second.definition = table;
    undo_.push_back([name = table.name()](State& s) { s.tables.erase(name); });
    return absl::OkStatus();
  }

  absl::Status InsertRevision(const v1::Table& table, const StoredRevision& rev) override {
    RETURN_IF_ERROR(CheckActive());
    ASSIGN_OR_RETURN(TableData * data, FindTable(*state_, table.name()));
    ASSIGN_OR_RETURN(const int held, internal::HeldColumns(data->definition, rev));
    RecordTree& tree = data->records[rev.id];
    if (tree.revisions.count(rev.revision) > 0) {
      return absl::AlreadyExistsError(absl::StrCat("record '", rev.id, "' of table '", table.name(),
                                                   "' already has revision '", rev.revision, "'"));
    }
    StoredRevision stored = rev;
    stored.attributes = Normalize(data->definition, rev.attributes, held);
    tree.revisions.emplace(rev.revision, std::move(stored));
    if (tree.child_count.count(rev.revision) == 0) tree.leaves.insert(rev.revision);
    if (!rev.parent.empty()) {
      ++tree.child_count[rev.parent];
      tree.leaves.erase(rev.parent);
    }
    undo_.push_back([table = table.name(), id = rev.id, revision = rev.revision,
                     parent = rev.parent](State& s) {
      TableData& data = s.tables.at(table);
      RecordTree& tree = data.records.at(id);
      tree.revisions.erase(revision);
      tree.leaves.erase(revision);
      if (!parent.empty() && --tree.child_count[parent] == 0) {
        tree.child_count.erase(parent);
        if (tree.revisions.count(parent) > 0) tree.leaves.insert(parent);
      }
      if (tree.revisions.empty()) data.records.erase(id);
    });
    return absl::OkStatus();
  }

  absl::Status AppendColumns(const v1::Table& table) override {
    RETURN_IF_ERROR(CheckActive());
    ASSIGN_OR_RETURN(TableData * data, FindTable(*state_, table.name()));
    RETURN_IF_ERROR(internal::CheckAppendedColumns(data->definition, table));
    const int old_count = data->definition.columns_size();
    std::vector<std::string> added;
    for (int i = old_count; i < table.columns_size(); ++i) {
      const v1::Column& column = table.columns(i);
      added.push_back(column.name());
      const v1::Value value = column.has_default_value() && !IsNull(column.default_value())
                                  ? column.default_value()
                                  : NullValue();
      for (auto& [id, row] : data->view) row.attributes[column.name()] = value;
    }
    undo_.push_back([previous = data->definition, added](State& s) {
      TableData& data = s.tables.at(previous.name());
      data.definition = previous;
      for (auto& [id, row] : data.view) {
        for (const std::string& name : added) row.attributes.erase(name);
      }
    });
    data->definition = table;
    return absl::OkStatus();
  }

  absl::Status FillStub(const v1::Table& table, const StoredRevision& rev) override {
    RETURN_IF_ERROR(CheckActive());
    ASSIGN_OR_RETURN(TableData * data, FindTable(*state_, table.name()));
    StoredRevision body = rev;
    body.stub = false;
    ASSIGN_OR_RETURN(const int held, internal::HeldColumns(data->definition, body));
    auto record = data->records.find(rev.id);
    auto it = record == data->records.end() ? std::map<std::string, StoredRevision>::iterator()
                                            : record->second.revisions.find(rev.revision);
    if (record == data->records.end() || it == record->second.revisions.end()) {
      return absl::NotFoundError(absl::StrCat("record '", rev.id, "' of table '", table.name(),
                                              "' has no revision '", rev.revision, "'"));
    }
    if (!it->second.stub) {
      return absl::FailedPreconditionError(absl::StrCat("revision '", rev.revision, "' of record '",
                                                        rev.id, "' of table '", table.name(),
                                                        "' is not a stub"));
    }
    StoredRevision previous = it->second;
    it->second.stub = false;
    it->second.attributes = Normalize(data->definition, rev.attributes, held);
    undo_.push_back([table = table.name(), previous = std::move(previous)](State& s) {
      s.tables.at(table).records.at(previous.id).revisions.at(previous.revision) = previous;
    });
    return absl::OkStatus();
  }

  absl::Status SetRevisionAudit(const v1::Table& table, std::string_view id,
                                std::string_view revision, const RevisionAudit& audit) override {
    RETURN_IF_ERROR(CheckActive());
    ASSIGN_OR_RETURN(TableData * data, FindTable(*state_, table.name()));
    auto record = data->records.find(std::string(id));
    auto it = record == data->records.end() ? std::map<std::string, StoredRevision>::iterator()
                                            : record->second.revisions.find(std::string(revision));
    if (record == data->records.end() || it == record->second.revisions.end()) {
      return absl::NotFoundError(absl::StrCat("record '", std::string(id), "' of table '",
                                              table.name(), "' has no revision '",
                                              std::string(revision), "'"));
    }
    undo_.push_back([table = table.name(), id = std::string(id), revision = std::string(revision),
                     previous = it->second.audit](State& s) {
      s.tables.at(table).records.at(id).revisions.at(revision).audit = previous;
    });
    it->second.audit = audit;
    return absl::OkStatus();
  }

  absl::Status UpsertViewRow(const v1::Table& table, const v1::Record& winner) override {
    RETURN_IF_ERROR(CheckActive());
    ASSIGN_OR_RETURN(TableData * data, FindTable(*state_, table.name()));
    const Attributes given(winner.attributes().begin(), winner.attributes().end());
    ViewRow row{winner.revision(), winner.conflicted(),
                Normalize(data->definition, given, data->definition.columns_size())};
    return ReplaceViewRow(table.name(), data, winner.id(), std::move(row));
  }

  absl::Status DeleteViewRow(const v1::Table& table, std::string_view id) override {
    RETURN_IF_ERROR(CheckActive());
    ASSIGN_OR_RETURN(TableData * data, FindTable(*state_, table.name()));
    return ReplaceViewRow(table.name(), data, std::string(id), std::nullopt);
  }

  absl::StatusOr<int64_t> AppendChange(const v1::Change& change) override {
    RETURN_IF_ERROR(CheckActive());
    const ChangeKey key = KeyOf(change);
    std::optional<v1::Change> replaced;
    auto old = state_->change_seqs.find(key);
    if (old != state_->change_seqs.end()) {
      auto entry = state_->changes.find(old->second);
      replaced = std::move(entry->second);
      state_->changes.erase(entry);
    }
    const int64_t seq = ++state_->last_seq;
    v1::Change& stored = state_->changes[seq] = change;
    stored.set_seq(seq);
    state_->change_seqs[key] = seq;
    undo_.push_back([key, seq, replaced = std::move(replaced)](State& s) {
      s.changes.erase(seq);
      s.last_seq = seq - 1;
      if (replaced) {
        s.changes[replaced->seq()] = *replaced;
        s.change_seqs[key] = replaced->seq();
      } else {
        s.change_seqs.erase(key);
      }
    });
    return seq;
  }

  absl::Status SetMeta(std::string_view key, std::string_view value) override {
    RETURN_IF_ERROR(CheckActive());
    std::optional<std::string> previous;
    auto [it, inserted] = state_->meta.try_emplace(std::string(key));
    if (!inserted) previous = std::move(it->second);
    it->second = std::string(value);
    undo_.push_back([key = std::string(key), previous = std::move(previous)](State& s) {
      if (previous) {
        s.meta[key] = *previous;
      } else {
        s.meta.erase(key);
      }
    });
    return absl::OkStatus();
  }

  absl::Status Commit() override {
    RETURN_IF_ERROR(CheckActive());
    finished_ = true;
    undo_.clear();
    gate_->Unlock();
    return absl::OkStatus();
  }

 private:
  absl::Status CheckActive() const override {
    if (finished_) return absl::FailedPreconditionError("the write transaction has committed");
    return absl::OkStatus();
  }

  // Sets (or with nullopt removes) the view row of `id`, logging the inverse.
  absl::Status ReplaceViewRow(const std::string& table, TableData* data, const std::string& id,
                              std::optional<ViewRow> row) {
    std::optional<ViewRow> previous;
    auto it = data->view.find(id);
    if (it != data->view.end()) previous = it->second;
    if (row) {
      SetViewRow(*data, id, std::move(*row));
    } else {
      EraseViewRow(*data, id);
    }
    undo_.push_back([table, id, previous = std::move(previous)](State& s) {
      TableData& data = s.tables.at(table);
      if (previous) {
        SetViewRow(data, id, *previous);
      } else {
        EraseViewRow(data, id);
      }
    });
    return absl::OkStatus();
  }

  internal::SharedGate* const gate_;
  bool finished_ = false;  // Committed: the gate is released.
  // Inverses of the writes so far, oldest first.
  std::vector<std::function<void(State&)>> undo_;
};

class MemoryStorage final : public Storage {
 public:
  absl::StatusOr<std::unique_ptr<ReadTransaction>> BeginRead() override {
    gate_.LockShared();
    return std::make_unique<MemoryReadTransaction>(&state_, &gate_);
  }

  absl::StatusOr<std::unique_ptr<WriteTransaction>> BeginWrite() override {
    gate_.Lock();
    return std::make_unique<MemoryWriteTransaction>(&state_, &gate_);
  }

  // There is no file to copy, and a copy in another format would not open
  // as a memory store: refused (storage/DESIGN.md, "Backups").
  absl::StatusOr<int64_t> Backup(const std::string& path, const BackupEdit& edit) override {
    return absl::FailedPreconditionError(
        "the memory backend keeps nothing on disk and cannot be backed up");
  }

  std::string_view Name() const override { return "memory"; }
  std::string Settings() const override { return ""; }
  std::string Identity() const override { return identity_; }

  // A copy of everything `other` holds, under a new identity unless
  // `keep_identity` (a copy that a disk image would make).
  static std::unique_ptr<MemoryStorage> CopyOf(MemoryStorage& other, bool keep_identity) {
    auto copy = std::make_unique<MemoryStorage>();
    other.gate_.LockShared();
    copy->state_ = other.state_;
    other.gate_.UnlockShared();
    if (keep_identity) copy->identity_ = other.identity_;
    return copy;
  }

 private:
  std::string identity_ = absl::StrCat("memory-", NewUuidV4());
  internal::SharedGate gate_;
  State state_;  // Read under gate_ shared, written under gate_ exclusive.
};

}  // namespace

std::unique_ptr<Storage> NewMemoryStorage() { return std::make_unique<MemoryStorage>(); }

absl::StatusOr<std::unique_ptr<Storage>> CopyMemoryStorage(Storage& storage, bool keep_identity) {
  auto* memory = dynamic_cast<MemoryStorage*>(&storage);
  if (memory == nullptr) return absl::InvalidArgumentError("not a memory store");
  return std::unique_ptr<Storage>(MemoryStorage::CopyOf(*memory, keep_identity));
}

}  // namespace recondb::storage
