#include "storage/internal/sqlite_reader.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "storage/internal/sqlite_query.h"
#include "storage/internal/sqlite_schema.h"

namespace recondb::storage::internal {
namespace {

constexpr char kListTables[] = "SELECT \"definition\" FROM \"_tables\" ORDER BY \"name\"";
constexpr char kGetTable[] = "SELECT \"definition\" FROM \"_tables\" WHERE \"name\" = ?1";
constexpr char kGetMeta[] = "SELECT \"value\" FROM \"_meta\" WHERE \"key\" = ?1";
// The row holding the highest seq ever assigned is never deleted (see
// kAppendChange in sqlite_writer.cc), so max(seq) is LastSeq; NULL (read as
// 0) for an empty feed. One step to the last entry of the integer key.
constexpr char kLastSeq[] = "SELECT max(\"seq\") FROM \"_changes\"";
constexpr char kScanColumns[] =
    "SELECT \"seq\", \"kind\", \"table_name\", \"record_id\", \"revision\", \"deleted\","
    " \"conflicted\" FROM \"_changes\" WHERE \"seq\" > ?";

absl::StatusOr<v1::Table> ParseTable(const Statement& stmt) {
  v1::Table table;
  const std::string_view bytes = stmt.Blob(0);
  if (!table.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("a table definition in _tables cannot be parsed");
  }
  return table;
}

// The scan statement for a filter of `table_count` tables: one placeholder
// per table, so a statement is cached per count.
std::string ScanSql(size_t table_count) {
  std::string sql = kScanColumns;
  if (table_count > 0) {
    sql += " AND \"table_name\" IN (?";
    for (size_t i = 1; i < table_count; ++i) sql += ", ?";
    sql += ")";
  }
  sql += " ORDER BY \"seq\" LIMIT ?";
  return sql;
}

// The count statement for a filter of `table_count` tables. It walks the
// "seq" key range (no record row is read).
std::string CountSql(size_t table_count) {
  std::string sql = "SELECT count(*) FROM \"_changes\" WHERE \"seq\" > ?";
  if (table_count > 0) {
    sql += " AND \"table_name\" IN (?";
    for (size_t i = 1; i < table_count; ++i) sql += ", ?";
    sql += ")";
  }
  return sql;
}

}  // namespace

absl::StatusOr<std::vector<v1::Table>> SessionReader::ListTables() {
  ASSIGN_OR_RETURN(Statement stmt, connection().Prepare(kListTables));
  std::vector<v1::Table> tables;
  while (true) {
    ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) return tables;
    ASSIGN_OR_RETURN(v1::Table table, ParseTable(stmt));
    tables.push_back(std::move(table));
  }
}

absl::StatusOr<v1::Table> SessionReader::GetTable(std::string_view name) {
  ASSIGN_OR_RETURN(Statement stmt, connection().Prepare(kGetTable));
  stmt.BindText(1, name);
  ASSIGN_OR_RETURN(const bool row, stmt.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("no table ", Sv(name)));
  return ParseTable(stmt);
}

absl::StatusOr<StoredRevision> SessionReader::GetRevision(const v1::Table& table,
                                                          std::string_view id,
                                                          std::string_view revision) {
  const TableSql& sql = session_->tables.Get(table);
  ASSIGN_OR_RETURN(Statement stmt, connection().Prepare(sql.select_revision));
  stmt.BindText(1, id);
  stmt.BindText(2, revision);
  ASSIGN_OR_RETURN(const bool row, stmt.Step());
  if (!row) {
    return absl::NotFoundError(absl::StrCat("record ", Sv(id), " of table ", table.name(),
                                            " has no revision ", Sv(revision)));
  }
  return ReadHistoryRow(stmt, table);
}

absl::StatusOr<std::vector<StoredRevision>> SessionReader::HistoryRows(Statement& stmt,
                                                                       const v1::Table& table) {
  std::vector<StoredRevision> revisions;
  while (true) {
    ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) return revisions;
    ASSIGN_OR_RETURN(StoredRevision rev, ReadHistoryRow(stmt, table));
    revisions.push_back(std::move(rev));
  }
}

absl::StatusOr<std::vector<StoredRevision>> SessionReader::GetLeaves(const v1::Table& table,
                                                                     std::string_view id) {
  const TableSql& sql = session_->tables.Get(table);
  ASSIGN_OR_RETURN(Statement stmt, connection().Prepare(sql.select_leaves));
  stmt.BindText(1, id);
  return HistoryRows(stmt, table);
}

absl::StatusOr<std::vector<StoredRevision>> SessionReader::GetHistory(const v1::Table& table,
                                                                      std::string_view id) {
  const TableSql& sql = session_->tables.Get(table);
  ASSIGN_OR_RETURN(Statement stmt, connection().Prepare(sql.select_history));
  stmt.BindText(1, id);
  return HistoryRows(stmt, table);
}

absl::StatusOr<v1::Record> SessionReader::GetViewRow(const v1::Table& table, std::string_view id) {
  const TableSql& sql = session_->tables.Get(table);
  ASSIGN_OR_RETURN(Statement stmt, connection().Prepare(sql.select_view_row));
  stmt.BindText(1, id);
  ASSIGN_OR_RETURN(const bool row, stmt.Step());
  if (!row) {
    return absl::NotFoundError(
        absl::StrCat("record ", Sv(id), " of table ", table.name(), " has no live winner"));
  }
  return ReadViewRow(stmt, table);
}

absl::StatusOr<int64_t> SessionReader::CountViewRows(const v1::Table& table) {
  const TableSql& sql = session_->tables.Get(table);
  ASSIGN_OR_RETURN(Statement stmt, connection().Prepare(sql.count_view_rows));
  ASSIGN_OR_RETURN(const bool row, stmt.Step());
  return row ? stmt.Int(0) : 0;
}

absl::StatusOr<std::vector<v1::Record>> SessionReader::QueryView(const v1::Table& table,
                                                                 const ViewQuery& query) {
  return RunViewQuery(connection(), session_->tables.Get(table), table, query);
}

absl::StatusOr<std::vector<v1::Change>> SessionReader::ScanChanges(
    int64_t since, const std::vector<std::string>& tables, int limit) {
  if (limit < 1) {
    return absl::InvalidArgumentError(absl::StrCat("scan limit must be positive, not ", limit));
  }
  static const std::string* const kScanAll = new std::string(ScanSql(0));
  ASSIGN_OR_RETURN(Statement stmt, tables.empty() ? connection().Prepare(*kScanAll)
                                                  : connection().Prepare(ScanSql(tables.size()),
                                                                         StatementCache::kQuery));
  int index = 1;
  stmt.BindInt(index++, since);
  for (const std::string& table : tables) stmt.BindText(index++, table);
  stmt.BindInt(index, limit);
  std::vector<v1::Change> changes;
  while (true) {
    ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) return changes;
    v1::Change& change = changes.emplace_back();
    change.set_seq(stmt.Int(0));
    change.set_kind(static_cast<v1::ChangeKind>(stmt.Int(1)));
    change.set_table(std::string(stmt.Text(2)));
    change.set_id(std::string(stmt.Text(3)));
    change.set_revision(std::string(stmt.Text(4)));
    change.set_deleted(stmt.Int(5) != 0);
    change.set_conflicted(stmt.Int(6) != 0);
  }
}

absl::StatusOr<int64_t> SessionReader::CountChanges(int64_t since,
                                                    const std::vector<std::string>& tables) {
  ASSIGN_OR_RETURN(Statement stmt,
                   connection().Prepare(CountSql(tables.size()), StatementCache::kQuery));
  int index = 1;
  stmt.BindInt(index++, since);
  for (const std::string& table : tables) stmt.BindText(index++, table);
  ASSIGN_OR_RETURN(const bool row, stmt.Step());
  return row ? stmt.Int(0) : 0;
}

absl::StatusOr<int64_t> SessionReader::LastSeq() {
  ASSIGN_OR_RETURN(Statement stmt, connection().Prepare(kLastSeq));
  ASSIGN_OR_RETURN(const bool row, stmt.Step());
  return row ? stmt.Int(0) : 0;
}

absl::StatusOr<std::string> SessionReader::GetMeta(std::string_view key) {
  ASSIGN_OR_RETURN(Statement stmt, connection().Prepare(kGetMeta));
  stmt.BindText(1, key);
  ASSIGN_OR_RETURN(const bool row, stmt.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("no metadata ", Sv(key)));
  return std::string(stmt.Text(0));
}

}  // namespace recondb::storage::internal
