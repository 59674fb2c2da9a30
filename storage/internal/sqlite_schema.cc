#include "storage/internal/sqlite_schema.h"

#include <cassert>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "storage/internal/sqlite_values.h"

namespace recondb::storage::internal {
namespace {

// The declared columns of a user table, after the record's own columns:
// ", "title" TEXT, "completed" INTEGER".
absl::StatusOr<std::string> UserColumnsDdl(const v1::Table& table) {
  std::string out;
  for (const v1::Column& column : table.columns()) {
    ASSIGN_OR_RETURN(const std::string_view type, SqlType(column.type(), column.name()));
    absl::StrAppend(&out, ", ", Quote(column.name()), " ", Sv(type));
  }
  return out;
}

}  // namespace

std::string Quote(std::string_view identifier) {
  return absl::StrCat("\"", absl::StrReplaceAll(Sv(identifier), {{"\"", "\"\""}}), "\"");
}

std::string HistoryTableName(std::string_view table) { return absl::StrCat(Sv(table), "_history"); }

std::string ViewIndexName(std::string_view table, std::string_view column) {
  return absl::StrCat("_idx_", Sv(table), "-", Sv(column));
}

namespace {

// The change feed table, named `name` (kChangesIndexSql indexes it once it
// is "_changes"): the shape of format 4, or with `format2` that of formats
// 2 and 3 (no "conflicted"), which the 1 -> 2 migration makes. The seq is an
// integer key that the writer assigns as max(seq) + 1 (sqlite_writer.cc): no
// AUTOINCREMENT, whose
// sqlite_sequence row cost one more page write per commit. A seq is still
// never reused, because the row holding the highest seq is never deleted
// (docs/storage-format.md).
std::string ChangesTableSql(std::string_view name, bool format2) {
  return absl::StrCat("CREATE TABLE ", Quote(name),
                      " (\n"
                      "  \"seq\" INTEGER PRIMARY KEY,\n"
                      "  \"kind\" INTEGER NOT NULL,\n"
                      "  \"table_name\" TEXT NOT NULL,\n"
                      "  \"record_id\" TEXT NOT NULL,\n"
                      "  \"revision\" TEXT NOT NULL,\n"
                      "  \"deleted\" INTEGER NOT NULL",
                      format2 ? "" : ",\n  \"conflicted\" INTEGER NOT NULL DEFAULT 0", "\n);\n");
}

constexpr char kChangesIndexSql[] =
    "CREATE UNIQUE INDEX \"_idx__changes-entry\"\n"
    "  ON \"_changes\" (\"kind\", \"table_name\", \"record_id\");\n";

}  // namespace

const std::string& InternalSchemaSql() {
  // _meta and _tables are small and keyed by text: WITHOUT ROWID keeps each
  // in one B-tree. _changes is append-mostly and keyed by an integer.
  static const std::string* const kSql = new std::string(
      absl::StrCat("CREATE TABLE \"_meta\" (\n"
                   "  \"key\" TEXT PRIMARY KEY NOT NULL,\n"
                   "  \"value\" TEXT NOT NULL\n"
                   ") WITHOUT ROWID;\n"
                   "CREATE TABLE \"_tables\" (\n"
                   "  \"name\" TEXT PRIMARY KEY NOT NULL,\n"
                   "  \"definition\" BLOB NOT NULL\n"
                   ") WITHOUT ROWID;\n",
                   ChangesTableSql("_changes", /*format2=*/false), kChangesIndexSql));
  return *kSql;
}

std::string MigrationSql(int from, const std::vector<v1::Table>& tables) {
  // Format 1 -> 2. In format 1 sqlite_sequence held the highest seq ever
  // assigned, which always equals max(seq): AUTOINCREMENT gave each new row
  // max + 1, and the only rows ever deleted (by INSERT OR REPLACE) were older
  // than the row replacing them. So copying the rows keeps LastSeq, and
  // dropping the table drops its sqlite_sequence row.
  static const std::string* const kOneToTwo = new std::string(absl::StrCat(
      ChangesTableSql("_changes_v2", /*format2=*/true),
      "INSERT INTO \"_changes_v2\" (\"seq\", \"kind\", \"table_name\", \"record_id\","
      " \"revision\", \"deleted\")\n"
      "  SELECT \"seq\", \"kind\", \"table_name\", \"record_id\", \"revision\", \"deleted\""
      " FROM \"_changes\";\n"
      "DROP TABLE \"_changes\";\n"
      "ALTER TABLE \"_changes_v2\" RENAME TO \"_changes\";\n",
      kChangesIndexSql));
  if (from == 1) return *kOneToTwo;
  // Format 2 -> 3. Format 2 could not alter a table, so every revision
  // holds every column its table has: a constant default says so without
  // rewriting the history. (ADD COLUMN with a constant default only changes
  // the schema.)
  std::string sql;
  if (from == 2) {
    for (const v1::Table& table : tables) {
      const std::string history = Quote(HistoryTableName(table.name()));
      absl::StrAppend(&sql, "ALTER TABLE ", history,
                      " ADD COLUMN \"_stub\" INTEGER NOT NULL DEFAULT 0;\n", "ALTER TABLE ",
                      history, " ADD COLUMN \"_columns\" INTEGER NOT NULL DEFAULT ",
                      table.columns_size(), ";\n");
    }
    return sql;
  }
  // Format 3 -> 4. Each view row gets its conflicted flag, computed from the
  // history by the engine's rule (engine/DESIGN.md): the record has another
  // live leaf than its winner, or a tombstone leaf that is an unreviewed
  // delete (no parent, or a parent that is not a stored tombstone). Then
  // the latest feed entry of each live record takes the flag of its view
  // row (the feed's entry is always at the view's winner).
  if (from == 4) {
    // Format 4 -> 5. The audit columns, NULL (unknown: made before audit
    // existed) in every existing row; ADD COLUMN without a default rewrites
    // no row.
    for (const v1::Table& table : tables) {
      const std::string history = Quote(HistoryTableName(table.name()));
      for (const char* column : {"_author", "_origin_node", "_create_time"}) {
        absl::StrAppend(&sql, "ALTER TABLE ", history, " ADD COLUMN \"", column, "\" TEXT;\n");
      }
    }
    return sql;
  }
  assert(from == 3);
  absl::StrAppend(&sql,
                  "ALTER TABLE \"_changes\" ADD COLUMN \"conflicted\" INTEGER NOT NULL"
                  " DEFAULT 0;\n");
  for (const v1::Table& table : tables) {
    const std::string view = Quote(table.name());
    const std::string history = Quote(HistoryTableName(table.name()));
    absl::StrAppend(
        &sql, "ALTER TABLE ", view, " ADD COLUMN \"_conflicted\" INTEGER NOT NULL DEFAULT 0;\n",
        "UPDATE ", view, " SET \"_conflicted\" = 1 WHERE EXISTS (SELECT 1 FROM ", history,
        " AS \"l\" WHERE \"l\".\"id\" = ", view, ".\"id\" AND \"l\".\"leaf\" = 1 AND (",
        "(\"l\".\"deleted\" = 0 AND \"l\".\"revision\" <> ", view, ".\"revision\") OR ",
        "(\"l\".\"deleted\" = 1 AND NOT EXISTS (SELECT 1 FROM ", history,
        " AS \"p\" WHERE \"p\".\"id\" = \"l\".\"id\" AND \"p\".\"revision\" = \"l\".\"parent\""
        " AND \"p\".\"deleted\" = 1))));\n",
        ConflictedIndexSql(table.name()),
        "UPDATE \"_changes\" SET \"conflicted\" = 1 WHERE \"kind\" = ",
        static_cast<int>(v1::CHANGE_KIND_RECORD), " AND \"table_name\" = '",
        absl::StrReplaceAll(Sv(table.name()), {{"'", "''"}}),
        "' AND \"record_id\" IN (SELECT \"id\" FROM ", view, " WHERE \"_conflicted\" = 1);\n");
  }
  return sql;
}

std::string ConflictedIndexSql(std::string_view table) {
  return absl::StrCat("CREATE INDEX ", Quote(ViewIndexName(table, "_conflicted")), " ON ",
                      Quote(table), " (\"id\") WHERE \"_conflicted\" = 1;\n");
}

absl::StatusOr<std::string> AppendColumnsSql(const v1::Table& table, int old_count) {
  const std::string view = Quote(table.name());
  const std::string history = Quote(HistoryTableName(table.name()));
  std::string sql;
  for (int i = old_count; i < table.columns_size(); ++i) {
    const v1::Column& column = table.columns(i);
    ASSIGN_OR_RETURN(const std::string_view type, SqlType(column.type(), column.name()));
    const std::string definition = absl::StrCat(Quote(column.name()), " ", Sv(type));
    absl::StrAppend(&sql, "ALTER TABLE ", view, " ADD COLUMN ", definition, ";\n");
    absl::StrAppend(&sql, "ALTER TABLE ", history, " ADD COLUMN ", definition, ";\n");
    if (column.indexed()) {
      absl::StrAppend(&sql, "CREATE INDEX ", Quote(ViewIndexName(table.name(), column.name())),
                      " ON ", view, " (", Quote(column.name()), ");\n");
    }
  }
  return sql;
}

absl::StatusOr<std::string> CreateTableSql(const v1::Table& table) {
  ASSIGN_OR_RETURN(const std::string columns, UserColumnsDdl(table));
  const std::string view = Quote(table.name());
  const std::string history_name = HistoryTableName(table.name());
  const std::string history = Quote(history_name);
  // The view is WITHOUT ROWID: one B-tree keyed by the record id instead of
  // a rowid table plus an id index, and its secondary indexes end with the
  // id, which is exactly the (column, id) order of ViewQuery. "_conflicted"
  // (leading "_": no user column) is the record's conflicted flag, indexed
  // for its rare 1s only, so a conflicted-only query reads only those.
  std::string sql = absl::StrCat("CREATE TABLE ", view,
                                 " (\"id\" TEXT PRIMARY KEY NOT NULL, \"revision\" TEXT NOT NULL, "
                                 "\"_conflicted\" INTEGER NOT NULL",
                                 columns, ") WITHOUT ROWID;\n", ConflictedIndexSql(table.name()));
  // The history is keyed by an integer in insertion order, so appending a
  // revision touches the end of its B-tree whatever the record id. "_stub"
  // marks a revision known by id only; "_columns" is how many of the
  // table's columns (in definition order) a revision holds; "_author",
  // "_origin_node" and "_create_time" are its audit trail (NULL: unknown).
  // Their leading
  // "_" keeps them apart from user columns, which never start with one.
  absl::StrAppend(&sql, "CREATE TABLE ", history,
                  " (\"seq\" INTEGER PRIMARY KEY, \"id\" TEXT NOT NULL, "
                  "\"revision\" TEXT NOT NULL, \"parent\" TEXT NOT NULL, "
                  "\"generation\" INTEGER NOT NULL, \"deleted\" INTEGER NOT NULL, "
                  "\"leaf\" INTEGER NOT NULL, \"_stub\" INTEGER NOT NULL, "
                  "\"_columns\" INTEGER NOT NULL, \"_author\" TEXT, \"_origin_node\" TEXT, "
                  "\"_create_time\" TEXT",
                  columns, ");\n");
  absl::StrAppend(&sql, "CREATE UNIQUE INDEX ",
                  Quote(absl::StrCat("_idx_", history_name, "-id_revision")), " ON ", history,
                  " (\"id\", \"revision\");\n");
  // Only leaves are indexed, so finding a record's leaves does not read its
  // whole history however often it was edited.
  absl::StrAppend(&sql, "CREATE INDEX ", Quote(absl::StrCat("_idx_", history_name, "-leaves")),
                  " ON ", history, " (\"id\") WHERE \"leaf\" = 1;\n");
  for (const v1::Column& column : table.columns()) {
    if (!column.indexed()) continue;
    absl::StrAppend(&sql, "CREATE INDEX ", Quote(ViewIndexName(table.name(), column.name())),
                    " ON ", view, " (", Quote(column.name()), ");\n");
  }
  return sql;
}

}  // namespace recondb::storage::internal
