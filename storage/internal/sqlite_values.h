// How recondb values live in SQLite's typed columns (docs/storage-format.md,
// "Value encodings"):
//
//   string    TEXT     UTF-8 as given
//   int       INTEGER  64-bit
//   float     REAL     IEEE-754 double (finite; -0.0 reads back as 0.0)
//   bool      INTEGER  0 or 1
//   timestamp TEXT     "YYYY-MM-DDTHH:MM:SS.ffffffZ": UTC, microseconds, fixed
//                      width so that text order is time order (years 0001-9999)
//   bytes     BLOB
//   null      NULL
#ifndef RECONDB_STORAGE_INTERNAL_SQLITE_VALUES_H_
#define RECONDB_STORAGE_INTERNAL_SQLITE_VALUES_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/timestamp.pb.h"
#include "recondb/v1/types.pb.h"
#include "storage/internal/sqlite_connection.h"

namespace recondb::storage::internal {

// The declared SQL type of a column of type `type`; INVALID_ARGUMENT for
// COLUMN_TYPE_UNSPECIFIED or an unknown type.
absl::StatusOr<std::string_view> SqlType(v1::ColumnType type, std::string_view column);

// Length of the timestamp text form.
inline constexpr size_t kTimestampTextSize = 27;

// Writes the text form of `ts` (sub-microsecond digits truncated) into `out`,
// which holds kTimestampTextSize chars (no terminating NUL). INVALID_ARGUMENT
// if `ts` is outside 0001-01-01 .. 9999-12-31 or its nanos are out of range.
absl::Status FormatTimestamp(const google::protobuf::Timestamp& ts, char* out);

// Parses the text form. INVALID_ARGUMENT if `text` is not exactly that form
// or names an impossible date.
absl::StatusOr<google::protobuf::Timestamp> ParseTimestamp(std::string_view text);

// Binds `value`, meant for column `column` of type `type`, to parameter
// `index` of `stmt`. A null value binds NULL whatever the type; any other
// kind must match the type (INVALID_ARGUMENT otherwise). Strings and bytes
// are bound without a copy: `value` must outlive the statement's last Step.
absl::Status BindValue(Statement& stmt, int index, const v1::Value& value, v1::ColumnType type,
                       std::string_view column);

// Reads column `index` of the current row of `stmt` as a value of `type`.
// DATA_LOSS if the stored text of a timestamp is malformed (a file edited by
// hand).
absl::StatusOr<v1::Value> ReadValue(const Statement& stmt, int index, v1::ColumnType type,
                                    std::string_view column);

}  // namespace recondb::storage::internal

#endif  // RECONDB_STORAGE_INTERNAL_SQLITE_VALUES_H_
