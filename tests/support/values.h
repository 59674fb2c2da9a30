// Builders of recondb.v1.Value for tests, one per value kind:
//
//   Attributes attrs = {{"title", StringValue("Buy milk")}, {"done", BoolValue(false)}};
#ifndef RECONDB_TESTS_SUPPORT_VALUES_H_
#define RECONDB_TESTS_SUPPORT_VALUES_H_

#include <cstdint>
#include <string_view>

#include "absl/time/time.h"
#include "recondb/v1/types.pb.h"

namespace recondb::testing {

v1::Value StringValue(std::string_view s);
v1::Value IntValue(int64_t i);
v1::Value FloatValue(double d);
v1::Value BoolValue(bool b);
// The explicit null (Value.null set), not an unset Value.
v1::Value NullValue();
v1::Value BytesValue(std::string_view b);
// A timestamp of `seconds` and `nanos` since the epoch, as given (no
// normalization, so tests can build out-of-range and sub-microsecond ones).
v1::Value TimestampValue(int64_t seconds, int32_t nanos);
// A timestamp of `t`, truncated to whole microseconds.
v1::Value TimestampValue(absl::Time t);
// The time of a timestamp Value (absl::InfinitePast() if not a timestamp).
absl::Time ToTime(const v1::Value& v);

// A table `name` with one column, `title` (a nullable string), and a record
// of it: the smallest shape tests of grants and replication need.
v1::Table TitleTable(std::string_view name);
v1::Record TitleRecord(std::string_view table, std::string_view id, std::string_view title);

}  // namespace recondb::testing

#endif  // RECONDB_TESTS_SUPPORT_VALUES_H_
