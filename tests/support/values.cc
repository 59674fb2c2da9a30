#include "tests/support/values.h"

#include <string>

#include "google/protobuf/util/time_util.h"

namespace recondb::testing {

v1::Value StringValue(std::string_view s) {
  v1::Value v;
  v.set_string(std::string(s));
  return v;
}

v1::Value IntValue(int64_t i) {
  v1::Value v;
  v.set_int_(i);
  return v;
}

v1::Value FloatValue(double d) {
  v1::Value v;
  v.set_float_(d);
  return v;
}

v1::Value BoolValue(bool b) {
  v1::Value v;
  v.set_bool_(b);
  return v;
}

v1::Value NullValue() {
  v1::Value v;
  v.set_null(google::protobuf::NULL_VALUE);
  return v;
}

v1::Value BytesValue(std::string_view b) {
  v1::Value v;
  v.set_bytes(std::string(b));
  return v;
}

v1::Value TimestampValue(int64_t seconds, int32_t nanos) {
  v1::Value v;
  v.mutable_timestamp()->set_seconds(seconds);
  v.mutable_timestamp()->set_nanos(nanos);
  return v;
}

v1::Value TimestampValue(absl::Time t) {
  v1::Value v;
  *v.mutable_timestamp() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
  return v;
}

absl::Time ToTime(const v1::Value& v) {
  if (!v.has_timestamp()) return absl::InfinitePast();
  return absl::FromUnixSeconds(v.timestamp().seconds()) + absl::Nanoseconds(v.timestamp().nanos());
}

v1::Table TitleTable(std::string_view name) {
  v1::Table table;
  table.set_name(std::string(name));
  v1::Column* title = table.add_columns();
  title->set_name("title");
  title->set_type(v1::COLUMN_TYPE_STRING);
  title->set_nullable(true);
  return table;
}

v1::Record TitleRecord(std::string_view table, std::string_view id, std::string_view title) {
  v1::Record record;
  record.set_table(std::string(table));
  record.set_id(std::string(id));
  (*record.mutable_attributes())["title"] = StringValue(title);
  return record;
}

}  // namespace recondb::testing
