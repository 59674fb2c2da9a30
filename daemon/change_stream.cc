#include "daemon/change_stream.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/rpc_logging.h"
#include "daemon/status_conversion.h"

namespace recondb::daemon {
namespace {

constexpr char kMethod[] = "GetChanges";
// A fetch starts when fewer changes than this wait to be written.
constexpr size_t kLowWater = ChangeStream::kBatchSize / 2;

grpc::Status ShuttingDown() {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, "server shutting down");
}

}  // namespace

bool ChangeStreamRegistry::Add(ChangeStream* stream) {
  absl::MutexLock lock(&mu_);
  if (shutting_down_) return false;
  streams_.insert(stream);
  return true;
}

void ChangeStreamRegistry::Remove(ChangeStream* stream) {
  absl::MutexLock lock(&mu_);
  streams_.erase(stream);
}

void ChangeStreamRegistry::ShutdownAll() {
  absl::MutexLock lock(&mu_);
  shutting_down_ = true;
  for (ChangeStream* stream : streams_) stream->EndForShutdown();
}

ChangeStream::ChangeStream(engine::Engine* engine, WorkerPool* pool, ChangeStreamRegistry* registry,
                           std::shared_ptr<spdlog::logger> logger,
                           const auth::Authorizer* authorizer,
                           const grpc::CallbackServerContext& context,
                           const v1::GetChangesRequest& request,
                           absl::StatusOr<StreamLimiter::Lease> lease)
    : engine_(engine),
      pool_(pool),
      registry_(registry),
      logger_(std::move(logger)),
      tables_(request.tables().begin(), request.tables().end()),
      follow_(request.follow()),
      cursor_(request.since()) {
  if (absl::Status status = Authorize(*authorizer, context); !status.ok()) {
    LogRpcFailure(*logger_, kMethod, status);
    absl::MutexLock lock(&mu_);
    FinishLocked(ToGrpcStatus(status));
    return;
  }
  if (!lease.ok()) {
    LogRpcFailure(*logger_, kMethod, lease.status());
    absl::MutexLock lock(&mu_);
    FinishLocked(ToGrpcStatus(lease.status()));
    return;
  }
  lease_ = *std::move(lease);
  if (request.since() < 0) {
    const absl::Status status =
        absl::InvalidArgumentError(absl::StrCat("since must be >= 0, got ", request.since()));
    LogRpcFailure(*logger_, kMethod, status);
    absl::MutexLock lock(&mu_);
    FinishLocked(ToGrpcStatus(status));
    return;
  }
  if (follow_) {
    if (!registry_->Add(this)) {
      absl::MutexLock lock(&mu_);
      FinishLocked(ShuttingDown());
      return;
    }
    registered_ = true;
    // Registered before the first fetch, so that a commit the fetch misses
    // is always notified.
    listener_id_ = engine_->AddChangeListener([this](int64_t seq) { OnCommit(seq); });
  }
  absl::MutexLock lock(&mu_);
  Pump();
}

absl::Status ChangeStream::Authorize(const auth::Authorizer& authorizer,
                                     const grpc::CallbackServerContext& context) {
  absl::StatusOr<std::shared_ptr<const auth::Principal>> principal =
      authorizer.Authenticate(context);
  if (!principal.ok()) return principal.status();
  principal_ = *std::move(principal);
  for (const std::string& table : tables_) {
    absl::Status allowed = authorizer.Check(*principal_, auth::Permission::kRead, table);
    if (!allowed.ok()) return allowed;
  }
  return absl::OkStatus();
}

void ChangeStream::EndForShutdown() {
  absl::MutexLock lock(&mu_);
  FinishLocked(ShuttingDown());
}

void ChangeStream::OnCommit(int64_t last_seq) {
  absl::MutexLock lock(&mu_);
  if (last_seq <= notified_seq_) return;
  notified_seq_ = last_seq;
  Pump();
}

void ChangeStream::Fetch() {
  int64_t since;
  {
    absl::MutexLock lock(&mu_);
    since = cursor_;
  }
  // Every change up to `committed` is visible to the read below.
  const int64_t committed = engine_->LastSeq();
  absl::StatusOr<std::vector<v1::Change>> batch = engine_->GetChanges(since, tables_, kBatchSize);

  mu_.Lock();
  fetch_in_flight_ = false;
  if (done_) {
    mu_.Unlock();
    delete this;
    return;
  }
  if (!batch.ok()) {
    LogRpcFailure(*logger_, kMethod, batch.status());
    FinishLocked(ToGrpcStatus(batch.status()));
  } else {
    const bool full = batch->size() >= static_cast<size_t>(kBatchSize);
    int64_t last = since;
    for (v1::Change& change : *batch) {
      last = std::max(last, change.seq());
      // Left out, not refused: a stream over every table the caller may
      // read, whatever tables exist or are created while it follows.
      if (!principal_->Allows(auth::Permission::kRead, change.table())) continue;
      queue_.push_back(std::move(change));
    }
    caught_up_ = !full;
    // A short batch saw every change up to `committed` (other tables'
    // changes included), so the cursor may skip past them: a listener
    // reporting those seqs need not wake the stream again.
    cursor_ = full ? last : std::max(last, committed);
    Pump();
  }
  mu_.Unlock();
}

void ChangeStream::Pump() {
  if (finished_) return;
  if (!write_in_flight_ && !queue_.empty()) {
    writing_ = std::move(queue_.front());
    queue_.pop_front();
    write_in_flight_ = true;
    StartWrite(&writing_);
  }
  const bool more = !caught_up_ || (follow_ && notified_seq_ > cursor_);
  if (more && !fetch_in_flight_ && queue_.size() < kLowWater) {
    fetch_in_flight_ = true;
    pool_->Schedule([this] { Fetch(); });
  }
  if (!follow_ && caught_up_ && queue_.empty() && !write_in_flight_ && !fetch_in_flight_) {
    FinishLocked(grpc::Status::OK);
  }
}

void ChangeStream::FinishLocked(const grpc::Status& status) {
  if (finished_) return;
  finished_ = true;
  queue_.clear();
  Finish(status);
}

void ChangeStream::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  write_in_flight_ = false;
  if (!ok) {
    // The stream is broken (the client went away or the call was cancelled).
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
    return;
  }
  Pump();
}

void ChangeStream::OnCancel() {
  absl::MutexLock lock(&mu_);
  FinishLocked(grpc::Status::CANCELLED);
}

void ChangeStream::OnDone() {
  if (registered_) {
    registry_->Remove(this);
    // After this returns the listener is not running and never will again.
    engine_->RemoveChangeListener(listener_id_);
  }
  bool last_owner;
  {
    absl::MutexLock lock(&mu_);
    done_ = true;
    last_owner = !fetch_in_flight_;
  }
  // Otherwise the fetch in flight deletes the stream when it returns.
  if (last_owner) delete this;
}

}  // namespace recondb::daemon
