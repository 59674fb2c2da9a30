// The Database service in-process: a real grpc::Server on a free loopback
// port over the memory backend, driven through a real stub.
#include "daemon/database_service.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/null_logger.h"
#include "daemon/completion_queue_threads.h"
#include "daemon/server_builder.h"
#include "daemon/worker_pool.h"
#include "engine/engine.h"
#include "engine/revision.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "recondb/v1/database.grpc.pb.h"
#include "storage/memory_storage.h"
#include "tests/support/status_matchers.h"

namespace recondb::daemon {
namespace {

using ::testing::HasSubstr;

constexpr auto kDeadline = std::chrono::seconds(30);

v1::Table TodosTable(const std::string& name = "todos") {
  v1::Table table;
  table.set_name(name);
  v1::Column* title = table.add_columns();
  title->set_name("title");
  title->set_type(v1::COLUMN_TYPE_STRING);
  title->set_nullable(true);
  return table;
}

v1::Record Todo(const std::string& table, const std::string& id, const std::string& title) {
  v1::Record record;
  record.set_table(table);
  record.set_id(id);
  (*record.mutable_attributes())["title"].set_string(title);
  return record;
}

class DatabaseServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage_ = storage::NewMemoryStorage();
    engine::EngineOptions options;
    options.storage = storage_.get();
    ASSERT_OK_AND_ASSIGN(engine_, engine::Engine::Open(options));
    pool_ = std::make_unique<WorkerPool>(4);
    auto logger = NullLogger("test");
    ASSERT_OK_AND_ASSIGN(authorizer_, auth::Authorizer::Open(auth::AuthorizerOptions{}));
    service_ =
        std::make_unique<DatabaseService>(engine_.get(), pool_.get(), authorizer_.get(), logger);
    ServerOptions server_options;
    server_options.listen = "127.0.0.1:0";
    server_options.unary_call_queue = true;
    ASSERT_OK_AND_ASSIGN(
        StartedServer started,
        StartGrpcServer(server_options, {{"recondb.v1.Database", service_.get()}}));
    server_ = std::move(started.server);
    queue_ = std::move(started.unary_call_queue);
    service_->StartUnaryCalls(queue_.get());
    queue_threads_ = std::make_unique<CompletionQueueThreads>(queue_.get(), 2);
    stub_ = v1::Database::NewStub(
        grpc::CreateChannel(started.address, grpc::InsecureChannelCredentials()));
  }

  void TearDown() override { Stop(); }

  // The daemon's shutdown order.
  void Stop() {
    if (server_ == nullptr) return;
    service_->BeginShutdown();
    server_->Shutdown(std::chrono::system_clock::now() + kDeadline);
    queue_threads_.reset();
    queue_.reset();
    server_.reset();
    pool_.reset();
    service_.reset();
    engine_.reset();
    storage_.reset();
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + kDeadline);
    return context;
  }

  grpc::Status CreateTable(const v1::Table& table) {
    v1::CreateTableRequest request;
    *request.mutable_table() = table;
    v1::Table response;
    return stub_->CreateTable(Context().get(), request, &response);
  }

  grpc::Status Put(const v1::Record& record, v1::Record* out = nullptr) {
    v1::PutRecordRequest request;
    *request.mutable_record() = record;
    v1::Record response;
    return stub_->PutRecord(Context().get(), request, out != nullptr ? out : &response);
  }

  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<WorkerPool> pool_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  std::unique_ptr<DatabaseService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::ServerCompletionQueue> queue_;
  std::unique_ptr<CompletionQueueThreads> queue_threads_;
  std::unique_ptr<v1::Database::Stub> stub_;
};

TEST_F(DatabaseServiceTest, PutThenGetRoundTrip) {
  ASSERT_TRUE(CreateTable(TodosTable()).ok());
  v1::Record put;
  ASSERT_TRUE(Put(Todo("todos", "t1", "Buy water filters"), &put).ok());
  EXPECT_EQ(put.id(), "t1");
  EXPECT_THAT(put.revision(), ::testing::StartsWith("1-"));

  v1::GetRecordRequest request;
  request.set_table("todos");
  request.set_id("t1");
  v1::Record got;
  grpc::Status status = stub_->GetRecord(Context().get(), request, &got);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(got.revision(), put.revision());
  EXPECT_EQ(got.attributes().at("title").string(), "Buy water filters");
}

TEST_F(DatabaseServiceTest, ListTablesWrapsTheEnginesList) {
  ASSERT_TRUE(CreateTable(TodosTable("a")).ok());
  ASSERT_TRUE(CreateTable(TodosTable("b")).ok());
  v1::ListTablesResponse response;
  ASSERT_TRUE(stub_->ListTables(Context().get(), v1::ListTablesRequest(), &response).ok());
  ASSERT_EQ(response.tables_size(), 2);
  EXPECT_EQ(response.tables(0).name(), "a");
  EXPECT_EQ(response.tables(1).name(), "b");
}

TEST_F(DatabaseServiceTest, MissingRecordIsInvalidArgument) {
  v1::Record response;
  grpc::Status status = stub_->PutRecord(Context().get(), v1::PutRecordRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("record"));
}

TEST_F(DatabaseServiceTest, MissingTableIsInvalidArgument) {
  v1::Table response;
  grpc::Status status = stub_->CreateTable(Context().get(), v1::CreateTableRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("table"));
}

TEST_F(DatabaseServiceTest, EngineErrorsKeepTheirCodeAndMessage) {
  v1::GetTableRequest request;
  request.set_name("nowhere");
  v1::Table response;
  grpc::Status status = stub_->GetTable(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("nowhere"));
}

TEST_F(DatabaseServiceTest, MissingRecordOfResolveConflictIsInvalidArgument) {
  v1::Record response;
  grpc::Status status =
      stub_->ResolveConflict(Context().get(), v1::ResolveConflictRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("record"));
}

// A conflict made with ImportRevisions (as replication would), listed with
// its values, then resolved: the RPCs carry the engine's results and codes.
TEST_F(DatabaseServiceTest, ConflictsAreListedWithValuesAndResolved) {
  ASSERT_TRUE(CreateTable(TodosTable()).ok());
  v1::Record base;
  ASSERT_TRUE(Put(Todo("todos", "t1", "base"), &base).ok());
  v1::ImportRevisionsRequest import;
  std::vector<std::string> edits;
  for (const char* title : {"edit a", "edit b"}) {
    v1::HistoryEntry* entry = import.add_revisions();
    *entry->mutable_record() = Todo("todos", "t1", title);
    entry->set_parent_revision(base.revision());
    const storage::Attributes attributes(entry->record().attributes().begin(),
                                         entry->record().attributes().end());
    entry->mutable_record()->set_revision(
        engine::ComputeRevision(2, {"todos", "t1", base.revision(), false, &attributes}));
    edits.push_back(entry->record().revision());
  }
  v1::ImportRevisionsResponse imported;
  ASSERT_TRUE(stub_->ImportRevisions(Context().get(), import, &imported).ok());
  std::sort(edits.begin(), edits.end());  // [1] wins: greater hash.

  v1::GetRecordRequest get;
  get.set_table("todos");
  get.set_id("t1");
  get.set_include_conflicts(true);
  v1::Record winner;
  ASSERT_TRUE(stub_->GetRecord(Context().get(), get, &winner).ok());
  EXPECT_EQ(winner.revision(), edits[1]);
  ASSERT_EQ(winner.conflict_records_size(), 1);
  EXPECT_EQ(winner.conflict_records(0).revision(), edits[0]);
  EXPECT_TRUE(winner.conflict_records(0).attributes().contains("title"));

  v1::ResolveConflictRequest resolve;
  *resolve.mutable_record() = Todo("todos", "t1", "merged");
  resolve.mutable_record()->set_revision(edits[0]);  // Not the winner.
  v1::Record resolved;
  grpc::Status status = stub_->ResolveConflict(Context().get(), resolve, &resolved);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_THAT(status.error_message(), HasSubstr(edits[1]));
  resolve.mutable_record()->set_revision(edits[1]);
  resolve.mutable_update_mask()->add_paths("title");
  status = stub_->ResolveConflict(Context().get(), resolve, &resolved);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(resolved.revision(), ::testing::StartsWith("3-"));
  EXPECT_EQ(resolved.attributes().at("title").string(), "merged");
  ASSERT_TRUE(stub_->GetRecord(Context().get(), get, &winner).ok());
  EXPECT_EQ(winner.revision(), resolved.revision());
  EXPECT_EQ(winner.conflicts_size(), 0);
  EXPECT_EQ(winner.conflict_records_size(), 0);
}

// ImportRevisions keeps the audit trail a revision carries, stores none when
// it carries none, and refuses a bad one naming the field; GetRecordHistory
// shows it.
TEST_F(DatabaseServiceTest, ImportRevisionsKeepsTheAuditItIsGiven) {
  ASSERT_TRUE(CreateTable(TodosTable()).ok());
  auto entry_for = [](const std::string& id) {
    v1::HistoryEntry entry;
    *entry.mutable_record() = Todo("todos", id, "imported");
    const storage::Attributes attributes(entry.record().attributes().begin(),
                                         entry.record().attributes().end());
    entry.mutable_record()->set_revision(
        engine::ComputeRevision(1, {"todos", id, "", false, &attributes}));
    return entry;
  };
  v1::ImportRevisionsRequest import;
  v1::HistoryEntry* audited = import.add_revisions();
  *audited = entry_for("t1");
  audited->set_author("alice");
  audited->set_origin_node("0b4e7c52-8f3d-4a8e-9c61-2f1d3e4a5b6c");
  audited->mutable_create_time()->set_seconds(1767225600);
  audited->mutable_create_time()->set_nanos(123456000);
  *import.add_revisions() = entry_for("t2");  // No audit.
  v1::ImportRevisionsResponse imported;
  ASSERT_TRUE(stub_->ImportRevisions(Context().get(), import, &imported).ok());
  for (const char* id : {"t1", "t2"}) {
    v1::GetRecordHistoryRequest request;
    request.set_table("todos");
    request.set_id(id);
    v1::GetRecordHistoryResponse history;
    ASSERT_TRUE(stub_->GetRecordHistory(Context().get(), request, &history).ok());
    ASSERT_EQ(history.entries_size(), 1);
    const v1::HistoryEntry& e = history.entries(0);
    if (std::string(id) == "t1") {
      EXPECT_EQ(e.author(), "alice");
      EXPECT_EQ(e.origin_node(), "0b4e7c52-8f3d-4a8e-9c61-2f1d3e4a5b6c");
      EXPECT_EQ(e.create_time().seconds(), 1767225600);
      EXPECT_EQ(e.create_time().nanos(), 123456000);
    } else {
      EXPECT_EQ(e.author(), "");
      EXPECT_EQ(e.origin_node(), "");
      EXPECT_FALSE(e.has_create_time());
    }
  }
  // Forged or malformed: the field is named, nothing is imported.
  for (const auto& [field, forge] :
       std::vector<std::pair<std::string, std::function<void(v1::HistoryEntry&)>>>{
           {"author", [](v1::HistoryEntry& e) { e.set_author("Root Admin"); }},
           {"origin_node", [](v1::HistoryEntry& e) { e.set_origin_node("laptop-7"); }},
           {"create_time", [](v1::HistoryEntry& e) { e.mutable_create_time()->set_nanos(1); }},
           {"create_time", [](v1::HistoryEntry& e) { e.mutable_create_time()->set_seconds(-1); }},
       }) {
    v1::ImportRevisionsRequest bad;
    v1::HistoryEntry* entry = bad.add_revisions();
    *entry = entry_for("t3");
    entry->set_author("alice");
    entry->set_origin_node("0b4e7c52-8f3d-4a8e-9c61-2f1d3e4a5b6c");
    entry->mutable_create_time()->set_seconds(1767225600);
    forge(*entry);
    grpc::Status status = stub_->ImportRevisions(Context().get(), bad, &imported);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_THAT(status.error_message(), HasSubstr(field));
  }
  v1::GetRecordRequest get;
  get.set_table("todos");
  get.set_id("t3");
  v1::Record none;
  EXPECT_EQ(stub_->GetRecord(Context().get(), get, &none).error_code(), grpc::StatusCode::NOT_FOUND);
}

// Reads the stream to its end; returns the changes and sets *status.
std::vector<v1::Change> ReadAll(grpc::ClientReader<v1::Change>& reader, grpc::Status* status) {
  std::vector<v1::Change> changes;
  v1::Change change;
  while (reader.Read(&change)) changes.push_back(change);
  *status = reader.Finish();
  return changes;
}

TEST_F(DatabaseServiceTest, GetChangesNegativeSinceIsInvalidArgument) {
  v1::GetChangesRequest request;
  request.set_since(-1);
  auto context = Context();
  auto reader = stub_->GetChanges(context.get(), request);
  grpc::Status status;
  EXPECT_TRUE(ReadAll(*reader, &status).empty());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("since"));
}

TEST_F(DatabaseServiceTest, GetChangesUnknownTableIsNotFound) {
  v1::GetChangesRequest request;
  request.add_tables("ghosts");
  request.set_follow(true);
  auto context = Context();
  auto reader = stub_->GetChanges(context.get(), request);
  grpc::Status status;
  EXPECT_TRUE(ReadAll(*reader, &status).empty());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("ghosts"));
}

TEST_F(DatabaseServiceTest, GetChangesWithoutFollowPagesThroughTheFeedAndEnds) {
  ASSERT_TRUE(CreateTable(TodosTable()).ok());
  const int kRecords = 2 * ChangeStream::kBatchSize + 17;
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_TRUE(Put(Todo("todos", "r" + std::to_string(i), "x")).ok());
  }
  v1::GetChangesRequest request;
  auto context = Context();
  auto reader = stub_->GetChanges(context.get(), request);
  grpc::Status status;
  std::vector<v1::Change> changes = ReadAll(*reader, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(changes.size(), static_cast<size_t>(kRecords + 1));  // + the table.
  EXPECT_EQ(changes[0].kind(), v1::CHANGE_KIND_TABLE);
  for (size_t i = 1; i < changes.size(); ++i) {
    EXPECT_LT(changes[i - 1].seq(), changes[i].seq());
    EXPECT_EQ(changes[i].kind(), v1::CHANGE_KIND_RECORD);
  }
}

TEST_F(DatabaseServiceTest, GetChangesSinceSkipsOlderChanges) {
  ASSERT_TRUE(CreateTable(TodosTable()).ok());
  ASSERT_TRUE(Put(Todo("todos", "old", "x")).ok());
  const int64_t since = engine_->LastSeq();
  ASSERT_TRUE(Put(Todo("todos", "new", "x")).ok());
  v1::GetChangesRequest request;
  request.set_since(since);
  auto context = Context();
  auto reader = stub_->GetChanges(context.get(), request);
  grpc::Status status;
  std::vector<v1::Change> changes = ReadAll(*reader, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].id(), "new");
}

TEST_F(DatabaseServiceTest, FollowReceivesAWriteMadeAfterTheStreamOpened) {
  ASSERT_TRUE(CreateTable(TodosTable()).ok());
  ASSERT_TRUE(Put(Todo("todos", "before", "x")).ok());
  v1::GetChangesRequest request;
  request.set_follow(true);
  auto context = Context();
  auto reader = stub_->GetChanges(context.get(), request);
  v1::Change change;
  ASSERT_TRUE(reader->Read(&change));
  EXPECT_EQ(change.kind(), v1::CHANGE_KIND_TABLE);
  ASSERT_TRUE(reader->Read(&change));
  EXPECT_EQ(change.id(), "before");
  // The stream has caught up: only the engine's listener can wake it now.
  v1::Record after;
  ASSERT_TRUE(Put(Todo("todos", "after", "y"), &after).ok());
  ASSERT_TRUE(reader->Read(&change));
  EXPECT_EQ(change.id(), "after");
  EXPECT_EQ(change.revision(), after.revision());
  EXPECT_EQ(change.table(), "todos");

  context->TryCancel();
  grpc::Status status;
  ReadAll(*reader, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(DatabaseServiceTest, FollowOnATableIgnoresOtherTables) {
  ASSERT_TRUE(CreateTable(TodosTable("a")).ok());
  ASSERT_TRUE(CreateTable(TodosTable("b")).ok());
  v1::GetChangesRequest request;
  request.set_since(engine_->LastSeq());
  request.add_tables("a");
  request.set_follow(true);
  auto context = Context();
  auto reader = stub_->GetChanges(context.get(), request);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Put(Todo("b", "b" + std::to_string(i), "x")).ok());
  ASSERT_TRUE(Put(Todo("a", "a0", "x")).ok());
  v1::Change change;
  ASSERT_TRUE(reader->Read(&change));
  EXPECT_EQ(change.table(), "a");
  EXPECT_EQ(change.id(), "a0");
  context->TryCancel();
  grpc::Status status;
  ReadAll(*reader, &status);
}

TEST_F(DatabaseServiceTest, ShutdownEndsFollowStreamsWithUnavailable) {
  ASSERT_TRUE(CreateTable(TodosTable()).ok());
  v1::GetChangesRequest request;
  request.set_follow(true);
  auto context = Context();
  auto reader = stub_->GetChanges(context.get(), request);
  v1::Change change;
  ASSERT_TRUE(reader->Read(&change));  // The stream is open and caught up.

  Stop();  // Returns only if the follow stream ended.
  grpc::Status status;
  EXPECT_TRUE(ReadAll(*reader, &status).empty());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("shutting down"));
}

TEST_F(DatabaseServiceTest, ManyFollowStreamsAllSeeEachWrite) {
  ASSERT_TRUE(CreateTable(TodosTable()).ok());
  const int64_t since = engine_->LastSeq();
  constexpr int kStreams = 8;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::Change>>> readers;
  v1::GetChangesRequest request;
  request.set_since(since);
  request.set_follow(true);
  for (int i = 0; i < kStreams; ++i) {
    contexts.push_back(Context());
    readers.push_back(stub_->GetChanges(contexts.back().get(), request));
  }
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Put(Todo("todos", "r" + std::to_string(i), "x")).ok());
  for (auto& reader : readers) {
    for (int i = 0; i < 3; ++i) {
      v1::Change change;
      ASSERT_TRUE(reader->Read(&change));
      EXPECT_EQ(change.id(), "r" + std::to_string(i));
    }
  }
  Stop();
  for (auto& reader : readers) {
    grpc::Status status;
    ReadAll(*reader, &status);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  }
}

}  // namespace
}  // namespace recondb::daemon
