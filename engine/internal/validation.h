// Checks of everything a client sends before it reaches storage. Each error
// is INVALID_ARGUMENT (or RESOURCE_EXHAUSTED for sizes) with a message that
// names the table, column, record or value at fault.
#ifndef RECONDB_ENGINE_INTERNAL_VALIDATION_H_
#define RECONDB_ENGINE_INTERNAL_VALIDATION_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/table_names.h"
#include "engine/limits.h"
#include "recondb/v1/types.pb.h"

namespace recondb::engine::internal {

// The identifier and table-name rules live in common/table_names.h, shared
// with the reconciler and auth.
using ::recondb::IsIdentifier;
using ::recondb::ValidateTableName;

// A column name: an identifier that is not a field of the record itself.
absl::Status ValidateColumnName(std::string_view table, std::string_view column);

// 1-255 bytes of valid UTF-8 without control characters.
absl::Status ValidateRecordId(std::string_view table, std::string_view id);

// Valid UTF-8 (any code point, controls allowed). Sets *code_points.
bool IsValidUtf8(std::string_view s, int64_t* code_points);

// Checks a definition sent by a client and returns it normalized: output-only
// fields cleared, defaults normalized like values.
absl::StatusOr<v1::Table> ValidateTableDefinition(const v1::Table& table);

// Checks `value` for `column` of `table` and returns its normalized form:
// timestamps truncated to whole microseconds, -0.0 made 0.0. A null (or a
// value with no kind) is refused unless the column is nullable.
absl::StatusOr<v1::Value> NormalizeValue(std::string_view table, const v1::Column& column,
                                         const v1::Value& value);

// At most kMaxFilterConditions conditions; INVALID_ARGUMENT naming `filter`
// and the limit otherwise.
absl::Status CheckFilterSize(int conditions);

// At most kMaxTableFilter table names; INVALID_ARGUMENT naming `tables` and
// the limit otherwise.
absl::Status CheckTableFilterSize(size_t tables);

// The fields of a Record that only the server fills (conflicts,
// conflict_records, deleted_conflicts, conflicted) are all unset;
// INVALID_ARGUMENT naming the first one set otherwise.
absl::Status CheckNoOutputOnlyFields(const v1::Record& record);

// The name of a value kind for messages ("string", "int", ...).
std::string_view KindName(v1::Value::KindCase kind);

// The value kind a column of `type` holds.
v1::Value::KindCase KindOf(v1::ColumnType type);

}  // namespace recondb::engine::internal

#endif  // RECONDB_ENGINE_INTERNAL_VALIDATION_H_
