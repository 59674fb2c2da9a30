#include "tests/support/cluster.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "tests/support/db_client.h"

namespace recondb::testing {
namespace {

constexpr absl::Duration kCallTimeout = absl::Seconds(10);

DaemonOptions Options(const TempDir& data, const std::string& listen,
                      const std::vector<std::string>& flags) {
  DaemonOptions options;
  options.data_dir = data.path();
  options.listen = listen;
  options.extra_flags = flags;
  options.extra_flags.push_back("--log_level=debug");
  // Idle test clients must not hold a stopping daemon (daemon/DESIGN.md).
  options.extra_env.push_back("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS=100");
  return options;
}

}  // namespace

absl::Status CopyDataDir(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(to, error)) {
    std::filesystem::remove_all(entry.path(), error);
    if (error) return absl::InternalError(absl::StrCat("cannot empty ", to.string(), ": ", error.message()));
  }
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot copy ", from.string(), " to ", to.string(), ": ", error.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> Cluster::AddNode(const std::vector<int>& peers,
                                     std::vector<std::string> extra_flags) {
  return Start(std::make_unique<TempDir>(), peers, std::move(extra_flags));
}

absl::StatusOr<int> Cluster::AddNodeFromCopy(
    const std::filesystem::path& copy_of, const std::vector<int>& peers,
    std::vector<std::string> extra_flags,
    const std::function<void(const std::filesystem::path&)>& prepare) {
  auto data = std::make_unique<TempDir>();
  if (absl::Status s = CopyDataDir(copy_of, data->path()); !s.ok()) return s;
  if (prepare) prepare(data->path());
  return Start(std::move(data), peers, std::move(extra_flags));
}

absl::StatusOr<int> Cluster::Start(std::unique_ptr<TempDir> data, const std::vector<int>& peers,
                                   std::vector<std::string> extra_flags) {
  Node node;
  node.data = std::move(data);
  for (int p : peers) {
    if (p < 0 || p >= size() || nodes_[p].process == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("node ", p, " is not running"));
    }
    node.flags.push_back(absl::StrCat("--peer=", address(p)));
  }
  node.flags.insert(node.flags.end(), extra_flags.begin(), extra_flags.end());
  absl::StatusOr<std::unique_ptr<DaemonProcess>> process =
      DaemonProcess::Start(Options(*node.data, "127.0.0.1:0", node.flags));
  if (!process.ok()) return process.status();
  node.process = std::move(process).value();
  nodes_.push_back(std::move(node));
  return size() - 1;
}

absl::Status Cluster::Stop(int i) {
  absl::StatusOr<int> code = node(i).Stop();
  if (!code.ok()) return code.status();
  if (*code != 0) return absl::InternalError(absl::StrCat("node ", i, " exited with ", *code));
  return absl::OkStatus();
}

void Cluster::Kill(int i) { node(i).Kill(); }

absl::Status Cluster::Restart(int i, std::optional<std::vector<std::string>> flags) {
  Node& n = nodes_.at(i);
  if (n.process->running()) return absl::FailedPreconditionError("node is running");
  if (flags.has_value()) n.flags = *flags;
  const std::string listen = absl::StrCat("127.0.0.1:", n.process->port());
  absl::StatusOr<std::unique_ptr<DaemonProcess>> process =
      DaemonProcess::Start(Options(*n.data, listen, n.flags));
  if (!process.ok()) return process.status();
  n.process = std::move(process).value();
  return absl::OkStatus();
}

std::unique_ptr<v1::Admin::Stub> Cluster::NewAdminStub(int i) {
  return v1::Admin::NewStub(node(i).NewChannel());
}

absl::StatusOr<v1::Peer> Cluster::AddPeer(int i, const std::string& address,
                                          const std::vector<std::string>& tables) {
  v1::AddPeerRequest request;
  request.set_address(address);
  for (const std::string& t : tables) request.add_tables(t);
  grpc::ClientContext ctx;
  SetDeadline(&ctx, kCallTimeout);
  v1::Peer peer;
  grpc::Status s = NewAdminStub(i)->AddPeer(&ctx, request, &peer);
  if (!s.ok()) return ToAbslStatus(s);
  return peer;
}

absl::StatusOr<std::vector<v1::Peer>> Cluster::ListPeers(int i) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, kCallTimeout);
  v1::ListPeersResponse response;
  grpc::Status s = NewAdminStub(i)->ListPeers(&ctx, v1::ListPeersRequest(), &response);
  if (!s.ok()) return ToAbslStatus(s);
  return std::vector<v1::Peer>(response.peers().begin(), response.peers().end());
}

absl::StatusOr<v1::SyncResponse> Cluster::Sync(int i, const std::string& address,
                                               absl::Duration timeout) {
  v1::SyncRequest request;
  request.set_address(address);
  request.mutable_timeout()->set_seconds(absl::ToInt64Seconds(timeout));
  grpc::ClientContext ctx;
  SetDeadline(&ctx, std::max(timeout, absl::ZeroDuration()) + kCallTimeout);
  v1::SyncResponse response;
  grpc::Status s = NewAdminStub(i)->Sync(&ctx, request, &response);
  if (!s.ok()) return ToAbslStatus(s);
  return response;
}

absl::StatusOr<v1::NodeStatus> Cluster::GetStatus(int i) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, kCallTimeout);
  v1::NodeStatus status;
  grpc::Status s = NewAdminStub(i)->GetStatus(&ctx, v1::GetStatusRequest(), &status);
  if (!s.ok()) return ToAbslStatus(s);
  return status;
}

absl::Status Cluster::WaitForChange(int i, const std::string& table, const std::string& id,
                                    const std::string& revision, absl::Duration timeout) {
  auto stub = node(i).NewDatabaseStub();
  grpc::ClientContext ctx;
  SetDeadline(&ctx, timeout);
  v1::GetChangesRequest request;
  request.set_follow(true);
  auto reader = stub->GetChanges(&ctx, request);
  v1::Change change;
  while (reader->Read(&change)) {
    if (change.table() == table && change.id() == id &&
        (revision.empty() || change.revision() == revision)) {
      ctx.TryCancel();
      reader->Finish();
      return absl::OkStatus();
    }
  }
  const grpc::Status s = reader->Finish();
  return absl::DeadlineExceededError(
      absl::StrCat("node ", i, " did not show ", table, "/", id, " ", revision, " within ",
                   absl::FormatDuration(timeout), " (", s.error_message(), ")"));
}

absl::StatusOr<v1::Peer> Cluster::WaitForConnectedPeer(int i, const std::string& peer_address,
                                                       absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string last;
  while (absl::Now() < deadline) {
    absl::StatusOr<std::vector<v1::Peer>> peers = ListPeers(i);
    if (peers.ok()) {
      for (const v1::Peer& p : *peers) {
        if (p.address() == peer_address && p.connected()) return p;
        if (p.address() == peer_address) last = p.ShortDebugString();
      }
    } else {
      last = peers.status().ToString();
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError(absl::StrCat("node ", i, ": peer ", peer_address,
                                                  " not connected within ",
                                                  absl::FormatDuration(timeout), "; last: ", last));
}

}  // namespace recondb::testing
