// The SQL of the per-table statements (history and view of one user table)
// and the decoding of their rows. Built once per table shape and connection,
// so the hot path only looks statements up.
#ifndef RECONDB_STORAGE_INTERNAL_SQLITE_TABLE_SQL_H_
#define RECONDB_STORAGE_INTERNAL_SQLITE_TABLE_SQL_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "recondb/v1/types.pb.h"
#include "storage/internal/sqlite_connection.h"
#include "storage/storage.h"

namespace recondb::storage::internal {

// Column positions. History rows: id, revision, parent, generation, deleted,
// leaf, _stub, _columns, _author, _origin_node, _create_time, then the user
// columns in table order. View rows: id, revision, _conflicted, then the
// user columns.
inline constexpr int kHistoryAuditColumn = 8;
inline constexpr int kHistoryFirstColumn = 11;
inline constexpr int kViewFirstColumn = 3;

// Statement texts for one table. Parameters are noted ?1, ?2, ...
struct TableSql {
  int column_count = 0;

  // ?1 id, ?2 revision -> a history row.
  std::string select_revision;
  // ?1 id -> the history rows that are leaves.
  std::string select_leaves;
  // ?1 id -> every history row.
  std::string select_history;
  // ?1 id, ?2 revision of the parent, ?3 and ?4 the bounds of the children's
  // revision strings ("<generation+1>-" and "<generation+1>."), so the
  // (id, revision) index is searched over one generation only -> a row if
  // the parent has a stored child.
  std::string has_child;
  // ?1 id, ?2 revision, ?3 parent, ?4 generation, ?5 deleted, ?6 leaf,
  // ?7 stub, ?8 held column count, ?9 author, ?10 origin node, ?11 create
  // time (BindAudit), ?12... the user columns.
  std::string insert_history;
  // ?1 id, ?2 revision, ?3 held column count, ?4... the user columns: the
  // stub becomes a revision with content.
  std::string fill_stub;
  // ?1 id, ?2 revision, ?3 author, ?4 origin node, ?5 create time: the
  // revision's audit (BindAudit).
  std::string set_audit;
  // ?1 id, ?2 revision: the revision is no longer a leaf.
  std::string clear_leaf;

  // ?1 id -> a view row.
  std::string select_view_row;
  // -> the number of view rows.
  std::string count_view_rows;
  // ?1 id, ?2 revision, ?3 conflicted, ?4... the user columns: insert or
  // replace.
  std::string upsert_view_row;
  // ?1 id.
  std::string delete_view_row;
  // "SELECT <view columns> FROM <view>", to which queries append clauses.
  std::string view_query_prefix;
  // The same, reading the view through the partial index of conflicted rows
  // (INDEXED BY): the prefix of conflicted-only queries, which must have the
  // term "_conflicted" = 1. Without it the planner may prefer the index of
  // the order column and read every row to find the few conflicted ones;
  // with it a query reads only conflicted rows (sorting them when ordered by
  // another column than id).
  std::string conflicted_query_prefix;
};

TableSql BuildTableSql(const v1::Table& table);

// The TableSql of each table used on one connection. A table only grows
// columns, so a shape is named by (table name, column count); a table seen
// with another count is rebuilt. Not thread-safe.
class TableSqlCache {
 public:
  // Valid until the next Get for the same table name.
  const TableSql& Get(const v1::Table& table);

 private:
  absl::flat_hash_map<std::string, std::unique_ptr<TableSql>> tables_;
};

// The current row of a statement of `table`'s history, as a revision with
// the columns it holds; tombstones and stubs get no attributes. DATA_LOSS
// for a malformed stored value.
absl::StatusOr<StoredRevision> ReadHistoryRow(const Statement& stmt, const v1::Table& table);

// Binds `audit` to parameters first, first+1, first+2 (author, origin node,
// create time as timestamp text); NULLs when it is unknown.
// INVALID_ARGUMENT if the time is outside the timestamp range.
absl::Status BindAudit(Statement& stmt, int first, const RevisionAudit& audit);

// The current row of a statement of `table`'s view, as a record (table, id,
// revision, conflicted, every column).
absl::StatusOr<v1::Record> ReadViewRow(const Statement& stmt, const v1::Table& table);

}  // namespace recondb::storage::internal

#endif  // RECONDB_STORAGE_INTERNAL_SQLITE_TABLE_SQL_H_
