// The proto3 JSON form of the API's messages is the one DESIGN.md promises,
// as printed and parsed by protobuf's own JSON support.
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "recondb/v1/types.pb.h"

namespace recondb::v1 {
namespace {

using google::protobuf::util::JsonStringToMessage;
using google::protobuf::util::MessageToJsonString;

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  EXPECT_TRUE(MessageToJsonString(m, &out).ok());
  return out;
}

TEST(ValueJsonTest, EachKindIsNamed) {
  Value v;
  v.set_string("Buy water filters");
  EXPECT_EQ(ToJson(v), R"({"string":"Buy water filters"})");
  v.set_int_(1234);
  EXPECT_EQ(ToJson(v), R"({"int":"1234"})");  // 64-bit ints travel as strings.
  v.set_int_(INT64_MIN);
  EXPECT_EQ(ToJson(v), R"({"int":"-9223372036854775808"})");
  v.set_float_(1.5);
  EXPECT_EQ(ToJson(v), R"({"float":1.5})");
  v.set_bool_(false);
  EXPECT_EQ(ToJson(v), R"({"bool":false})");
  v.mutable_timestamp()->set_seconds(1767225600);
  EXPECT_EQ(ToJson(v), R"({"timestamp":"2026-01-01T00:00:00Z"})");
  v.set_bytes(std::string("\x00\xff", 2));
  EXPECT_EQ(ToJson(v), R"({"bytes":"AP8="})");
  v.set_null(google::protobuf::NULL_VALUE);
  EXPECT_EQ(ToJson(v), R"({"null":null})");
}

TEST(ValueJsonTest, RecordOfTheDesignRoundTrips) {
  const std::string json = R"({
    "id": "my-record-id",
    "table": "my_table",
    "revision": "1-96fc52d8fbf5d2adc6d139cb5b2ea099",
    "attributes": {
      "title":     { "string": "Buy water filters" },
      "quantity":  { "int": "1234" },
      "completed": { "bool": false }
    }
  })";
  Record record;
  ASSERT_TRUE(JsonStringToMessage(json, &record).ok());
  EXPECT_EQ(record.attributes().at("quantity").int_(), 1234);
  EXPECT_EQ(record.attributes().at("title").string(), "Buy water filters");
  EXPECT_FALSE(record.attributes().at("completed").bool_());
  Record again;
  ASSERT_TRUE(JsonStringToMessage(ToJson(record), &again).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(again, record));
}

}  // namespace
}  // namespace recondb::v1
