#include "tests/support/daemon_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"

extern char** environ;

namespace recondb::testing {
namespace {

constexpr absl::Duration kPollInterval = absl::Milliseconds(20);

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Everything needed in the child is prepared before fork(): between fork()
// and exec() only async-signal-safe calls are allowed.
struct ExecPlan {
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::vector<char*> argv_ptrs;
  std::vector<char*> env_ptrs;

  void Finish() {
    for (auto& a : argv) argv_ptrs.push_back(a.data());
    argv_ptrs.push_back(nullptr);
    for (auto& e : env) env_ptrs.push_back(e.data());
    env_ptrs.push_back(nullptr);
  }
};

std::vector<std::string> CurrentEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    bool overridden = false;
    for (const std::string& x : extra) {
      size_t eq = x.find('=');
      if (eq != std::string::npos && entry.compare(0, eq + 1, x, 0, eq + 1) == 0) {
        overridden = true;
      }
    }
    if (!overridden) env.push_back(std::move(entry));
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

}  // namespace

std::string RecondbdPath() {
  if (const char* p = std::getenv("RECONDBD_BINARY"); p != nullptr && *p != '\0') return p;
#ifdef RECONDBD_PATH
  return RECONDBD_PATH;
#else
  return "recondbd";
#endif
}

absl::StatusOr<std::unique_ptr<DaemonProcess>> DaemonProcess::Start(DaemonOptions options) {
  absl::Duration timeout = options.start_timeout;
  auto spawned = Spawn(std::move(options));
  if (!spawned.ok()) return spawned.status();
  std::unique_ptr<DaemonProcess> daemon = std::move(spawned).value();
  absl::Status s = daemon->WaitUntilListening(timeout);
  if (!s.ok()) return s;
  return daemon;
}

absl::StatusOr<std::unique_ptr<DaemonProcess>> DaemonProcess::Spawn(DaemonOptions options) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("DaemonOptions.data_dir is required");
  std::unique_ptr<DaemonProcess> d(new DaemonProcess());
  d->log_path_ = d->log_dir_.File("recondbd.log");
  d->channel_credentials_ = options.channel_credentials;

  ExecPlan plan;
  plan.argv = {RecondbdPath(), absl::StrCat("--listen=", options.listen),
               absl::StrCat("--data_dir=", options.data_dir.string()),
               absl::StrCat("--storage=", options.storage)};
  plan.argv.insert(plan.argv.end(), options.extra_flags.begin(), options.extra_flags.end());
  plan.env = CurrentEnvironment(options.extra_env);
  plan.Finish();
  d->argv_ = plan.argv;

  int log_fd = ::open(d->log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) return absl::InternalError(absl::StrCat("open ", d->log_path_, ": ", std::strerror(errno)));
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) {
    ::close(log_fd);
    return absl::InternalError(absl::StrCat("open /dev/null: ", std::strerror(errno)));
  }
  const pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    ::close(null_fd);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    // A fresh process group, so a terminal's Ctrl-C goes to the test only.
    ::setpgid(0, 0);
    ::execve(plan.argv_ptrs[0], plan.argv_ptrs.data(), plan.env_ptrs.data());
    const char msg[] = "daemon_process: execve of recondbd failed\n";
    ssize_t ignored = ::write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)ignored;
    ::_exit(127);
  }
  ::close(log_fd);
  ::close(null_fd);
  d->pid_ = pid;
  return d;
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0 && running()) {
    absl::StatusOr<int> code = Stop();
    if (!code.ok()) std::cerr << "daemon_process: " << code.status() << "\n";
  }
  if (::testing::Test::HasFailure()) {
    std::cerr << "---- recondbd log (" << log_path_ << ") ----\n" << log() << "---- end of log ----\n";
  }
}

bool DaemonProcess::PollExit() {
  if (exit_code_.has_value()) return true;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = DecodeWaitStatus(status);
    return true;
  }
  if (r < 0 && errno == ECHILD) {
    exit_code_ = -1;
    return true;
  }
  return false;
}

bool DaemonProcess::WaitExitFor(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (!PollExit()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(kPollInterval);
  }
  return true;
}

std::string DaemonProcess::log() const {
  std::ifstream in(log_path_, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::Status DaemonProcess::WaitUntilListening(absl::Duration timeout) {
  static const std::regex kListening(
      R"(listening on (?:(unix:[^ \n]+)|(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.\-]+):([0-9]+)))");
  static const std::regex kUuid(R"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})");
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    const std::string text = log();
    std::smatch m;
    if (std::regex_search(text, m, kListening)) {
      if (m[1].matched) {
        address_ = m[1].str();
        port_ = 0;
      } else {
        address_ = absl::StrCat(m[2].str(), ":", m[3].str());
        port_ = std::atoi(m[3].str().c_str());
      }
      // The node id is logged on the same line (decisions.md).
      size_t line_start = text.rfind('\n', m.position(0));
      line_start = line_start == std::string::npos ? 0 : line_start + 1;
      size_t line_end = text.find('\n', m.position(0));
      std::string line = text.substr(line_start, line_end == std::string::npos ? std::string::npos
                                                                              : line_end - line_start);
      std::smatch u;
      if (std::regex_search(line, u, kUuid)) node_id_ = u[0].str();
      return absl::OkStatus();
    }
    if (PollExit()) {
      return absl::FailedPreconditionError(absl::StrCat("recondbd exited with code ", *exit_code_,
                                                        " before listening; log:\n", text));
    }
    if (absl::Now() >= deadline) {
      Kill();
      return absl::DeadlineExceededError(
          absl::StrCat("recondbd did not log 'listening on' within ", absl::FormatDuration(timeout),
                       "; log:\n", log()));
    }
    absl::SleepFor(kPollInterval);
  }
}

absl::StatusOr<int> DaemonProcess::WaitForExit(absl::Duration timeout) {
  if (!WaitExitFor(timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat("recondbd (pid ", pid_, ") still running after ", absl::FormatDuration(timeout)));
  }
  return *exit_code_;
}

absl::StatusOr<int> DaemonProcess::Stop(absl::Duration timeout) {
  if (PollExit()) return *exit_code_;
  ::kill(pid_, SIGTERM);
  if (WaitExitFor(timeout)) return *exit_code_;
  Kill();
  return absl::DeadlineExceededError(absl::StrCat("recondbd (pid ", pid_, ") ignored SIGTERM for ",
                                                  absl::FormatDuration(timeout), "; killed"));
}

int DaemonProcess::Kill() {
  if (PollExit()) return *exit_code_;
  ::kill(pid_, SIGKILL);
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  exit_code_ = r == pid_ ? DecodeWaitStatus(status) : -1;
  return *exit_code_;
}

std::shared_ptr<grpc::Channel> DaemonProcess::NewChannel(const grpc::ChannelArguments& args) const {
  return NewChannel(
      channel_credentials_ != nullptr ? channel_credentials_ : grpc::InsecureChannelCredentials(),
      args);
}

std::shared_ptr<grpc::Channel> DaemonProcess::NewChannel(
    const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const grpc::ChannelArguments& args) const {
  grpc::ChannelArguments a = args;
  // A channel of its own: no subchannel sharing between channels.
  a.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address_, credentials, a);
}

std::unique_ptr<recondb::v1::Database::Stub> DaemonProcess::NewDatabaseStub() const {
  return recondb::v1::Database::NewStub(NewChannel());
}

std::unique_ptr<grpc::health::v1::Health::Stub> DaemonProcess::NewHealthStub() const {
  return grpc::health::v1::Health::NewStub(NewChannel());
}

absl::Status DaemonProcess::CheckHealth(const std::string& service) const {
  auto stub = NewHealthStub();
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status s = stub->Check(&ctx, req, &resp);
  if (!s.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                        absl::StrCat("Health/Check: ", s.error_message()));
  }
  if (resp.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    return absl::UnavailableError(absl::StrCat("Health/Check answered ",
                                               grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status())));
  }
  return absl::OkStatus();
}

}  // namespace recondb::testing
