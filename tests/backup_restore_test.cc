// Backup and restore as commands, against real processes: `recondb backup`
// against a recondbd under write load, `recondb restore` into a directory,
// a recondbd started on it; what each refuses; and the daemon's temporary
// copy, which never outlives the call (success, a client that cancels, a
// daemon that died).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "recondb/v1/admin.grpc.pb.h"
#include "tests/support/cluster.h"
#include "tests/support/daemon_process.h"
#include "tests/support/db_client.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace recondb::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kTempBackupPrefix[] = "backup-in-progress-";

struct CliResult {
  int exit = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A running recondb process, its output going to files.
struct CliProcess {
  pid_t pid = -1;
  std::unique_ptr<TempDir> io = std::make_unique<TempDir>();
};

// Starts the recondb binary with `args` (stdin /dev/null, no RECONDB_*
// variables from the test's environment).
CliProcess SpawnCli(const std::vector<std::string>& args) {
  CliProcess process;
  std::vector<std::string> argv_s = {RECONDB_CLI_PATH};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!absl::StartsWith(*e, "RECONDB_")) env_s.push_back(*e);
  }
  std::vector<char*> envp;
  for (std::string& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, process.io->File("out").c_str(), O_WRONLY | O_CREAT,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, process.io->File("err").c_str(), O_WRONLY | O_CREAT,
                                   0644);
  const int rc = posix_spawn(&process.pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "cannot spawn " << argv[0];
    process.pid = -1;
  }
  return process;
}

// Waits for `process` to exit.
CliResult WaitCli(CliProcess& process) {
  CliResult result;
  if (process.pid < 0) return result;
  int status = 0;
  if (waitpid(process.pid, &status, 0) == process.pid) {
    result.exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  process.pid = -1;
  result.out = ReadFile(process.io->File("out"));
  result.err = ReadFile(process.io->File("err"));
  return result;
}

CliResult RunCli(const std::vector<std::string>& args) {
  CliProcess process = SpawnCli(args);
  return WaitCli(process);
}

// The names of the files in `dir`.
std::set<std::string> FilesIn(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename());
  return names;
}

bool HasTempBackup(const fs::path& dir) {
  for (const std::string& name : FilesIn(dir)) {
    if (absl::StartsWith(name, kTempBackupPrefix)) return true;
  }
  return false;
}

class BackupTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::unique_ptr<DaemonProcess>> StartDaemon(
      const fs::path& dir, std::vector<std::string> extra_flags = {}) {
    DaemonOptions options;
    options.data_dir = dir;
    options.extra_flags = std::move(extra_flags);
    return DaemonProcess::Start(options);
  }

  static void StopDaemon(std::unique_ptr<DaemonProcess>& daemon) {
    absl::StatusOr<int> code = daemon->Stop();
    ASSERT_OK(code);
    EXPECT_EQ(*code, 0) << daemon->log();
  }

  // Creates the todo table and `n` todos "pre-<i>" with a description.
  static void Fill(DbClient& db, int n) {
    ASSERT_OK(db.CreateTable(TodoTable()));
    for (int i = 0; i < n; ++i) {
      ASSERT_OK(db.Create("todos",
                          {{"title", StringValue(absl::StrCat("todo ", i))},
                           {"description", StringValue(std::string(100, 'a' + i % 26))}},
                          absl::StrCat("pre-", i))
                    .status());
    }
  }

  CliResult Backup(const DaemonProcess& daemon, const std::string& path,
                   std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"backup", path, "--addr=" + daemon.address()};
    args.insert(args.end(), more.begin(), more.end());
    return RunCli(args);
  }

  static CliResult Restore(const std::string& backup, const fs::path& dir) {
    return RunCli({"restore", backup, "--data_dir", dir.string()});
  }

  TempDir data_;
  TempDir backups_;
};

// The scenario with the commands: laptop D syncs with hub E; `recondb
// backup`; D writes five records and syncs; D is lost and `recondb restore`d
// from the backup, then writes ten more, past E's old checkpoint for it.
// Every one of the ten reaches E, and the five come back to D.
TEST(BackupRestoreSyncTest, ALaptopRestoredWithTheCommandsLosesNothingAtTheHub) {
  Cluster cluster;
  ASSERT_OK_AND_ASSIGN(int e, cluster.AddNode());
  ASSERT_OK_AND_ASSIGN(int d, cluster.AddNode());
  auto write = [&](const std::string& prefix, int n) {
    DbClient db(cluster.node(d).NewChannel());
    for (int i = 0; i < n; ++i) {
      ASSERT_OK(db.Create("todos", {{"title", StringValue(prefix)}}, absl::StrCat(prefix, i)));
    }
  };
  auto live = [&](int node) -> int64_t {
    absl::StatusOr<v1::NodeStatus> status = cluster.GetStatus(node);
    if (!status.ok()) return -1;
    for (const auto& t : status->tables()) {
      if (t.name() == "todos") return t.records();
    }
    return 0;
  };
  {
    DbClient db(cluster.node(d).NewChannel());
    ASSERT_OK(db.CreateTable(TodoTable()));
  }
  write("before-", 4);
  ASSERT_OK(cluster.Sync(d, cluster.address(e)));
  TempDir backups;
  const std::string backup = backups.File("d.recondb");
  const CliResult backed_up = RunCli({"backup", backup, "--addr=" + cluster.address(d)});
  ASSERT_EQ(backed_up.exit, 0) << backed_up.err;
  write("after-backup-", 5);
  ASSERT_OK(cluster.Sync(d, cluster.address(e)));
  ASSERT_EQ(live(e), 9);

  const std::string lost_id = cluster.node_id(d);
  ASSERT_OK(cluster.Stop(d));
  const CliResult restored = RunCli({"restore", backup, "--data_dir", cluster.data_dir(d).string()});
  ASSERT_EQ(restored.exit, 0) << restored.err;
  ASSERT_OK(cluster.Restart(d));
  EXPECT_NE(cluster.node_id(d), lost_id);
  write("restored-", 10);
  for (int round = 0; round < 3; ++round) ASSERT_OK(cluster.Sync(d, cluster.address(e)));
  DbClient hub(cluster.node(e).NewChannel());
  for (int i = 0; i < 10; ++i) {
    EXPECT_OK(hub.GetRecord("todos", absl::StrCat("restored-", i))) << i;
  }
  EXPECT_EQ(live(e), 19);
  EXPECT_EQ(live(d), 19);
}

// The main path: a backup taken while clients keep writing holds every
// write acknowledged before it began, the writes go on succeeding while it
// runs, and a node restored from it serves that data.
TEST_F(BackupTest, BackupUnderWriteLoadThenRestoreServesEveryEarlierWrite) {
  ASSERT_OK_AND_ASSIGN(auto daemon, StartDaemon(data_.path()));
  {
    DbClient db(daemon->NewChannel());
    Fill(db, 300);
  }
  std::mutex mu;
  std::vector<std::string> acked;  // ids, in acknowledgement order
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      DbClient client(daemon->NewChannel(), absl::Seconds(30));
      for (int i = 0; !stop.load(); ++i) {
        absl::StatusOr<v1::Record> r = client.Create("todos", {{"title", StringValue("load")}},
                                                     absl::StrCat("load-", w, "-", i));
        if (!r.ok()) {
          ++failures;
          ADD_FAILURE() << "a write failed during the backup: " << r.status();
          return;
        }
        std::lock_guard<std::mutex> lock(mu);
        acked.push_back(r->id());
      }
    });
  }
  // Some load writes are acknowledged before the backup begins.
  for (absl::Time until = absl::Now() + absl::Seconds(30); absl::Now() < until;) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (acked.size() >= 20) break;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  std::vector<std::string> before;
  {
    std::lock_guard<std::mutex> lock(mu);
    before = acked;
  }
  ASSERT_GE(before.size(), 20u);
  const std::string path = backups_.File("node.recondb");
  const CliResult backup = Backup(*daemon, path);
  size_t after_backup = 0;
  {
    std::lock_guard<std::mutex> lock(mu);
    after_backup = acked.size();
  }
  stop = true;
  for (std::thread& t : writers) t.join();
  ASSERT_EQ(backup.exit, 0) << backup.err;
  EXPECT_EQ(failures.load(), 0);
  EXPECT_THAT(backup.out, HasSubstr(absl::StrCat("wrote ", path, ": ")));
  EXPECT_THAT(backup.out, HasSubstr(daemon->node_id()));
  const std::string original_node_id = daemon->node_id();
  std::cerr << "load writes acknowledged while the backup ran: " << after_backup - before.size()
            << "\n";
  // Nothing of the backup is left in the daemon's directory, nor beside PATH.
  EXPECT_FALSE(HasTempBackup(data_.path()));
  EXPECT_EQ(FilesIn(backups_.path()), std::set<std::string>{"node.recondb"});
  StopDaemon(daemon);

  TempDir restored;
  const CliResult restore = Restore(path, restored.path() / "data");
  ASSERT_EQ(restore.exit, 0) << restore.err;
  EXPECT_THAT(restore.out, HasSubstr("next: start recondbd"));
  ASSERT_OK_AND_ASSIGN(auto node, StartDaemon(restored.path() / "data"));
  // The backup is marked as a copy: the restored node is never taken for
  // the original.
  EXPECT_FALSE(node->node_id().empty());
  EXPECT_NE(node->node_id(), original_node_id);
  DbClient db(node->NewChannel());
  for (int i = 0; i < 300; ++i) {
    ASSERT_OK(db.GetRecord("todos", absl::StrCat("pre-", i)).status()) << i;
  }
  for (const std::string& id : before) ASSERT_OK(db.GetRecord("todos", id).status()) << id;
  db.Close();
  StopDaemon(node);
}

TEST_F(BackupTest, RestoreIsRefusedWhileADaemonRunsOnTheDirectory) {
  ASSERT_OK_AND_ASSIGN(auto daemon, StartDaemon(data_.path()));
  {
    DbClient db(daemon->NewChannel());
    Fill(db, 3);
  }
  const std::string path = backups_.File("node.recondb");
  ASSERT_EQ(Backup(*daemon, path).exit, 0);
  const std::set<std::string> files = FilesIn(data_.path());
  const CliResult restore = Restore(path, data_.path());
  EXPECT_EQ(restore.exit, 4);
  EXPECT_THAT(restore.err, HasSubstr("locked by another recondbd"));
  EXPECT_EQ(FilesIn(data_.path()), files);
  EXPECT_OK(daemon->CheckHealth());
  StopDaemon(daemon);
}

// Restoring over a node's directory keeps its store, moved aside, and the
// node then serves the backup's data.
TEST_F(BackupTest, ExistingStoreIsMovedAsideNeverDeleted) {
  ASSERT_OK_AND_ASSIGN(auto daemon, StartDaemon(data_.path()));
  const std::string path = backups_.File("node.recondb");
  {
    DbClient db(daemon->NewChannel());
    Fill(db, 3);
    ASSERT_EQ(Backup(*daemon, path).exit, 0);
    ASSERT_OK(db.Create("todos", {{"title", StringValue("after the backup")}}, "later").status());
    db.Close();
  }
  StopDaemon(daemon);
  const std::string old_store = ReadFile((data_.path() / "recondb.sqlite3").string());
  const CliResult restore = Restore(path, data_.path());
  ASSERT_EQ(restore.exit, 0) << restore.err;
  EXPECT_THAT(restore.out, HasSubstr("moved aside"));
  std::string aside;
  for (const std::string& name : FilesIn(data_.path())) {
    if (absl::StartsWith(name, "recondb-before-restore-")) aside = name;
  }
  ASSERT_FALSE(aside.empty()) << restore.out;
  EXPECT_THAT(restore.out, HasSubstr(aside));
  EXPECT_EQ(ReadFile((data_.path() / aside).string()), old_store);
  ASSERT_OK_AND_ASSIGN(daemon, StartDaemon(data_.path()));
  DbClient db(daemon->NewChannel());
  EXPECT_OK(db.GetRecord("todos", "pre-2").status());
  // Written after the backup, on this node only: not in the backup.
  EXPECT_THAT(db.GetRecord("todos", "later"), StatusIs(absl::StatusCode::kNotFound));
  db.Close();
  StopDaemon(daemon);
}

TEST_F(BackupTest, ExistingPathIsRefusedWithoutForce) {
  ASSERT_OK_AND_ASSIGN(auto daemon, StartDaemon(data_.path()));
  {
    DbClient db(daemon->NewChannel());
    Fill(db, 3);
  }
  const std::string path = backups_.File("node.recondb");
  { std::ofstream(path) << "precious"; }
  const CliResult refused = Backup(*daemon, path);
  EXPECT_EQ(refused.exit, 4);
  EXPECT_THAT(refused.err, HasSubstr("--force"));
  EXPECT_EQ(ReadFile(path), "precious");
  const CliResult forced = Backup(*daemon, path, {"--force"});
  ASSERT_EQ(forced.exit, 0) << forced.err;
  EXPECT_NE(ReadFile(path), "precious");
  EXPECT_EQ(FilesIn(backups_.path()), std::set<std::string>{"node.recondb"});
  StopDaemon(daemon);
}

TEST_F(BackupTest, MemoryBackendIsFailedPreconditionAndWritesNothing) {
  DaemonOptions options;
  options.data_dir = data_.path();
  options.storage = "memory";
  ASSERT_OK_AND_ASSIGN(auto daemon, DaemonProcess::Start(options));
  const CliResult backup = Backup(*daemon, backups_.File("node.recondb"));
  EXPECT_EQ(backup.exit, 2);
  EXPECT_THAT(backup.err, HasSubstr("FAILED_PRECONDITION"));
  EXPECT_THAT(backup.err, HasSubstr("memory"));
  EXPECT_THAT(FilesIn(backups_.path()), IsEmpty());
  StopDaemon(daemon);
}

// A client that goes away mid-stream: the daemon removes its copy.
TEST_F(BackupTest, TemporaryCopyIsRemovedWhenTheClientCancelsMidStream) {
  // 16 KiB chunks (a quarter of the message limit, at least 16 KiB) and a
  // store of many of them.
  ASSERT_OK_AND_ASSIGN(auto daemon, StartDaemon(data_.path(), {"--max_message_bytes=65536"}));
  {
    DbClient db(daemon->NewChannel());
    Fill(db, 2000);
  }
  // The client's receive window stays small (no BDP probing): the daemon
  // cannot run ahead by more than it, so it is still streaming, copy open,
  // when the client cancels.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 65536);
  auto admin = v1::Admin::NewStub(daemon->NewChannel(args));
  grpc::ClientContext rpc;
  SetDeadline(&rpc, absl::Seconds(60));
  auto reader = admin->Backup(&rpc, v1::BackupRequest());
  v1::BackupChunk chunk;
  ASSERT_TRUE(reader->Read(&chunk));
  ASSERT_TRUE(chunk.has_header());
  std::cerr << "backup of " << chunk.header().total_bytes() << " bytes\n";
  ASSERT_GT(chunk.header().total_bytes(), 8 * 65536);
  ASSERT_TRUE(reader->Read(&chunk));
  ASSERT_EQ(chunk.part_case(), v1::BackupChunk::kData);
  // Mid-stream, the copy is there...
  EXPECT_TRUE(HasTempBackup(data_.path()));
  rpc.TryCancel();
  while (reader->Read(&chunk)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // ...and once the daemon has seen the cancellation, it is gone. (Waits
  // for that event, up to a minute.)
  for (absl::Time until = absl::Now() + absl::Seconds(60);
       HasTempBackup(data_.path()) && absl::Now() < until;) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_FALSE(HasTempBackup(data_.path())) << daemon->log();
  EXPECT_OK(daemon->CheckHealth());
  StopDaemon(daemon);
}

// A daemon killed mid-backup leaves its copy; the next one removes it at
// start, and nothing else.
TEST_F(BackupTest, StaleTemporaryCopiesAreRemovedAtStart) {
  for (const char* name :
       {"backup-in-progress-dead.sqlite3", "backup-in-progress-dead.sqlite3-wal", "keep-me.txt"}) {
    std::ofstream(data_.File(name)) << "x";
  }
  ASSERT_OK_AND_ASSIGN(auto daemon, StartDaemon(data_.path()));
  EXPECT_FALSE(HasTempBackup(data_.path()));
  EXPECT_TRUE(fs::exists(data_.File("keep-me.txt")));
  EXPECT_THAT(daemon->log(), HasSubstr("backup-in-progress-dead.sqlite3"));
  StopDaemon(daemon);
}

// Two backups at once each get their own temporary copy and both succeed.
TEST_F(BackupTest, TwoBackupsAtOnceDoNotCollide) {
  ASSERT_OK_AND_ASSIGN(auto daemon, StartDaemon(data_.path()));
  {
    DbClient db(daemon->NewChannel());
    Fill(db, 200);
  }
  CliProcess first =
      SpawnCli({"backup", backups_.File("a.recondb"), "--addr=" + daemon->address(), "--json"});
  CliProcess second =
      SpawnCli({"backup", backups_.File("b.recondb"), "--addr=" + daemon->address()});
  const CliResult a = WaitCli(first);
  const CliResult b = WaitCli(second);
  EXPECT_EQ(a.exit, 0) << a.err;
  EXPECT_EQ(b.exit, 0) << b.err;
  // --json: the BackupHeader.
  EXPECT_THAT(a.out, HasSubstr("\"sha256\":\""));
  EXPECT_THAT(a.out, HasSubstr(absl::StrCat("\"nodeId\":\"", daemon->node_id(), "\"")));
  EXPECT_EQ(FilesIn(backups_.path()), (std::set<std::string>{"a.recondb", "b.recondb"}));
  EXPECT_FALSE(HasTempBackup(data_.path()));
  StopDaemon(daemon);
}

// Ctrl-C while `recondb backup` waits for the daemon leaves nothing beside
// PATH. The "daemon" is a socket that accepts connections and never
// answers, so the command is certainly still waiting when interrupted.
TEST_F(BackupTest, InterruptedBackupLeavesNoPartialFile) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 8), 0);
  socklen_t length = sizeof addr;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &length), 0);
  const std::string path = backups_.File("node.recondb");
  CliProcess cli =
      SpawnCli({"backup", path, absl::StrCat("--addr=127.0.0.1:", ntohs(addr.sin_port))});
  // Waits for the partial file, made before the call (up to a minute).
  auto has_partial = [&] {
    for (const std::string& name : FilesIn(backups_.path())) {
      if (absl::StartsWith(name, "node.recondb.partial-")) return true;
    }
    return false;
  };
  for (absl::Time until = absl::Now() + absl::Seconds(60); !has_partial() && absl::Now() < until;) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_TRUE(has_partial());
  ASSERT_EQ(::kill(cli.pid, SIGINT), 0);
  const CliResult result = WaitCli(cli);
  ::close(listener);
  EXPECT_EQ(result.exit, 128 + SIGINT);
  EXPECT_THAT(FilesIn(backups_.path()), IsEmpty());
}

TEST_F(BackupTest, HelpAndUsageErrors) {
  for (const char* command : {"backup", "restore"}) {
    const CliResult help = RunCli({command, "--help"});
    EXPECT_EQ(help.exit, 0) << command;
    EXPECT_THAT(help.out, HasSubstr(absl::StrCat("Usage: recondb ", command))) << command;
  }
  EXPECT_THAT(RunCli({"--help"}).out, HasSubstr("restore BACKUP"));
  const CliResult no_dir = RunCli({"restore", backups_.File("node.recondb")});
  EXPECT_EQ(no_dir.exit, 1);
  EXPECT_THAT(no_dir.err, HasSubstr("--data_dir"));
  EXPECT_EQ(RunCli({"backup"}).exit, 1);
}

// An Admin service that answers Backup with what the test tells it: the
// header, then the data chunks (a stand-in for a broken or lying daemon).
class FakeBackupService final : public v1::Admin::Service {
 public:
  FakeBackupService(v1::BackupHeader header, std::vector<std::string> chunks)
      : header_(std::move(header)), chunks_(std::move(chunks)) {}

  grpc::Status Backup(grpc::ServerContext*, const v1::BackupRequest*,
                      grpc::ServerWriter<v1::BackupChunk>* writer) override {
    v1::BackupChunk chunk;
    *chunk.mutable_header() = header_;
    writer->Write(chunk);
    for (const std::string& data : chunks_) {
      chunk.set_data(data);
      writer->Write(chunk);
    }
    return grpc::Status::OK;
  }

 private:
  const v1::BackupHeader header_;
  const std::vector<std::string> chunks_;
};

// What `recondb backup PATH` does against `service`.
CliResult BackupFrom(FakeBackupService& service, const std::string& path) {
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  CliResult result = RunCli({"backup", path, absl::StrCat("--addr=127.0.0.1:", port)});
  server->Shutdown();
  return result;
}

TEST_F(BackupTest, ACopyThatArrivesDamagedOrIncompleteIsNotWritten) {
  const std::string path = backups_.File("node.recondb");
  v1::BackupHeader header;
  header.set_node_id("node-1");
  header.set_total_bytes(6);
  // SHA-256 of "abcdef".
  header.set_sha256("bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721");
  {
    FakeBackupService damaged(header, {"abc", "xyz"});
    const CliResult result = BackupFrom(damaged, path);
    EXPECT_EQ(result.exit, 4);
    EXPECT_THAT(result.err, HasSubstr("damaged"));
  }
  {
    FakeBackupService short_copy(header, {"abc"});
    const CliResult result = BackupFrom(short_copy, path);
    EXPECT_EQ(result.exit, 4);
    EXPECT_THAT(result.err, HasSubstr("incomplete"));
  }
  EXPECT_THAT(FilesIn(backups_.path()), IsEmpty());
  // The same stream, whole: written.
  FakeBackupService whole(header, {"abc", "def"});
  const CliResult result = BackupFrom(whole, path);
  EXPECT_EQ(result.exit, 0) << result.err;
  EXPECT_EQ(ReadFile(path), "abcdef");
}

}  // namespace
}  // namespace recondb::testing
