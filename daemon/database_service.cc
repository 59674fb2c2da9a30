#include "daemon/database_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "daemon/replication_access.h"
#include "daemon/rpc_logging.h"
#include "daemon/status_conversion.h"
#include "engine/revision.h"

namespace recondb::daemon {

DatabaseService::DatabaseService(engine::Engine* engine, WorkerPool* pool,
                                 std::shared_ptr<spdlog::logger> logger, StreamLimiter* limiter,
                                 const auth::Authorizer* authorizer)
    : engine_(engine),
      pool_(pool),
      logger_(std::move(logger)),
      limiter_(limiter),
      authorizer_(authorizer) {}

void DatabaseService::BeginShutdown() { streams_.ShutdownAll(); }

template <typename Request, typename Response, typename RequestNext, typename Call>
void DatabaseService::Serve(grpc::ServerCompletionQueue* queue, const char* method,
                            RequestNext request_next, Call call) {
  auto unary = std::make_shared<UnaryMethod<Request, Response>>();
  unary->queue = queue;
  unary->request_next = [this, request_next](grpc::ServerContext* context, Request* request,
                                             grpc::ServerAsyncResponseWriter<Response>* responder,
                                             grpc::ServerCompletionQueue* queue, void* tag) {
    (this->*request_next)(context, request, responder, queue, queue, tag);
  };
  unary->handle = [this, method, call](const Request& request, Response* response) {
    absl::StatusOr<Response> result = call(request);
    if (!result.ok()) {
      LogRpcFailure(*logger_, method, result.status());
      return ToGrpcStatus(result.status());
    }
    *response = *std::move(result);
    return grpc::Status::OK;
  };
  AsyncUnaryCall<Request, Response>::Start(unary.get());
  unary_methods_.push_back(std::move(unary));
}

void DatabaseService::StartUnaryCalls(grpc::ServerCompletionQueue* queue) {
  using Self = DatabaseService;
  Serve<v1::CreateTableRequest, v1::Table>(
      queue, "CreateTable", &Self::RequestCreateTable,
      [this](const v1::CreateTableRequest& r) { return CreateTable(r); });
  Serve<v1::AddColumnsRequest, v1::Table>(
      queue, "AddColumns", &Self::RequestAddColumns,
      [this](const v1::AddColumnsRequest& r) { return AddColumns(r); });
  Serve<v1::GetTableRequest, v1::Table>(
      queue, "GetTable", &Self::RequestGetTable,
      [this](const v1::GetTableRequest& r) { return engine_->GetTable(r.name()); });
  Serve<v1::ListTablesRequest, v1::ListTablesResponse>(
      queue, "ListTables", &Self::RequestListTables,
      [this](const v1::ListTablesRequest&) { return ListTables(); });
  Serve<v1::PutRecordRequest, v1::Record>(
      queue, "PutRecord", &Self::RequestPutRecord,
      [this](const v1::PutRecordRequest& r) { return PutRecord(r); });
  Serve<v1::ResolveConflictRequest, v1::Record>(
      queue, "ResolveConflict", &Self::RequestResolveConflict,
      [this](const v1::ResolveConflictRequest& r) { return ResolveConflict(r); });
  Serve<v1::GetRecordRequest, v1::Record>(
      queue, "GetRecord", &Self::RequestGetRecord,
      [this](const v1::GetRecordRequest& r) { return engine_->GetRecord(r); });
  Serve<v1::DeleteRecordRequest, v1::Record>(
      queue, "DeleteRecord", &Self::RequestDeleteRecord,
      [this](const v1::DeleteRecordRequest& r) { return engine_->DeleteRecord(r); });
  Serve<v1::ListRecordsRequest, v1::ListRecordsResponse>(
      queue, "ListRecords", &Self::RequestListRecords,
      [this](const v1::ListRecordsRequest& r) { return engine_->ListRecords(r); });
  Serve<v1::GetRecordHistoryRequest, v1::GetRecordHistoryResponse>(
      queue, "GetRecordHistory", &Self::RequestGetRecordHistory,
      [this](const v1::GetRecordHistoryRequest& r) { return engine_->GetRecordHistory(r); });
  Serve<v1::ImportRevisionsRequest, v1::ImportRevisionsResponse>(
      queue, "ImportRevisions", &Self::RequestImportRevisions,
      [this](const v1::ImportRevisionsRequest& r) { return ImportRevisions(r); });
}

namespace {

absl::Status MissingField(const char* field) {
  return absl::InvalidArgumentError(absl::StrCat("missing field: ", field));
}

}  // namespace

absl::StatusOr<v1::Table> DatabaseService::CreateTable(const v1::CreateTableRequest& request) {
  if (!request.has_table()) return MissingField("table");
  return engine_->CreateTable(request.table());
}

absl::StatusOr<v1::Table> DatabaseService::AddColumns(const v1::AddColumnsRequest& request) {
  const std::vector<v1::Column> columns(request.columns().begin(), request.columns().end());
  return engine_->AddColumns(request.table(), columns);
}

absl::StatusOr<v1::ListTablesResponse> DatabaseService::ListTables() {
  ASSIGN_OR_RETURN(std::vector<v1::Table> tables, engine_->ListTables());
  v1::ListTablesResponse out;
  for (v1::Table& t : tables) *out.add_tables() = std::move(t);
  return out;
}

absl::StatusOr<v1::Record> DatabaseService::PutRecord(const v1::PutRecordRequest& request) {
  if (!request.has_record()) return MissingField("record");
  return engine_->PutRecord(request.record(),
                            request.has_update_mask() ? &request.update_mask() : nullptr);
}

absl::StatusOr<v1::Record> DatabaseService::ResolveConflict(
    const v1::ResolveConflictRequest& request) {
  if (!request.has_record()) return MissingField("record");
  return engine_->ResolveConflict(request.record(),
                                  request.has_update_mask() ? &request.update_mask() : nullptr);
}

namespace {

// The engine's form of an imported revision; the generation comes from the
// revision id (INVALID_ARGUMENT if malformed). The engine checks the rest.
absl::StatusOr<std::vector<engine::ForeignRevision>> ToForeignRevisions(
    const v1::ImportRevisionsRequest& request) {
  std::vector<engine::ForeignRevision> revisions;
  revisions.reserve(request.revisions_size());
  for (const v1::HistoryEntry& entry : request.revisions()) {
    const v1::Record& record = entry.record();
    absl::StatusOr<engine::RevisionId> parsed = engine::ParseRevision(record.revision());
    if (!parsed.ok()) return parsed.status();
    engine::ForeignRevision& out = revisions.emplace_back();
    out.table = record.table();
    out.rev.id = record.id();
    out.rev.revision = record.revision();
    out.rev.parent = entry.parent_revision();
    out.rev.generation = parsed->generation;
    out.rev.deleted = record.deleted();
    out.rev.stub = entry.stub();
    out.rev.attributes.insert(record.attributes().begin(), record.attributes().end());
  }
  return revisions;
}

}  // namespace

absl::StatusOr<v1::ImportRevisionsResponse> DatabaseService::ImportRevisions(
    const v1::ImportRevisionsRequest& request) {
  ASSIGN_OR_RETURN(std::vector<engine::ForeignRevision> revisions, ToForeignRevisions(request));
  ASSIGN_OR_RETURN(int64_t imported, engine_->ApplyForeignRevisions(revisions));
  v1::ImportRevisionsResponse out;
  out.set_imported(imported);
  return out;
}

grpc::ServerWriteReactor<v1::Change>* DatabaseService::GetChanges(
    grpc::CallbackServerContext* context, const v1::GetChangesRequest* request) {
  absl::StatusOr<StreamLimiter::Lease> lease = StreamLimiter::Lease();
  if (limiter_ != nullptr) {
    absl::StatusOr<std::string> key = CallerStreamKey(authorizer_, *context);
    lease = key.ok() ? limiter_->Acquire(*key) : key.status();
  }
  return new ChangeStream(engine_, pool_, &streams_, logger_, *request, std::move(lease));
}

}  // namespace recondb::daemon
