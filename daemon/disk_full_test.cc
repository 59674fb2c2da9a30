// The Database service in-process over the SQLite backend on a disk that
// fills up (storage/testing/faulty_vfs.h): PutRecord on a full disk answers
// RESOURCE_EXHAUSTED in words a user understands, reads keep working, and
// writes work again, on the same running service, once space returns.
//
// recondbd itself cannot be put on the faulty VFS without a hidden product
// flag, which it does not have; the service, engine and storage here are the
// daemon's own classes, wired as daemon.cc wires them, so this test stands in
// for it (docs/reliability.md, "Fault injection: the SQLite file system").
#include <memory>
#include <string>

#include "daemon/completion_queue_threads.h"
#include "daemon/database_service.h"
#include "daemon/server_builder.h"
#include "daemon/worker_pool.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "recondb/v1/database.grpc.pb.h"
#include "spdlog/sinks/ringbuffer_sink.h"
#include "storage/sqlite_storage.h"
#include "storage/testing/faulty_vfs.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace recondb::daemon {
namespace {

using ::recondb::storage::testing::FaultyOp;
using ::recondb::storage::testing::FaultyVfs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto kDeadline = std::chrono::seconds(30);

v1::Table NotesTable() {
  v1::Table table;
  table.set_name("notes");
  v1::Column* body = table.add_columns();
  body->set_name("body");
  body->set_type(v1::COLUMN_TYPE_STRING);
  body->set_nullable(true);
  return table;
}

v1::Record Note(const std::string& id) {
  v1::Record record;
  record.set_table("notes");
  record.set_id(id);
  (*record.mutable_attributes())["body"].set_string(std::string(2000, 'x'));
  return record;
}

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FaultyVfs::Get().Reset();
    storage::SqliteOptions sqlite;
    sqlite.path = dir_.File("recondb.sqlite3");
    sqlite.vfs = storage::testing::kFaultyVfsName;
    ASSERT_OK_AND_ASSIGN(storage_, storage::OpenSqliteStorage(sqlite));
    engine::EngineOptions options;
    options.storage = storage_.get();
    ASSERT_OK_AND_ASSIGN(engine_, engine::Engine::Open(options));
    pool_ = std::make_unique<WorkerPool>(2);
    log_ = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(100);
    auto logger = std::make_shared<spdlog::logger>("test", log_);
    logger->set_level(spdlog::level::debug);
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

  void TearDown() override {
    if (server_ != nullptr) {
      service_->BeginShutdown();
      server_->Shutdown(std::chrono::system_clock::now() + kDeadline);
    }
    queue_threads_.reset();
    queue_.reset();
    server_.reset();
    pool_.reset();
    service_.reset();
    engine_.reset();
    storage_.reset();
    FaultyVfs::Get().Reset();
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

  grpc::Status Put(const v1::Record& record) {
    v1::PutRecordRequest request;
    *request.mutable_record() = record;
    v1::Record response;
    return stub_->PutRecord(Context().get(), request, &response);
  }

  grpc::Status Get(const std::string& id) {
    v1::GetRecordRequest request;
    request.set_table("notes");
    request.set_id(id);
    v1::Record response;
    return stub_->GetRecord(Context().get(), request, &response);
  }

  grpc::Status List(int* count) {
    v1::ListRecordsRequest request;
    request.set_table("notes");
    v1::ListRecordsResponse response;
    grpc::Status status = stub_->ListRecords(Context().get(), request, &response);
    *count = response.records_size();
    return status;
  }

  // The lines logged at error level or above that contain `text`.
  int ErrorLines(const std::string& text) {
    int lines = 0;
    for (const spdlog::details::log_msg_buffer& line : log_->last_raw()) {
      const std::string_view payload(line.payload.data(), line.payload.size());
      if (line.level >= spdlog::level::err && payload.find(text) != std::string_view::npos) ++lines;
    }
    return lines;
  }

  recondb::testing::TempDir dir_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> log_;
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

TEST_F(DiskFullTest, PutOnFullDiskIsResourceExhaustedReadsWorkAndWritesResume) {
  ASSERT_TRUE(CreateTable(NotesTable()).ok());
  ASSERT_TRUE(Put(Note("before")).ok());

  FaultyVfs::Get().SetFreeSpace(0);
  for (int i = 0; i < 3; ++i) {
    const grpc::Status status = Put(Note("while-full-" + std::to_string(i)));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr("disk holding the database is full"));
    // Nothing of SQLite's: no statement, no result code.
    EXPECT_THAT(status.error_message(), Not(HasSubstr("sqlite")));
    EXPECT_THAT(status.error_message(), Not(HasSubstr("INSERT")));
  }
  EXPECT_GT(FaultyVfs::Get().full_failures(), 0);
  // The operator sees it at error level, though the code is the one a
  // client's over-limit request gets (logged at debug).
  EXPECT_GE(ErrorLines("disk holding the database is full"), 3);
  // Reads keep working on the full disk.
  EXPECT_TRUE(Get("before").ok());
  EXPECT_EQ(Get("while-full-0").error_code(), grpc::StatusCode::NOT_FOUND);
  int count = 0;
  ASSERT_TRUE(List(&count).ok());
  EXPECT_EQ(count, 1);

  // Space returns: the same daemon writes again, no restart.
  FaultyVfs::Get().AddFreeSpace(1 << 20);
  const grpc::Status after = Put(Note("after"));
  EXPECT_TRUE(after.ok()) << after.error_message();
  EXPECT_TRUE(Get("after").ok());
  FaultyVfs::Get().UnlimitedSpace();
  EXPECT_TRUE(Put(Note("while-full-0")).ok());
  ASSERT_TRUE(List(&count).ok());
  EXPECT_EQ(count, 3);
}

// A failed disk write or sync (EIO) answers UNAVAILABLE (retry later), and
// the next write after the fault succeeds.
TEST_F(DiskFullTest, FailedWriteOrSyncIsUnavailableAndTheNextPutWorks) {
  ASSERT_TRUE(CreateTable(NotesTable()).ok());
  for (const FaultyOp op : {FaultyOp::kWrite, FaultyOp::kSync}) {
    const std::string id = op == FaultyOp::kWrite ? "write" : "sync";
    FaultyVfs::Get().FailNth(op, 1);
    const grpc::Status failed = Put(Note(id));
    EXPECT_EQ(failed.error_code(), grpc::StatusCode::UNAVAILABLE) << failed.error_message();
    EXPECT_EQ(Get(id).error_code(), grpc::StatusCode::NOT_FOUND);
    const grpc::Status retried = Put(Note(id));
    EXPECT_TRUE(retried.ok()) << retried.error_message();
    EXPECT_TRUE(Get(id).ok());
  }
}

}  // namespace
}  // namespace recondb::daemon
