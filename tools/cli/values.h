// Text <-> typed values for the CLI: `--set COL=VALUE` typed by the table's
// schema, `--column` specs for `tables create`, `--where` conditions, and the
// human-readable form of a value.
#ifndef RECONDB_TOOLS_CLI_VALUES_H_
#define RECONDB_TOOLS_CLI_VALUES_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "recondb/v1/database.pb.h"
#include "recondb/v1/types.pb.h"

namespace recondb::cli {

// "string", "int", ...; "unspecified" for 0.
std::string TypeName(v1::ColumnType type);

// The column `name` of `table`, or null.
const v1::Column* FindColumn(const v1::Table& table, std::string_view name);

// Parses `text` as a value of `type`: string as is, int (64-bit decimal),
// float, bool (true/false/1/0/yes/no), timestamp (RFC 3339, e.g.
// 2026-01-01T00:00:00Z), bytes (base64). INVALID_ARGUMENT names `what`.
absl::StatusOr<v1::Value> ParseValue(v1::ColumnType type, std::string_view text,
                                     std::string_view what);

// The human-readable form: strings as is, timestamps in RFC 3339, bytes in
// base64, null as "null".
std::string FormatValue(const v1::Value& value);

// "name:type[,nullable][,indexed][,max=N][,default=VALUE]" (default last: it
// takes the rest of the spec, commas included).
absl::StatusOr<v1::Column> ParseColumnSpec(std::string_view spec);

// "COL OP VALUE" with OP one of = == != < <= > >=, or "COL is null",
// "COL is not null"; COL is a column of `table` or "id"; VALUE is typed by
// the column.
absl::StatusOr<v1::Condition> ParseCondition(const v1::Table& table, std::string_view text);

}  // namespace recondb::cli

#endif  // RECONDB_TOOLS_CLI_VALUES_H_
