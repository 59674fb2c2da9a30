// The SQLite schema of a recondb store, as DDL text: the internal tables of a
// new store and the view, history and indexes of each user table. The layout
// is docs/storage-format.md; a change to it changes kFormatVersion.
#ifndef RECONDB_STORAGE_INTERNAL_SQLITE_SCHEMA_H_
#define RECONDB_STORAGE_INTERNAL_SQLITE_SCHEMA_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "recondb/v1/types.pb.h"

namespace recondb::storage::internal {

// The format this build writes and the newest it reads, kept in _meta under
// kFormatVersionKey. A store of a newer format is refused; one of an older
// format is migrated (MigrationSql).
inline constexpr int kFormatVersion = 5;
inline constexpr char kFormatVersionKey[] = "format_version";

// `identifier` as a double-quoted SQL identifier (embedded quotes doubled).
// Identifiers are always quoted, so a table named `select` is just a name.
std::string Quote(std::string_view identifier);

// The history table of user table `table`: "<table>_history".
std::string HistoryTableName(std::string_view table);

// Index names start with "_idx_" (no user table starts with "_") and use "-",
// which no identifier contains, to separate the table from the rest, so two
// (table, column) pairs never give one name:
//   "_idx_<table>-<column>"              a view column with `indexed` set;
//   "_idx_<table>-_conflicted"           the conflicted view rows (partial;
//                                        no user column starts with "_");
//   "_idx_<table>_history-id_revision"   unique (id, revision) of the history;
//   "_idx_<table>_history-leaves"        the leaves of each record (partial).
std::string ViewIndexName(std::string_view table, std::string_view column);

// The DDL that creates the internal tables (_meta, _tables, _changes) of a
// new store, several statements.
const std::string& InternalSchemaSql();

// The DDL and copies that turn a store of format `from` into one of format
// `from + 1`, several statements, to run inside the transaction that then
// records the new version in _meta (left to the caller). `tables` are the
// store's user tables (from _tables).
// REQUIRES: 1 <= from < kFormatVersion.
//   1 -> 2: _changes loses AUTOINCREMENT (seqs are assigned as max + 1, see
//   docs/storage-format.md), keeping every entry and its seq.
//   2 -> 3: each history gains "_stub" (default 0) and "_columns" (default:
//   the table's column count, which every format 2 revision holds), without
//   rewriting a row.
//   3 -> 4: each view gains "_conflicted" (computed from the history) and
//   its partial index; _changes gains "conflicted" (taken from the views).
//   4 -> 5: each history gains the audit columns "_author", "_origin_node"
//   and "_create_time", NULL in every existing row (made before audit).
std::string MigrationSql(int from, const std::vector<v1::Table>& tables);

// The DDL of the partial index of `table`'s conflicted view rows.
std::string ConflictedIndexSql(std::string_view table);

// The DDL that appends the columns of `table` beyond the first
// `old_count` to its view and history, and indexes the indexed ones.
// INVALID_ARGUMENT if a column has no valid type.
absl::StatusOr<std::string> AppendColumnsSql(const v1::Table& table, int old_count);

// The DDL that creates `table`'s view table, history table and indexes,
// several statements. INVALID_ARGUMENT if a column has no valid type.
absl::StatusOr<std::string> CreateTableSql(const v1::Table& table);

}  // namespace recondb::storage::internal

#endif  // RECONDB_STORAGE_INTERNAL_SQLITE_SCHEMA_H_
