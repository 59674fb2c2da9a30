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
                                 const auth::Authorizer* authorizer,
                                 std::shared_ptr<spdlog::logger> logger, StreamLimiter* limiter)
    : engine_(engine),
      pool_(pool),
      authorizer_(authorizer),
      logger_(std::move(logger)),
      limiter_(limiter) {}

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
  unary->handle = [this, method, call](grpc::ServerContext& context, const Request& request,
                                       Response* response) {
    absl::StatusOr<Response> result = [&]() -> absl::StatusOr<Response> {
      // The caller, for the checks and (at merge with the audit trail) the
      // engine's record of who wrote.
      ASSIGN_OR_RETURN(const std::shared_ptr<const auth::Principal> principal,
                       authorizer_->Authenticate(context));
      return call(*principal, request);
    }();
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
  using auth::Permission;
  using auth::Principal;
  Serve<v1::CreateTableRequest, v1::Table>(
      queue, "CreateTable", &Self::RequestCreateTable,
      [this](const Principal& p, const v1::CreateTableRequest& r) { return CreateTable(p, r); });
  Serve<v1::AddColumnsRequest, v1::Table>(
      queue, "AddColumns", &Self::RequestAddColumns,
      [this](const Principal& p, const v1::AddColumnsRequest& r) { return AddColumns(p, r); });
  Serve<v1::GetTableRequest, v1::Table>(
      queue, "GetTable", &Self::RequestGetTable,
      [this](const Principal& p, const v1::GetTableRequest& r) -> absl::StatusOr<v1::Table> {
        RETURN_IF_ERROR(authorizer_->CheckAny(p, r.name()));
        return engine_->GetTable(r.name());
      });
  Serve<v1::ListTablesRequest, v1::ListTablesResponse>(
      queue, "ListTables", &Self::RequestListTables,
      [this](const Principal& p, const v1::ListTablesRequest&) { return ListTables(p); });
  Serve<v1::PutRecordRequest, v1::Record>(
      queue, "PutRecord", &Self::RequestPutRecord,
      [this](const Principal& p, const v1::PutRecordRequest& r) { return PutRecord(p, r); });
  Serve<v1::ResolveConflictRequest, v1::Record>(
      queue, "ResolveConflict", &Self::RequestResolveConflict,
      [this](const Principal& p, const v1::ResolveConflictRequest& r) {
        return ResolveConflict(p, r);
      });
  Serve<v1::GetRecordRequest, v1::Record>(
      queue, "GetRecord", &Self::RequestGetRecord,
      [this](const Principal& p, const v1::GetRecordRequest& r) -> absl::StatusOr<v1::Record> {
        RETURN_IF_ERROR(authorizer_->Check(p, Permission::kRead, r.table()));
        return engine_->GetRecord(r);
      });
  Serve<v1::DeleteRecordRequest, v1::Record>(
      queue, "DeleteRecord", &Self::RequestDeleteRecord,
      [this](const Principal& p, const v1::DeleteRecordRequest& r) -> absl::StatusOr<v1::Record> {
        RETURN_IF_ERROR(authorizer_->Check(p, Permission::kWrite, r.table()));
        return engine_->DeleteRecord(r, p.name);
      });
  Serve<v1::ListRecordsRequest, v1::ListRecordsResponse>(
      queue, "ListRecords", &Self::RequestListRecords,
      [this](const Principal& p,
             const v1::ListRecordsRequest& r) -> absl::StatusOr<v1::ListRecordsResponse> {
        RETURN_IF_ERROR(authorizer_->Check(p, Permission::kRead, r.table()));
        return engine_->ListRecords(r);
      });
  Serve<v1::GetRecordHistoryRequest, v1::GetRecordHistoryResponse>(
      queue, "GetRecordHistory", &Self::RequestGetRecordHistory,
      [this](const Principal& p,
             const v1::GetRecordHistoryRequest& r) -> absl::StatusOr<v1::GetRecordHistoryResponse> {
        RETURN_IF_ERROR(authorizer_->Check(p, Permission::kRead, r.table()));
        return engine_->GetRecordHistory(r);
      });
  Serve<v1::ImportRevisionsRequest, v1::ImportRevisionsResponse>(
      queue, "ImportRevisions", &Self::RequestImportRevisions,
      [this](const Principal& p, const v1::ImportRevisionsRequest& r) {
        return ImportRevisions(p, r);
      });
}

namespace {

absl::Status MissingField(const char* field) {
  return absl::InvalidArgumentError(absl::StrCat("missing field: ", field));
}

}  // namespace

absl::StatusOr<v1::Table> DatabaseService::CreateTable(const auth::Principal& principal,
                                                       const v1::CreateTableRequest& request) {
  RETURN_IF_ERROR(authorizer_->CheckAdmin(principal, "CreateTable"));
  if (!request.has_table()) return MissingField("table");
  return engine_->CreateTable(request.table());
}

absl::StatusOr<v1::Table> DatabaseService::AddColumns(const auth::Principal& principal,
                                                      const v1::AddColumnsRequest& request) {
  RETURN_IF_ERROR(authorizer_->CheckAdmin(principal, "AddColumns"));
  const std::vector<v1::Column> columns(request.columns().begin(), request.columns().end());
  return engine_->AddColumns(request.table(), columns);
}

absl::StatusOr<v1::ListTablesResponse> DatabaseService::ListTables(
    const auth::Principal& principal) {
  ASSIGN_OR_RETURN(std::vector<v1::Table> tables, engine_->ListTables());
  v1::ListTablesResponse out;
  // Only the tables the caller has a permission on: the others' names are
  // not its business.
  for (v1::Table& t : tables) {
    if (principal.AllowsAny(t.name())) *out.add_tables() = std::move(t);
  }
  return out;
}

absl::StatusOr<v1::Record> DatabaseService::PutRecord(const auth::Principal& principal,
                                                      const v1::PutRecordRequest& request) {
  if (!request.has_record()) return MissingField("record");
  RETURN_IF_ERROR(
      authorizer_->Check(principal, auth::Permission::kWrite, request.record().table()));
  return engine_->PutRecord(request.record(),
                            request.has_update_mask() ? &request.update_mask() : nullptr,
                            principal.name);
}

absl::StatusOr<v1::Record> DatabaseService::ResolveConflict(
    const auth::Principal& principal, const v1::ResolveConflictRequest& request) {
  if (!request.has_record()) return MissingField("record");
  RETURN_IF_ERROR(
      authorizer_->Check(principal, auth::Permission::kWrite, request.record().table()));
  return engine_->ResolveConflict(request.record(),
                                  request.has_update_mask() ? &request.update_mask() : nullptr,
                                  principal.name);
}

namespace {

// The engine's form of an imported revision; the generation comes from the
// revision id (INVALID_ARGUMENT if malformed). The engine checks the rest.
absl::StatusOr<std::vector<engine::ForeignRevision>> ToForeignRevisions(
    const v1::ImportRevisionsRequest& request) {
  std::vector<engine::ForeignRevision> revisions;
  revisions.reserve(request.revisions_size());
  for (int i = 0; i < request.revisions_size(); ++i) {
    const v1::HistoryEntry& entry = request.revisions(i);
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
    // The audit as given (the engine validates it); none given, none kept.
    out.rev.audit.author = entry.author();
    out.rev.audit.origin_node = entry.origin_node();
    if (entry.has_create_time()) {
      const google::protobuf::Timestamp& time = entry.create_time();
      if (time.nanos() < 0 || time.nanos() >= 1000000000 || time.nanos() % 1000 != 0 ||
          time.seconds() <= 0 || time.seconds() > 253402300799) {
        return absl::InvalidArgumentError(absl::StrCat(
            "revisions[", i, "].create_time must be whole microseconds after 1970 and before "
            "year 10000"));
      }
      out.rev.audit.create_time_micros = time.seconds() * 1000000 + time.nanos() / 1000;
    }
  }
  return revisions;
}

}  // namespace

absl::StatusOr<v1::ImportRevisionsResponse> DatabaseService::ImportRevisions(
    const auth::Principal& principal, const v1::ImportRevisionsRequest& request) {
  // Every table first, so that a refused one leaves nothing written.
  for (const v1::HistoryEntry& entry : request.revisions()) {
    RETURN_IF_ERROR(authorizer_->Check(principal, auth::Permission::kPush, entry.record().table()));
  }
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
  return new ChangeStream(engine_, pool_, &streams_, logger_, authorizer_, *context, *request,
                          std::move(lease));
}

}  // namespace recondb::daemon
