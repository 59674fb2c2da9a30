// The daemon contract of decisions.md as seen from outside the process:
// RECONDB_* environment variables, flag > env precedence, the `listening on`
// line, --help.
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "recondb/v1/admin.grpc.pb.h"
#include "tests/support/daemon_process.h"
#include "tests/support/db_client.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace recondb::testing {
namespace {

using ::testing::HasSubstr;

absl::Status PutBody(DbClient& db, int bytes) {
  return db.Create("notes", {{"body", StringValue(std::string(bytes, 'b'))}}).status();
}

v1::Table NotesTable() {
  v1::Table t;
  t.set_name("notes");
  v1::Column* c = t.add_columns();
  c->set_name("body");
  c->set_type(v1::COLUMN_TYPE_STRING);
  c->set_nullable(true);
  return t;
}

TEST(DaemonFlagsTest, EnvironmentVariablesApplyWhenNoFlagIsGiven) {
  TempDir data;
  DaemonOptions options;
  options.data_dir = data.path();
  options.extra_env = {"RECONDB_MAX_RECORD_BYTES=4096"};
  ASSERT_OK_AND_ASSIGN(auto daemon, DaemonProcess::Start(options));
  DbClient db(daemon->NewChannel());
  ASSERT_OK(db.CreateTable(NotesTable()));
  EXPECT_OK(PutBody(db, 1000));
  EXPECT_THAT(PutBody(db, 5000), StatusIs(absl::StatusCode::kResourceExhausted));
  db.Close();
  ASSERT_OK_AND_ASSIGN(int code, daemon->Stop());
  EXPECT_EQ(code, 0);
}

TEST(DaemonFlagsTest, FlagsWinOverEnvironmentVariables) {
  TempDir data;
  DaemonOptions options;
  options.data_dir = data.path();
  // Env values that would fail or differ; the flags given by DaemonProcess
  // (--listen, --data_dir, --storage) and here must win.
  options.extra_env = {"RECONDB_LISTEN=not-an-address", "RECONDB_STORAGE=bogus",
                       "RECONDB_DATA_DIR=/nonexistent/recondb", "RECONDB_MAX_RECORD_BYTES=100"};
  options.extra_flags = {"--max_record_bytes=8192"};
  ASSERT_OK_AND_ASSIGN(auto daemon, DaemonProcess::Start(options));
  DbClient db(daemon->NewChannel());
  ASSERT_OK(db.CreateTable(NotesTable()));
  EXPECT_OK(PutBody(db, 1000));
  db.Close();
  ASSERT_OK_AND_ASSIGN(int code, daemon->Stop());
  EXPECT_EQ(code, 0);
}

// The page size SQLite wrote in a database file's header (bytes 16-17, big
// endian; 1 means 65536), or 0 if the file cannot be read.
int HeaderPageSize(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  unsigned char header[18] = {};
  if (!file.read(reinterpret_cast<char*>(header), sizeof(header))) return 0;
  const int size = header[16] << 8 | header[17];
  return size == 1 ? 65536 : size;
}

// Admin.GetStatus's storage description of a running daemon.
absl::StatusOr<std::string> StatusStorage(DaemonProcess& daemon) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  v1::NodeStatus status;
  grpc::Status s = v1::Admin::NewStub(daemon.NewChannel())->GetStatus(&ctx, v1::GetStatusRequest(), &status);
  if (!s.ok()) return absl::UnavailableError(s.error_message());
  return status.storage();
}

TEST(DaemonFlagsTest, PageSizeAppliesToANewDatabaseOnly) {
  TempDir defaults;
  TempDir data;
  {
    DaemonOptions options;
    options.data_dir = defaults.path();
    ASSERT_OK_AND_ASSIGN(auto daemon, DaemonProcess::Start(options));
    EXPECT_THAT(StatusStorage(*daemon), IsOkAndHolds(HasSubstr(" page_size=4096")));
    ASSERT_OK_AND_ASSIGN(int code, daemon->Stop());
    EXPECT_EQ(code, 0);
  }
  EXPECT_EQ(HeaderPageSize(defaults.File("recondb.sqlite3")), 4096);
  for (const char* env : {"RECONDB_PAGE_SIZE=1024", "RECONDB_PAGE_SIZE=8192"}) {
    SCOPED_TRACE(env);
    DaemonOptions options;
    options.data_dir = data.path();
    options.extra_env = {env};
    ASSERT_OK_AND_ASSIGN(auto daemon, DaemonProcess::Start(options));
    DbClient db(daemon->NewChannel());
    absl::Status created = db.CreateTable(NotesTable()).status();
    if (!created.ok()) {
      EXPECT_EQ(created.code(), absl::StatusCode::kAlreadyExists);
    }
    EXPECT_OK(PutBody(db, 20000));
    db.Close();
    // The status shows the file's page size, whatever this start asked for.
    EXPECT_THAT(StatusStorage(*daemon), IsOkAndHolds(HasSubstr(" page_size=1024")));
    ASSERT_OK_AND_ASSIGN(int code, daemon->Stop());
    EXPECT_EQ(code, 0);
    // The second start asks for 8192: the file keeps the 1024 it was made with.
    EXPECT_EQ(HeaderPageSize(data.File("recondb.sqlite3")), 1024);
  }
}

TEST(DaemonFlagsTest, BadFlagValuesFailAtOnceWithTheFlagNamed) {
  TempDir data;
  for (const std::string& flag : {std::string("--storage=bogus"), std::string("--durability=sometimes"),
                                  std::string("--page_size=3000"),
                                  std::string("--log_level=loud"), std::string("--max_message_bytes=-5")}) {
    SCOPED_TRACE(flag);
    DaemonOptions options;
    options.data_dir = data.path();
    options.extra_flags = {flag};
    ASSERT_OK_AND_ASSIGN(auto daemon, DaemonProcess::Spawn(options));
    ASSERT_OK_AND_ASSIGN(int code, daemon->WaitForExit(absl::Seconds(20)));
    EXPECT_NE(code, 0);
    const std::string name = flag.substr(2, flag.find('=') - 2);
    EXPECT_THAT(daemon->log(), HasSubstr(name));
  }
}

// decisions.md: "Once serving, the daemon logs a line containing
// `listening on <host>:<port>` with the actual port" -- tools and tests find
// the port that way, whatever the log level.
TEST(DaemonFlagsTest, HelpListsTheFlags) {
  TempDir data;
  DaemonOptions options;
  options.data_dir = data.path();
  options.extra_flags = {"--help"};
  ASSERT_OK_AND_ASSIGN(auto daemon, DaemonProcess::Spawn(options));
  ASSERT_OK_AND_ASSIGN(int code, daemon->WaitForExit(absl::Seconds(20)));
  (void)code;  // absl's --help exits 1; only the text is checked.
  for (const char* flag : {"listen",
                           "data_dir",
                           "storage",
                           "durability",
                           "page_size",
                           "log_level",
                           "max_message_bytes",
                           "max_record_bytes",
                           "worker_threads",
                           "peer",
                           "RECONDB_PEERS",
                           "stale_peer_after",
                           "RECONDB_STALE_PEER_AFTER",
                           "replication_batch_records",
                           "insecure",
                           "RECONDB_INSECURE",
                           "tls_cert",
                           "RECONDB_TLS_CERT",
                           "tls_key",
                           "tls_client_ca",
                           "peer_tls_ca",
                           "peer_tls_cert",
                           "peer_tls_key",
                           "tls_reload_interval",
                           "RECONDB_TLS_RELOAD_INTERVAL",
                           "auth",
                           "RECONDB_AUTH",
                           "auth_file",
                           "RECONDB_AUTH_FILE",
                           "admin_token_file",
                           "RECONDB_ADMIN_TOKEN_FILE"}) {
    EXPECT_THAT(daemon->log(), HasSubstr(flag));
  }
}

TEST(DaemonFlagsTest, VersionPrintsTheProjectVersion) {
  TempDir data;
  DaemonOptions options;
  options.data_dir = data.path();
  options.extra_flags = {"--version"};
  ASSERT_OK_AND_ASSIGN(auto daemon, DaemonProcess::Spawn(options));
  ASSERT_OK_AND_ASSIGN(int code, daemon->WaitForExit(absl::Seconds(20)));
  EXPECT_EQ(code, 0);
  EXPECT_THAT(daemon->log(), HasSubstr("recondbd 0."));
}

TEST(DaemonFlagsTest, BadPeerAddressExitsOne) {
  TempDir data;
  DaemonOptions options;
  options.data_dir = data.path();
  options.extra_flags = {"--peer=127.0.0.1:7470", "--peer=nohost"};
  ASSERT_OK_AND_ASSIGN(auto daemon, DaemonProcess::Spawn(options));
  ASSERT_OK_AND_ASSIGN(int code, daemon->WaitForExit(absl::Seconds(20)));
  EXPECT_EQ(code, 1);
  EXPECT_THAT(daemon->log(), HasSubstr("--peer (RECONDB_PEERS): address \"nohost\""));
}

// Closed by default: without TLS, an address the network can reach is
// refused unless the operator says --insecure, and then the start warns.
// (With --tls_cert it starts: tests/tls_test.cc.)
TEST(DaemonFlagsTest, ANetworkAddressNeedsInsecure) {
  TempDir data;
  DaemonOptions options;
  options.data_dir = data.path();
  options.listen = "0.0.0.0:0";
  ASSERT_OK_AND_ASSIGN(auto refused, DaemonProcess::Spawn(options));
  ASSERT_OK_AND_ASSIGN(int code, refused->WaitForExit(absl::Seconds(20)));
  EXPECT_EQ(code, 1);
  EXPECT_THAT(refused->log(),
              AllOf(HasSubstr("is reachable from the network"), HasSubstr("--tls_cert/--tls_key"),
                    HasSubstr("--insecure"), HasSubstr("RECONDB_INSECURE=true")));
  options.extra_flags = {"--insecure"};
  ASSERT_OK_AND_ASSIGN(auto open, DaemonProcess::Start(options));
  EXPECT_THAT(open->log(), HasSubstr("--insecure: 0.0.0.0:"));
  ASSERT_OK_AND_ASSIGN(code, open->Stop());
  EXPECT_EQ(code, 0);
}

}  // namespace
}  // namespace recondb::testing
