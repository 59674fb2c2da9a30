#include "storage/internal/sqlite_query.h"

#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "storage/internal/sqlite_schema.h"
#include "storage/internal/sqlite_values.h"

namespace recondb::storage::internal {
namespace {

// A column a query names: "id" or a user column.
struct ColumnRef {
  std::string quoted;
  v1::ColumnType type = v1::COLUMN_TYPE_UNSPECIFIED;
  std::string_view name;
  bool is_id = false;
};

absl::StatusOr<ColumnRef> Resolve(const v1::Table& table, std::string_view name) {
  if (name == "id") return ColumnRef{"\"id\"", v1::COLUMN_TYPE_STRING, name, true};
  for (const v1::Column& column : table.columns()) {
    if (column.name() == name) return ColumnRef{Quote(name), column.type(), name, false};
  }
  return absl::InvalidArgumentError(
      absl::StrCat("table ", table.name(), " has no column ", Sv(name)));
}

// A parameter to bind: a column value, or (value == nullptr) a record id.
struct Param {
  const v1::Value* value = nullptr;
  std::string_view id;
  v1::ColumnType type = v1::COLUMN_TYPE_STRING;
  std::string_view column;
};

Param IdParam(std::string_view id) {
  Param param;
  param.id = id;
  return param;
}

// Where one statement of a query reads (see the header).
enum class Segment {
  kAll,     // Ordered by id: every row.
  kValues,  // Rows whose order column is not null.
  kNulls,   // Rows whose order column is null.
};

struct Step {
  Segment segment;
  bool resume;  // Continue after the query's cursor.
};

// The statements of `query`, in order.
std::vector<Step> Plan(const ViewQuery& query, const ColumnRef& order) {
  const bool cursor = query.after.has_value();
  if (order.is_id) return {{Segment::kAll, cursor}};
  const bool cursor_in_nulls =
      cursor && (query.after->order_value.kind_case() == v1::Value::KIND_NOT_SET ||
                 query.after->order_value.kind_case() == v1::Value::kNull);
  if (!query.descending) {  // Values, then nulls.
    if (!cursor) return {{Segment::kValues, false}, {Segment::kNulls, false}};
    if (cursor_in_nulls) return {{Segment::kNulls, true}};
    return {{Segment::kValues, true}, {Segment::kNulls, false}};
  }
  // Nulls, then values.
  if (!cursor) return {{Segment::kNulls, false}, {Segment::kValues, false}};
  if (cursor_in_nulls) return {{Segment::kNulls, true}, {Segment::kValues, false}};
  return {{Segment::kValues, true}};
}

absl::StatusOr<std::string_view> OperatorSql(v1::Operator op) {
  switch (op) {
    case v1::OPERATOR_EQ:
      return std::string_view(" = ?");
    case v1::OPERATOR_NE:
      return std::string_view(" <> ?");
    case v1::OPERATOR_LT:
      return std::string_view(" < ?");
    case v1::OPERATOR_LE:
      return std::string_view(" <= ?");
    case v1::OPERATOR_GT:
      return std::string_view(" > ?");
    case v1::OPERATOR_GE:
      return std::string_view(" >= ?");
    case v1::OPERATOR_IS_NULL:
      return std::string_view(" IS NULL");
    case v1::OPERATOR_IS_NOT_NULL:
      return std::string_view(" IS NOT NULL");
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("unsupported operator ", v1::Operator_Name(op)));
  }
}

// The query under construction: WHERE terms and their parameters.
struct Sql {
  std::vector<std::string> terms;
  std::vector<Param> params;
};

// Adds the query's conditions, which every statement of the query shares.
absl::Status AddConditions(const v1::Table& table, const ViewQuery& query, Sql& sql) {
  // A literal 1, so that SQLite uses the partial index of conflicted rows.
  if (query.conflicted_only) sql.terms.push_back("\"_conflicted\" = 1");
  for (const ViewCondition& condition : query.conditions) {
    ASSIGN_OR_RETURN(const ColumnRef column, Resolve(table, condition.column));
    ASSIGN_OR_RETURN(const std::string_view op, OperatorSql(condition.op));
    sql.terms.push_back(absl::StrCat(column.quoted, Sv(op)));
    if (condition.op != v1::OPERATOR_IS_NULL && condition.op != v1::OPERATOR_IS_NOT_NULL) {
      sql.params.push_back(Param{&condition.value, {}, column.type, column.name});
    }
  }
  return absl::OkStatus();
}

// Adds the terms of `step` and returns the ORDER BY clause.
std::string AddStep(const ViewQuery& query, const ColumnRef& order, Step step, Sql& sql) {
  const char* dir = query.descending ? " DESC" : " ASC";
  const char* after = query.descending ? " < " : " > ";
  switch (step.segment) {
    case Segment::kAll:
    case Segment::kNulls:
      if (step.segment == Segment::kNulls) sql.terms.push_back(order.quoted + " IS NULL");
      if (step.resume) {
        sql.terms.push_back(absl::StrCat("\"id\"", after, "?"));
        sql.params.push_back(IdParam(query.after->id));
      }
      return absl::StrCat(" ORDER BY \"id\"", dir);
    case Segment::kValues:
      if (step.resume) {
        // A row-value comparison, which SQLite runs as a range over the
        // column's index; it is false for a null column.
        sql.terms.push_back(absl::StrCat("(", order.quoted, ", \"id\")", after, "(?, ?)"));
        sql.params.push_back(Param{&query.after->order_value, {}, order.type, order.name});
        sql.params.push_back(IdParam(query.after->id));
      } else {
        sql.terms.push_back(order.quoted + " IS NOT NULL");
      }
      return absl::StrCat(" ORDER BY ", order.quoted, dir, ", \"id\"", dir);
  }
  return "";
}

// Runs one statement, appending at most `limit` rows to `out`.
absl::Status RunStep(Connection& connection, const TableSql& table_sql, const v1::Table& table,
                     const ViewQuery& query, const ColumnRef& order, Step step, int64_t limit,
                     std::vector<v1::Record>& out) {
  Sql sql;
  RETURN_IF_ERROR(AddConditions(table, query, sql));
  const std::string order_by = AddStep(query, order, step, sql);
  std::string text =
      query.conflicted_only ? table_sql.conflicted_query_prefix : table_sql.view_query_prefix;
  if (!sql.terms.empty()) absl::StrAppend(&text, " WHERE ", absl::StrJoin(sql.terms, " AND "));
  absl::StrAppend(&text, order_by, " LIMIT ?");

  ASSIGN_OR_RETURN(Statement stmt, connection.Prepare(text, StatementCache::kQuery));
  int index = 1;
  for (const Param& param : sql.params) {
    if (param.value == nullptr) {
      stmt.BindText(index++, param.id);
    } else {
      RETURN_IF_ERROR(BindValue(stmt, index++, *param.value, param.type, param.column));
    }
  }
  stmt.BindInt(index, limit);
  while (true) {
    ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) return absl::OkStatus();
    ASSIGN_OR_RETURN(v1::Record record, ReadViewRow(stmt, table));
    out.push_back(std::move(record));
  }
}

}  // namespace

absl::StatusOr<std::vector<v1::Record>> RunViewQuery(Connection& connection, const TableSql& sql,
                                                     const v1::Table& table,
                                                     const ViewQuery& query) {
  if (query.limit < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("query limit must be positive, not ", query.limit));
  }
  ASSIGN_OR_RETURN(const ColumnRef order, Resolve(table, query.order_by));
  std::vector<v1::Record> out;
  for (const Step step : Plan(query, order)) {
    const int64_t remaining = query.limit - static_cast<int64_t>(out.size());
    if (remaining <= 0) break;
    RETURN_IF_ERROR(RunStep(connection, sql, table, query, order, step, remaining, out));
  }
  return out;
}

}  // namespace recondb::storage::internal
