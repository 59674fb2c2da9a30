// The todo example of DESIGN.md, end to end: a C++ client through real gRPC
// against a real recondbd process (SQLite, temporary data directory, free
// loopback port). Each test starts its own daemon.
#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "tests/support/daemon_process.h"
#include "tests/support/db_client.h"
#include "tests/support/proto_matchers.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace recondb::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class TodoExampleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DaemonOptions options;
    options.data_dir = data_.path();
    ASSERT_OK_AND_ASSIGN(daemon_, DaemonProcess::Start(options));
    db_ = std::make_unique<DbClient>(daemon_->NewChannel());
    ASSERT_OK_AND_ASSIGN(table_, db_->CreateTable(TodoTable()));
  }

  void TearDown() override {
    if (daemon_ == nullptr) return;
    db_.reset();
    absl::StatusOr<int> code = daemon_->Stop();
    ASSERT_OK(code);
    EXPECT_EQ(*code, 0) << "recondbd did not exit cleanly on SIGTERM";
  }

  // Creates a todo with the given attributes and checks the basics of the
  // answer.
  v1::Record CreateTodo(const Attributes& attributes, std::string_view id = "") {
    absl::StatusOr<v1::Record> r = db_->Create("todos", attributes, id);
    EXPECT_OK(r);
    return r.ok() ? *r : v1::Record();
  }

  static v1::ListRecordsRequest List() {
    v1::ListRecordsRequest req;
    req.set_table("todos");
    return req;
  }

  static std::vector<std::string> Ids(const std::vector<v1::Record>& records) {
    std::vector<std::string> ids;
    for (const v1::Record& r : records) ids.push_back(r.id());
    return ids;
  }

  TempDir data_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<DbClient> db_;
  v1::Table table_;
};

TEST_F(TodoExampleTest, CreateTableStoresTheDefinition) {
  EXPECT_EQ(table_.name(), "todos");
  ASSERT_THAT(table_.columns(), SizeIs(4));
  v1::Table want = TodoTable();
  for (int i = 0; i < want.columns_size(); ++i) {
    EXPECT_THAT(table_.columns(i), EqualsProto(want.columns(i)));
  }
  EXPECT_TRUE(table_.has_create_time());
  EXPECT_GT(table_.create_time().seconds(), 0);
  EXPECT_FALSE(table_.created_by().empty());
  if (!daemon_->node_id().empty()) {
    EXPECT_EQ(table_.created_by(), daemon_->node_id());
  }

  ASSERT_OK_AND_ASSIGN(v1::Table got, db_->GetTable("todos"));
  EXPECT_THAT(got, EqualsProto(table_));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Table> tables, db_->ListTables());
  ASSERT_THAT(tables, SizeIs(1));
  EXPECT_THAT(tables[0], EqualsProto(table_));

  EXPECT_THAT(db_->CreateTable(TodoTable()),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("todos")));
}

TEST_F(TodoExampleTest, CreateReadUpdateDelete) {
  // Create: the server assigns a UUIDv7 id and a generation-1 revision, and
  // fills in the default and the nulls.
  v1::Record created = CreateTodo({{"title", StringValue("Buy water filters")}});
  EXPECT_EQ(created.table(), "todos");
  EXPECT_TRUE(IsUuidV7(created.id())) << created.id();
  EXPECT_TRUE(IsRevision(created.revision())) << created.revision();
  EXPECT_EQ(GenerationOf(created.revision()), 1);
  EXPECT_FALSE(created.deleted());
  EXPECT_THAT(created.attributes().at("title"), EqualsProto(StringValue("Buy water filters")));
  EXPECT_THAT(created.attributes().at("completed"), EqualsProto(BoolValue(false)));
  EXPECT_THAT(created.attributes().at("description"), EqualsProto(NullValue()));
  EXPECT_THAT(created.attributes().at("deadline_at"), EqualsProto(NullValue()));
  EXPECT_THAT(created.attributes(), SizeIs(4));

  // Read.
  ASSERT_OK_AND_ASSIGN(v1::Record read, db_->GetRecord("todos", created.id()));
  EXPECT_THAT(read, EqualsProto(created));

  // Update (full: no mask), as a child of the first revision.
  const absl::Time deadline = absl::FromUnixSeconds(1893456000) + absl::Microseconds(123456);
  ASSERT_OK_AND_ASSIGN(
      v1::Record updated,
      db_->PutRecord(MakeRecord("todos", created.id(), created.revision(),
                                {{"title", StringValue("Buy water filters")},
                                 {"description", StringValue("two of them")},
                                 {"deadline_at", TimestampValue(deadline)}})));
  EXPECT_EQ(GenerationOf(updated.revision()), 2);
  EXPECT_TRUE(IsRevision(updated.revision())) << updated.revision();
  EXPECT_EQ(updated.id(), created.id());
  EXPECT_THAT(updated.attributes().at("description"), EqualsProto(StringValue("two of them")));
  EXPECT_EQ(ToTime(updated.attributes().at("deadline_at")), deadline);
  EXPECT_THAT(updated.attributes().at("completed"), EqualsProto(BoolValue(false)));
  ASSERT_OK_AND_ASSIGN(read, db_->GetRecord("todos", created.id()));
  EXPECT_THAT(read, EqualsProto(updated));
  // The first revision is still readable.
  ASSERT_OK_AND_ASSIGN(read, db_->GetRecord("todos", created.id(), created.revision()));
  EXPECT_THAT(read, EqualsProto(created));

  // Delete: a tombstone child of the winner.
  ASSERT_OK_AND_ASSIGN(v1::Record tombstone, db_->DeleteRecord("todos", created.id()));
  EXPECT_TRUE(tombstone.deleted());
  EXPECT_EQ(tombstone.id(), created.id());
  EXPECT_EQ(GenerationOf(tombstone.revision()), 3);
  EXPECT_TRUE(IsRevision(tombstone.revision())) << tombstone.revision();

  EXPECT_THAT(db_->GetRecord("todos", created.id()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(created.id())));
  ASSERT_OK_AND_ASSIGN(read, db_->GetRecord("todos", created.id(), tombstone.revision()));
  EXPECT_TRUE(read.deleted());
  EXPECT_EQ(read.revision(), tombstone.revision());
  ASSERT_OK_AND_ASSIGN(read, db_->GetRecord("todos", created.id(), updated.revision()));
  EXPECT_THAT(read, EqualsProto(updated));

  EXPECT_THAT(db_->DeleteRecord("todos", created.id()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(created.id())));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Record> all, db_->ListAll(List()));
  EXPECT_THAT(all, IsEmpty());
}

TEST_F(TodoExampleTest, ClientChosenIdAndCreateOverLiveRecord) {
  v1::Record r = CreateTodo({{"title", StringValue("call the office")}}, "todo-1");
  EXPECT_EQ(r.id(), "todo-1");
  EXPECT_EQ(GenerationOf(r.revision()), 1);
  EXPECT_THAT(db_->Create("todos", {{"title", StringValue("again")}}, "todo-1"),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("todo-1")));
  ASSERT_OK_AND_ASSIGN(v1::Record read, db_->GetRecord("todos", "todo-1"));
  EXPECT_THAT(read, EqualsProto(r));
}

TEST_F(TodoExampleTest, PartialUpdateKeepsFieldsLeftOut) {
  const absl::Time deadline = absl::FromUnixSeconds(1900000000);
  v1::Record r = CreateTodo({{"title", StringValue("Buy water filters")},
                             {"description", StringValue("the big ones")},
                             {"deadline_at", TimestampValue(deadline)}});

  // Only `completed` is taken from the request.
  ASSERT_OK_AND_ASSIGN(v1::Record done,
                       db_->PutRecord(MakeRecord("todos", r.id(), r.revision(),
                                                 {{"completed", BoolValue(true)}}),
                                      std::vector<std::string>{"completed"}));
  EXPECT_EQ(GenerationOf(done.revision()), 2);
  EXPECT_THAT(done.attributes().at("completed"), EqualsProto(BoolValue(true)));
  EXPECT_THAT(done.attributes().at("title"), EqualsProto(StringValue("Buy water filters")));
  EXPECT_THAT(done.attributes().at("description"), EqualsProto(StringValue("the big ones")));
  EXPECT_EQ(ToTime(done.attributes().at("deadline_at")), deadline);
  ASSERT_OK_AND_ASSIGN(v1::Record read, db_->GetRecord("todos", r.id()));
  EXPECT_THAT(read, EqualsProto(done));

  // A value outside the mask is ignored.
  ASSERT_OK_AND_ASSIGN(v1::Record retitled,
                       db_->PutRecord(MakeRecord("todos", r.id(), done.revision(),
                                                 {{"title", StringValue("Buy 2 water filters")},
                                                  {"description", StringValue("ignored")}}),
                                      std::vector<std::string>{"title"}));
  EXPECT_THAT(retitled.attributes().at("title"), EqualsProto(StringValue("Buy 2 water filters")));
  EXPECT_THAT(retitled.attributes().at("description"), EqualsProto(StringValue("the big ones")));
  EXPECT_THAT(retitled.attributes().at("completed"), EqualsProto(BoolValue(true)));

  // A masked column absent from the request goes back to its default/null.
  ASSERT_OK_AND_ASSIGN(v1::Record cleared,
                       db_->PutRecord(MakeRecord("todos", r.id(), retitled.revision(), {}),
                                      std::vector<std::string>{"description", "completed"}));
  EXPECT_THAT(cleared.attributes().at("description"), EqualsProto(NullValue()));
  EXPECT_THAT(cleared.attributes().at("completed"), EqualsProto(BoolValue(false)));
  EXPECT_THAT(cleared.attributes().at("title"), EqualsProto(StringValue("Buy 2 water filters")));
  EXPECT_EQ(ToTime(cleared.attributes().at("deadline_at")), deadline);

  // Without a mask the request replaces every column.
  ASSERT_OK_AND_ASSIGN(v1::Record replaced,
                       db_->PutRecord(MakeRecord("todos", r.id(), cleared.revision(),
                                                 {{"title", StringValue("only a title")}})));
  EXPECT_THAT(replaced.attributes().at("title"), EqualsProto(StringValue("only a title")));
  EXPECT_THAT(replaced.attributes().at("deadline_at"), EqualsProto(NullValue()));
  EXPECT_THAT(replaced.attributes().at("description"), EqualsProto(NullValue()));
  EXPECT_THAT(replaced.attributes().at("completed"), EqualsProto(BoolValue(false)));
  EXPECT_EQ(GenerationOf(replaced.revision()), 5);
}

TEST_F(TodoExampleTest, ListCompleted) {
  std::set<std::string> completed;
  for (int i = 0; i < 6; ++i) {
    v1::Record r = CreateTodo({{"title", StringValue(absl::StrCat("todo ", i))},
                               {"completed", BoolValue(i % 2 == 0)}});
    if (i % 2 == 0) completed.insert(r.id());
  }
  v1::ListRecordsRequest req = List();
  v1::Condition* c = req.add_filter();
  c->set_column("completed");
  c->set_op(v1::OPERATOR_EQ);
  *c->mutable_value() = BoolValue(true);
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Record> got, db_->ListAll(req));
  ASSERT_THAT(got, SizeIs(3));
  for (const v1::Record& r : got) {
    EXPECT_TRUE(completed.count(r.id())) << r.ShortDebugString();
    EXPECT_THAT(r.attributes().at("completed"), EqualsProto(BoolValue(true)));
    EXPECT_EQ(r.table(), "todos");
    EXPECT_TRUE(IsRevision(r.revision()));
    EXPECT_THAT(r.attributes(), SizeIs(4));
  }
  // Default order is by id, and UUIDv7 ids made one after another sort in
  // creation order.
  std::vector<std::string> ids = Ids(got);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));

  // NE gives the others.
  c->set_op(v1::OPERATOR_NE);
  ASSERT_OK_AND_ASSIGN(got, db_->ListAll(req));
  EXPECT_THAT(got, SizeIs(3));
  for (const v1::Record& r : got) EXPECT_FALSE(completed.count(r.id()));
}

TEST_F(TodoExampleTest, ListDueWithinNDaysOrderedByDeadline) {
  const absl::Time now = absl::Now();
  const int kDays = 7;
  v1::Record in3 = CreateTodo({{"title", StringValue("in 3 days")},
                               {"deadline_at", TimestampValue(now + absl::Hours(72))}});
  CreateTodo({{"title", StringValue("in 10 days")},
              {"deadline_at", TimestampValue(now + absl::Hours(240))}});
  v1::Record in1 = CreateTodo({{"title", StringValue("tomorrow")},
                               {"deadline_at", TimestampValue(now + absl::Hours(24))}});
  CreateTodo({{"title", StringValue("overdue")},
              {"deadline_at", TimestampValue(now - absl::Hours(48))}});
  CreateTodo({{"title", StringValue("no deadline")}});
  v1::Record in6 = CreateTodo({{"title", StringValue("in 6 days")},
                               {"deadline_at", TimestampValue(now + absl::Hours(144))},
                               {"completed", BoolValue(true)}});

  v1::ListRecordsRequest req = List();
  v1::Condition* ge = req.add_filter();
  ge->set_column("deadline_at");
  ge->set_op(v1::OPERATOR_GE);
  *ge->mutable_value() = TimestampValue(now);
  v1::Condition* le = req.add_filter();
  le->set_column("deadline_at");
  le->set_op(v1::OPERATOR_LE);
  *le->mutable_value() = TimestampValue(now + absl::Hours(24 * kDays));
  req.set_order_by("deadline_at");
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Record> got, db_->ListAll(req));
  EXPECT_THAT(Ids(got), ElementsAre(in1.id(), in3.id(), in6.id()));

  req.set_descending(true);
  ASSERT_OK_AND_ASSIGN(got, db_->ListAll(req));
  EXPECT_THAT(Ids(got), ElementsAre(in6.id(), in3.id(), in1.id()));

  // The open ones only.
  req.set_descending(false);
  v1::Condition* open = req.add_filter();
  open->set_column("completed");
  open->set_op(v1::OPERATOR_EQ);
  *open->mutable_value() = BoolValue(false);
  ASSERT_OK_AND_ASSIGN(got, db_->ListAll(req));
  EXPECT_THAT(Ids(got), ElementsAre(in1.id(), in3.id()));

  // IS_NULL finds the one without a deadline.
  v1::ListRecordsRequest nulls = List();
  v1::Condition* is_null = nulls.add_filter();
  is_null->set_column("deadline_at");
  is_null->set_op(v1::OPERATOR_IS_NULL);
  ASSERT_OK_AND_ASSIGN(got, db_->ListAll(nulls));
  ASSERT_THAT(got, SizeIs(1));
  EXPECT_THAT(got[0].attributes().at("title"), EqualsProto(StringValue("no deadline")));
  is_null->set_op(v1::OPERATOR_IS_NOT_NULL);
  ASSERT_OK_AND_ASSIGN(got, db_->ListAll(nulls));
  EXPECT_THAT(got, SizeIs(5));

  // Ordered by deadline, nulls last ascending.
  v1::ListRecordsRequest by_deadline = List();
  by_deadline.set_order_by("deadline_at");
  ASSERT_OK_AND_ASSIGN(got, db_->ListAll(by_deadline));
  ASSERT_THAT(got, SizeIs(6));
  EXPECT_EQ(got[0].attributes().at("title").string(), "overdue");
  EXPECT_EQ(got[5].attributes().at("title").string(), "no deadline");
}

TEST_F(TodoExampleTest, PaginationWithPageToken) {
  std::vector<std::string> ids;
  for (int i = 0; i < 25; ++i) {
    // Titles in reverse order of creation, with ties (i / 2), to exercise
    // ordering by a non-unique column.
    ids.push_back(CreateTodo({{"title", StringValue(absl::StrCat("t", 99 - i / 2))}}).id());
  }
  std::sort(ids.begin(), ids.end());

  v1::ListRecordsRequest req = List();
  req.set_page_size(10);
  std::vector<std::string> seen;
  std::vector<int> page_sizes;
  for (int page = 0; page < 10; ++page) {
    ASSERT_OK_AND_ASSIGN(v1::ListRecordsResponse resp, db_->ListRecords(req));
    page_sizes.push_back(resp.records_size());
    for (const v1::Record& r : resp.records()) seen.push_back(r.id());
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  EXPECT_THAT(page_sizes, ElementsAre(10, 10, 5));
  EXPECT_EQ(seen, ids);

  // By title descending, ties broken by id: every record exactly once, and
  // titles never increase.
  req = List();
  req.set_page_size(4);
  req.set_order_by("title");
  req.set_descending(true);
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Record> all, db_->ListAll(req));
  ASSERT_THAT(all, SizeIs(25));
  std::vector<std::string> got_ids = Ids(all);
  std::sort(got_ids.begin(), got_ids.end());
  EXPECT_EQ(got_ids, ids);
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_GE(all[i - 1].attributes().at("title").string(), all[i].attributes().at("title").string());
  }

  // page_size 0 means 100: one page.
  req = List();
  ASSERT_OK_AND_ASSIGN(v1::ListRecordsResponse resp, db_->ListRecords(req));
  EXPECT_THAT(resp.records(), SizeIs(25));
  EXPECT_THAT(resp.next_page_token(), IsEmpty());
}

TEST_F(TodoExampleTest, RecordHistory) {
  v1::Record r1 = CreateTodo({{"title", StringValue("v1")}});
  ASSERT_OK_AND_ASSIGN(v1::Record r2, db_->PutRecord(MakeRecord("todos", r1.id(), r1.revision(),
                                                                {{"title", StringValue("v2")}})));
  ASSERT_OK_AND_ASSIGN(v1::Record r3, db_->DeleteRecord("todos", r1.id(), r2.revision()));

  ASSERT_OK_AND_ASSIGN(v1::GetRecordHistoryResponse h, db_->GetRecordHistory("todos", r1.id()));
  ASSERT_THAT(h.entries(), SizeIs(3));
  // Newest generation first.
  EXPECT_EQ(h.entries(0).record().revision(), r3.revision());
  EXPECT_TRUE(h.entries(0).record().deleted());
  EXPECT_TRUE(h.entries(0).leaf());
  EXPECT_EQ(h.entries(0).parent_revision(), r2.revision());
  EXPECT_EQ(h.entries(1).record().revision(), r2.revision());
  EXPECT_FALSE(h.entries(1).leaf());
  EXPECT_EQ(h.entries(1).parent_revision(), r1.revision());
  EXPECT_THAT(h.entries(1).record().attributes().at("title"), EqualsProto(StringValue("v2")));
  EXPECT_EQ(h.entries(2).record().revision(), r1.revision());
  EXPECT_FALSE(h.entries(2).leaf());
  EXPECT_THAT(h.entries(2).parent_revision(), IsEmpty());
  EXPECT_THAT(h.entries(2).record().attributes().at("title"), EqualsProto(StringValue("v1")));
  for (const v1::HistoryEntry& e : h.entries()) {
    EXPECT_EQ(e.record().id(), r1.id());
    EXPECT_EQ(e.record().table(), "todos");
  }

  EXPECT_THAT(db_->GetRecordHistory("todos", "no-such-todo"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no-such-todo")));
}

TEST_F(TodoExampleTest, ChangesAfterASequence) {
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Change> changes, db_->GetChanges(0));
  // The table's creation comes first.
  ASSERT_THAT(changes, SizeIs(1));
  EXPECT_EQ(changes[0].kind(), v1::CHANGE_KIND_TABLE);
  EXPECT_EQ(changes[0].table(), "todos");
  const int64_t table_seq = changes[0].seq();
  EXPECT_GT(table_seq, 0);

  v1::Record a = CreateTodo({{"title", StringValue("a")}});
  v1::Record b = CreateTodo({{"title", StringValue("b")}});
  // Edit a twice, delete b: each record appears once, at its latest seq.
  ASSERT_OK_AND_ASSIGN(v1::Record a2, db_->PutRecord(MakeRecord("todos", a.id(), a.revision(),
                                                                {{"title", StringValue("a2")}})));
  ASSERT_OK_AND_ASSIGN(v1::Record a3, db_->PutRecord(MakeRecord("todos", a.id(), a2.revision(),
                                                                {{"title", StringValue("a3")}})));
  ASSERT_OK_AND_ASSIGN(v1::Record b_gone, db_->DeleteRecord("todos", b.id()));

  ASSERT_OK_AND_ASSIGN(changes, db_->GetChanges(0));
  ASSERT_THAT(changes, SizeIs(3));
  EXPECT_EQ(changes[0].kind(), v1::CHANGE_KIND_TABLE);
  for (size_t i = 1; i < changes.size(); ++i) EXPECT_GT(changes[i].seq(), changes[i - 1].seq());
  EXPECT_EQ(changes[1].kind(), v1::CHANGE_KIND_RECORD);
  EXPECT_EQ(changes[1].id(), a.id());
  EXPECT_EQ(changes[1].revision(), a3.revision());
  EXPECT_FALSE(changes[1].deleted());
  EXPECT_EQ(changes[2].id(), b.id());
  EXPECT_EQ(changes[2].revision(), b_gone.revision());
  EXPECT_TRUE(changes[2].deleted());
  EXPECT_EQ(changes[2].table(), "todos");

  // After a's last change only b's is left.
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Change> later, db_->GetChanges(changes[1].seq()));
  ASSERT_THAT(later, SizeIs(1));
  EXPECT_EQ(later[0].id(), b.id());
  ASSERT_OK_AND_ASSIGN(later, db_->GetChanges(changes[2].seq()));
  EXPECT_THAT(later, IsEmpty());

  // Filtered by table.
  ASSERT_OK(db_->CreateTable(TodoTable("chores")));
  ASSERT_OK(db_->Create("chores", {{"title", StringValue("sweep")}}));
  ASSERT_OK_AND_ASSIGN(later, db_->GetChanges(changes[2].seq(), {"todos"}));
  EXPECT_THAT(later, IsEmpty());
  ASSERT_OK_AND_ASSIGN(later, db_->GetChanges(changes[2].seq(), {"chores"}));
  ASSERT_THAT(later, SizeIs(2));
  EXPECT_EQ(later[0].kind(), v1::CHANGE_KIND_TABLE);
  EXPECT_EQ(later[1].kind(), v1::CHANGE_KIND_RECORD);
  EXPECT_EQ(later[1].table(), "chores");
  ASSERT_OK_AND_ASSIGN(later, db_->GetChanges(0, {"todos", "chores"}));
  EXPECT_THAT(later, SizeIs(5));
  EXPECT_THAT(db_->GetChanges(0, {"nope"}), StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope")));
}

TEST_F(TodoExampleTest, FollowModeReceivesAWriteMadeAfterTheStreamOpened) {
  ASSERT_OK_AND_ASSIGN(const int64_t since, db_->LastSeq());
  v1::Record before = CreateTodo({{"title", StringValue("before the stream")}});

  grpc::ClientContext ctx;
  SetDeadline(&ctx, absl::Seconds(20));
  v1::GetChangesRequest req;
  req.set_since(since);
  req.set_follow(true);
  auto follow_stub = daemon_->NewDatabaseStub();
  std::unique_ptr<grpc::ClientReader<v1::Change>> reader = follow_stub->GetChanges(&ctx, req);

  // The catch-up part: the write made before the stream. Once it is read the
  // stream is known to be open on the server.
  v1::Change change;
  ASSERT_TRUE(reader->Read(&change)) << ToAbslStatus(reader->Finish());
  EXPECT_EQ(change.id(), before.id());
  EXPECT_EQ(change.revision(), before.revision());
  const int64_t first_seq = change.seq();

  // A write made now must arrive without any further request.
  v1::Record after = CreateTodo({{"title", StringValue("after the stream opened")}});
  ASSERT_TRUE(reader->Read(&change)) << ToAbslStatus(reader->Finish());
  EXPECT_EQ(change.id(), after.id());
  EXPECT_EQ(change.revision(), after.revision());
  EXPECT_EQ(change.kind(), v1::CHANGE_KIND_RECORD);
  EXPECT_GT(change.seq(), first_seq);

  // And an update and a delete of it.
  ASSERT_OK_AND_ASSIGN(v1::Record tomb, db_->DeleteRecord("todos", after.id()));
  ASSERT_TRUE(reader->Read(&change)) << ToAbslStatus(reader->Finish());
  EXPECT_EQ(change.id(), after.id());
  EXPECT_EQ(change.revision(), tomb.revision());
  EXPECT_TRUE(change.deleted());

  ctx.TryCancel();
  while (reader->Read(&change)) {
  }
  EXPECT_THAT(ToAbslStatus(reader->Finish()), StatusIs(absl::StatusCode::kCancelled));
}

TEST_F(TodoExampleTest, FollowStreamEndsAtTheClientDeadline) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, absl::Milliseconds(500));
  v1::GetChangesRequest req;
  req.set_since(0);
  req.set_follow(true);
  req.add_tables("todos");
  std::unique_ptr<grpc::ClientReader<v1::Change>> reader = db_->stub()->GetChanges(&ctx, req);
  v1::Change change;
  int n = 0;
  while (reader->Read(&change)) ++n;
  EXPECT_EQ(n, 1);  // the table's creation
  EXPECT_THAT(ToAbslStatus(reader->Finish()), StatusIs(absl::StatusCode::kDeadlineExceeded));
  // The daemon is fine afterwards.
  EXPECT_OK(daemon_->CheckHealth());
  EXPECT_OK(db_->GetTable("todos"));
}

TEST_F(TodoExampleTest, RecreateAfterDelete) {
  v1::Record r = CreateTodo({{"title", StringValue("first life")}}, "phoenix");
  ASSERT_OK_AND_ASSIGN(v1::Record tomb, db_->DeleteRecord("todos", "phoenix"));
  ASSERT_OK_AND_ASSIGN(v1::Record again, db_->Create("todos", {{"title", StringValue("second life")}},
                                                     "phoenix"));
  EXPECT_FALSE(again.deleted());
  EXPECT_EQ(GenerationOf(again.revision()), 3);
  EXPECT_THAT(again.attributes().at("title"), EqualsProto(StringValue("second life")));
  ASSERT_OK_AND_ASSIGN(v1::Record read, db_->GetRecord("todos", "phoenix"));
  EXPECT_THAT(read, EqualsProto(again));

  ASSERT_OK_AND_ASSIGN(v1::GetRecordHistoryResponse h, db_->GetRecordHistory("todos", "phoenix"));
  ASSERT_THAT(h.entries(), SizeIs(3));
  EXPECT_EQ(h.entries(0).record().revision(), again.revision());
  EXPECT_EQ(h.entries(0).parent_revision(), tomb.revision());
  EXPECT_TRUE(h.entries(0).leaf());
  EXPECT_FALSE(h.entries(1).leaf());
  EXPECT_EQ(h.entries(2).record().revision(), r.revision());

  ASSERT_OK_AND_ASSIGN(std::vector<v1::Record> all, db_->ListAll(List()));
  ASSERT_THAT(all, SizeIs(1));
  EXPECT_THAT(all[0], EqualsProto(again));
}

}  // namespace
}  // namespace recondb::testing
