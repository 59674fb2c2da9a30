// recondb.v1.Database over gRPC's callback API: a thin adapter that checks
// what only the transport can (a missing message field), runs the engine call
// on the worker pool and converts its status. Everything else — names,
// types, values, revisions — is validated by the engine, whose messages name
// the table, record, column or value at fault.
#ifndef RECONDB_DAEMON_DATABASE_SERVICE_H_
#define RECONDB_DAEMON_DATABASE_SERVICE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "daemon/change_stream.h"
#include "daemon/worker_pool.h"
#include "engine/engine.h"
#include "recondb/v1/database.grpc.pb.h"
#include "spdlog/logger.h"

namespace recondb::daemon {

// Thread-safe. Reactions never block: each unary call is answered from a
// worker pool task; GetChanges is a ChangeStream.
class DatabaseService final : public v1::Database::CallbackService {
 public:
  // `engine` and `pool` are not owned and must outlive the service; the
  // service must outlive the grpc::Server it is registered with, and the pool
  // must be drained (destroyed) before the engine. `logger` is never null.
  DatabaseService(engine::Engine* engine, WorkerPool* pool, std::shared_ptr<spdlog::logger> logger);

  // Ends every open follow stream of GetChanges with UNAVAILABLE "server
  // shutting down" and answers later GetChanges follow calls the same way.
  // Unary calls and catching-up streams are not affected. Call before
  // grpc::Server::Shutdown(), which waits for every open call.
  void BeginShutdown();

  grpc::ServerUnaryReactor* CreateTable(grpc::CallbackServerContext* context,
                                        const v1::CreateTableRequest* request,
                                        v1::Table* response) override;
  grpc::ServerUnaryReactor* AddColumns(grpc::CallbackServerContext* context,
                                       const v1::AddColumnsRequest* request,
                                       v1::Table* response) override;
  grpc::ServerUnaryReactor* GetTable(grpc::CallbackServerContext* context,
                                     const v1::GetTableRequest* request,
                                     v1::Table* response) override;
  grpc::ServerUnaryReactor* ListTables(grpc::CallbackServerContext* context,
                                       const v1::ListTablesRequest* request,
                                       v1::ListTablesResponse* response) override;
  grpc::ServerUnaryReactor* PutRecord(grpc::CallbackServerContext* context,
                                      const v1::PutRecordRequest* request,
                                      v1::Record* response) override;
  grpc::ServerUnaryReactor* ResolveConflict(grpc::CallbackServerContext* context,
                                            const v1::ResolveConflictRequest* request,
                                            v1::Record* response) override;
  grpc::ServerUnaryReactor* GetRecord(grpc::CallbackServerContext* context,
                                      const v1::GetRecordRequest* request,
                                      v1::Record* response) override;
  grpc::ServerUnaryReactor* DeleteRecord(grpc::CallbackServerContext* context,
                                         const v1::DeleteRecordRequest* request,
                                         v1::Record* response) override;
  grpc::ServerUnaryReactor* ListRecords(grpc::CallbackServerContext* context,
                                        const v1::ListRecordsRequest* request,
                                        v1::ListRecordsResponse* response) override;
  grpc::ServerUnaryReactor* GetRecordHistory(grpc::CallbackServerContext* context,
                                             const v1::GetRecordHistoryRequest* request,
                                             v1::GetRecordHistoryResponse* response) override;
  grpc::ServerUnaryReactor* ImportRevisions(grpc::CallbackServerContext* context,
                                            const v1::ImportRevisionsRequest* request,
                                            v1::ImportRevisionsResponse* response) override;
  grpc::ServerWriteReactor<v1::Change>* GetChanges(grpc::CallbackServerContext* context,
                                                   const v1::GetChangesRequest* request) override;

 private:
  // Answers the call with `call()`'s result, computed on the pool. `call`
  // may use the request and `method` (a literal): both live until Finish.
  template <typename Response, typename Call>
  grpc::ServerUnaryReactor* RunOnPool(grpc::CallbackServerContext* context, const char* method,
                                      Response* response, Call call);
  // Answers INVALID_ARGUMENT "missing field: <field>" at once.
  grpc::ServerUnaryReactor* MissingField(grpc::CallbackServerContext* context, const char* method,
                                         const char* field);

  engine::Engine* const engine_;
  WorkerPool* const pool_;
  const std::shared_ptr<spdlog::logger> logger_;
  ChangeStreamRegistry streams_;
};

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_DATABASE_SERVICE_H_
