#include "engine/internal/validation.h"

#include <cmath>
#include <limits>

#include "engine/internal/attributes.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace recondb::engine::internal {
namespace {

using ::recondb::testing::IsOk;
using ::recondb::testing::StatusIs;
using ::testing::HasSubstr;
constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

v1::Column MakeColumn(std::string name, v1::ColumnType type, bool nullable = true, int max = 0) {
  v1::Column c;
  c.set_name(std::move(name));
  c.set_type(type);
  c.set_nullable(nullable);
  c.set_max_length(max);
  return c;
}

v1::Table Todos() {
  v1::Table t;
  t.set_name("todos");
  *t.add_columns() = MakeColumn("title", v1::COLUMN_TYPE_STRING, false, 80);
  *t.add_columns() = MakeColumn("description", v1::COLUMN_TYPE_STRING, true, 120);
  v1::Column completed = MakeColumn("completed", v1::COLUMN_TYPE_BOOL, false);
  completed.mutable_default_value()->set_bool_(false);
  *t.add_columns() = completed;
  *t.add_columns() = MakeColumn("deadline_at", v1::COLUMN_TYPE_TIMESTAMP);
  return t;
}

TEST(IdentifierTest, TableNames) {
  for (const char* good : {"todos", "a", "t_1", "select", "drop_table", "x_history_log"}) {
    EXPECT_THAT(ValidateTableName(good), IsOk()) << good;
  }
  for (const char* bad : {"", "Todos", "1todos", "_todos", "todos;", "todos drop", "todos_history",
                          "sqlite_master", "t\xc3\xa9", "todos\"", "todos; DROP TABLE x"}) {
    EXPECT_THAT(ValidateTableName(bad), StatusIs(kInvalid, HasSubstr("table name"))) << bad;
  }
  EXPECT_THAT(ValidateTableName(std::string(63, 'a')), IsOk());
  EXPECT_THAT(ValidateTableName(std::string(64, 'a')), StatusIs(kInvalid));
}

TEST(IdentifierTest, ColumnNames) {
  EXPECT_THAT(ValidateColumnName("todos", "title"), IsOk());
  for (const char* reserved : {"id", "revision", "deleted", "conflicts", "rowid"}) {
    EXPECT_THAT(ValidateColumnName("todos", reserved),
                StatusIs(kInvalid, HasSubstr("reserved")));
  }
  EXPECT_THAT(ValidateColumnName("todos", "Title"),
              StatusIs(kInvalid, HasSubstr("\"Title\" of table \"todos\"")));
}

TEST(RecordIdTest, LengthUtf8AndControls) {
  EXPECT_THAT(ValidateRecordId("todos", "a"), IsOk());
  EXPECT_THAT(ValidateRecordId("todos", "caf\xc3\xa9 \xf0\x9f\x98\x80"), IsOk());
  EXPECT_THAT(ValidateRecordId("todos", std::string(255, 'x')), IsOk());
  EXPECT_THAT(ValidateRecordId("todos", std::string(256, 'x')), StatusIs(kInvalid, HasSubstr("255")));
  EXPECT_THAT(ValidateRecordId("todos", ""), StatusIs(kInvalid));
  EXPECT_THAT(ValidateRecordId("todos", "a\nb"), StatusIs(kInvalid, HasSubstr("control")));
  EXPECT_THAT(ValidateRecordId("todos", std::string("a\0b", 3)), StatusIs(kInvalid));
  EXPECT_THAT(ValidateRecordId("todos", "a\x7f"), StatusIs(kInvalid));
  EXPECT_THAT(ValidateRecordId("todos", "a\xc2\x85"), StatusIs(kInvalid, HasSubstr("control")));
  EXPECT_THAT(ValidateRecordId("todos", "\xff\xfe"), StatusIs(kInvalid, HasSubstr("UTF-8")));
  EXPECT_THAT(ValidateRecordId("todos", "\xc0\xaf"), StatusIs(kInvalid));      // Overlong.
  EXPECT_THAT(ValidateRecordId("todos", "\xed\xa0\x80"), StatusIs(kInvalid));  // Surrogate.
}

TEST(ValueTest, TypesAndNulls) {
  const v1::Column title = MakeColumn("title", v1::COLUMN_TYPE_STRING, false, 5);
  v1::Value v;
  v.set_int_(3);
  EXPECT_THAT(NormalizeValue("todos", title, v),
              StatusIs(kInvalid, HasSubstr("column \"title\" of table \"todos\": expected a string "
                                           "value, got an int value")));
  v.set_null(google::protobuf::NULL_VALUE);
  EXPECT_THAT(NormalizeValue("todos", title, v), StatusIs(kInvalid, HasSubstr("not nullable")));
  EXPECT_THAT(NormalizeValue("todos", title, v1::Value()), StatusIs(kInvalid));
  const v1::Column note = MakeColumn("note", v1::COLUMN_TYPE_STRING, true);
  auto null_value = NormalizeValue("todos", note, v1::Value());
  ASSERT_THAT(null_value, IsOk());
  EXPECT_EQ(null_value->kind_case(), v1::Value::kNull);
}

TEST(ValueTest, MaxLengthCountsCodePoints) {
  const v1::Column title = MakeColumn("title", v1::COLUMN_TYPE_STRING, false, 3);
  v1::Value v;
  v.set_string("\xc3\xa9\xc3\xa9\xc3\xa9");  // 3 code points, 6 bytes.
  EXPECT_THAT(NormalizeValue("todos", title, v), IsOk());
  v.set_string("abcd");
  EXPECT_THAT(NormalizeValue("todos", title, v), StatusIs(kInvalid, HasSubstr("max_length 3")));
  v.set_string("\xff");
  EXPECT_THAT(NormalizeValue("todos", title, v), StatusIs(kInvalid, HasSubstr("UTF-8")));
  const v1::Column blob = MakeColumn("blob", v1::COLUMN_TYPE_BYTES, false, 2);
  v.set_bytes("abc");
  EXPECT_THAT(NormalizeValue("todos", blob, v), StatusIs(kInvalid, HasSubstr("max_length 2")));
}

TEST(ValueTest, FloatsMustBeFiniteAndZeroHasOneForm) {
  const v1::Column f = MakeColumn("f", v1::COLUMN_TYPE_FLOAT);
  v1::Value v;
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()}) {
    v.set_float_(bad);
    EXPECT_THAT(NormalizeValue("t", f, v), StatusIs(kInvalid, HasSubstr("not finite")));
  }
  v.set_float_(-0.0);
  auto zero = NormalizeValue("t", f, v);
  ASSERT_THAT(zero, IsOk());
  EXPECT_FALSE(std::signbit(zero->float_()));
}

TEST(ValueTest, TimestampsAreTruncatedToMicrosAndRangeChecked) {
  const v1::Column ts = MakeColumn("at", v1::COLUMN_TYPE_TIMESTAMP);
  v1::Value v;
  v.mutable_timestamp()->set_seconds(1767225600);
  v.mutable_timestamp()->set_nanos(123456789);
  auto normalized = NormalizeValue("t", ts, v);
  ASSERT_THAT(normalized, IsOk());
  EXPECT_EQ(normalized->timestamp().nanos(), 123456000);
  v.mutable_timestamp()->set_seconds(253402300800);  // 10000-01-01.
  EXPECT_THAT(NormalizeValue("t", ts, v), StatusIs(kInvalid, HasSubstr("outside")));
  v.mutable_timestamp()->set_seconds(0);
  v.mutable_timestamp()->set_nanos(-1);
  EXPECT_THAT(NormalizeValue("t", ts, v), StatusIs(kInvalid));
}

TEST(TableDefinitionTest, AcceptsTodosAndClearsOutputFields) {
  v1::Table t = Todos();
  t.set_created_by("someone");
  auto normalized = ValidateTableDefinition(t);
  ASSERT_THAT(normalized, IsOk());
  EXPECT_TRUE(normalized->created_by().empty());
  EXPECT_EQ(normalized->columns_size(), 4);
}

TEST(TableDefinitionTest, RefusesBadDefinitions) {
  v1::Table t = Todos();
  *t.add_columns() = MakeColumn("title", v1::COLUMN_TYPE_STRING);
  EXPECT_THAT(ValidateTableDefinition(t), StatusIs(kInvalid, HasSubstr("twice")));
  t = Todos();
  t.mutable_columns(0)->set_type(v1::COLUMN_TYPE_UNSPECIFIED);
  EXPECT_THAT(ValidateTableDefinition(t), StatusIs(kInvalid, HasSubstr("type")));
  t = Todos();
  t.mutable_columns(2)->set_max_length(4);  // A bool with a length.
  EXPECT_THAT(ValidateTableDefinition(t), StatusIs(kInvalid, HasSubstr("max_length")));
  t = Todos();
  t.mutable_columns(0)->mutable_default_value()->set_string(std::string(81, 'x'));
  EXPECT_THAT(ValidateTableDefinition(t), StatusIs(kInvalid, HasSubstr("default_value")));
  t = Todos();
  t.mutable_columns(2)->mutable_default_value()->set_int_(1);
  EXPECT_THAT(ValidateTableDefinition(t), StatusIs(kInvalid, HasSubstr("expected a bool")));
  t.clear_columns();
  EXPECT_THAT(ValidateTableDefinition(t), StatusIs(kInvalid, HasSubstr("at least one column")));
  t = Todos();
  t.mutable_columns(1)->set_name("id");
  EXPECT_THAT(ValidateTableDefinition(t), StatusIs(kInvalid, HasSubstr("reserved")));
}

TEST(AttributesTest, FullWriteFillsDefaultsAndNulls) {
  RequestAttributes request;
  request["title"].set_string("Buy water filters");
  auto attributes = BuildAttributes(Todos(), request, nullptr, nullptr);
  ASSERT_THAT(attributes, IsOk());
  ASSERT_EQ(attributes->size(), 4u);
  EXPECT_FALSE(attributes->at("completed").bool_());
  EXPECT_EQ(attributes->at("description").kind_case(), v1::Value::kNull);
  EXPECT_EQ(attributes->at("deadline_at").kind_case(), v1::Value::kNull);
}

TEST(AttributesTest, MissingRequiredColumnAndUnknownColumnAreRefused) {
  RequestAttributes request;
  EXPECT_THAT(BuildAttributes(Todos(), request, nullptr, nullptr),
              StatusIs(kInvalid, HasSubstr("\"title\"")));
  request["title"].set_string("x");
  request["colour"].set_string("red");
  EXPECT_THAT(BuildAttributes(Todos(), request, nullptr, nullptr),
              StatusIs(kInvalid, HasSubstr("has no column \"colour\"")));
}

TEST(AttributesTest, MaskKeepsColumnsLeftOut) {
  RequestAttributes first;
  first["title"].set_string("Buy water filters");
  first["description"].set_string("for the clinic");
  auto base = BuildAttributes(Todos(), first, nullptr, nullptr);
  ASSERT_THAT(base, IsOk());

  RequestAttributes update;
  update["completed"].set_bool_(true);
  update["title"].set_string("ignored: not in the mask");
  google::protobuf::FieldMask mask;
  mask.add_paths("completed");
  mask.add_paths("deadline_at");  // Listed but absent: reset to default (null).
  auto next = BuildAttributes(Todos(), update, &mask, &*base);
  ASSERT_THAT(next, IsOk());
  EXPECT_EQ(next->at("title").string(), "Buy water filters");
  EXPECT_EQ(next->at("description").string(), "for the clinic");
  EXPECT_TRUE(next->at("completed").bool_());
  EXPECT_EQ(next->at("deadline_at").kind_case(), v1::Value::kNull);

  mask.add_paths("nope");
  EXPECT_THAT(BuildAttributes(Todos(), update, &mask, &*base),
              StatusIs(kInvalid, HasSubstr("update_mask: table \"todos\" has no column \"nope\"")));
}

TEST(AttributesTest, MaskedRequiredColumnCannotBeCleared) {
  RequestAttributes first;
  first["title"].set_string("x");
  auto base = BuildAttributes(Todos(), first, nullptr, nullptr);
  ASSERT_THAT(base, IsOk());
  google::protobuf::FieldMask mask;
  mask.add_paths("title");
  EXPECT_THAT(BuildAttributes(Todos(), RequestAttributes(), &mask, &*base),
              StatusIs(kInvalid, HasSubstr("not nullable")));
}

}  // namespace
}  // namespace recondb::engine::internal
