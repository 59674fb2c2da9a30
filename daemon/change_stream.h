// The server side of Database.GetChanges: a write reactor that pages through
// the engine's change feed on the worker pool and, in follow mode, waits for
// the engine's commit notifications.
#ifndef RECONDB_DAEMON_CHANGE_STREAM_H_
#define RECONDB_DAEMON_CHANGE_STREAM_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "auth/authorizer.h"
#include "daemon/stream_limiter.h"
#include "daemon/worker_pool.h"
#include "engine/engine.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "recondb/v1/database.pb.h"
#include "recondb/v1/types.pb.h"
#include "spdlog/logger.h"

namespace recondb::daemon {

class ChangeStream;

// The open follow streams of a service, so that shutdown can end them
// (follow streams never end on their own, and grpc::Server::Shutdown waits
// for every call). Thread-safe. Lock order: registry, then a stream.
class ChangeStreamRegistry {
 public:
  // Adds `stream`; false (and not added) once ShutdownAll() has begun.
  bool Add(ChangeStream* stream);
  // Removes `stream`; after it returns ShutdownAll() no longer touches it.
  void Remove(ChangeStream* stream);
  // Ends every registered stream with UNAVAILABLE "server shutting down" and
  // refuses later Add() calls.
  void ShutdownAll();

 private:
  absl::Mutex mu_;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  std::set<ChangeStream*> streams_ ABSL_GUARDED_BY(mu_);
};

// One GetChanges call. It deletes itself once gRPC is done with it and no
// pool task refers to it.
//
// Flow: a fetch task on the pool reads up to kBatchSize changes after the
// cursor and appends them to an outbound queue; the reactor writes them one
// at a time (one write in flight). A new fetch starts once the queue runs
// low, so a stream holds at most about 1.5 batches whatever the client's
// speed. A batch shorter than kBatchSize means the stream has caught up:
// without follow it finishes OK once the queue is written; with follow it
// waits until an engine change listener reports a commit past the cursor,
// then fetches again. Nothing polls or sleeps.
//
// Threads: gRPC reactions, pool tasks and the engine's listener all take
// mu_ briefly and never block under it; StartWrite and Finish are called
// under mu_ (gRPC never runs this reactor's reactions inline).
class ChangeStream final : public grpc::ServerWriteReactor<v1::Change> {
 public:
  // Changes fetched per engine call.
  static constexpr int kBatchSize = 256;

  // Starts the stream. `engine`, `pool`, `registry` are not owned and must
  // outlive the call (the service guarantees it: it is destroyed after the
  // server has shut down and the pool has drained; so must `authorizer`).
  // The caller is authenticated from `context` (UNAUTHENTICATED), and must
  // have READ on every table it names (PERMISSION_DENIED naming the first it
  // may not read); with no table named, the stream holds only the tables it
  // may read, also those created while it follows. Answers INVALID_ARGUMENT
  // for a negative `since`, NOT_FOUND for an unknown table (from the engine),
  // UNAVAILABLE when the server is shutting down. `lease` is the stream's
  // place in its caller's stream limit, held until the call is done; an
  // error (RESOURCE_EXHAUSTED over the limit, UNAUTHENTICATED) is the
  // call's answer.
  ChangeStream(engine::Engine* engine, WorkerPool* pool, ChangeStreamRegistry* registry,
               std::shared_ptr<spdlog::logger> logger, const auth::Authorizer* authorizer,
               const grpc::CallbackServerContext& context, const v1::GetChangesRequest& request,
               absl::StatusOr<StreamLimiter::Lease> lease = StreamLimiter::Lease());

  // Finishes with UNAVAILABLE "server shutting down" unless already finished.
  void EndForShutdown();

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  ~ChangeStream() override = default;

  // The engine reports a commit up to `last_seq`.
  void OnCommit(int64_t last_seq);
  // The caller, and the status that refuses the call (OK if allowed).
  absl::Status Authorize(const auth::Authorizer& authorizer,
                         const grpc::CallbackServerContext& context);
  // Pool task: reads the next batch.
  void Fetch();
  // Starts whatever can start now: a write, a fetch, the final Finish.
  void Pump() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  engine::Engine* const engine_;
  WorkerPool* const pool_;
  ChangeStreamRegistry* const registry_;
  const std::shared_ptr<spdlog::logger> logger_;
  const std::vector<std::string> tables_;
  const bool follow_;
  // The caller as of the call's start (set by Authorize); changes of tables
  // it may not read are left out.
  std::shared_ptr<const auth::Principal> principal_;
  // Set in the constructor, before any reaction can run. A follow stream is
  // in the registry and has an engine listener.
  bool registered_ = false;
  int64_t listener_id_ = 0;
  StreamLimiter::Lease lease_;

  absl::Mutex mu_;
  // Changes after this seq are still to be fetched.
  int64_t cursor_ ABSL_GUARDED_BY(mu_);
  // The highest seq the engine reported as committed.
  int64_t notified_seq_ ABSL_GUARDED_BY(mu_) = 0;
  // The last fetch returned less than a batch.
  bool caught_up_ ABSL_GUARDED_BY(mu_) = false;
  bool fetch_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<v1::Change> queue_ ABSL_GUARDED_BY(mu_);
  // The message being written; gRPC reads it until OnWriteDone.
  v1::Change writing_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_CHANGE_STREAM_H_
