// Reads: one record (winner or a revision, with conflicts), queries over the
// view, and a record's history.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "engine/engine.h"
#include "engine/internal/attributes.h"
#include "engine/internal/conflicts.h"
#include "engine/internal/page_token.h"
#include "engine/internal/records.h"
#include "engine/internal/validation.h"
#include "engine/internal/winner.h"
#include "engine/revision.h"

namespace recondb::engine {
namespace {

using storage::StoredRevision;

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

// The column named by a filter or order_by: nullptr for "id".
absl::StatusOr<const v1::Column*> ResolveColumn(const v1::Table& table, std::string_view name,
                                                std::string_view field) {
  if (name == "id") return nullptr;
  for (const auto& column : table.columns()) {
    if (column.name() == name) return &column;
  }
  return absl::InvalidArgumentError(absl::StrCat(Sv(field), ": table \"", table.name(),
                                                 "\" has no column \"", Sv(name.substr(0, 100)),
                                                 "\""));
}

absl::StatusOr<storage::ViewCondition> ToViewCondition(const v1::Table& table,
                                                       const v1::Condition& condition, int index) {
  const std::string field = absl::StrCat("filter[", index, "]");
  ASSIGN_OR_RETURN(const v1::Column* column, ResolveColumn(table, condition.column(), field));
  storage::ViewCondition out;
  out.column = condition.column();
  out.op = condition.op();
  switch (condition.op()) {
    case v1::OPERATOR_IS_NULL:
    case v1::OPERATOR_IS_NOT_NULL:
      return out;
    case v1::OPERATOR_EQ: case v1::OPERATOR_NE: case v1::OPERATOR_LT:
    case v1::OPERATOR_LE: case v1::OPERATOR_GT: case v1::OPERATOR_GE:
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".op must be one of OPERATOR_EQ .. OPERATOR_IS_NOT_NULL"));
  }
  const auto kind = condition.value().kind_case();
  if (kind == v1::Value::kNull || kind == v1::Value::KIND_NOT_SET) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".value is null or missing; use OPERATOR_IS_NULL / OPERATOR_IS_NOT_NULL"));
  }
  if (column == nullptr) {
    if (kind != v1::Value::kString) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": id compares with a string value"));
    }
    out.value = condition.value();
    return out;
  }
  v1::Column nullable = *column;  // Nulls are refused above; the type check stays.
  nullable.set_nullable(true);
  nullable.set_max_length(0);  // A filter value may be longer than the column allows.
  auto value = internal::NormalizeValue(table.name(), nullable, condition.value());
  if (!value.ok()) return absl::InvalidArgumentError(absl::StrCat(field, ": ", value.status().message()));
  out.value = *std::move(value);
  return out;
}

// A forged token could carry a value of another kind than the order column.
bool CursorFits(const storage::ViewCursor& cursor, const v1::Column* order_column) {
  const auto kind = cursor.order_value.kind_case();
  if (order_column == nullptr) return kind == v1::Value::KIND_NOT_SET;
  return kind == v1::Value::kNull || kind == internal::KindOf(order_column->type());
}

}  // namespace

absl::StatusOr<v1::Record> Engine::GetRecord(const v1::GetRecordRequest& request) {
  RETURN_IF_ERROR(internal::ValidateTableName(request.table()));
  RETURN_IF_ERROR(internal::ValidateRecordId(request.table(), request.id()));
  if (!request.revision().empty()) RETURN_IF_ERROR(ParseRevision(request.revision()).status());
  ASSIGN_OR_RETURN(TableRead at, BeginReadOf(request.table()));
  const auto& read = at.txn;
  const auto& table = at.table;
  const std::string name = internal::RecordName(table->name(), request.id());
  v1::Record record;
  if (!request.revision().empty()) {
    auto rev = read->GetRevision(*table, request.id(), request.revision());
    if (absl::IsNotFound(rev.status())) {
      return absl::NotFoundError(absl::StrCat(name, " has no revision \"", request.revision(), "\""));
    }
    RETURN_IF_ERROR(rev.status());
    if (rev->stub) {
      return absl::NotFoundError(absl::StrCat(
          "revision \"", request.revision(), "\" of ", name,
          " is known by id only on this node (replicated as an ancestor, without its content)"));
    }
    if (!rev->deleted) rev->attributes = internal::FillColumns(*table, rev->attributes);
    record = internal::ToRecord(table->name(), request.id(), *rev);
  } else {
    auto row = read->GetViewRow(*table, request.id());
    if (absl::IsNotFound(row.status())) {
      ASSIGN_OR_RETURN(auto leaves, read->GetLeaves(*table, request.id()));
      if (leaves.empty()) return absl::NotFoundError(absl::StrCat(name, " does not exist"));
      internal::SortByPrecedence(leaves);
      return absl::NotFoundError(absl::StrCat(name, " is deleted (revision \"",
                                              leaves.front().revision, "\")"));
    }
    RETURN_IF_ERROR(row.status());
    record = *std::move(row);
  }
  if (request.include_conflicts()) {
    ASSIGN_OR_RETURN(auto leaves, read->GetLeaves(*table, request.id()));
    internal::SortByPrecedence(leaves);
    ASSIGN_OR_RETURN(const internal::LeafConflicts conflicts,
                     internal::FindConflicts(*read, *table, leaves));
    for (const StoredRevision& conflict : conflicts.live) {
      record.add_conflicts(conflict.revision);
      *record.add_conflict_records() = internal::ToRecord(table->name(), request.id(), conflict);
    }
    for (const StoredRevision& deleted : conflicts.deleted) {
      record.add_deleted_conflicts(deleted.revision);
    }
  }
  return record;
}

absl::StatusOr<v1::ListRecordsResponse> Engine::ListRecords(const v1::ListRecordsRequest& request) {
  RETURN_IF_ERROR(internal::ValidateTableName(request.table()));
  RETURN_IF_ERROR(internal::CheckFilterSize(request.filter_size()));
  if (request.page_size() < 0) {
    return absl::InvalidArgumentError(absl::StrCat("page_size ", request.page_size(), " is negative"));
  }
  const int page_size = request.page_size() == 0 ? kDefaultPageSize
                                                  : std::min(request.page_size(), kMaxPageSize);
  ASSIGN_OR_RETURN(TableRead at, BeginReadOf(request.table()));
  const auto& read = at.txn;
  const auto& table = at.table;

  storage::ViewQuery query;
  for (int i = 0; i < request.filter_size(); ++i) {
    ASSIGN_OR_RETURN(auto condition, ToViewCondition(*table, request.filter(i), i));
    query.conditions.push_back(std::move(condition));
  }
  query.order_by = request.order_by().empty() ? "id" : request.order_by();
  ASSIGN_OR_RETURN(const v1::Column* order_column, ResolveColumn(*table, query.order_by, "order_by"));
  query.descending = request.descending();
  query.conflicted_only = request.conflicted_only();
  query.limit = page_size + 1;  // One more tells whether another page exists.
  const std::string fingerprint = internal::QueryFingerprint(request);
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(storage::ViewCursor cursor,
                     internal::DecodePageToken(request.page_token(), fingerprint));
    if (!CursorFits(cursor, order_column)) {
      return absl::InvalidArgumentError("page_token does not fit the order column");
    }
    query.after = std::move(cursor);
  }
  ASSIGN_OR_RETURN(std::vector<v1::Record> rows, read->QueryView(*table, query));

  v1::ListRecordsResponse response;
  const bool more = static_cast<int>(rows.size()) > page_size;
  if (more) rows.resize(page_size);
  for (auto& row : rows) *response.add_records() = std::move(row);
  if (more) {
    const v1::Record& last = response.records(page_size - 1);
    storage::ViewCursor cursor;
    cursor.id = last.id();
    if (order_column != nullptr) cursor.order_value = last.attributes().at(query.order_by);
    response.set_next_page_token(internal::EncodePageToken(fingerprint, cursor));
  }
  return response;
}

absl::StatusOr<int64_t> Engine::CountLiveRecords(std::string_view table) {
  ASSIGN_OR_RETURN(TableRead read, BeginReadOf(table));
  return read.txn->CountViewRows(*read.table);
}

absl::StatusOr<v1::GetRecordHistoryResponse> Engine::GetRecordHistory(
    const v1::GetRecordHistoryRequest& request) {
  RETURN_IF_ERROR(internal::ValidateTableName(request.table()));
  RETURN_IF_ERROR(internal::ValidateRecordId(request.table(), request.id()));
  ASSIGN_OR_RETURN(TableRead at, BeginReadOf(request.table()));
  const auto& table = at.table;
  ASSIGN_OR_RETURN(std::vector<StoredRevision> history, at.txn->GetHistory(*table, request.id()));
  if (history.empty()) {
    return absl::NotFoundError(
        absl::StrCat(internal::RecordName(table->name(), request.id()), " does not exist"));
  }
  std::sort(history.begin(), history.end(), [](const StoredRevision& a, const StoredRevision& b) {
    if (a.generation != b.generation) return a.generation > b.generation;
    return a.revision > b.revision;
  });
  v1::GetRecordHistoryResponse response;
  for (const StoredRevision& rev : history) {
    v1::HistoryEntry* entry = response.add_entries();
    // The attributes as stored (the columns the revision holds), so that an
    // export re-imports with the same hashes.
    *entry->mutable_record() = internal::ToRecord(table->name(), request.id(), rev);
    entry->set_parent_revision(rev.parent);
    entry->set_leaf(rev.leaf);
    entry->set_stub(rev.stub);
    if (rev.audit.known()) {
      entry->set_author(rev.audit.author);
      entry->set_origin_node(rev.audit.origin_node);
      *entry->mutable_create_time() = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
          rev.audit.create_time_micros);
    }
  }
  return response;
}

}  // namespace recondb::engine
