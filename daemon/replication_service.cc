#include "daemon/replication_service.h"

#include <string>
#include <thread>

#include "absl/time/time.h"
#include "common/status_macros.h"
#include "daemon/replication_access.h"
#include "daemon/replication_stream.h"
#include "daemon/rpc_logging.h"
#include "daemon/status_conversion.h"

namespace recondb::daemon {

// One Replicate call: a bidi reactor adapted to the blocking MessageStream
// the session wants. Read and Write start one gRPC operation and wait for
// its reaction; Cancel only releases local waiters (the call stays open so
// that the session's status reaches the peer through Finish, see
// reconciler/message_stream.h). The session thread calls Finish once Run is
// over; the reactor is deleted by the last of OnDone and that thread.
class ReplicateCall final
    : public grpc::ServerBidiReactor<v1::ReplicateMessage, v1::ReplicateMessage>,
      public reconciler::MessageStream {
 public:
  // How long Finish waits for a write still in flight (a peer that stopped
  // reading) before cancelling the call.
  static constexpr absl::Duration kWriteGrace = absl::Seconds(5);

  ReplicateCall(ReplicationService* service, grpc::CallbackServerContext* context)
      : service_(service), context_(context) {
    v1::SessionMode mode = v1::SESSION_MODE_UNSPECIFIED;
    auto it = context->client_metadata().find(kSessionModeMetadata);
    if (it != context->client_metadata().end()) {
      mode = SessionModeFromText(std::string_view(it->second.data(), it->second.size()));
    }
    service_->ThreadStarted();
    std::thread([this, mode, remote = context->peer()] { RunSession(remote, mode); }).detach();
  }

  bool Read(v1::ReplicateMessage* message) override {
    absl::MutexLock lock(&mu_);
    if (cancelled_ || read_over_ || reading_) return false;
    reading_ = true;
    StartRead(&in_);
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !reading_ || cancelled_; };
    mu_.Await(absl::Condition(&done));
    if (reading_ || !read_ok_) {
      read_over_ = true;
      return false;
    }
    *message = std::move(in_);
    return true;
  }

  bool Write(const v1::ReplicateMessage& message) override {
    absl::MutexLock lock(&mu_);
    if (cancelled_ || writes_done_ || writing_ || write_failed_) return false;
    out_ = message;
    writing_ = true;
    StartWrite(&out_);
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !writing_ || cancelled_; };
    mu_.Await(absl::Condition(&done));
    return !writing_ && !write_failed_;
  }

  // The server cannot half-close: its side ends with Finish.
  void WritesDone() override {
    absl::MutexLock lock(&mu_);
    writes_done_ = true;
  }

  void Cancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
  }

  void OnReadDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    reading_ = false;
    read_ok_ = ok;
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) write_failed_ = true;
  }

  // The client went away or the deadline passed.
  void OnCancel() override { Cancel(); }

  void OnDone() override {
    bool last;
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
      last = thread_over_;
    }
    if (last) delete this;
  }

 private:
  ~ReplicateCall() override = default;

  // Admits the caller (its principal's grants, its stream limit), then runs
  // the session; the lease is released once the session is over.
  absl::Status Serve(const std::string& remote, v1::SessionMode mode) {
    ReplicationService* const service = service_;
    absl::StatusOr<reconciler::PeerAccess> access =
        AcceptedPeerAccess(service->authorizer_, *context_);
    if (!access.ok()) return access.status();
    StreamLimiter::Lease lease;
    if (service->limiter_ != nullptr) {
      ASSIGN_OR_RETURN(const std::string key, CallerStreamKey(service->authorizer_, *context_));
      ASSIGN_OR_RETURN(lease, service->limiter_->Acquire(key));
    }
    return service->peers_->ServeAccepted(this, remote, mode, *std::move(access));
  }

  void RunSession(const std::string& remote, v1::SessionMode mode) {
    ReplicationService* const service = service_;
    service->logger_->debug("replication stream from {} ({})", remote, SessionModeText(mode));
    const absl::Status status = Serve(remote, mode);
    if (absl::IsUnavailable(status) || absl::IsAlreadyExists(status) || absl::IsCancelled(status)) {
      // A peer going away or a duplicate link is part of normal operation.
      service->logger_->info("replication stream from {} ended: {}", remote, status.ToString());
    } else if (!status.ok()) {
      LogRpcFailure(*service->logger_, "Replicate", status);
    }
    bool last;
    {
      absl::MutexLock lock(&mu_);
      auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !writing_; };
      if (!mu_.AwaitWithTimeout(absl::Condition(&idle), kWriteGrace)) context_->TryCancel();
      Finish(ToGrpcStatus(status));
      thread_over_ = true;
      last = done_;
    }
    if (last) delete this;
    service->ThreadExited();
  }

  ReplicationService* const service_;
  grpc::CallbackServerContext* const context_;

  absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool read_ok_ ABSL_GUARDED_BY(mu_) = false;
  bool read_over_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool write_failed_ ABSL_GUARDED_BY(mu_) = false;
  bool writes_done_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool thread_over_ ABSL_GUARDED_BY(mu_) = false;
  // gRPC reads into and writes from these until the reaction.
  v1::ReplicateMessage in_ ABSL_GUARDED_BY(mu_);
  v1::ReplicateMessage out_ ABSL_GUARDED_BY(mu_);
};

ReplicationService::~ReplicationService() {
  absl::MutexLock lock(&mu_);
  auto none = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return threads_ == 0; };
  mu_.Await(absl::Condition(&none));
}

void ReplicationService::ThreadStarted() {
  absl::MutexLock lock(&mu_);
  ++threads_;
}

void ReplicationService::ThreadExited() {
  absl::MutexLock lock(&mu_);
  --threads_;
}

grpc::ServerBidiReactor<v1::ReplicateMessage, v1::ReplicateMessage>* ReplicationService::Replicate(
    grpc::CallbackServerContext* context) {
  return new ReplicateCall(this, context);
}

}  // namespace recondb::daemon
