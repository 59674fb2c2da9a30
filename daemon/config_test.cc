#include "daemon/config.h"

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace recondb::daemon {
namespace {

using ::recondb::testing::StatusIs;
using ::recondb::testing::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// Files that pass the start-up check (readable, PEM-looking); the
// handshake itself is tested with real certificates in tests/tls_test.cc.
struct TlsFiles {
  TlsFiles() {
    for (const std::string* path : {&cert, &key, &ca}) {
      std::ofstream(*path) << "-----BEGIN TEST-----\nAAAA\n-----END TEST-----\n";
    }
  }
  TempDir dir;
  std::string cert = dir.File("node.pem");
  std::string key = dir.File("node.key");
  std::string ca = dir.File("ca.pem");
};

class ConfigTest : public ::testing::Test {
 protected:
  // Parses as main() does. Flags are process-wide: each call restores them
  // when it returns, so calls do not see each other's values.
  absl::StatusOr<Config> Parse(std::vector<std::string> args,
                               std::map<std::string, std::string> env) {
    absl::FlagSaver saver;
    args.insert(args.begin(), "recondbd");
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    return ParseConfig(static_cast<int>(args.size()), argv.data(), FakeEnv(std::move(env)));
  }
};

TEST_F(ConfigTest, DefaultsAreTheContractsDefaults) {
  ASSERT_OK_AND_ASSIGN(Config config, Parse({}, {}));
  EXPECT_EQ(config.listen, "127.0.0.1:7470");
  EXPECT_EQ(config.data_dir, "./data");
  EXPECT_EQ(config.storage, StorageKind::kSqlite);
  EXPECT_EQ(config.durability, storage::Durability::kFull);
  EXPECT_EQ(config.page_size, 4096);
  EXPECT_EQ(config.log_level, spdlog::level::info);
  EXPECT_EQ(config.max_message_bytes, 4194304);
  EXPECT_EQ(config.max_record_bytes, 1048576);
  EXPECT_EQ(config.worker_threads, 8);
  EXPECT_EQ(config.stale_peer_after, absl::Hours(168));
  EXPECT_EQ(config.replication_batch_records, 1000);
  EXPECT_EQ(config.tls_cert, "");
  EXPECT_EQ(config.tls_client_ca, "");
  EXPECT_EQ(config.peer_tls_ca, "");
  EXPECT_EQ(config.tls_reload_interval, absl::Seconds(60));
}

TEST_F(ConfigTest, EnvironmentVariablesApply) {
  ASSERT_OK_AND_ASSIGN(Config config, Parse({}, {{"RECONDB_LISTEN", "127.0.0.1:0"},
                                                 {"RECONDB_DATA_DIR", "/tmp/x"},
                                                 {"RECONDB_STORAGE", "memory"},
                                                 {"RECONDB_DURABILITY", "normal"},
                                                 {"RECONDB_PAGE_SIZE", "1024"},
                                                 {"RECONDB_LOG_LEVEL", "debug"},
                                                 {"RECONDB_MAX_MESSAGE_BYTES", "65536"},
                                                 {"RECONDB_MAX_RECORD_BYTES", "2048"},
                                                 {"RECONDB_WORKER_THREADS", "3"},
                                                 {"RECONDB_STALE_PEER_AFTER", "36h"},
                                                 {"RECONDB_REPLICATION_BATCH_RECORDS", "10"}}));
  EXPECT_EQ(config.listen, "127.0.0.1:0");
  EXPECT_EQ(config.data_dir, "/tmp/x");
  EXPECT_EQ(config.storage, StorageKind::kMemory);
  EXPECT_EQ(config.durability, storage::Durability::kNormal);
  EXPECT_EQ(config.page_size, 1024);
  EXPECT_EQ(config.log_level, spdlog::level::debug);
  EXPECT_EQ(config.max_message_bytes, 65536);
  EXPECT_EQ(config.max_record_bytes, 2048);
  EXPECT_EQ(config.worker_threads, 3);
  EXPECT_EQ(config.stale_peer_after, absl::Hours(36));
  EXPECT_EQ(config.replication_batch_records, 10);
}

TEST_F(ConfigTest, FlagOverridesEnvironment) {
  ASSERT_OK_AND_ASSIGN(Config config, Parse({"--listen=127.0.0.1:9100", "--worker_threads=2"},
                                            {{"RECONDB_LISTEN", "127.0.0.1:9000"},
                                             {"RECONDB_WORKER_THREADS", "5"},
                                             {"RECONDB_LOG_LEVEL", "warn"}}));
  EXPECT_EQ(config.listen, "127.0.0.1:9100");
  EXPECT_EQ(config.worker_threads, 2);
  EXPECT_EQ(config.log_level, spdlog::level::warn);  // Only in the environment.
}

TEST_F(ConfigTest, MalformedEnvironmentValueNamesTheVariable) {
  EXPECT_THAT(Parse({}, {{"RECONDB_WORKER_THREADS", "many"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("RECONDB_WORKER_THREADS"), HasSubstr("many"))));
}

TEST_F(ConfigTest, UnknownWordsAreRejected) {
  EXPECT_THAT(Parse({"--storage=mongo"}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--storage"), HasSubstr("RECONDB_STORAGE"),
                             HasSubstr("mongo"), HasSubstr("sqlite or memory"))));
  EXPECT_THAT(Parse({}, {{"RECONDB_DURABILITY", "extra"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--durability"), HasSubstr("extra"))));
  EXPECT_THAT(Parse({"--log_level=loud"}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--log_level"), HasSubstr("loud"))));
}

TEST_F(ConfigTest, OutOfRangeNumbersAreRejected) {
  EXPECT_THAT(Parse({"--worker_threads=0"}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--worker_threads")));
  EXPECT_THAT(Parse({"--max_message_bytes=10"}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--max_message_bytes")));
  EXPECT_THAT(Parse({"--max_message_bytes=4294967296"}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--max_message_bytes")));
  EXPECT_THAT(
      Parse({"--stale_peer_after=0s"}, {}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("--stale_peer_after"), HasSubstr("RECONDB_STALE_PEER_AFTER"))));
  EXPECT_THAT(Parse({}, {{"RECONDB_STALE_PEER_AFTER", "a week"}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("RECONDB_STALE_PEER_AFTER")));
  EXPECT_THAT(
      Parse({"--replication_batch_records=0"}, {}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--replication_batch_records")));
  EXPECT_THAT(Parse({"--max_record_bytes=-1"}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--max_record_bytes")));
  for (const char* page_size : {"256", "1000", "131072", "0"}) {
    EXPECT_THAT(Parse({absl::StrCat("--page_size=", page_size)}, {}),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("--page_size"), HasSubstr("RECONDB_PAGE_SIZE"),
                               HasSubstr("power of two"), HasSubstr(page_size))));
  }
}

TEST_F(ConfigTest, StreamAndConnectionLimits) {
  ASSERT_OK_AND_ASSIGN(Config defaults, Parse({}, {}));
  EXPECT_EQ(defaults.max_streams_per_principal, 32);
  EXPECT_EQ(defaults.max_connection_idle, absl::Minutes(30));
  EXPECT_EQ(defaults.keepalive_time, absl::Seconds(60));
  EXPECT_EQ(defaults.keepalive_timeout, absl::Seconds(20));
  EXPECT_EQ(defaults.min_ping_interval, absl::Seconds(10));
  EXPECT_EQ(defaults.max_ping_strikes, 2);
  ASSERT_OK_AND_ASSIGN(Config set,
                       Parse({"--max_connection_idle=5m"},
                             {{"RECONDB_MAX_STREAMS_PER_PRINCIPAL", "4"},
                              {"RECONDB_MAX_PING_STRIKES", "0"}}));
  EXPECT_EQ(set.max_streams_per_principal, 4);
  EXPECT_EQ(set.max_connection_idle, absl::Minutes(5));
  EXPECT_EQ(set.max_ping_strikes, 0);
  EXPECT_THAT(Parse({"--max_streams_per_principal=-1"}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--max_streams_per_principal"),
                             HasSubstr("RECONDB_MAX_STREAMS_PER_PRINCIPAL"))));
  EXPECT_THAT(Parse({"--max_connection_idle=0s"}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--max_connection_idle")));
  EXPECT_THAT(Parse({"--keepalive_timeout=100h"}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--keepalive_timeout")));
}

TEST_F(ConfigTest, ListenMustBeHostPort) {
  for (const char* bad : {"7470", ":7470", "localhost:", "localhost:http", "127.0.0.1:70000"}) {
    EXPECT_THAT(
        Parse({std::string("--listen=") + bad}, {}),
        StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr("--listen"), HasSubstr(bad))));
  }
  ASSERT_OK_AND_ASSIGN(Config config, Parse({"--listen=[::1]:0"}, {}));
  EXPECT_EQ(config.listen, "[::1]:0");
}

// Closed by default: an address the network can reach needs TLS or
// --insecure.
// Closed by default: a network address needs both TLS and --auth=on (or
// --insecure); either one alone is refused, and the message names the flags.
TEST_F(ConfigTest, ANetworkAddressNeedsTlsAndAuthOrInsecure) {
  const TlsFiles tls;
  const std::string cert = "--tls_cert=" + tls.cert;
  const std::string key = "--tls_key=" + tls.key;
  for (const char* open : {"0.0.0.0:7470", "[::]:7470", "192.168.1.20:7470", "hub.example:7470"}) {
    const std::string listen = std::string("--listen=") + open;
    const auto refused = StatusIs(
        absl::StatusCode::kInvalidArgument,
        AllOf(HasSubstr("--listen"), HasSubstr(open), HasSubstr("--tls_cert/--tls_key"),
              HasSubstr("--auth=on"), HasSubstr("--insecure"), HasSubstr("RECONDB_INSECURE")));
    EXPECT_THAT(Parse({listen}, {}), refused) << open;
    EXPECT_THAT(Parse({listen, cert, key}, {}), refused) << open << " with TLS only";
    EXPECT_THAT(Parse({listen, "--auth=on", "--admin_token_file=/tmp/x"}, {}), refused)
        << open << " with --auth=on only";
    ASSERT_OK_AND_ASSIGN(Config secured, Parse({listen, cert, key, "--auth=on"}, {}));
    EXPECT_TRUE(SecuredForNetwork(secured));
    EXPECT_FALSE(secured.insecure);
    ASSERT_OK_AND_ASSIGN(Config config, Parse({listen, "--insecure"}, {}));
    EXPECT_TRUE(config.insecure);
    EXPECT_OK(Parse({listen}, {{"RECONDB_INSECURE", "true"}}));
  }
  for (const char* local : {"127.0.0.1:7470", "127.1.2.3:0", "localhost:7470", "[::1]:0",
                            "unix:/tmp/r.sock"}) {
    ASSERT_OK_AND_ASSIGN(Config config, Parse({std::string("--listen=") + local}, {}));
    EXPECT_FALSE(config.insecure) << local;
  }
}

TEST_F(ConfigTest, TlsFlagsAndTheirVariables) {
  const TlsFiles tls;
  ASSERT_OK_AND_ASSIGN(
      Config config,
      Parse({"--tls_cert=" + tls.cert, "--tls_key=" + tls.key, "--tls_client_ca=" + tls.ca},
            {{"RECONDB_PEER_TLS_CA", tls.ca}, {"RECONDB_TLS_RELOAD_INTERVAL", "5s"}}));
  EXPECT_EQ(config.tls_cert, tls.cert);
  EXPECT_EQ(config.tls_key, tls.key);
  EXPECT_EQ(config.tls_client_ca, tls.ca);
  EXPECT_EQ(config.peer_tls_ca, tls.ca);
  EXPECT_EQ(config.tls_reload_interval, absl::Seconds(5));
  // The peer identity defaults to the server's...
  EXPECT_EQ(config.peer_tls_cert, tls.cert);
  EXPECT_EQ(config.peer_tls_key, tls.key);
  // ... unless given.
  ASSERT_OK_AND_ASSIGN(config, Parse({"--peer_tls_ca=" + tls.ca, "--peer_tls_cert=" + tls.ca,
                                      "--peer_tls_key=" + tls.key},
                                     {}));
  EXPECT_EQ(config.tls_cert, "");
  EXPECT_EQ(config.peer_tls_cert, tls.ca);
  EXPECT_EQ(config.peer_tls_key, tls.key);
}

TEST_F(ConfigTest, TlsCertificateAndKeyComeTogether) {
  const TlsFiles tls;
  EXPECT_THAT(Parse({"--tls_cert=" + tls.cert}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--tls_key (RECONDB_TLS_KEY)"), HasSubstr("--tls_cert"))));
  EXPECT_THAT(Parse({"--tls_key=" + tls.key}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tls_cert")));
  EXPECT_THAT(Parse({"--peer_tls_key=" + tls.key}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--peer_tls_cert")));
  EXPECT_THAT(Parse({"--tls_client_ca=" + tls.ca}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--tls_client_ca"), HasSubstr("--tls_cert"))));
}

TEST_F(ConfigTest, UnreadableTlsFilesNameTheFlagAndPath) {
  const TlsFiles tls;
  const std::string missing = tls.dir.File("missing.pem");
  EXPECT_THAT(Parse({"--tls_cert=" + missing, "--tls_key=" + tls.key}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--tls_cert (RECONDB_TLS_CERT)"), HasSubstr(missing),
                             HasSubstr("No such file"))));
  EXPECT_THAT(
      Parse({"--tls_cert=" + tls.cert, "--tls_key=" + tls.key, "--tls_client_ca=" + missing}, {}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("--tls_client_ca"), HasSubstr(missing))));
  EXPECT_THAT(Parse({"--peer_tls_ca=" + missing}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--peer_tls_ca"), HasSubstr(missing))));
  const std::string not_pem = tls.dir.File("not.pem");
  std::ofstream(not_pem) << "hello\n";
  EXPECT_THAT(Parse({"--tls_cert=" + tls.cert, "--tls_key=" + not_pem}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--tls_key"), HasSubstr(not_pem), HasSubstr("no PEM"))));
}

TEST_F(ConfigTest, TlsReloadIntervalIsWholePositiveSeconds) {
  for (const char* bad : {"0s", "-1s", "500ms", "1.5s"}) {
    EXPECT_THAT(Parse({std::string("--tls_reload_interval=") + bad}, {}),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("--tls_reload_interval"), HasSubstr("at least 1s"))))
        << bad;
  }
  ASSERT_OK_AND_ASSIGN(Config config, Parse({"--tls_reload_interval=1s"}, {}));
  EXPECT_EQ(config.tls_reload_interval, absl::Seconds(1));
}

TEST_F(ConfigTest, ListenTakesAUnixSocketPath) {
  ASSERT_OK_AND_ASSIGN(Config config, Parse({"--listen=unix:/run/recondb/recondb.sock"}, {}));
  EXPECT_EQ(config.listen, "unix:/run/recondb/recondb.sock");
  ASSERT_OK_AND_ASSIGN(config, Parse({}, {{"RECONDB_LISTEN", "unix:recondb.sock"}}));
  EXPECT_EQ(config.listen, "unix:recondb.sock");
  EXPECT_THAT(Parse({"--listen=unix:"}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--listen"), HasSubstr("no socket path"))));
  // sockaddr_un holds 107 bytes of path and a NUL.
  const std::string longest = "unix:/" + std::string(106, 's');
  EXPECT_OK(Parse({"--listen=" + longest}, {}));
  EXPECT_THAT(Parse({"--listen=" + longest + "s"}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--listen"), HasSubstr("108 bytes"),
                             HasSubstr("limit of 107"))));
}

TEST_F(ConfigTest, PositionalArgumentsAreRejected) {
  EXPECT_THAT(Parse({"serve"}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("serve")));
}

TEST_F(ConfigTest, EachFlagsHelpNamesItsVariable) {
  for (const FlagEnv& fe : ConfigFlags()) {
    absl::CommandLineFlag* flag =
        absl::FindCommandLineFlag(absl::string_view(fe.flag.data(), fe.flag.size()));
    ASSERT_NE(flag, nullptr) << fe.flag;
    EXPECT_THAT(flag->Help(), HasSubstr(std::string(fe.env))) << fe.flag;
    // The one plural: RECONDB_PEERS holds a list where --peer is repeated.
    const std::string name = flag->Name() == "peer" ? "peers" : std::string(flag->Name());
    EXPECT_EQ(std::string(fe.env), "RECONDB_" + absl::AsciiStrToUpper(name));
  }
}

TEST_F(ConfigTest, PeersFromRepeatedFlagsCommaListsAndTheEnvironment) {
  ASSERT_OK_AND_ASSIGN(Config none, Parse({}, {}));
  EXPECT_THAT(none.peers, ::testing::IsEmpty());
  ASSERT_OK_AND_ASSIGN(Config config, Parse({"--peer=a:1", "--listen=127.0.0.1:0", "--peer",
                                             "b:2,c:3", "-peer=d:4", "--peer=a:1"},
                                            {}));
  EXPECT_THAT(config.peers, ::testing::ElementsAre("a:1", "b:2", "c:3", "d:4"));
  EXPECT_EQ(config.listen, "127.0.0.1:0");
  ASSERT_OK_AND_ASSIGN(config, Parse({}, {{"RECONDB_PEERS", "x:1, y:2,"}}));
  EXPECT_THAT(config.peers, ::testing::ElementsAre("x:1", "y:2"));
  // Any --peer replaces the variable's list.
  ASSERT_OK_AND_ASSIGN(config, Parse({"--peer=z:9"}, {{"RECONDB_PEERS", "x:1"}}));
  EXPECT_THAT(config.peers, ::testing::ElementsAre("z:9"));
  EXPECT_THAT(
      Parse({"--peer=nohost"}, {}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("--peer"), HasSubstr("RECONDB_PEERS"), HasSubstr("\"nohost\""))));
  // After "--" nothing is a flag.
  EXPECT_THAT(Parse({"--", "--peer=a:1"}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unexpected argument")));
}

TEST(ListenAddressTest, TellsUnixSocketsFromHostPorts) {
  ASSERT_OK_AND_ASSIGN(ListenAddress tcp, ParseListenAddress("127.0.0.1:7470"));
  EXPECT_FALSE(tcp.is_unix());
  EXPECT_EQ(tcp.tcp.host, "127.0.0.1");
  EXPECT_EQ(tcp.tcp.port, 7470);
  ASSERT_OK_AND_ASSIGN(ListenAddress local, ParseListenAddress("unix:/tmp/r.sock"));
  EXPECT_TRUE(local.is_unix());
  EXPECT_EQ(local.unix_path, "/tmp/r.sock");
  EXPECT_THAT(ParseListenAddress(std::string_view("unix:a\0b", 8)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("NUL")));
}

TEST(HostPortTest, SplitsHostAndPort) {
  ASSERT_OK_AND_ASSIGN(HostPort v4, ParseHostPort("127.0.0.1:7470"));
  EXPECT_EQ(v4.host, "127.0.0.1");
  EXPECT_EQ(v4.port, 7470);
  ASSERT_OK_AND_ASSIGN(HostPort v6, ParseHostPort("[::1]:0"));
  EXPECT_EQ(v6.host, "[::1]");
  EXPECT_EQ(v6.port, 0);
}

}  // namespace
}  // namespace recondb::daemon

namespace recondb::daemon {
namespace {

class AuthConfigTest : public ::testing::Test {
 protected:
  absl::StatusOr<Config> Parse(std::vector<std::string> args,
                               std::map<std::string, std::string> env = {}) {
    absl::FlagSaver saver;
    args.insert(args.begin(), "recondbd");
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    return ParseConfig(static_cast<int>(args.size()), argv.data(), FakeEnv(std::move(env)));
  }
};

TEST_F(AuthConfigTest, AuthIsOffByDefault) {
  ASSERT_OK_AND_ASSIGN(Config config, Parse({}));
  EXPECT_FALSE(config.auth);
  EXPECT_EQ(config.admin_token_file, "");
  EXPECT_EQ(config.auth_file, "");
}

TEST_F(AuthConfigTest, AuthOnDefaultsTheTokenFileIntoTheDataDir) {
  ASSERT_OK_AND_ASSIGN(Config config, Parse({"--auth=on", "--data_dir=/srv/r"}));
  EXPECT_TRUE(config.auth);
  EXPECT_EQ(config.admin_token_file, "/srv/r/admin.token");
  ASSERT_OK_AND_ASSIGN(config, Parse({}, {{"RECONDB_AUTH", "on"},
                                          {"RECONDB_ADMIN_TOKEN_FILE", "/run/secrets/t"},
                                          {"RECONDB_AUTH_FILE", "/run/secrets/p.json"}}));
  EXPECT_TRUE(config.auth);
  EXPECT_EQ(config.admin_token_file, "/run/secrets/t");
  EXPECT_EQ(config.auth_file, "/run/secrets/p.json");
}

TEST_F(AuthConfigTest, BadValuesNameTheFlag) {
  EXPECT_THAT(Parse({"--auth=yes"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--auth"), HasSubstr("RECONDB_AUTH"), HasSubstr("yes"))));
  EXPECT_THAT(Parse({"--auth=on", "--storage=memory"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--admin_token_file")));
  EXPECT_THAT(Parse({"--auth_file=/x.json"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--auth_file"), HasSubstr("--auth=on"))));
  ASSERT_OK_AND_ASSIGN(Config config,
                       Parse({"--auth=on", "--storage=memory", "--admin_token_file=/t"}));
  EXPECT_EQ(config.admin_token_file, "/t");
}

}  // namespace
}  // namespace recondb::daemon
