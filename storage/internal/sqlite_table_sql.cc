#include "storage/internal/sqlite_table_sql.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "storage/internal/sqlite_schema.h"
#include "storage/internal/sqlite_values.h"

namespace recondb::storage::internal {
namespace {

// ", "c1", "c2"" for the user columns.
std::string ColumnList(const v1::Table& table) {
  std::string out;
  for (const v1::Column& column : table.columns())
    absl::StrAppend(&out, ", ", Quote(column.name()));
  return out;
}

// ", ?<first>, ?<first+1>, ..." for the user columns.
std::string Placeholders(const v1::Table& table, int first) {
  std::string out;
  for (int i = 0; i < table.columns_size(); ++i) absl::StrAppend(&out, ", ?", first + i);
  return out;
}

}  // namespace

TableSql BuildTableSql(const v1::Table& table) {
  const std::string view = Quote(table.name());
  const std::string history = Quote(HistoryTableName(table.name()));
  const std::string columns = ColumnList(table);
  const std::string history_select = absl::StrCat(
      "SELECT \"id\", \"revision\", \"parent\", \"generation\", \"deleted\", \"leaf\","
      " \"_stub\", \"_columns\", \"_author\", \"_origin_node\", \"_create_time\"",
      columns, " FROM ", history);
  TableSql sql;
  sql.column_count = table.columns_size();
  sql.select_revision = absl::StrCat(history_select, " WHERE \"id\" = ?1 AND \"revision\" = ?2");
  // "leaf" = 1 literally, so SQLite uses the partial index of leaves.
  sql.select_leaves = absl::StrCat(history_select, " WHERE \"id\" = ?1 AND \"leaf\" = 1");
  sql.select_history = absl::StrCat(history_select, " WHERE \"id\" = ?1 ORDER BY \"seq\"");
  sql.has_child = absl::StrCat("SELECT 1 FROM ", history,
                               " WHERE \"id\" = ?1 AND \"revision\" > ?3 AND \"revision\" < ?4"
                               " AND \"parent\" = ?2 LIMIT 1");
  sql.insert_history = absl::StrCat(
      "INSERT INTO ", history,
      " (\"id\", \"revision\", \"parent\", \"generation\", \"deleted\", \"leaf\","
      " \"_stub\", \"_columns\", \"_author\", \"_origin_node\", \"_create_time\"",
      columns, ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11",
      Placeholders(table, 12), ")");
  std::string fills = "\"_stub\" = 0, \"_columns\" = ?3";
  for (int i = 0; i < table.columns_size(); ++i) {
    absl::StrAppend(&fills, ", ", Quote(table.columns(i).name()), " = ?", 4 + i);
  }
  sql.fill_stub = absl::StrCat("UPDATE ", history, " SET ", fills,
                               " WHERE \"id\" = ?1 AND \"revision\" = ?2 AND \"_stub\" = 1");
  sql.set_audit = absl::StrCat("UPDATE ", history,
                               " SET \"_author\" = ?3, \"_origin_node\" = ?4,"
                               " \"_create_time\" = ?5 WHERE \"id\" = ?1 AND \"revision\" = ?2");
  sql.clear_leaf = absl::StrCat("UPDATE ", history,
                                " SET \"leaf\" = 0 WHERE \"id\" = ?1 AND \"revision\" = ?2"
                                " AND \"leaf\" = 1");

  sql.view_query_prefix =
      absl::StrCat("SELECT \"id\", \"revision\", \"_conflicted\"", columns, " FROM ", view);
  sql.conflicted_query_prefix =
      absl::StrCat(sql.view_query_prefix, " INDEXED BY ",
                   Quote(ViewIndexName(table.name(), "_conflicted")));
  sql.select_view_row = absl::StrCat(sql.view_query_prefix, " WHERE \"id\" = ?1");
  sql.count_view_rows = absl::StrCat("SELECT count(*) FROM ", Quote(table.name()));
  std::string updates =
      "\"revision\" = excluded.\"revision\", \"_conflicted\" = excluded.\"_conflicted\"";
  for (const v1::Column& column : table.columns()) {
    const std::string name = Quote(column.name());
    absl::StrAppend(&updates, ", ", name, " = excluded.", name);
  }
  // An upsert rather than INSERT OR REPLACE: the row is updated in place
  // instead of deleted and reinserted with every index entry.
  sql.upsert_view_row =
      absl::StrCat("INSERT INTO ", view, " (\"id\", \"revision\", \"_conflicted\"", columns,
                   ") VALUES (?1, ?2, ?3", Placeholders(table, 4),
                   ") ON CONFLICT (\"id\") DO UPDATE SET ", updates);
  sql.delete_view_row = absl::StrCat("DELETE FROM ", view, " WHERE \"id\" = ?1");
  return sql;
}

const TableSql& TableSqlCache::Get(const v1::Table& table) {
  const absl::string_view name(table.name());
  auto it = tables_.find(name);
  if (it == tables_.end()) {
    it = tables_.emplace(table.name(), nullptr).first;
  }
  if (it->second == nullptr || it->second->column_count != table.columns_size()) {
    it->second = std::make_unique<TableSql>(BuildTableSql(table));
  }
  return *it->second;
}

absl::StatusOr<StoredRevision> ReadHistoryRow(const Statement& stmt, const v1::Table& table) {
  StoredRevision rev;
  rev.id = std::string(stmt.Text(0));
  rev.revision = std::string(stmt.Text(1));
  rev.parent = std::string(stmt.Text(2));
  rev.generation = stmt.Int(3);
  rev.deleted = stmt.Int(4) != 0;
  rev.leaf = stmt.Int(5) != 0;
  rev.stub = stmt.Int(6) != 0;
  if (!stmt.IsNull(kHistoryAuditColumn + 1)) {
    rev.audit.author = std::string(stmt.Text(kHistoryAuditColumn));
    rev.audit.origin_node = std::string(stmt.Text(kHistoryAuditColumn + 1));
    auto time = ParseTimestamp(stmt.Text(kHistoryAuditColumn + 2));
    if (!time.ok()) {
      return absl::DataLossError(absl::StrCat("revision ", rev.revision, " of record ", rev.id,
                                              " of table ", table.name(), ": _create_time: ",
                                              time.status().message()));
    }
    rev.audit.create_time_micros = time->seconds() * 1000000 + time->nanos() / 1000;
  }
  if (rev.deleted || rev.stub) return rev;
  const int64_t held = std::min<int64_t>(stmt.Int(7), table.columns_size());
  for (int i = 0; i < held; ++i) {
    const v1::Column& column = table.columns(i);
    ASSIGN_OR_RETURN(v1::Value value,
                     ReadValue(stmt, kHistoryFirstColumn + i, column.type(), column.name()));
    rev.attributes.emplace(column.name(), std::move(value));
  }
  return rev;
}

absl::Status BindAudit(Statement& stmt, int first, const RevisionAudit& audit) {
  if (!audit.known()) {
    for (int i = 0; i < 3; ++i) stmt.BindNull(first + i);
    return absl::OkStatus();
  }
  google::protobuf::Timestamp time;
  // Floor division, so a time before 1970 keeps nanos in [0, 1e9).
  int64_t seconds = audit.create_time_micros / 1000000;
  int64_t micros = audit.create_time_micros % 1000000;
  if (micros < 0) {
    micros += 1000000;
    --seconds;
  }
  time.set_seconds(seconds);
  time.set_nanos(static_cast<int32_t>(micros * 1000));
  char text[kTimestampTextSize];
  RETURN_IF_ERROR(FormatTimestamp(time, text));
  stmt.BindText(first, audit.author);
  stmt.BindText(first + 1, audit.origin_node);
  stmt.BindTextCopy(first + 2, std::string_view(text, kTimestampTextSize));
  return absl::OkStatus();
}

absl::StatusOr<v1::Record> ReadViewRow(const Statement& stmt, const v1::Table& table) {
  v1::Record record;
  record.set_table(table.name());
  record.set_id(std::string(stmt.Text(0)));
  record.set_revision(std::string(stmt.Text(1)));
  record.set_conflicted(stmt.Int(2) != 0);
  auto& attributes = *record.mutable_attributes();
  for (int i = 0; i < table.columns_size(); ++i) {
    const v1::Column& column = table.columns(i);
    ASSIGN_OR_RETURN(attributes[column.name()],
                     ReadValue(stmt, kViewFirstColumn + i, column.type(), column.name()));
  }
  return record;
}

}  // namespace recondb::storage::internal
