#include "daemon/replication_stream.h"

#include <thread>
#include <utility>

#include "absl/synchronization/notification.h"
#include "auth/certificate_names.h"
#include "daemon/status_conversion.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace recondb::daemon {

std::string SessionModeText(v1::SessionMode mode) {
  switch (mode) {
    case v1::SESSION_MODE_LIVE:
      return "live";
    case v1::SESSION_MODE_ONE_SHOT:
      return "one-shot";
    default:
      return "";
  }
}

v1::SessionMode SessionModeFromText(std::string_view text) {
  if (text == "live") return v1::SESSION_MODE_LIVE;
  if (text == "one-shot") return v1::SESSION_MODE_ONE_SHOT;
  return v1::SESSION_MODE_UNSPECIFIED;
}

// ---- Client side ----

ClientReplicationStream::ClientReplicationStream(
    const std::shared_ptr<grpc::Channel>& channel, v1::SessionMode mode, absl::Time deadline,
    std::function<absl::StatusOr<reconciler::PeerAccess>(const grpc::AuthContext*)> access)
    : access_(std::move(access)), stub_(v1::Replication::NewStub(channel)) {
  context_.AddMetadata(kSessionModeMetadata, SessionModeText(mode));
  if (deadline != absl::InfiniteFuture()) context_.set_deadline(absl::ToChronoTime(deadline));
  stream_ = stub_->Replicate(&context_);
}

ClientReplicationStream::~ClientReplicationStream() {
  if (!finished_) {
    context_.TryCancel();
    stream_->Finish();
  }
}

bool ClientReplicationStream::Read(v1::ReplicateMessage* message) {
  if (cancelled_.load()) return false;
  if (stream_->Read(message)) return true;
  read_over_.store(true);
  return false;
}

bool ClientReplicationStream::Write(const v1::ReplicateMessage& message) {
  absl::MutexLock lock(&write_mu_);
  if (writes_done_ || cancelled_.load()) return false;
  return stream_->Write(message);
}

void ClientReplicationStream::WritesDone() {
  absl::MutexLock lock(&write_mu_);
  if (writes_done_) return;
  writes_done_ = true;
  stream_->WritesDone();
}

void ClientReplicationStream::Cancel() {
  cancelled_.store(true);
  // Once the server has ended the call (our reads are over), cancelling
  // would only replace its status (say ALREADY_EXISTS) by CANCELLED; the
  // call is over anyway, so a blocked Write returns at once.
  if (!read_over_.load()) context_.TryCancel();
}

absl::StatusOr<reconciler::PeerAccess> ClientReplicationStream::Access() {
  if (!access_) return reconciler::PeerAccess();
  // Called before the first Write: the synchronous call has sent its
  // initial metadata, so it is on a connected transport and the context
  // knows the verified server certificate, if any.
  const std::shared_ptr<const grpc::AuthContext> auth = context_.auth_context();
  // A call that never reached a transport (the peer is down, the handshake
  // failed) has no security context at all: that is an unreachable peer,
  // not one whose certificate maps to no principal.
  if (auth == nullptr ||
      auth->FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME).empty()) {
    return absl::UnavailableError("the stream broke before the handshake (no connection)");
  }
  return access_(auth.get());
}

absl::Status ClientReplicationStream::Finish(const absl::Status& session_status) {
  finished_ = true;
  const bool wait_for_server = session_status.ok() || absl::IsUnavailable(session_status);
  if (!wait_for_server) {
    context_.TryCancel();
    stream_->Finish();
    return session_status;
  }
  if (session_status.ok()) WritesDone();
  // The server ends the call once its session is over; if it does not
  // within the grace period, give up on it.
  absl::Notification over;
  std::thread guard([this, &over] {
    if (!over.WaitForNotificationWithTimeout(kFinishGrace)) context_.TryCancel();
  });
  v1::ReplicateMessage ignored;
  while (stream_->Read(&ignored)) {
  }
  const absl::Status rpc = FromGrpcStatus(stream_->Finish());
  over.Notify();
  guard.join();
  if (session_status.ok()) return session_status;
  if (!rpc.ok() && !absl::IsCancelled(rpc)) return rpc;
  return session_status;
}

std::vector<std::string> ClientReplicationStream::PeerCertificateNames() const {
  const std::shared_ptr<const grpc::AuthContext> auth = context_.auth_context();
  if (auth == nullptr) return {};
  return auth::PeerCertificateNames(*auth);
}

absl::StatusOr<std::unique_ptr<reconciler::DialedStream>> GrpcDialer::Dial(
    const std::string& address, v1::SessionMode mode, absl::Time deadline) {
  grpc::ChannelArguments args;
  // A connection of its own, not shared with other channels to the peer.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(options_.max_message_bytes);
  args.SetMaxSendMessageSize(options_.max_message_bytes);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options_.keepalive_time)));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options_.keepalive_timeout)));
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      address,
      options_.credentials != nullptr ? options_.credentials : grpc::InsecureChannelCredentials(),
      args);
  return std::unique_ptr<reconciler::DialedStream>(
      std::make_unique<ClientReplicationStream>(channel, mode, deadline, options_.peer_access));
}

}  // namespace recondb::daemon
