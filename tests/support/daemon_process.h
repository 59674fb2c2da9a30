// Runs the real `recondbd` binary as a child process for integration tests.
//
//   TempDir data;
//   DaemonOptions options;
//   options.data_dir = data.path();
//   ASSERT_OK_AND_ASSIGN(auto daemon, DaemonProcess::Start(options));
//   auto stub = daemon->NewDatabaseStub();
//   ...
//   ASSERT_OK_AND_ASSIGN(int code, daemon->Stop());  // SIGTERM, then waitpid
//   EXPECT_EQ(code, 0);
//
// The daemon is started with `--listen=127.0.0.1:0 --data_dir=<dir>
// --storage=sqlite` plus DaemonOptions::extra_flags, its stdout and stderr go
// to a log file owned by the object, and Start() returns once the daemon has
// logged `listening on HOST:PORT` (the port is read from that line). Every
// process started is stopped by its PID: the destructor sends SIGTERM, waits
// a bounded time, then SIGKILLs. The child also gets PR_SET_PDEATHSIG, so a
// crashed test cannot leave a daemon behind.
//
// Not thread-safe: use one object from one thread.
#ifndef RECONDB_TESTS_SUPPORT_DAEMON_PROCESS_H_
#define RECONDB_TESTS_SUPPORT_DAEMON_PROCESS_H_

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "recondb/v1/database.grpc.pb.h"
#include "tests/support/temp_dir.h"

namespace recondb::testing {

// The path of the recondbd binary: $RECONDBD_BINARY if set, else the path
// CMake compiled in (RECONDBD_PATH).
std::string RecondbdPath();

struct DaemonOptions {
  // Required: --data_dir.
  std::filesystem::path data_dir;
  // --listen. Port 0 lets the kernel choose a free port; "unix:PATH" listens
  // on a Unix socket.
  std::string listen = "127.0.0.1:0";
  // --storage.
  std::string storage = "sqlite";
  // Appended after the flags above, e.g. "--max_message_bytes=65536".
  std::vector<std::string> extra_flags;
  // Extra environment variables ("NAME=value") on top of the test's own.
  std::vector<std::string> extra_env;
  // The credentials of NewChannel() and the stubs made from it (e.g.
  // TlsChannelCredentials from tests/support/test_certificates.h for a
  // daemon started with --tls_cert). Default (null): plaintext.
  std::shared_ptr<grpc::ChannelCredentials> channel_credentials;
  // How long Start() waits for the `listening on` line.
  absl::Duration start_timeout = absl::Seconds(20);
};

class DaemonProcess {
 public:
  // Spawns the daemon and waits until it logs `listening on HOST:PORT`.
  // FAILED_PRECONDITION if it exits first (the message holds its exit code
  // and log), DEADLINE_EXCEEDED if the line does not come within
  // options.start_timeout (the process is then killed), INTERNAL if it
  // cannot be spawned.
  static absl::StatusOr<std::unique_ptr<DaemonProcess>> Start(DaemonOptions options);

  // Spawns the daemon without waiting for anything: for daemons expected to
  // fail (see WaitForExit).
  static absl::StatusOr<std::unique_ptr<DaemonProcess>> Spawn(DaemonOptions options);

  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // Waits until the log holds `listening on HOST:PORT` and records the
  // address; errors as in Start().
  absl::Status WaitUntilListening(absl::Duration timeout);

  // Waits up to `timeout` for the process to exit on its own and returns
  // its exit code (128 + signal number when killed by a signal).
  // DEADLINE_EXCEEDED if it is still running (it is left running).
  absl::StatusOr<int> WaitForExit(absl::Duration timeout);

  // Sends SIGTERM and waits up to `timeout` for the exit; returns the exit
  // code. If the process does not exit in time it is SIGKILLed, reaped, and
  // DEADLINE_EXCEEDED is returned. Returns the recorded code if the process
  // had already been reaped.
  absl::StatusOr<int> Stop(absl::Duration timeout = absl::Seconds(20));

  // SIGKILLs the process and reaps it; returns 128 + SIGKILL (or the exit
  // code if it had already exited).
  int Kill();

  pid_t pid() const { return pid_; }
  bool running() const { return !exit_code_.has_value(); }
  // "HOST:PORT" (or "unix:PATH") from the `listening on` line; empty
  // before it.
  const std::string& address() const { return address_; }
  // 0 for a Unix socket.
  int port() const { return port_; }
  // The node id, if the `listening on` line names one (any UUID on it).
  const std::string& node_id() const { return node_id_; }
  const std::string& log_path() const { return log_path_; }
  // Everything the daemon has written to stdout and stderr so far.
  std::string log() const;

  // A new channel to address(), with `args` (each channel its own
  // connection) and DaemonOptions::channel_credentials.
  std::shared_ptr<grpc::Channel> NewChannel(
      const grpc::ChannelArguments& args = grpc::ChannelArguments()) const;
  // The same with `credentials` instead.
  std::shared_ptr<grpc::Channel> NewChannel(
      const std::shared_ptr<grpc::ChannelCredentials>& credentials,
      const grpc::ChannelArguments& args = grpc::ChannelArguments()) const;
  std::unique_ptr<recondb::v1::Database::Stub> NewDatabaseStub() const;
  std::unique_ptr<grpc::health::v1::Health::Stub> NewHealthStub() const;

  // Calls grpc.health.v1.Health/Check for `service` ("" = the whole
  // server) and returns OK if it answers SERVING.
  absl::Status CheckHealth(const std::string& service = "") const;

 private:
  DaemonProcess() = default;

  // Non-blocking waitpid; records exit_code_ when the child is gone.
  bool PollExit();
  // Blocking waitpid up to `timeout`, polling.
  bool WaitExitFor(absl::Duration timeout);

  TempDir log_dir_;
  std::string log_path_;
  std::vector<std::string> argv_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string address_;
  int port_ = 0;
  std::string node_id_;
  std::shared_ptr<grpc::ChannelCredentials> channel_credentials_;
};

}  // namespace recondb::testing

#endif  // RECONDB_TESTS_SUPPORT_DAEMON_PROCESS_H_
