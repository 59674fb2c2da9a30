#include "storage/internal/sqlite_writer.h"

#include <sqlite3.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "storage/internal/revision_columns.h"
#include "storage/internal/sqlite_reader.h"
#include "storage/internal/sqlite_schema.h"
#include "storage/internal/sqlite_values.h"

namespace recondb::storage::internal {
namespace {

constexpr char kInsertTable[] =
    "INSERT INTO \"_tables\" (\"name\", \"definition\") VALUES (?1, ?2)";
constexpr char kUpdateTable[] = "UPDATE \"_tables\" SET \"definition\" = ?2 WHERE \"name\" = ?1";
constexpr char kSetMeta[] =
    "INSERT INTO \"_meta\" (\"key\", \"value\") VALUES (?1, ?2)"
    " ON CONFLICT (\"key\") DO UPDATE SET \"value\" = excluded.\"value\"";
// REPLACE deletes the entry of the same (kind, table, record) through the
// unique index. The new seq is max(seq) + 1, computed before that delete, so
// it is above every seq ever assigned: the row holding the highest seq is
// only ever deleted by a REPLACE like this one, which puts a higher one in
// its place. Read inside the transaction, it needs no state to undo on a
// rollback. (At the largest integer the sum becomes a float, which the key
// refuses: a seq is never reused.)
constexpr char kAppendChange[] =
    "INSERT OR REPLACE INTO \"_changes\""
    " (\"seq\", \"kind\", \"table_name\", \"record_id\", \"revision\", \"deleted\","
    " \"conflicted\")"
    " VALUES ((SELECT coalesce(max(\"seq\"), 0) + 1 FROM \"_changes\"), ?1, ?2, ?3, ?4, ?5, ?6)";
constexpr char kSavepoint[] = "SAVEPOINT \"create_table\"";
constexpr char kRelease[] = "RELEASE \"create_table\"";
constexpr char kRollbackTo[] = "ROLLBACK TO \"create_table\"";

// Binds the user columns of `table` from `attributes` (a std::map or a proto
// map) from parameter `first` on; a column missing from `attributes`, or
// from position `held` on, is null.
template <typename Map>
absl::Status BindColumns(Statement& stmt, int first, const v1::Table& table, const Map& attributes,
                         int held) {
  for (int i = 0; i < table.columns_size(); ++i) {
    if (i >= held) {
      stmt.BindNull(first + i);
      continue;
    }
    const v1::Column& column = table.columns(i);
    auto it = attributes.find(column.name());
    if (it == attributes.end()) {
      stmt.BindNull(first + i);
      continue;
    }
    RETURN_IF_ERROR(BindValue(stmt, first + i, it->second, column.type(), column.name()));
  }
  return absl::OkStatus();
}

}  // namespace

template <typename Op>
absl::Status SessionWriter::InSavepoint(Op op) {
  {
    ASSIGN_OR_RETURN(Statement savepoint, connection().Prepare(kSavepoint));
    RETURN_IF_ERROR(savepoint.Run());
  }
  absl::Status status = op();
  if (!status.ok() && connection().InTransaction()) {
    // Best effort: if undoing fails too, SQLite has ended the transaction
    // and the caller sees that through `status` and InTransaction().
    if (absl::StatusOr<Statement> undo = connection().Prepare(kRollbackTo); undo.ok()) {
      undo->Run().IgnoreError();
    }
  }
  if (connection().InTransaction()) {
    ASSIGN_OR_RETURN(Statement release, connection().Prepare(kRelease));
    RETURN_IF_ERROR(release.Run());
  }
  return status;
}

absl::Status SessionWriter::CreateTable(const v1::Table& table) {
  // A savepoint makes the definition row and the DDL one unit: a failure
  // half way leaves nothing behind in the still usable transaction.
  return InSavepoint([&] { return CreateTableUnguarded(table); });
}

absl::Status SessionWriter::AppendColumns(const v1::Table& table) {
  return InSavepoint([&] { return AppendColumnsUnguarded(table); });
}

absl::Status SessionWriter::AppendColumnsUnguarded(const v1::Table& table) {
  ASSIGN_OR_RETURN(const v1::Table stored, SessionReader(session_).GetTable(table.name()));
  RETURN_IF_ERROR(internal::CheckAppendedColumns(stored, table));
  ASSIGN_OR_RETURN(const std::string ddl, AppendColumnsSql(table, stored.columns_size()));
  {
    const std::string definition = table.SerializeAsString();
    ASSIGN_OR_RETURN(Statement update, connection().Prepare(kUpdateTable));
    update.BindText(1, table.name());
    update.BindBlob(2, definition);
    RETURN_IF_ERROR(update.Run());
  }
  RETURN_IF_ERROR(connection().Exec(ddl));
  // ADD COLUMN leaves existing rows null; a default is written into the
  // view (bound, so any value works, where a DDL default would need a SQL
  // literal). The history is left alone: "_columns" says which columns a
  // revision holds.
  for (int i = stored.columns_size(); i < table.columns_size(); ++i) {
    const v1::Column& column = table.columns(i);
    if (!column.has_default_value() || column.default_value().kind_case() == v1::Value::kNull ||
        column.default_value().kind_case() == v1::Value::KIND_NOT_SET) {
      continue;
    }
    ASSIGN_OR_RETURN(Statement fill,
                     connection().Prepare(absl::StrCat("UPDATE ", Quote(table.name()), " SET ",
                                                       Quote(column.name()), " = ?1"),
                                          StatementCache::kQuery));
    RETURN_IF_ERROR(BindValue(fill, 1, column.default_value(), column.type(), column.name()));
    RETURN_IF_ERROR(fill.Run());
  }
  return absl::OkStatus();
}

absl::Status SessionWriter::CreateTableUnguarded(const v1::Table& table) {
  ASSIGN_OR_RETURN(const std::string ddl, CreateTableSql(table));
  {
    const std::string definition = table.SerializeAsString();
    ASSIGN_OR_RETURN(Statement insert, connection().Prepare(kInsertTable));
    insert.BindText(1, table.name());
    insert.BindBlob(2, definition);
    absl::Status status = insert.Run();
    if (absl::IsAlreadyExists(status)) {
      return absl::AlreadyExistsError(absl::StrCat("table ", table.name(), " already exists"));
    }
    RETURN_IF_ERROR(status);
  }
  return connection().Exec(ddl);
}

absl::StatusOr<bool> SessionWriter::HasChild(const TableSql& sql, const StoredRevision& rev) {
  // A child's revision is "<generation + 1>-<hex>": it sorts strictly
  // between "<generation + 1>-" and "<generation + 1>." ('.' follows '-').
  const std::string child_generation = absl::StrCat(rev.generation + 1);
  ASSIGN_OR_RETURN(Statement stmt, connection().Prepare(sql.has_child));
  stmt.BindText(1, rev.id);
  stmt.BindText(2, rev.revision);
  stmt.BindTextCopy(3, absl::StrCat(child_generation, "-"));
  stmt.BindTextCopy(4, absl::StrCat(child_generation, "."));
  return stmt.Step();
}

absl::Status SessionWriter::InsertRevision(const v1::Table& table, const StoredRevision& rev) {
  ASSIGN_OR_RETURN(const int held, internal::HeldColumns(table, rev));
  const TableSql& sql = session_->tables.Get(table);
  ASSIGN_OR_RETURN(const bool has_child, HasChild(sql, rev));
  {
    ASSIGN_OR_RETURN(Statement insert, connection().Prepare(sql.insert_history));
    insert.BindText(1, rev.id);
    insert.BindText(2, rev.revision);
    insert.BindText(3, rev.parent);
    insert.BindInt(4, rev.generation);
    insert.BindInt(5, rev.deleted ? 1 : 0);
    insert.BindInt(6, has_child ? 0 : 1);
    insert.BindInt(7, rev.stub ? 1 : 0);
    insert.BindInt(8, held);
    // Tombstones and stubs keep no attribute (held is 0): every column is
    // null.
    RETURN_IF_ERROR(BindAudit(insert, 9, rev.audit));
    RETURN_IF_ERROR(BindColumns(insert, 12, table, rev.attributes, held));
    absl::Status status = insert.Run();
    if (absl::IsAlreadyExists(status)) {
      return absl::AlreadyExistsError(absl::StrCat("record ", rev.id, " of table ", table.name(),
                                                   " already has revision ", rev.revision));
    }
    RETURN_IF_ERROR(status);
  }
  if (rev.parent.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(Statement clear_leaf, connection().Prepare(sql.clear_leaf));
  clear_leaf.BindText(1, rev.id);
  clear_leaf.BindText(2, rev.parent);
  return clear_leaf.Run();
}

absl::Status SessionWriter::FillStub(const v1::Table& table, const StoredRevision& rev) {
  StoredRevision body = rev;
  body.stub = false;
  ASSIGN_OR_RETURN(const int held, internal::HeldColumns(table, body));
  ASSIGN_OR_RETURN(const StoredRevision stored,
                   SessionReader(session_).GetRevision(table, rev.id, rev.revision));
  if (!stored.stub) {
    return absl::FailedPreconditionError(absl::StrCat("revision ", rev.revision, " of record ",
                                                      rev.id, " of table ", table.name(),
                                                      " is not a stub"));
  }
  const TableSql& sql = session_->tables.Get(table);
  ASSIGN_OR_RETURN(Statement fill, connection().Prepare(sql.fill_stub));
  fill.BindText(1, rev.id);
  fill.BindText(2, rev.revision);
  fill.BindInt(3, held);
  RETURN_IF_ERROR(BindColumns(fill, 4, table, rev.attributes, held));
  return fill.Run();
}

absl::Status SessionWriter::SetRevisionAudit(const v1::Table& table, std::string_view id,
                                             std::string_view revision,
                                             const RevisionAudit& audit) {
  const TableSql& sql = session_->tables.Get(table);
  ASSIGN_OR_RETURN(Statement set, connection().Prepare(sql.set_audit));
  set.BindText(1, id);
  set.BindText(2, revision);
  RETURN_IF_ERROR(BindAudit(set, 3, audit));
  RETURN_IF_ERROR(set.Run());
  if (sqlite3_changes(connection().db()) == 0) {
    return absl::NotFoundError(absl::StrCat("record ", std::string(id), " of table ", table.name(),
                                            " has no revision ", std::string(revision)));
  }
  return absl::OkStatus();
}

absl::Status SessionWriter::UpsertViewRow(const v1::Table& table, const v1::Record& winner) {
  const TableSql& sql = session_->tables.Get(table);
  ASSIGN_OR_RETURN(Statement upsert, connection().Prepare(sql.upsert_view_row));
  upsert.BindText(1, winner.id());
  upsert.BindText(2, winner.revision());
  upsert.BindInt(3, winner.conflicted() ? 1 : 0);
  RETURN_IF_ERROR(BindColumns(upsert, 4, table, winner.attributes(), table.columns_size()));
  return upsert.Run();
}

absl::Status SessionWriter::DeleteViewRow(const v1::Table& table, std::string_view id) {
  const TableSql& sql = session_->tables.Get(table);
  ASSIGN_OR_RETURN(Statement remove, connection().Prepare(sql.delete_view_row));
  remove.BindText(1, id);
  return remove.Run();
}

absl::StatusOr<int64_t> SessionWriter::AppendChange(const v1::Change& change) {
  ASSIGN_OR_RETURN(Statement append, connection().Prepare(kAppendChange));
  append.BindInt(1, change.kind());
  append.BindText(2, change.table());
  append.BindText(3, change.id());
  append.BindText(4, change.revision());
  append.BindInt(5, change.deleted() ? 1 : 0);
  append.BindInt(6, change.conflicted() ? 1 : 0);
  RETURN_IF_ERROR(append.Run());
  return static_cast<int64_t>(sqlite3_last_insert_rowid(connection().db()));
}

absl::Status SessionWriter::SetMeta(std::string_view key, std::string_view value) {
  ASSIGN_OR_RETURN(Statement set, connection().Prepare(kSetMeta));
  set.BindText(1, key);
  set.BindText(2, value);
  return set.Run();
}

}  // namespace recondb::storage::internal
