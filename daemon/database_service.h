// recondb.v1.Database over gRPC: a thin adapter that checks what only the
// transport can (a missing message field), runs the engine call and converts
// its status. Everything else — names, types, values, revisions — is
// validated by the engine, whose messages name the table, record, column or
// value at fault.
//
// The unary methods use gRPC's async API: the daemon's own completion-queue
// threads take each call and answer it on the same thread (see
// daemon/DESIGN.md, "Threading model"). GetChanges, a long-lived stream,
// uses the callback API with its reads on the worker pool.
#ifndef RECONDB_DAEMON_DATABASE_SERVICE_H_
#define RECONDB_DAEMON_DATABASE_SERVICE_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "auth/authorizer.h"
#include "daemon/async_unary_call.h"
#include "daemon/change_stream.h"
#include "daemon/stream_limiter.h"
#include "daemon/worker_pool.h"
#include "engine/engine.h"
#include "recondb/v1/database.grpc.pb.h"
#include "spdlog/logger.h"

namespace recondb::daemon {

// The generated service with every unary method async and GetChanges a
// callback method.
using DatabaseServiceBase = v1::Database::WithAsyncMethod_CreateTable<
    v1::Database::WithAsyncMethod_AddColumns<v1::Database::WithAsyncMethod_GetTable<
        v1::Database::WithAsyncMethod_ListTables<v1::Database::WithAsyncMethod_PutRecord<
            v1::Database::WithAsyncMethod_GetRecord<v1::Database::WithAsyncMethod_DeleteRecord<
                v1::Database::WithAsyncMethod_ResolveConflict<
                    v1::Database::WithAsyncMethod_ListRecords<
                        v1::Database::WithAsyncMethod_GetRecordHistory<
                            v1::Database::WithAsyncMethod_ImportRevisions<
                                v1::Database::WithCallbackMethod_GetChanges<
                                    v1::Database::Service>>>>>>>>>>>>;

// Thread-safe.
class DatabaseService final : public DatabaseServiceBase {
 public:
  // `engine`, `pool` and `authorizer` are not owned and must outlive the
  // service; the service must outlive the grpc::Server it is registered
  // with, and the pool and the queue threads must be drained (destroyed)
  // before the engine. `logger` is never null. Every call is authenticated
  // and checked by `authorizer` (docs/api.md, "Authentication and
  // permissions"). Each GetChanges call holds one stream of its caller in
  // `limiter` (null: no limit); not owned, must outlive the service.
  DatabaseService(engine::Engine* engine, WorkerPool* pool, const auth::Authorizer* authorizer,
                  std::shared_ptr<spdlog::logger> logger, StreamLimiter* limiter = nullptr);

  // Starts accepting the unary methods' calls on `queue`, a completion queue
  // of the server this service is registered with, drained by
  // CompletionQueueThreads. Call once, after the server has started.
  void StartUnaryCalls(grpc::ServerCompletionQueue* queue);

  // Ends every open follow stream of GetChanges with UNAVAILABLE "server
  // shutting down" and answers later GetChanges follow calls the same way.
  // Unary calls and catching-up streams are not affected. Call before
  // grpc::Server::Shutdown(), which waits for every open call.
  void BeginShutdown();

  grpc::ServerWriteReactor<v1::Change>* GetChanges(grpc::CallbackServerContext* context,
                                                   const v1::GetChangesRequest* request) override;

 private:
  // Serves one unary method on `queue`: `request_next` is the generated
  // Request<Method> and `call` the engine call for a request, given the
  // authenticated principal: call(const auth::Principal&, const Request&).
  template <typename Request, typename Response, typename RequestNext, typename Call>
  void Serve(grpc::ServerCompletionQueue* queue, const char* method, RequestNext request_next,
             Call call);

  absl::StatusOr<v1::Table> CreateTable(const auth::Principal& principal,
                                        const v1::CreateTableRequest& request);
  absl::StatusOr<v1::Table> AddColumns(const auth::Principal& principal,
                                       const v1::AddColumnsRequest& request);
  absl::StatusOr<v1::ListTablesResponse> ListTables(const auth::Principal& principal);
  absl::StatusOr<v1::Record> PutRecord(const auth::Principal& principal,
                                       const v1::PutRecordRequest& request);
  absl::StatusOr<v1::Record> ResolveConflict(const auth::Principal& principal,
                                             const v1::ResolveConflictRequest& request);
  absl::StatusOr<v1::ImportRevisionsResponse> ImportRevisions(
      const auth::Principal& principal, const v1::ImportRevisionsRequest& request);

  engine::Engine* const engine_;
  WorkerPool* const pool_;
  const auth::Authorizer* const authorizer_;
  const std::shared_ptr<spdlog::logger> logger_;
  StreamLimiter* const limiter_;
  ChangeStreamRegistry streams_;
  // The UnaryMethod of each unary method, which its calls point to.
  std::vector<std::shared_ptr<const void>> unary_methods_;
};

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_DATABASE_SERVICE_H_
