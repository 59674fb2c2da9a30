// Request validation of every Database RPC through the service layer
// (daemon/database_service.h), in-process: a gRPC server with no port,
// reached through its in-process channel, over an engine on the memory
// backend, authentication off. Each input is a fresh node holding table
// "every" (a column of every type) and one record, then a sequence of
// frames: the tag picks the RPC (tag % 12, in the order of the service in
// database.proto), the bytes are its serialized request (a request that
// does not parse is skipped: the transport would refuse it). GetChanges
// never follows (it would wait for changes for ever).
// Invariants:
// - every call ends with a status; none is INTERNAL, UNKNOWN or DATA_LOSS
//   (bad input is the caller's fault and must be named as such);
// - an OK PutRecord or ResolveConflict is readable back: GetRecord of its
//   revision returns it with the same attributes;
// - an OK CreateTable or AddColumns is what GetTable then returns.
#include <memory>
#include <string>

#include "auth/authorizer.h"
#include "daemon/completion_queue_threads.h"
#include "daemon/database_service.h"
#include "daemon/worker_pool.h"
#include "engine/engine.h"
#include "fuzz/frames.h"
#include "fuzz/tables.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/server_builder.h"
#include "recondb/v1/database.grpc.pb.h"
#include "spdlog/sinks/null_sink.h"
#include "storage/memory_storage.h"

namespace recondb::fuzz {
namespace {

using google::protobuf::util::MessageDifferencer;

void Require(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "setup failed: %s\n", what.c_str());
    std::abort();
  }
}


// One node and its Database service, shut down in the daemon's order.
class Node {
 public:
  Node() {
    storage_ = storage::NewMemoryStorage();
    engine::EngineOptions options;
    options.storage = storage_.get();
    auto engine = engine::Engine::Open(options);
    Require(engine.ok(), engine.status().ToString());
    engine_ = *std::move(engine);
    pool_ = std::make_unique<daemon::WorkerPool>(1);
    auto authorizer = auth::Authorizer::Open(auth::AuthorizerOptions{});
    Require(authorizer.ok(), authorizer.status().ToString());
    authorizer_ = *std::move(authorizer);
    auto logger = std::make_shared<spdlog::logger>(
        "fuzz", std::make_shared<spdlog::sinks::null_sink_mt>());
    service_ = std::make_unique<daemon::DatabaseService>(engine_.get(), pool_.get(),
                                                         authorizer_.get(), logger);
    grpc::ServerBuilder builder;
    builder.RegisterService(service_.get());
    queue_ = builder.AddCompletionQueue();
    server_ = builder.BuildAndStart();
    Require(server_ != nullptr, "BuildAndStart");
    service_->StartUnaryCalls(queue_.get());
    queue_threads_ = std::make_unique<daemon::CompletionQueueThreads>(queue_.get(), 1);
    stub_ = v1::Database::NewStub(server_->InProcessChannel(grpc::ChannelArguments()));

    grpc::ClientContext context;
    v1::CreateTableRequest create;
    *create.mutable_table() = EveryTypeTable();
    v1::Table table;
    Require(stub_->CreateTable(&context, create, &table).ok(), "CreateTable");
    grpc::ClientContext put_context;
    v1::PutRecordRequest put;
    put.mutable_record()->set_table("every");
    put.mutable_record()->set_id("r1");
    (*put.mutable_record()->mutable_attributes())["s"].set_string("one");
    v1::Record record;
    Require(stub_->PutRecord(&put_context, put, &record).ok(), "PutRecord");
  }

  ~Node() {
    service_->BeginShutdown();
    server_->Shutdown();
    queue_threads_.reset();
    queue_.reset();
    server_.reset();
    pool_.reset();
    service_.reset();
    engine_.reset();
  }

  v1::Database::Stub& stub() { return *stub_; }

 private:
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<daemon::WorkerPool> pool_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  std::unique_ptr<daemon::DatabaseService> service_;
  std::unique_ptr<grpc::ServerCompletionQueue> queue_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<daemon::CompletionQueueThreads> queue_threads_;
  std::unique_ptr<v1::Database::Stub> stub_;
};

void CheckStatus(const char* method, const grpc::Status& status) {
  const auto code = status.error_code();
  FUZZ_CHECK(code != grpc::StatusCode::INTERNAL && code != grpc::StatusCode::UNKNOWN &&
                 code != grpc::StatusCode::DATA_LOSS,
             std::string(method) + " answered " + std::to_string(code) + ": " +
                 status.error_message());
}

template <typename Request>
bool Parse(std::string_view bytes, Request* request) {
  return request->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

// An OK write's record is what GetRecord of its revision returns.
void CheckReadable(v1::Database::Stub& stub, const v1::Record& written) {
  grpc::ClientContext context;
  v1::GetRecordRequest get;
  get.set_table(written.table());
  get.set_id(written.id());
  get.set_revision(written.revision());
  v1::Record read;
  const grpc::Status status = stub.GetRecord(&context, get, &read);
  FUZZ_CHECK(status.ok(), "an OK write is not readable: " + status.error_message());
  FUZZ_CHECK(read.revision() == written.revision(), "revision read back differs");
  FUZZ_CHECK(read.deleted() == written.deleted(), "deleted read back differs");
  FUZZ_CHECK(written.attributes().size() == read.attributes().size(),
             "attribute count read back differs");
  for (const auto& [name, value] : written.attributes()) {
    auto it = read.attributes().find(name);
    FUZZ_CHECK(it != read.attributes().end() &&
                   value.SerializeAsString() == it->second.SerializeAsString(),
               "attribute " + name + " read back differs");
  }
}

void CheckTable(v1::Database::Stub& stub, const v1::Table& table) {
  grpc::ClientContext context;
  v1::GetTableRequest get;
  get.set_name(table.name());
  v1::Table read;
  const grpc::Status status = stub.GetTable(&context, get, &read);
  FUZZ_CHECK(status.ok(), "an OK table change is not readable: " + status.error_message());
  FUZZ_CHECK(MessageDifferencer::Equals(read, table), "table read back differs");
}

void Call(v1::Database::Stub& stub, uint8_t method, std::string_view bytes) {
  grpc::ClientContext context;
  switch (method % 12) {
    case 0: {
      v1::CreateTableRequest request;
      v1::Table response;
      if (!Parse(bytes, &request)) return;
      const grpc::Status status = stub.CreateTable(&context, request, &response);
      CheckStatus("CreateTable", status);
      if (status.ok()) CheckTable(stub, response);
      return;
    }
    case 1: {
      v1::AddColumnsRequest request;
      v1::Table response;
      if (!Parse(bytes, &request)) return;
      const grpc::Status status = stub.AddColumns(&context, request, &response);
      CheckStatus("AddColumns", status);
      if (status.ok()) CheckTable(stub, response);
      return;
    }
    case 2: {
      v1::GetTableRequest request;
      v1::Table response;
      if (!Parse(bytes, &request)) return;
      CheckStatus("GetTable", stub.GetTable(&context, request, &response));
      return;
    }
    case 3: {
      v1::ListTablesRequest request;
      v1::ListTablesResponse response;
      if (!Parse(bytes, &request)) return;
      CheckStatus("ListTables", stub.ListTables(&context, request, &response));
      return;
    }
    case 4: {
      v1::PutRecordRequest request;
      v1::Record response;
      if (!Parse(bytes, &request)) return;
      const grpc::Status status = stub.PutRecord(&context, request, &response);
      CheckStatus("PutRecord", status);
      if (status.ok()) CheckReadable(stub, response);
      return;
    }
    case 5: {
      v1::GetRecordRequest request;
      v1::Record response;
      if (!Parse(bytes, &request)) return;
      CheckStatus("GetRecord", stub.GetRecord(&context, request, &response));
      return;
    }
    case 6: {
      v1::DeleteRecordRequest request;
      v1::Record response;
      if (!Parse(bytes, &request)) return;
      CheckStatus("DeleteRecord", stub.DeleteRecord(&context, request, &response));
      return;
    }
    case 7: {
      v1::ResolveConflictRequest request;
      v1::Record response;
      if (!Parse(bytes, &request)) return;
      const grpc::Status status = stub.ResolveConflict(&context, request, &response);
      CheckStatus("ResolveConflict", status);
      if (status.ok()) CheckReadable(stub, response);
      return;
    }
    case 8: {
      v1::ListRecordsRequest request;
      v1::ListRecordsResponse response;
      if (!Parse(bytes, &request)) return;
      CheckStatus("ListRecords", stub.ListRecords(&context, request, &response));
      return;
    }
    case 9: {
      v1::GetRecordHistoryRequest request;
      v1::GetRecordHistoryResponse response;
      if (!Parse(bytes, &request)) return;
      CheckStatus("GetRecordHistory", stub.GetRecordHistory(&context, request, &response));
      return;
    }
    case 10: {
      v1::GetChangesRequest request;
      if (!Parse(bytes, &request)) return;
      request.set_follow(false);
      std::unique_ptr<grpc::ClientReader<v1::Change>> reader = stub.GetChanges(&context, request);
      v1::Change change;
      while (reader->Read(&change)) {
      }
      CheckStatus("GetChanges", reader->Finish());
      return;
    }
    case 11: {
      v1::ImportRevisionsRequest request;
      v1::ImportRevisionsResponse response;
      if (!Parse(bytes, &request)) return;
      CheckStatus("ImportRevisions", stub.ImportRevisions(&context, request, &response));
      return;
    }
  }
}

}  // namespace
}  // namespace recondb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace recondb;
  const std::vector<fuzz::Frame> frames = fuzz::SplitFrames(data, size, 32);
  fuzz::Node node;
  for (const fuzz::Frame& f : frames) fuzz::Call(node.stub(), f.tag, f.bytes);
  return 0;
}
