#include "daemon/database_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/rpc_logging.h"
#include "daemon/status_conversion.h"
#include "engine/revision.h"

namespace recondb::daemon {

DatabaseService::DatabaseService(engine::Engine* engine, WorkerPool* pool,
                                 std::shared_ptr<spdlog::logger> logger)
    : engine_(engine), pool_(pool), logger_(std::move(logger)) {}

void DatabaseService::BeginShutdown() { streams_.ShutdownAll(); }

template <typename Response, typename Call>
grpc::ServerUnaryReactor* DatabaseService::RunOnPool(grpc::CallbackServerContext* context,
                                                     const char* method, Response* response,
                                                     Call call) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  pool_->Schedule([this, context, reactor, method, response, call = std::move(call)]() {
    // A call whose client gave up (deadline, cancel) while it was queued is
    // not worth a transaction.
    if (context->IsCancelled()) {
      reactor->Finish(grpc::Status::CANCELLED);
      return;
    }
    absl::StatusOr<Response> result = call();
    if (!result.ok()) {
      LogRpcFailure(*logger_, method, result.status());
      reactor->Finish(ToGrpcStatus(result.status()));
      return;
    }
    *response = std::move(result).value();
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* DatabaseService::MissingField(grpc::CallbackServerContext* context,
                                                        const char* method, const char* field) {
  const absl::Status status = absl::InvalidArgumentError(absl::StrCat("missing field: ", field));
  LogRpcFailure(*logger_, method, status);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

grpc::ServerUnaryReactor* DatabaseService::CreateTable(grpc::CallbackServerContext* context,
                                                       const v1::CreateTableRequest* request,
                                                       v1::Table* response) {
  if (!request->has_table()) return MissingField(context, "CreateTable", "table");
  return RunOnPool(context, "CreateTable", response,
                   [this, request] { return engine_->CreateTable(request->table()); });
}

grpc::ServerUnaryReactor* DatabaseService::AddColumns(grpc::CallbackServerContext* context,
                                                      const v1::AddColumnsRequest* request,
                                                      v1::Table* response) {
  return RunOnPool(context, "AddColumns", response, [this, request] {
    const std::vector<v1::Column> columns(request->columns().begin(), request->columns().end());
    return engine_->AddColumns(request->table(), columns);
  });
}

grpc::ServerUnaryReactor* DatabaseService::GetTable(grpc::CallbackServerContext* context,
                                                    const v1::GetTableRequest* request,
                                                    v1::Table* response) {
  return RunOnPool(context, "GetTable", response,
                   [this, request] { return engine_->GetTable(request->name()); });
}

grpc::ServerUnaryReactor* DatabaseService::ListTables(grpc::CallbackServerContext* context,
                                                      const v1::ListTablesRequest* request,
                                                      v1::ListTablesResponse* response) {
  return RunOnPool(context, "ListTables", response,
                   [this]() -> absl::StatusOr<v1::ListTablesResponse> {
                     absl::StatusOr<std::vector<v1::Table>> tables = engine_->ListTables();
                     if (!tables.ok()) return tables.status();
                     v1::ListTablesResponse out;
                     for (v1::Table& t : *tables) *out.add_tables() = std::move(t);
                     return out;
                   });
}

grpc::ServerUnaryReactor* DatabaseService::PutRecord(grpc::CallbackServerContext* context,
                                                     const v1::PutRecordRequest* request,
                                                     v1::Record* response) {
  if (!request->has_record()) return MissingField(context, "PutRecord", "record");
  return RunOnPool(context, "PutRecord", response, [this, request] {
    return engine_->PutRecord(request->record(),
                              request->has_update_mask() ? &request->update_mask() : nullptr);
  });
}

grpc::ServerUnaryReactor* DatabaseService::ResolveConflict(
    grpc::CallbackServerContext* context, const v1::ResolveConflictRequest* request,
    v1::Record* response) {
  if (!request->has_record()) return MissingField(context, "ResolveConflict", "record");
  return RunOnPool(context, "ResolveConflict", response, [this, request] {
    return engine_->ResolveConflict(request->record(),
                                    request->has_update_mask() ? &request->update_mask() : nullptr);
  });
}

grpc::ServerUnaryReactor* DatabaseService::GetRecord(grpc::CallbackServerContext* context,
                                                     const v1::GetRecordRequest* request,
                                                     v1::Record* response) {
  return RunOnPool(context, "GetRecord", response,
                   [this, request] { return engine_->GetRecord(*request); });
}

grpc::ServerUnaryReactor* DatabaseService::DeleteRecord(grpc::CallbackServerContext* context,
                                                        const v1::DeleteRecordRequest* request,
                                                        v1::Record* response) {
  return RunOnPool(context, "DeleteRecord", response,
                   [this, request] { return engine_->DeleteRecord(*request); });
}

grpc::ServerUnaryReactor* DatabaseService::ListRecords(grpc::CallbackServerContext* context,
                                                       const v1::ListRecordsRequest* request,
                                                       v1::ListRecordsResponse* response) {
  return RunOnPool(context, "ListRecords", response,
                   [this, request] { return engine_->ListRecords(*request); });
}

grpc::ServerUnaryReactor* DatabaseService::GetRecordHistory(
    grpc::CallbackServerContext* context, const v1::GetRecordHistoryRequest* request,
    v1::GetRecordHistoryResponse* response) {
  return RunOnPool(context, "GetRecordHistory", response,
                   [this, request] { return engine_->GetRecordHistory(*request); });
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

grpc::ServerUnaryReactor* DatabaseService::ImportRevisions(
    grpc::CallbackServerContext* context, const v1::ImportRevisionsRequest* request,
    v1::ImportRevisionsResponse* response) {
  return RunOnPool(context, "ImportRevisions", response,
                   [this, request]() -> absl::StatusOr<v1::ImportRevisionsResponse> {
                     auto revisions = ToForeignRevisions(*request);
                     if (!revisions.ok()) return revisions.status();
                     absl::StatusOr<int64_t> imported = engine_->ApplyForeignRevisions(*revisions);
                     if (!imported.ok()) return imported.status();
                     v1::ImportRevisionsResponse out;
                     out.set_imported(*imported);
                     return out;
                   });
}

grpc::ServerWriteReactor<v1::Change>* DatabaseService::GetChanges(
    grpc::CallbackServerContext* context, const v1::GetChangesRequest* request) {
  return new ChangeStream(engine_, pool_, &streams_, logger_, *request);
}

}  // namespace recondb::daemon
