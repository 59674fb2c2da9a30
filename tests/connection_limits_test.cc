// The connection limits of daemon/DESIGN.md ("Limits") against real
// daemons over 127.0.0.1: an idle connection closed after
// --max_connection_idle, a half-open connection reaped by the daemon's
// keepalive (and its stream's place under --max_streams_per_principal
// freed), and a client pinging too often sent GOAWAY.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpc/grpc.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/support/daemon_process.h"
#include "tests/support/db_client.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace recondb::testing {
namespace {

// A TCP proxy on 127.0.0.1:0 to a port of 127.0.0.1, one thread with
// poll(). BlackHole() stops forwarding in both directions but keeps every
// socket open: to the daemon the client looks like a peer behind a dead
// network. Thread-safe; the destructor stops the thread and closes all.
class TcpProxy {
 public:
  explicit TcpProxy(int target_port) : target_port_(target_port) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = Loopback(0);
    socklen_t len = sizeof(addr);
    bind(listener_, reinterpret_cast<sockaddr*>(&addr), len);
    listen(listener_, 8);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~TcpProxy() {
    stop_ = true;
    thread_.join();
    for (auto [client, upstream] : pairs_) {
      close(client);
      close(upstream);
    }
    close(listener_);
  }

  int port() const { return port_; }
  void BlackHole() { black_hole_ = true; }
  // Connections whose daemon side has closed (FIN or reset).
  int upstream_closed() const { return upstream_closed_; }

 private:
  static sockaddr_in Loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
  }

  // Copies what `from` has to `to`; false when `from` is closed.
  static bool Forward(int from, int to) {
    char buf[65536];
    ssize_t n = read(from, buf, sizeof(buf));
    if (n <= 0) return false;
    for (ssize_t sent = 0; sent < n;) {
      ssize_t w = write(to, buf + sent, n - sent);
      if (w <= 0) return false;
      sent += w;
    }
    return true;
  }

  void Accept() {
    int client = accept(listener_, nullptr, nullptr);
    int upstream = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = Loopback(target_port_);
    if (connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(client);
      close(upstream);
      return;
    }
    pairs_[upstream] = client;
  }

  // Closes the pair of `upstream`; `by_daemon` if its daemon side closed.
  void Drop(int upstream, bool by_daemon) {
    if (by_daemon) ++upstream_closed_;
    close(pairs_[upstream]);
    close(upstream);
    pairs_.erase(upstream);
  }

  // While forwarding, each socket is read; in a black hole only the
  // daemon side is watched, for its close, and nothing is read.
  void Run() {
    while (!stop_) {
      const bool hole = black_hole_;
      std::vector<pollfd> fds = {{listener_, POLLIN, 0}};
      std::vector<int> upstreams = {-1};  // The pair of each fds[i].
      for (auto [upstream, client] : pairs_) {
        fds.push_back({upstream, static_cast<short>(hole ? POLLRDHUP : POLLIN), 0});
        upstreams.push_back(upstream);
        if (hole) continue;
        fds.push_back({client, POLLIN, 0});
        upstreams.push_back(upstream);
      }
      if (poll(fds.data(), fds.size(), 20) <= 0) continue;
      if (fds[0].revents & POLLIN) Accept();
      for (size_t i = 1; i < fds.size(); ++i) {
        const int upstream = upstreams[i];
        if (fds[i].revents == 0 || pairs_.count(upstream) == 0) continue;
        const bool from_daemon = fds[i].fd == upstream;
        if (hole || !Forward(fds[i].fd, from_daemon ? pairs_[upstream] : upstream)) {
          Drop(upstream, from_daemon);
        }
      }
    }
  }

  const int target_port_;
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> black_hole_{false};
  std::atomic<int> upstream_closed_{0};
  std::map<int, int> pairs_;  // upstream fd -> client fd; the thread's own.
};

// Polls `done` every 20 ms until it holds or `timeout` passes; returns
// whether it held.
template <typename Done>
bool PollUntil(absl::Duration timeout, Done done) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

absl::StatusOr<std::unique_ptr<DaemonProcess>> StartDaemon(const TempDir& data,
                                                           std::vector<std::string> flags) {
  DaemonOptions options;
  options.data_dir = data.path();
  options.extra_flags = std::move(flags);
  return DaemonProcess::Start(std::move(options));
}

// A follow stream over all tables, cancelled and finished when destroyed.
class Follow {
 public:
  Follow(v1::Database::Stub& stub, absl::Duration timeout) {
    SetDeadline(&context_, timeout);
    v1::GetChangesRequest request;
    request.set_follow(true);
    reader_ = stub.GetChanges(&context_, request);
  }
  ~Follow() {
    context_.TryCancel();
    while (Read()) {
    }
    Finish();
  }
  // The next change; false once the stream has ended.
  bool Read() { return !status_.has_value() && reader_->Read(&change_); }
  // How the stream ended. REQUIRES: Read() returned false.
  grpc::Status Finish() {
    if (!status_.has_value()) status_ = reader_->Finish();
    return *status_;
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::Change>> reader_;
  v1::Change change_;
  std::optional<grpc::Status> status_;
};

// OK if a new follow stream is accepted (yields its first change), else
// the status it ends with.
grpc::Status StartFollow(v1::Database::Stub& stub) {
  Follow follow(stub, absl::Seconds(5));
  if (follow.Read()) return grpc::Status::OK;
  return follow.Finish();
}

// One unary call, then no call open: the daemon closes the connection with
// GOAWAY after --max_connection_idle and the channel leaves READY for IDLE.
TEST(ConnectionLimitsTest, IdleConnectionIsClosed) {
  TempDir data;
  ASSERT_OK_AND_ASSIGN(auto daemon, StartDaemon(data, {"--max_connection_idle=1s"}));
  auto channel = daemon->NewChannel();
  DbClient db(channel);
  ASSERT_OK(db.ListTables().status());
  ASSERT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
  EXPECT_TRUE(
      PollUntil(absl::Seconds(10), [&] { return channel->GetState(false) != GRPC_CHANNEL_READY; }));
  EXPECT_EQ(channel->GetState(false), GRPC_CHANNEL_IDLE);
}

// The control: with the default (30 min) the same connection stays READY.
TEST(ConnectionLimitsTest, IdleConnectionKeptByDefault) {
  TempDir data;
  ASSERT_OK_AND_ASSIGN(auto daemon, StartDaemon(data, {}));
  auto channel = daemon->NewChannel();
  DbClient db(channel);
  ASSERT_OK(db.ListTables().status());
  EXPECT_FALSE(
      PollUntil(absl::Seconds(3), [&] { return channel->GetState(false) != GRPC_CHANNEL_READY; }));
}

// A follow stream whose client vanished without closing its socket holds
// the caller's only place (--max_streams_per_principal=1) until the
// daemon's keepalive ping goes unanswered and it closes the connection.
TEST(ConnectionLimitsTest, HalfOpenConnectionIsReapedAndItsStreamFreed) {
  TempDir data;
  ASSERT_OK_AND_ASSIGN(auto daemon,
                       StartDaemon(data, {"--keepalive_time=1s", "--keepalive_timeout=1s",
                                          "--max_streams_per_principal=1"}));
  DbClient direct(daemon->NewChannel());
  ASSERT_OK(direct.CreateTable(TodoTable()).status());  // A change to read.

  TcpProxy proxy(daemon->port());
  auto proxied = v1::Database::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", proxy.port()),
                                                           grpc::InsecureChannelCredentials()));
  Follow first(*proxied, absl::Seconds(60));
  ASSERT_TRUE(first.Read()) << first.Finish().error_message();
  proxy.BlackHole();

  EXPECT_EQ(StartFollow(*direct.stub()).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  grpc::Status last;
  auto accepted = [&] {
    last = StartFollow(*direct.stub());
    return last.ok();
  };
  EXPECT_TRUE(PollUntil(absl::Seconds(15), accepted))
      << last.error_code() << " " << last.error_message();
  EXPECT_TRUE(PollUntil(absl::Seconds(5), [&] { return proxy.upstream_closed() == 1; }));
}

// A client pinging every 100 ms (gRPC 1.51 sends at most one a second
// with a call open) against --min_ping_interval=10s --max_ping_strikes=2:
// the daemon sends GOAWAY too_many_pings and the open stream ends.
TEST(ConnectionLimitsTest, PingAbuseEndsTheConnection) {
  TempDir data;
  ASSERT_OK_AND_ASSIGN(auto daemon,
                       StartDaemon(data, {"--min_ping_interval=10s", "--max_ping_strikes=2"}));
  DbClient direct(daemon->NewChannel());
  ASSERT_OK(direct.CreateTable(TodoTable()).status());

  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 100);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  auto stub = v1::Database::NewStub(daemon->NewChannel(args));
  Follow follow(*stub, absl::Seconds(30));
  ASSERT_TRUE(follow.Read()) << follow.Finish().error_message();
  const absl::Time start = absl::Now();
  while (follow.Read()) {  // Until the GOAWAY ends it.
  }
  const grpc::Status status = follow.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_LT(absl::Now() - start, absl::Seconds(15));
}

}  // namespace
}  // namespace recondb::testing
