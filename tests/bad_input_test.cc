// Bad input against a real recondbd: each request is answered with the code
// of DESIGN.md's error table and a message naming the table, column, record or
// value at fault; nothing is written (tables, records and change feed are
// compared before and after every request); the daemon stays up.
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "engine/revision.h"
#include "recondb/v1/admin.grpc.pb.h"
#include "tests/support/daemon_process.h"
#include "tests/support/db_client.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace recondb::testing {
namespace {

using absl::StatusCode;

constexpr int kMaxMessageBytes = 64 * 1024;
constexpr int kMaxRecordBytes = 8 * 1024;

const std::string kHex32 = "0123456789abcdef0123456789abcdef";

template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

// A request expected to fail.
struct BadCase {
  std::string name;
  std::function<absl::Status()> call;
  StatusCode code;
  // Each entry must appear in the message; "a|b" means a or b. Found raw,
  // C-escaped, or (for lowercase words) case-insensitively.
  std::vector<std::string> mentions;
};

bool Mentions(const std::string& message, const std::string& alternatives) {
  const std::string lower = absl::AsciiStrToLower(message);
  for (absl::string_view alt_view : absl::StrSplit(alternatives, '|')) {
    std::string alt(alt_view);
    if (message.find(alt) != std::string::npos) return true;
    if (message.find(absl::CHexEscape(alt)) != std::string::npos) return true;
    if (message.find(absl::CEscape(alt)) != std::string::npos) return true;
    if (absl::AsciiStrToLower(alt) == alt && lower.find(alt) != std::string::npos) return true;
  }
  return false;
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DaemonOptions options;
    options.data_dir = data_.path();
    options.extra_flags = {absl::StrCat("--max_message_bytes=", kMaxMessageBytes),
                           absl::StrCat("--max_record_bytes=", kMaxRecordBytes)};
    ASSERT_OK_AND_ASSIGN(daemon_, DaemonProcess::Start(options));
    db_ = std::make_unique<DbClient>(daemon_->NewChannel());

    ASSERT_OK(db_->CreateTable(TodoTable()));
    v1::Table measures;
    measures.set_name("measures");
    AddColumn(&measures, "reading", v1::COLUMN_TYPE_FLOAT, true);
    AddColumn(&measures, "count", v1::COLUMN_TYPE_INT, true);
    AddColumn(&measures, "blob", v1::COLUMN_TYPE_BYTES, true)->set_max_length(8);
    ASSERT_OK(db_->CreateTable(measures));
    v1::Table notes;
    notes.set_name("notes");
    AddColumn(&notes, "body", v1::COLUMN_TYPE_STRING, true);
    ASSERT_OK(db_->CreateTable(notes));

    ASSERT_OK_AND_ASSIGN(rev1_, db_->Create("todos", {{"title", StringValue("first")}}, "t1"));
    ASSERT_OK_AND_ASSIGN(rev2_, db_->PutRecord(MakeRecord("todos", "t1", rev1_.revision(),
                                                          {{"title", StringValue("second")}})));
    ASSERT_OK(db_->Create("todos", {{"title", StringValue("doomed")}}, "t_dead"));
    ASSERT_OK_AND_ASSIGN(dead_, db_->DeleteRecord("todos", "t_dead"));
    ASSERT_OK(db_->Create("measures", {{"reading", FloatValue(1.5)}}, "m1"));
  }

  void TearDown() override {
    if (daemon_ == nullptr) return;
    // The daemon is still up and answering.
    EXPECT_OK(daemon_->CheckHealth());
    EXPECT_OK(db_->GetRecord("todos", "t1"));
    db_.reset();
    absl::StatusOr<int> code = daemon_->Stop();
    ASSERT_OK(code);
    EXPECT_EQ(*code, 0);
  }

  static v1::Column* AddColumn(v1::Table* t, const std::string& name, v1::ColumnType type,
                               bool nullable) {
    v1::Column* c = t->add_columns();
    c->set_name(name);
    c->set_type(type);
    c->set_nullable(nullable);
    return c;
  }

  // Everything a client can see: tables, every record of every table, and
  // the change feed, as text (maps sorted).
  std::string Snapshot() {
    std::string out;
    absl::StatusOr<std::vector<v1::Table>> tables = db_->ListTables();
    EXPECT_OK(tables);
    if (!tables.ok()) return out;
    for (const v1::Table& t : *tables) {
      std::string text;
      google::protobuf::TextFormat::PrintToString(t, &text);
      absl::StrAppend(&out, "table ", text, "\n");
      v1::ListRecordsRequest req;
      req.set_table(t.name());
      absl::StatusOr<std::vector<v1::Record>> records = db_->ListAll(req);
      EXPECT_OK(records);
      if (!records.ok()) continue;
      for (const v1::Record& r : *records) {
        google::protobuf::TextFormat::PrintToString(r, &text);
        absl::StrAppend(&out, "record ", text, "\n");
      }
    }
    absl::StatusOr<std::vector<v1::Change>> changes = db_->GetChanges(0);
    EXPECT_OK(changes);
    if (changes.ok()) {
      for (const v1::Change& c : *changes) absl::StrAppend(&out, "change ", c.ShortDebugString(), "\n");
    }
    return out;
  }

  void Run(const std::vector<BadCase>& cases) {
    std::string before = Snapshot();
    for (const BadCase& c : cases) {
      SCOPED_TRACE(c.name);
      absl::Status s = c.call();
      if (std::getenv("RECONDB_TEST_VERBOSE") != nullptr) std::cerr << c.name << " -> " << s << "\n";
      EXPECT_EQ(s.code(), c.code) << c.name << ": " << s;
      for (const std::string& m : c.mentions) {
        EXPECT_TRUE(Mentions(std::string(s.message()), m))
            << c.name << ": message \"" << s.message() << "\" does not name \"" << absl::CHexEscape(m)
            << "\"";
      }
      std::string after = Snapshot();
      EXPECT_EQ(after, before) << c.name << " wrote something";
      before = after;
    }
  }

  // PutRecord in todos with these attributes (create, or update of t1 at
  // rev2 when `update` is set).
  std::function<absl::Status()> PutTodo(Attributes attrs, bool update = false) {
    return [this, attrs, update] {
      return StatusOf(db_->PutRecord(
          MakeRecord("todos", update ? "t1" : "", update ? rev2_.revision() : "", attrs)));
    };
  }
  std::function<absl::Status()> PutInto(std::string table, Attributes attrs, std::string id = "") {
    return [this, table, attrs, id] { return StatusOf(db_->Create(table, attrs, id)); };
  }
  std::function<absl::Status()> ListWith(v1::ListRecordsRequest req) {
    return [this, req] { return StatusOf(db_->ListRecords(req)); };
  }
  static v1::ListRecordsRequest Filter(const std::string& column, v1::Operator op,
                                       std::optional<v1::Value> value) {
    v1::ListRecordsRequest req;
    req.set_table("todos");
    v1::Condition* c = req.add_filter();
    c->set_column(column);
    c->set_op(op);
    if (value.has_value()) *c->mutable_value() = *value;
    return req;
  }

  // ResolveConflict of `record` (with an update_mask of `mask` when given);
  // `with_record` false sends no record at all.
  std::function<absl::Status()> Resolve(v1::Record record,
                                        std::optional<std::vector<std::string>> mask = {},
                                        bool with_record = true) {
    return [this, record, mask, with_record] {
      v1::ResolveConflictRequest request;
      if (with_record) *request.mutable_record() = record;
      if (mask.has_value()) {
        for (const std::string& path : *mask) request.mutable_update_mask()->add_paths(path);
      }
      grpc::ClientContext ctx;
      SetDeadline(&ctx);
      v1::Record response;
      return ToAbslStatus(db_->stub()->ResolveConflict(&ctx, request, &response));
    };
  }

  TempDir data_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<DbClient> db_;
  v1::Record rev1_, rev2_, dead_;
};

TEST_F(BadInputTest, BadTableNames) {
  std::vector<BadCase> cases;
  for (const std::string& name :
       {std::string("Todos"), std::string(64, 'a'), std::string("todos; DROP TABLE x"),
        std::string("_internal"), std::string("x_history"), std::string("sqlite_master"),
        std::string("sqlite_x"), std::string("t\xc3\xb6" "dos"), std::string("1todos"),
        std::string("to-dos"), std::string("to dos"), std::string("todos\""),
        std::string("_tables"), std::string("todos_history")}) {
    cases.push_back({"CreateTable " + name,
                     [this, name] { return StatusOf(db_->CreateTable(TodoTable(name))); },
                     StatusCode::kInvalidArgument, {name}});
  }
  cases.push_back({"CreateTable empty name", [this] { return StatusOf(db_->CreateTable(TodoTable(""))); },
                   StatusCode::kInvalidArgument, {"name|table"}});
  Run(cases);
}

TEST_F(BadInputTest, MalformedTableNamesInRecordCalls) {
  const std::string bad = "todos; DROP TABLE todos";
  v1::ListRecordsRequest list;
  list.set_table(bad);
  Run({
      {"GetTable", [&] { return StatusOf(db_->GetTable(bad)); }, StatusCode::kInvalidArgument, {bad}},
      {"PutRecord", PutInto(bad, {{"title", StringValue("x")}}), StatusCode::kInvalidArgument, {bad}},
      {"GetRecord", [&] { return StatusOf(db_->GetRecord(bad, "t1")); }, StatusCode::kInvalidArgument, {bad}},
      {"DeleteRecord", [&] { return StatusOf(db_->DeleteRecord(bad, "t1")); },
       StatusCode::kInvalidArgument, {bad}},
      {"ListRecords", ListWith(list), StatusCode::kInvalidArgument, {bad}},
      {"GetRecordHistory", [&] { return StatusOf(db_->GetRecordHistory(bad, "t1")); },
       StatusCode::kInvalidArgument, {bad}},
  });
}

TEST_F(BadInputTest, BadColumns) {
  auto with_columns = [this](std::function<void(v1::Table*)> edit) {
    return [this, edit] {
      v1::Table t = TodoTable("things");
      edit(&t);
      return StatusOf(db_->CreateTable(t));
    };
  };
  std::vector<BadCase> cases;
  for (const std::string& name : {std::string("Title"), std::string("id"), std::string("revision"),
                                  std::string("deleted"), std::string("a;b"), std::string(64, 'c'),
                                  std::string("1col"), std::string("col\"umn"),
                                  std::string("x) ; DROP TABLE todos; --")}) {
    cases.push_back({"column named " + name,
                     with_columns([name](v1::Table* t) { t->mutable_columns(0)->set_name(name); }),
                     StatusCode::kInvalidArgument, {name}});
  }
  cases.push_back({"empty column name", with_columns([](v1::Table* t) { t->mutable_columns(1)->set_name(""); }),
                   StatusCode::kInvalidArgument, {"column|name"}});
  cases.push_back({"duplicate column",
                   with_columns([](v1::Table* t) { t->mutable_columns(1)->set_name("title"); }),
                   StatusCode::kInvalidArgument, {"title"}});
  cases.push_back({"unspecified type",
                   with_columns([](v1::Table* t) {
                     t->mutable_columns(1)->set_type(v1::COLUMN_TYPE_UNSPECIFIED);
                   }),
                   StatusCode::kInvalidArgument, {"description"}});
  cases.push_back({"unknown type number",
                   with_columns([](v1::Table* t) {
                     t->mutable_columns(1)->set_type(static_cast<v1::ColumnType>(42));
                   }),
                   StatusCode::kInvalidArgument, {"description"}});
  cases.push_back({"negative max_length",
                   with_columns([](v1::Table* t) { t->mutable_columns(1)->set_max_length(-1); }),
                   StatusCode::kInvalidArgument, {"description"}});
  cases.push_back({"default of the wrong type",
                   with_columns([](v1::Table* t) {
                     *t->mutable_columns(2)->mutable_default_value() = StringValue("no");
                   }),
                   StatusCode::kInvalidArgument, {"completed"}});
  cases.push_back({"default over max_length",
                   with_columns([](v1::Table* t) {
                     *t->mutable_columns(0)->mutable_default_value() = StringValue(std::string(81, 'x'));
                   }),
                   StatusCode::kInvalidArgument, {"title"}});
  Run(cases);
}

TEST_F(BadInputTest, UnknownTable) {
  v1::ListRecordsRequest list;
  list.set_table("nope");
  Run({
      {"GetTable", [&] { return StatusOf(db_->GetTable("nope")); }, StatusCode::kNotFound, {"nope"}},
      {"PutRecord", PutInto("nope", {{"title", StringValue("x")}}), StatusCode::kNotFound, {"nope"}},
      {"GetRecord", [&] { return StatusOf(db_->GetRecord("nope", "t1")); }, StatusCode::kNotFound, {"nope"}},
      {"DeleteRecord", [&] { return StatusOf(db_->DeleteRecord("nope", "t1")); }, StatusCode::kNotFound,
       {"nope"}},
      {"ListRecords", ListWith(list), StatusCode::kNotFound, {"nope"}},
      {"GetRecordHistory", [&] { return StatusOf(db_->GetRecordHistory("nope", "t1")); },
       StatusCode::kNotFound, {"nope"}},
      {"GetChanges", [&] { return StatusOf(db_->GetChanges(0, {"todos", "nope"})); },
       StatusCode::kNotFound, {"nope"}},
  });
}

TEST_F(BadInputTest, UnknownColumns) {
  v1::ListRecordsRequest order = Filter("title", v1::OPERATOR_IS_NOT_NULL, std::nullopt);
  order.set_order_by("nope");
  v1::ListRecordsRequest order_sql = order;
  order_sql.set_order_by("title; DROP TABLE todos");
  Run({
      {"create with unknown column", PutTodo({{"title", StringValue("x")}, {"nope", StringValue("y")}}),
       StatusCode::kInvalidArgument, {"nope"}},
      {"update with unknown column", PutTodo({{"title", StringValue("x")}, {"nope", IntValue(1)}}, true),
       StatusCode::kInvalidArgument, {"nope"}},
      {"attribute named id", PutTodo({{"title", StringValue("x")}, {"id", StringValue("y")}}),
       StatusCode::kInvalidArgument, {"id"}},
      {"filter on unknown column", ListWith(Filter("nope", v1::OPERATOR_EQ, StringValue("x"))),
       StatusCode::kInvalidArgument, {"nope"}},
      {"filter column that looks like SQL",
       ListWith(Filter("title = 'x' OR 1=1 --", v1::OPERATOR_EQ, StringValue("x"))),
       StatusCode::kInvalidArgument, {"title = 'x' OR 1=1 --"}},
      {"order by unknown column", ListWith(order), StatusCode::kInvalidArgument, {"nope"}},
      {"order by SQL", ListWith(order_sql), StatusCode::kInvalidArgument, {"title; DROP TABLE todos"}},
      {"update_mask with unknown column",
       [this] {
         return StatusOf(db_->PutRecord(MakeRecord("todos", "t1", rev2_.revision(),
                                                   {{"title", StringValue("x")}}),
                                        std::vector<std::string>{"title", "nope"}));
       },
       StatusCode::kInvalidArgument, {"nope"}},
  });
}

TEST_F(BadInputTest, WrongValueTypes) {
  google::protobuf::Timestamp too_late;
  too_late.set_seconds(253402300800);  // 10000-01-01
  v1::Value year_10000;
  *year_10000.mutable_timestamp() = too_late;
  v1::Value bad_nanos;
  bad_nanos.mutable_timestamp()->set_seconds(1);
  bad_nanos.mutable_timestamp()->set_nanos(1000000000);
  Run({
      {"title as int", PutTodo({{"title", IntValue(5)}}), StatusCode::kInvalidArgument, {"title"}},
      {"title as bool", PutTodo({{"title", BoolValue(true)}}), StatusCode::kInvalidArgument, {"title"}},
      {"title as float", PutTodo({{"title", FloatValue(1.5)}}), StatusCode::kInvalidArgument, {"title"}},
      {"title as bytes", PutTodo({{"title", BytesValue("x")}}), StatusCode::kInvalidArgument, {"title"}},
      {"title unset Value", PutTodo({{"title", v1::Value()}}), StatusCode::kInvalidArgument, {"title"}},
      {"completed as string", PutTodo({{"title", StringValue("x")}, {"completed", StringValue("yes")}}),
       StatusCode::kInvalidArgument, {"completed"}},
      {"completed as int", PutTodo({{"title", StringValue("x")}, {"completed", IntValue(1)}}, true),
       StatusCode::kInvalidArgument, {"completed"}},
      {"deadline_at as string",
       PutTodo({{"title", StringValue("x")}, {"deadline_at", StringValue("2026-01-01T00:00:00Z")}}),
       StatusCode::kInvalidArgument, {"deadline_at"}},
      {"deadline_at in year 10000", PutTodo({{"title", StringValue("x")}, {"deadline_at", year_10000}}),
       StatusCode::kInvalidArgument, {"deadline_at"}},
      {"deadline_at with 1e9 nanos", PutTodo({{"title", StringValue("x")}, {"deadline_at", bad_nanos}}),
       StatusCode::kInvalidArgument, {"deadline_at"}},
      {"int column as float", PutInto("measures", {{"count", FloatValue(2.0)}}),
       StatusCode::kInvalidArgument, {"count"}},
      {"float column as string", PutInto("measures", {{"reading", StringValue("1.5")}}),
       StatusCode::kInvalidArgument, {"reading"}},
      {"filter bool column with a string",
       ListWith(Filter("completed", v1::OPERATOR_EQ, StringValue("true"))),
       StatusCode::kInvalidArgument, {"completed"}},
      {"filter timestamp column with an int",
       ListWith(Filter("deadline_at", v1::OPERATOR_GE, IntValue(0))), StatusCode::kInvalidArgument,
       {"deadline_at"}},
      {"filter without an operator", ListWith(Filter("title", v1::OPERATOR_UNSPECIFIED, StringValue("x"))),
       StatusCode::kInvalidArgument, {}},
      {"filter with an unknown operator",
       ListWith(Filter("title", static_cast<v1::Operator>(99), StringValue("x"))),
       StatusCode::kInvalidArgument, {}},
  });
}

TEST_F(BadInputTest, NullsInNonNullableColumns) {
  Run({
      {"title null", PutTodo({{"title", NullValue()}}), StatusCode::kInvalidArgument, {"title"}},
      {"title missing on create", PutTodo({{"description", StringValue("no title")}}),
       StatusCode::kInvalidArgument, {"title"}},
      {"title missing on full update", PutTodo({{"completed", BoolValue(true)}}, true),
       StatusCode::kInvalidArgument, {"title"}},
      {"completed null", PutTodo({{"title", StringValue("x")}, {"completed", NullValue()}}),
       StatusCode::kInvalidArgument, {"completed"}},
      {"title masked but absent",
       [this] {
         return StatusOf(db_->PutRecord(MakeRecord("todos", "t1", rev2_.revision(), {}),
                                        std::vector<std::string>{"title"}));
       },
       StatusCode::kInvalidArgument, {"title"}},
  });
}

TEST_F(BadInputTest, StringsOverMaxLength) {
  std::string e_acute_81;
  for (int i = 0; i < 81; ++i) e_acute_81 += "\xc3\xa9";
  Run({
      {"title 81 ASCII", PutTodo({{"title", StringValue(std::string(81, 'x'))}}),
       StatusCode::kInvalidArgument, {"title"}},
      {"title 81 code points", PutTodo({{"title", StringValue(e_acute_81)}}),
       StatusCode::kInvalidArgument, {"title"}},
      {"description 121", PutTodo({{"title", StringValue("x")}, {"description", StringValue(std::string(121, 'd'))}}, true),
       StatusCode::kInvalidArgument, {"description"}},
      {"bytes over 8", PutInto("measures", {{"blob", BytesValue("123456789")}}),
       StatusCode::kInvalidArgument, {"blob"}},
  });
}

TEST_F(BadInputTest, MaxLengthCountsCodePoints) {
  std::string e_acute_80, emoji_80;
  for (int i = 0; i < 80; ++i) {
    e_acute_80 += "\xc3\xa9";
    emoji_80 += "\xf0\x9f\x92\xa7";  // U+1F4A7, 4 bytes
  }
  ASSERT_OK_AND_ASSIGN(v1::Record a, db_->Create("todos", {{"title", StringValue(e_acute_80)}}));
  EXPECT_EQ(a.attributes().at("title").string(), e_acute_80);
  ASSERT_OK_AND_ASSIGN(v1::Record b, db_->Create("todos", {{"title", StringValue(emoji_80)}}));
  EXPECT_EQ(b.attributes().at("title").string(), emoji_80);
  ASSERT_OK(db_->Create("measures", {{"blob", BytesValue(std::string("\0\1\2\3\4\5\6\7", 8))}}));
}

TEST_F(BadInputTest, NonFiniteFloats) {
  Run({
      {"NaN", PutInto("measures", {{"reading", FloatValue(std::nan(""))}}), StatusCode::kInvalidArgument,
       {"reading"}},
      {"+inf", PutInto("measures", {{"reading", FloatValue(std::numeric_limits<double>::infinity())}}),
       StatusCode::kInvalidArgument, {"reading"}},
      {"-inf", PutInto("measures", {{"reading", FloatValue(-std::numeric_limits<double>::infinity())}}),
       StatusCode::kInvalidArgument, {"reading"}},
      {"filter with NaN", [this] {
         v1::ListRecordsRequest req;
         req.set_table("measures");
         v1::Condition* c = req.add_filter();
         c->set_column("reading");
         c->set_op(v1::OPERATOR_LT);
         *c->mutable_value() = FloatValue(std::nan(""));
         return StatusOf(db_->ListRecords(req));
       },
       StatusCode::kInvalidArgument, {"reading"}},
  });
}

TEST_F(BadInputTest, MalformedRevisions) {
  std::string upper = "0123456789ABCDEF0123456789ABCDEF";
  std::vector<std::string> bad = {"1-abc",
                                  "0-" + kHex32,
                                  "01-" + kHex32,
                                  "1-" + upper,
                                  "99999999999999999999-" + kHex32,
                                  "-1-" + kHex32,
                                  "1-" + kHex32.substr(1),
                                  "1-" + kHex32 + "0",
                                  "abc",
                                  "1_" + kHex32,
                                  "1-" + kHex32 + " ",
                                  " 1-" + kHex32,
                                  "1-g" + kHex32.substr(1),
                                  "+1-" + kHex32,
                                  "1--" + kHex32.substr(1)};
  std::vector<BadCase> cases;
  for (const std::string& rev : bad) {
    cases.push_back({"PutRecord " + rev,
                     [this, rev] {
                       return StatusOf(db_->PutRecord(
                           MakeRecord("todos", "t1", rev, {{"title", StringValue("x")}})));
                     },
                     StatusCode::kInvalidArgument, {rev}});
    cases.push_back({"DeleteRecord " + rev, [this, rev] { return StatusOf(db_->DeleteRecord("todos", "t1", rev)); },
                     StatusCode::kInvalidArgument, {rev}});
    cases.push_back({"GetRecord " + rev, [this, rev] { return StatusOf(db_->GetRecord("todos", "t1", rev)); },
                     StatusCode::kInvalidArgument, {rev}});
  }
  Run(cases);
}

TEST_F(BadInputTest, StaleAndUnknownRevisions) {
  const std::string unknown = "1-" + std::string(32, '0');
  const std::string unknown_max = "9223372036854775807-" + kHex32;
  Run({
      {"update from a stale revision",
       [this] {
         return StatusOf(db_->PutRecord(
             MakeRecord("todos", "t1", rev1_.revision(), {{"title", StringValue("late")}})));
       },
       StatusCode::kAborted, {rev2_.revision()}},
      {"masked update from a stale revision",
       [this] {
         return StatusOf(db_->PutRecord(
             MakeRecord("todos", "t1", rev1_.revision(), {{"completed", BoolValue(true)}}),
             std::vector<std::string>{"completed"}));
       },
       StatusCode::kAborted, {rev2_.revision()}},
      {"delete from a stale revision",
       [this] { return StatusOf(db_->DeleteRecord("todos", "t1", rev1_.revision())); },
       StatusCode::kAborted, {rev2_.revision()}},
      {"update from an unknown revision",
       [this, unknown] {
         return StatusOf(
             db_->PutRecord(MakeRecord("todos", "t1", unknown, {{"title", StringValue("x")}})));
       },
       StatusCode::kNotFound, {unknown}},
      {"update from a huge unknown generation",
       [this, unknown_max] {
         return StatusOf(
             db_->PutRecord(MakeRecord("todos", "t1", unknown_max, {{"title", StringValue("x")}})));
       },
       StatusCode::kNotFound, {unknown_max}},
      {"get an unknown revision", [this, unknown] { return StatusOf(db_->GetRecord("todos", "t1", unknown)); },
       StatusCode::kNotFound, {unknown}},
      {"delete an unknown revision",
       [this, unknown] { return StatusOf(db_->DeleteRecord("todos", "t1", unknown)); },
       StatusCode::kNotFound, {unknown}},
      {"update of a record that does not exist",
       [this] {
         return StatusOf(db_->PutRecord(
             MakeRecord("todos", "ghost", rev1_.revision(), {{"title", StringValue("x")}})));
       },
       StatusCode::kNotFound, {"ghost"}},
      {"get a record that does not exist", [this] { return StatusOf(db_->GetRecord("todos", "ghost")); },
       StatusCode::kNotFound, {"ghost"}},
      {"delete a deleted record", [this] { return StatusOf(db_->DeleteRecord("todos", "t_dead")); },
       StatusCode::kNotFound, {"t_dead"}},
      {"history of a record that does not exist",
       [this] { return StatusOf(db_->GetRecordHistory("todos", "ghost")); }, StatusCode::kNotFound,
       {"ghost"}},
  });
}

// ResolveConflict checks its input like PutRecord (same validation, same
// codes) and its revision against the current winner; a refusal writes
// nothing, neither the merged revision nor any tombstone.
TEST_F(BadInputTest, ResolveConflict) {
  ASSERT_OK_AND_ASSIGN(v1::Record note,
                       db_->Create("notes", {{"body", StringValue("short")}}, "n1"));
  const std::string unknown = "2-" + std::string(32, '0');
  const std::string winner = rev2_.revision();
  auto todo = [](const std::string& id, const std::string& revision, Attributes attrs) {
    return MakeRecord("todos", id, revision, attrs);
  };
  const Attributes title = {{"title", StringValue("merged")}};
  v1::Record with_conflicts = todo("t1", winner, title);
  with_conflicts.add_conflicts(rev1_.revision());
  v1::Record with_records = todo("t1", winner, title);
  *with_records.add_conflict_records() = rev1_;
  v1::Record deleted = todo("t1", winner, title);
  deleted.set_deleted(true);
  Run({
      {"no record", Resolve(v1::Record(), std::nullopt, false), StatusCode::kInvalidArgument,
       {"record"}},
      {"no revision", Resolve(todo("t1", "", title)), StatusCode::kInvalidArgument,
       {"record.revision"}},
      {"no id", Resolve(todo("", winner, title)), StatusCode::kInvalidArgument, {"record.id"}},
      {"malformed revision", Resolve(todo("t1", "1-abc", title)), StatusCode::kInvalidArgument,
       {"1-abc"}},
      {"stale revision", Resolve(todo("t1", rev1_.revision(), title)), StatusCode::kAborted,
       {rev1_.revision(), winner}},
      {"unknown revision", Resolve(todo("t1", unknown, title)), StatusCode::kNotFound, {unknown}},
      {"unknown table", Resolve(MakeRecord("nope", "t1", winner, title)), StatusCode::kNotFound,
       {"nope"}},
      {"unknown record", Resolve(todo("ghost", winner, title)), StatusCode::kNotFound, {"ghost"}},
      {"deleted record", Resolve(todo("t_dead", dead_.revision(), title)), StatusCode::kNotFound,
       {"t_dead", "deleted"}},
      {"unknown column", Resolve(todo("t1", winner, {{"colour", StringValue("red")}})),
       StatusCode::kInvalidArgument, {"colour"}},
      {"unknown mask path", Resolve(todo("t1", winner, title), std::vector<std::string>{"colour"}),
       StatusCode::kInvalidArgument, {"update_mask", "colour"}},
      {"wrong type", Resolve(todo("t1", winner, {{"title", StringValue("x")},
                                                 {"completed", StringValue("yes")}})),
       StatusCode::kInvalidArgument, {"completed"}},
      {"null title", Resolve(todo("t1", winner, {{"title", NullValue()}})),
       StatusCode::kInvalidArgument, {"title"}},
      {"title over max_length", Resolve(todo("t1", winner, {{"title", StringValue(std::string(81, 'x'))}})),
       StatusCode::kInvalidArgument, {"title"}},
      {"conflicts set", Resolve(with_conflicts), StatusCode::kInvalidArgument, {"conflicts"}},
      {"conflict_records set", Resolve(with_records), StatusCode::kInvalidArgument,
       {"conflict_records"}},
      {"deleted set", Resolve(deleted), StatusCode::kInvalidArgument, {"deleted"}},
      {"over max_record_bytes",
       Resolve(MakeRecord("notes", "n1", note.revision(),
                          {{"body", StringValue(std::string(kMaxRecordBytes + 1, 'b'))}})),
       StatusCode::kResourceExhausted, {"n1"}},
  });
}

// decisions.md: an update's revision "must be a live leaf ... not a live leaf
// -> ABORTED naming the current winner". A deleted record comes back only
// through a create (no revision), which makes it a child of its tombstone.
TEST_F(BadInputTest, CreateOverALiveRecord) {
  Run({
      {"create t1 again", PutInto("todos", {{"title", StringValue("again")}}, "t1"),
       StatusCode::kAlreadyExists, {"t1"}},
      {"create table todos again", [this] { return StatusOf(db_->CreateTable(TodoTable())); },
       StatusCode::kAlreadyExists, {"todos"}},
  });
}

TEST_F(BadInputTest, OverTheSizeLimits) {
  // Under both limits: fine.
  ASSERT_OK(db_->Create("notes", {{"body", StringValue(std::string(kMaxRecordBytes / 2, 'b'))}}));
  Run({
      {"record over --max_record_bytes",
       PutInto("notes", {{"body", StringValue(std::string(kMaxRecordBytes + 100, 'b'))}}, "big"),
       StatusCode::kResourceExhausted, {"notes|big"}},
      {"message over --max_message_bytes",
       PutInto("notes", {{"body", StringValue(std::string(kMaxMessageBytes + 100, 'b'))}}, "huge"),
       StatusCode::kResourceExhausted, {}},
  });
}

TEST_F(BadInputTest, BadPageTokensAndSizes) {
  std::vector<BadCase> cases;
  for (const std::string& token : {std::string("garbage"), std::string("!!!!"), std::string("AAAA"),
                                   std::string("' OR 1=1 --")}) {
    v1::ListRecordsRequest req;
    req.set_table("todos");
    req.set_page_token(token);
    cases.push_back({"page_token " + absl::CHexEscape(token), ListWith(req), StatusCode::kInvalidArgument,
                     {"page_token|token"}});
  }
  v1::ListRecordsRequest negative;
  negative.set_table("todos");
  negative.set_page_size(-1);
  cases.push_back({"negative page_size", ListWith(negative), StatusCode::kInvalidArgument,
                   {"page_size|page size"}});
  Run(cases);
}

// A proto3 string field holding invalid UTF-8 makes the request unparsable
// for the server's protobuf runtime. gRPC's callback API then answers
// UNIMPLEMENTED with an empty message before any daemon code runs, so only
// "refused, nothing written, still up" is asserted here.
TEST_F(BadInputTest, InvalidUtf8InAStringFieldIsRefused) {
  std::string before = Snapshot();
  v1::ListRecordsRequest req;
  req.set_table("todos");
  req.set_page_token("\xff\xfe");
  EXPECT_FALSE(db_->ListRecords(req).ok());
  EXPECT_FALSE(db_->Create("todos", {{"title", StringValue("bad \xc3\x28 utf8")}}).ok());
  EXPECT_FALSE(db_->Create("todos", {{"title", StringValue("x")}}, "id-\xff").ok());
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(BadInputTest, BadRecordIds) {
  std::vector<BadCase> cases;
  for (const std::string& id : {std::string(256, 'i'), std::string("a\nb"), std::string("a\x01" "b"),
                                std::string("\x7f"), std::string("a\tb"), std::string("tab\x1b[31m")}) {
    cases.push_back({"create with id " + absl::CHexEscape(id).substr(0, 40),
                     PutInto("todos", {{"title", StringValue("x")}}, id), StatusCode::kInvalidArgument,
                     {"id"}});
  }
  Run(cases);
}

TEST_F(BadInputTest, RecordIdLimitsAccepted) {
  ASSERT_OK_AND_ASSIGN(v1::Record r,
                       db_->Create("todos", {{"title", StringValue("x")}}, std::string(255, 'i')));
  EXPECT_EQ(r.id(), std::string(255, 'i'));
  ASSERT_OK(db_->Create("todos", {{"title", StringValue("y")}}, "t\xc3\xa2" "che-1 with spaces"));
  ASSERT_OK(db_->GetRecord("todos", "t\xc3\xa2" "che-1 with spaces"));
  ASSERT_OK(db_->CreateTable(TodoTable(std::string(63, 'a'))));
}

// ---- Schema changes and stubs ----

absl::Status AddColumns(DbClient& db, const std::string& table,
                        const std::vector<v1::Column>& columns) {
  v1::AddColumnsRequest request;
  request.set_table(table);
  for (const v1::Column& c : columns) *request.add_columns() = c;
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  v1::Table response;
  return ToAbslStatus(db.stub()->AddColumns(&ctx, request, &response));
}

absl::Status Import(DbClient& db, const std::vector<v1::HistoryEntry>& entries) {
  v1::ImportRevisionsRequest request;
  for (const v1::HistoryEntry& e : entries) *request.add_revisions() = e;
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  v1::ImportRevisionsResponse response;
  return ToAbslStatus(db.stub()->ImportRevisions(&ctx, request, &response));
}

v1::Column NewColumn(const std::string& name, bool nullable) {
  v1::Column c;
  c.set_name(name);
  c.set_type(v1::COLUMN_TYPE_STRING);
  c.set_nullable(nullable);
  return c;
}

// A revision of record `id` of notes, child of `parent`, holding `body`
// (nullopt: a stub), with its real id when it has content.
v1::HistoryEntry NotesEntry(const std::string& id, const std::string& parent,
                            std::optional<std::string> body, const std::string& revision = "") {
  v1::HistoryEntry e;
  e.mutable_record()->set_table("notes");
  e.mutable_record()->set_id(id);
  e.set_parent_revision(parent);
  const int64_t generation = parent.empty() ? 1 : GenerationOf(parent) + 1;
  if (!body.has_value()) {
    e.set_stub(true);
    e.mutable_record()->set_revision(revision);
    return e;
  }
  storage::Attributes attributes = {{"body", StringValue(*body)}};
  (*e.mutable_record()->mutable_attributes())["body"] = StringValue(*body);
  e.mutable_record()->set_revision(
      engine::ComputeRevision(generation, {"notes", id, parent, false, &attributes}));
  return e;
}

TEST_F(BadInputTest, AddColumnsThatAreNotAdditive) {
  Run({
      {"unknown table", [this] { return AddColumns(*db_, "nope", {NewColumn("x", true)}); },
       StatusCode::kNotFound, {"nope"}},
      {"no column", [this] { return AddColumns(*db_, "todos", {}); },
       StatusCode::kInvalidArgument, {"todos"}},
      {"existing column", [this] { return AddColumns(*db_, "todos", {NewColumn("title", true)}); },
       StatusCode::kAlreadyExists, {"title"}},
      {"not nullable without default",
       [this] { return AddColumns(*db_, "todos", {NewColumn("due", false)}); },
       StatusCode::kFailedPrecondition, {"due"}},
      {"bad column name", [this] { return AddColumns(*db_, "todos", {NewColumn("Due", true)}); },
       StatusCode::kInvalidArgument, {"Due"}},
      {"reserved column name",
       [this] { return AddColumns(*db_, "todos", {NewColumn("revision", true)}); },
       StatusCode::kInvalidArgument, {"revision"}},
  });
}

TEST_F(BadInputTest, ImportedStubsAndColumnPrefixes) {
  const std::string stub_revision = "1-" + kHex32;
  v1::HistoryEntry with_content = NotesEntry("s1", "", "x");
  with_content.set_stub(true);
  v1::HistoryEntry gap;  // todos: title and completed, but not description.
  gap.mutable_record()->set_table("todos");
  gap.mutable_record()->set_id("g1");
  gap.mutable_record()->set_revision("1-" + kHex32);
  (*gap.mutable_record()->mutable_attributes())["title"] = StringValue("gap");
  (*gap.mutable_record()->mutable_attributes())["completed"] = BoolValue(false);
  Run({
      {"stub without a child",
       [&] { return Import(*db_, {NotesEntry("s1", "", std::nullopt, stub_revision)}); },
       StatusCode::kInvalidArgument, {"stub", "s1"}},
      {"stub with content",
       [&] { return Import(*db_, {with_content, NotesEntry("s1", with_content.record().revision(), "y")}); },
       StatusCode::kInvalidArgument, {"stub", "s1"}},
      {"attributes that skip a column", [&] { return Import(*db_, {gap}); },
       StatusCode::kInvalidArgument, {"description"}},
  });
  // A stub with its child is grafted; reading at the stub says what it is.
  ASSERT_OK(Import(*db_, {NotesEntry("s1", "", std::nullopt, stub_revision),
                          NotesEntry("s1", stub_revision, "child")}));
  EXPECT_THAT(db_->GetRecord("notes", "s1", stub_revision),
              StatusIs(absl::StatusCode::kNotFound, ::testing::AllOf(
                  ::testing::HasSubstr(stub_revision), ::testing::HasSubstr("known by id only"))));
  ASSERT_OK_AND_ASSIGN(v1::GetRecordHistoryResponse history, db_->GetRecordHistory("notes", "s1"));
  ASSERT_EQ(history.entries_size(), 2);
  EXPECT_TRUE(history.entries(1).stub());
}

// ---- Forged imports (issue 14 point 6) ----

// A revision of record `id` of measures holding `reading`, whose revision
// is the hash over `hashed` (the reading itself unless given).
v1::HistoryEntry MeasureEntry(const std::string& id, double reading,
                              std::optional<double> hashed = std::nullopt) {
  v1::HistoryEntry e;
  e.mutable_record()->set_table("measures");
  e.mutable_record()->set_id(id);
  (*e.mutable_record()->mutable_attributes())["reading"] = FloatValue(reading);
  storage::Attributes attributes = {{"reading", FloatValue(hashed.value_or(reading))}};
  e.mutable_record()->set_revision(
      engine::ComputeRevision(1, {"measures", id, "", false, &attributes}));
  return e;
}

TEST_F(BadInputTest, ImportOfAForgedCopyAfterAGoodRevisionIsRefused) {
  const v1::HistoryEntry good = MeasureEntry("m_forged", 2.5);
  v1::HistoryEntry forged = good;
  (*forged.mutable_record()->mutable_attributes())["reading"] = FloatValue(666.0);
  Run({
      {"good then forged", [&] { return Import(*db_, {good, forged}); },
       StatusCode::kInvalidArgument, {"m_forged", good.record().revision()}},
      {"forged then good", [&] { return Import(*db_, {forged, good}); },
       StatusCode::kInvalidArgument, {"m_forged", good.record().revision()}},
  });
  ASSERT_OK(Import(*db_, {good}));
  Run({
      {"forged copy of a stored revision", [&] { return Import(*db_, {forged}); },
       StatusCode::kInvalidArgument, {"m_forged", good.record().revision()}},
  });
}

TEST_F(BadInputTest, ImportedNegativeZeroIsHashedAsZero) {
  Run({
      {"id over the raw -0.0 bits", [&] { return Import(*db_, {MeasureEntry("m_raw", -0.0)}); },
       StatusCode::kInvalidArgument, {"m_raw", "hash"}},
  });
  const v1::HistoryEntry documented = MeasureEntry("m_zero", -0.0, /*hashed=*/0.0);
  ASSERT_OK(Import(*db_, {documented}));
  ASSERT_OK_AND_ASSIGN(v1::Record stored, db_->GetRecord("measures", "m_zero"));
  EXPECT_EQ(stored.revision(), documented.record().revision());
  EXPECT_EQ(stored.attributes().at("reading").float_(), 0.0);
  EXPECT_FALSE(std::signbit(stored.attributes().at("reading").float_()));
}

// ---- Requests past SQLite's limits (issue 14 point 6) ----

TEST_F(BadInputTest, TooManyConditionsOrTableNamesAreInvalidArgumentNotInternal) {
  v1::ListRecordsRequest many_conditions;
  many_conditions.set_table("todos");
  for (int i = 0; i < 999; ++i) {
    v1::Condition* c = many_conditions.add_filter();
    c->set_column("title");
    c->set_op(v1::OPERATOR_NE);
    *c->mutable_value() = StringValue("x");
  }
  const std::vector<std::string> many_tables(1001, "todos");
  Run({
      {"999 conditions", ListWith(many_conditions), StatusCode::kInvalidArgument,
       {"filter", "64"}},
      {"1001 table names", [&] { return StatusOf(db_->GetChanges(0, many_tables)); },
       StatusCode::kInvalidArgument, {"tables", "1000"}},
  });
}

// ---- Peer addresses (issue 14 point 6) ----

TEST_F(BadInputTest, BadPeerAddressesAreRefusedAndNeverEchoedWhole) {
  std::unique_ptr<v1::Admin::Stub> admin = v1::Admin::NewStub(daemon_->NewChannel());
  const std::string huge = std::string(10000, 'h') + ":7470";
  auto add = [&](const std::string& address) {
    v1::AddPeerRequest request;
    request.set_address(address);
    grpc::ClientContext ctx;
    SetDeadline(&ctx);
    v1::Peer response;
    return ToAbslStatus(admin->AddPeer(&ctx, request, &response));
  };
  auto remove = [&](const std::string& address) {
    v1::RemovePeerRequest request;
    request.set_address(address);
    grpc::ClientContext ctx;
    SetDeadline(&ctx);
    v1::RemovePeerResponse response;
    return ToAbslStatus(admin->RemovePeer(&ctx, request, &response));
  };
  Run({
      {"a colon in the host", [&] { return add("127.0.0.1:1:2"); }, StatusCode::kInvalidArgument,
       {"address", "127.0.0.1:1:2"}},
      {"a 10,000-character host", [&] { return add(huge); }, StatusCode::kInvalidArgument,
       {"address", "10005 bytes"}},
      {"a host with a newline", [&] { return add("a\nb:1"); }, StatusCode::kInvalidArgument,
       {"address"}},
      {"removing a 10,000-character address", [&] { return remove(huge); },
       StatusCode::kNotFound, {"not configured", "10005 bytes"}},
  });
  EXPECT_LT(add(huge).message().size(), 600u);
  EXPECT_LT(remove(huge).message().size(), 300u);
}

}  // namespace
}  // namespace recondb::testing
