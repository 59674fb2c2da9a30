#include "daemon/config.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <mutex>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "reconciler/peer_manager.h"

// Each help text names the flag's environment variable; ConfigFlags() below
// is the same list for the code.
ABSL_FLAG(std::string, listen, "127.0.0.1:7470",
          "Address to serve gRPC on: host:port (port 0 picks a free port; the "
          "actual one is logged), or unix:PATH for a Unix domain socket that "
          "local clients reach without TCP. Env: RECONDB_LISTEN.");
ABSL_FLAG(std::string, data_dir, "./data",
          "Directory of the database (recondb.sqlite3) and of its LOCK file; "
          "created if missing. Env: RECONDB_DATA_DIR.");
ABSL_FLAG(std::string, storage, "sqlite",
          "Storage backend: sqlite (durable, in data_dir) or memory (lost at "
          "exit). Env: RECONDB_STORAGE.");
ABSL_FLAG(std::string, durability, "full",
          "SQLite durability: full (an acknowledged write survives a power "
          "loss) or normal (survives a crash of the process only). "
          "Env: RECONDB_DURABILITY.");
ABSL_FLAG(int32_t, page_size, recondb::storage::kDefaultPageSize,
          "SQLite page size in bytes of a new database: a power of two from 512 "
          "to 65536; an existing database keeps its own. Env: RECONDB_PAGE_SIZE.");
ABSL_FLAG(std::string, log_level, "info",
          "Log level on stderr: trace, debug, info, warn or error. "
          "Env: RECONDB_LOG_LEVEL.");
ABSL_FLAG(int64_t, max_message_bytes, 4 << 20,
          "Largest gRPC message received or sent, in bytes. "
          "Env: RECONDB_MAX_MESSAGE_BYTES.");
ABSL_FLAG(int64_t, max_record_bytes, 1 << 20,
          "Largest record revision (canonical encoding), in bytes; larger "
          "writes get RESOURCE_EXHAUSTED. Env: RECONDB_MAX_RECORD_BYTES.");
ABSL_FLAG(int32_t, worker_threads, 8,
          "Threads that answer unary calls, storage work included (as many "
          "again read for change streams). "
          "Env: RECONDB_WORKER_THREADS.");
ABSL_FLAG(std::vector<std::string>, peer, {},
          "A peer to replicate with, host:port; repeatable, or comma-separated. "
          "Added at start-up to the peers kept in the database (Admin.AddPeer). "
          "Env: RECONDB_PEERS (comma-separated).");

ABSL_FLAG(absl::Duration, stale_peer_after, absl::Hours(24 * 7),
          "A peer not connected and last seen longer ago than this (e.g. 168h, "
          "30m; units h, m, s) is flagged stale in Admin.ListPeers and "
          "`recondb peers list`; it is still remembered. "
          "Env: RECONDB_STALE_PEER_AFTER.");
ABSL_FLAG(int32_t, replication_batch_records, 1000,
          "Records per batch of change summaries this node sends a peer "
          "(1-100000): smaller batches report catch-up progress more often "
          "and cost more round trips. Env: RECONDB_REPLICATION_BATCH_RECORDS.");
ABSL_FLAG(int32_t, max_streams_per_principal, 32,
          "Concurrent GetChanges and Replicate streams one principal may hold "
          "(with --auth=off: one caller host); more get RESOURCE_EXHAUSTED. 0: no "
          "limit. Env: RECONDB_MAX_STREAMS_PER_PRINCIPAL.");
ABSL_FLAG(absl::Duration, max_connection_idle, absl::Minutes(30),
          "A client connection with no call open for this long is closed (the "
          "client reconnects on its next call). Env: RECONDB_MAX_CONNECTION_IDLE.");
ABSL_FLAG(absl::Duration, keepalive_time, absl::Seconds(60),
          "How often the server pings a connection whose calls are idle, so that "
          "half-open connections (a peer that vanished) are reaped. "
          "Env: RECONDB_KEEPALIVE_TIME.");
ABSL_FLAG(absl::Duration, keepalive_timeout, absl::Seconds(20),
          "How long a ping may go unanswered before the connection is closed. "
          "Env: RECONDB_KEEPALIVE_TIMEOUT.");
ABSL_FLAG(absl::Duration, min_ping_interval, absl::Seconds(10),
          "Clients' pings closer together than this without data are strikes "
          "(dialing recondbd nodes ping every 20 s). "
          "Env: RECONDB_MIN_PING_INTERVAL.");
ABSL_FLAG(int32_t, max_ping_strikes, 2,
          "Strikes (see --min_ping_interval) after which a client is "
          "disconnected (GOAWAY too_many_pings); 0: never. "
          "Env: RECONDB_MAX_PING_STRIKES.");

ABSL_FLAG(bool, insecure, false,
          "Allow --listen on an address other machines can reach (0.0.0.0, a LAN "
          "address, a host name) without TLS and --auth=on: anyone who reaches "
          "the port can read and change every table. Without this flag such an "
          "address is refused; loopback and unix:PATH need nothing. "
          "Env: RECONDB_INSECURE=true.");

ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain of this server; with --tls_key, every connection "
          "to --listen is TLS. Re-read every --tls_reload_interval. "
          "Env: RECONDB_TLS_CERT.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert. Env: RECONDB_TLS_KEY.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA certificate(s): when set, clients and peers must present a "
          "certificate signed by it (mTLS). Needs --tls_cert. "
          "Env: RECONDB_TLS_CLIENT_CA.");
ABSL_FLAG(std::string, peer_tls_ca, "",
          "PEM CA certificate(s): when set, peers are dialed over TLS and their "
          "certificate is verified against it and the host name dialed. "
          "Env: RECONDB_PEER_TLS_CA.");
ABSL_FLAG(std::string, peer_tls_cert, "",
          "PEM client certificate presented to dialed peers (default: --tls_cert). "
          "Env: RECONDB_PEER_TLS_CERT.");
ABSL_FLAG(std::string, peer_tls_key, "",
          "PEM private key of --peer_tls_cert (default: --tls_key). "
          "Env: RECONDB_PEER_TLS_KEY.");
ABSL_FLAG(absl::Duration, tls_reload_interval, absl::Seconds(60),
          "How often the TLS files are read again, so that replaced certificates "
          "and keys are used for new connections without a restart (whole "
          "seconds, at least 1s). Env: RECONDB_TLS_RELOAD_INTERVAL.");

ABSL_FLAG(std::string, auth, "off",
          "Authentication and grants: off (every caller may do everything, as on a "
          "laptop alone) or on (every call needs a bearer token or a client "
          "certificate mapped to a principal, and is checked against its grants; "
          "principals are kept in data_dir/auth.json). Env: RECONDB_AUTH.");
ABSL_FLAG(std::string, auth_file, "",
          "A JSON file of principals (token hashes, certificate names, grants) "
          "loaded read-only at start, e.g. a mounted container secret; "
          "`recondb auth hash-token` and `new-token` help write it. "
          "Env: RECONDB_AUTH_FILE.");
ABSL_FLAG(std::string, admin_token_file, "",
          "With --auth=on and no admin principal, the first start creates the "
          "principal admin whose token is read from this file, or written to it "
          "(mode 0600) if it does not exist. Default data_dir/admin.token; "
          "required with --storage=memory. Env: RECONDB_ADMIN_TOKEN_FILE.");

#ifndef RECONDB_VERSION
#define RECONDB_VERSION "unknown"
#endif

namespace recondb::daemon {
namespace {

constexpr int64_t kMinMessageBytes = 1024;
constexpr int kMaxWorkerThreads = 1024;

absl::Status BadValue(std::string_view flag, std::string_view detail) {
  std::string env;
  for (const FlagEnv& fe : ConfigFlags()) {
    if (fe.flag == flag) env = std::string(fe.env);
  }
  return absl::InvalidArgumentError(absl::StrCat("--", Sv(flag), " (", env, "): ", Sv(detail)));
}

absl::StatusOr<StorageKind> ParseStorageKind(const std::string& value) {
  if (value == "sqlite") return StorageKind::kSqlite;
  if (value == "memory") return StorageKind::kMemory;
  return BadValue("storage", absl::StrCat("must be sqlite or memory, got \"", value, "\""));
}

absl::StatusOr<storage::Durability> ParseDurability(const std::string& value) {
  if (value == "full") return storage::Durability::kFull;
  if (value == "normal") return storage::Durability::kNormal;
  return BadValue("durability", absl::StrCat("must be full or normal, got \"", value, "\""));
}

absl::StatusOr<spdlog::level::level_enum> ParseLogLevel(const std::string& value) {
  if (value == "trace") return spdlog::level::trace;
  if (value == "debug") return spdlog::level::debug;
  if (value == "info") return spdlog::level::info;
  if (value == "warn") return spdlog::level::warn;
  if (value == "error") return spdlog::level::err;
  return BadValue("log_level",
                  absl::StrCat("must be trace, debug, info, warn or error, got \"", value, "\""));
}

absl::StatusOr<bool> ParseAuth(const std::string& value) {
  if (value == "off") return false;
  if (value == "on") return true;
  return BadValue("auth", absl::StrCat("must be off or on, got \"", value, "\""));
}

// Sets config.auth_file and config.admin_token_file (REQUIRES: auth, storage
// and data_dir set).
absl::Status ResolveAuthFiles(Config& config) {
  config.auth_file = absl::GetFlag(FLAGS_auth_file);
  if (!config.auth) {
    if (!config.auth_file.empty()) return BadValue("auth_file", "needs --auth=on");
    return absl::OkStatus();
  }
  config.admin_token_file = absl::GetFlag(FLAGS_admin_token_file);
  if (!config.admin_token_file.empty()) return absl::OkStatus();
  if (config.storage == StorageKind::kMemory) {
    return BadValue("admin_token_file",
                    "required with --auth=on and --storage=memory (there is no data directory "
                    "to keep the bootstrap admin's token in)");
  }
  config.admin_token_file = absl::StrCat(config.data_dir, "/admin.token");
  return absl::OkStatus();
}

// REQUIRES: lo <= hi.
absl::Status CheckRange(std::string_view flag, int64_t value, int64_t lo, int64_t hi) {
  if (value >= lo && value <= hi) return absl::OkStatus();
  return BadValue(flag, absl::StrCat("must be between ", lo, " and ", hi, ", got ", value));
}

// absl keeps the last value of a repeated flag: the --peer occurrences
// (`--peer=X`, `--peer X`, one dash or two) are gathered into a single
// `--peer=X,Y,...` placed where the first one was. `storage` owns the new
// argument. The result ends with a null pointer, like argv.
std::vector<char*> JoinRepeatedPeerFlags(int argc, char** argv, std::vector<std::string>* storage) {
  std::vector<std::string> values;
  std::vector<char*> out;
  size_t first = std::string::npos;
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    if (i > 0 && arg == "--") {  // The rest is positional.
      for (; i < argc; ++i) out.push_back(argv[i]);
      break;
    }
    std::string_view name = arg;
    if (i > 0 && absl::StartsWith(Sv(name), "-")) name.remove_prefix(1);
    if (i > 0 && absl::StartsWith(Sv(name), "-")) name.remove_prefix(1);
    if (i > 0 && name.size() < arg.size() &&
        (name == "peer" || absl::StartsWith(Sv(name), "peer="))) {
      if (name == "peer") {
        if (i + 1 >= argc) {  // Leave it to absl to report the missing value.
          out.push_back(argv[i]);
          continue;
        }
        values.emplace_back(argv[++i]);
      } else {
        values.emplace_back(name.substr(5));
      }
      if (first == std::string::npos) first = out.size();
      continue;
    }
    out.push_back(argv[i]);
  }
  if (first != std::string::npos) {
    storage->push_back(absl::StrCat("--peer=", absl::StrJoin(values, ",")));
    out.insert(out.begin() + static_cast<std::ptrdiff_t>(first), storage->back().data());
  }
  out.push_back(nullptr);
  return out;
}

// OK if `path` can be opened and read and holds a PEM block; else
// INVALID_ARGUMENT naming the flag, its variable and the path.
absl::Status CheckPemFile(std::string_view flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return BadValue(flag, absl::StrCat("cannot read \"", path, "\": ", std::strerror(errno)));
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    return BadValue(flag, absl::StrCat("cannot read \"", path, "\": ", std::strerror(errno)));
  }
  if (!absl::StrContains(text, "-----BEGIN ")) {
    return BadValue(flag, absl::StrCat("\"", path, "\" holds no PEM data"));
  }
  return absl::OkStatus();
}

// `a` and `b` (flag names) are given both or neither.
absl::Status CheckPair(std::string_view a, const std::string& a_value, std::string_view b,
                       const std::string& b_value) {
  if (a_value.empty() == b_value.empty()) return absl::OkStatus();
  std::string_view missing = a_value.empty() ? a : b;
  std::string_view given = a_value.empty() ? b : a;
  return BadValue(missing, absl::StrCat("must be set with --", Sv(given)));
}

// Reads the TLS flags into `config`: pairs given together, peer identity
// defaulting to the server's, every file readable PEM.
absl::Status ReadTlsFlags(Config& config) {
  config.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  config.tls_key = absl::GetFlag(FLAGS_tls_key);
  config.tls_client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  config.peer_tls_ca = absl::GetFlag(FLAGS_peer_tls_ca);
  config.peer_tls_cert = absl::GetFlag(FLAGS_peer_tls_cert);
  config.peer_tls_key = absl::GetFlag(FLAGS_peer_tls_key);
  RETURN_IF_ERROR(CheckPair("tls_cert", config.tls_cert, "tls_key", config.tls_key));
  RETURN_IF_ERROR(
      CheckPair("peer_tls_cert", config.peer_tls_cert, "peer_tls_key", config.peer_tls_key));
  if (!config.tls_client_ca.empty() && config.tls_cert.empty()) {
    return BadValue("tls_client_ca", "needs --tls_cert and --tls_key (a TLS server)");
  }
  const std::pair<std::string_view, const std::string*> files[] = {
      {"tls_cert", &config.tls_cert},           {"tls_key", &config.tls_key},
      {"tls_client_ca", &config.tls_client_ca}, {"peer_tls_ca", &config.peer_tls_ca},
      {"peer_tls_cert", &config.peer_tls_cert}, {"peer_tls_key", &config.peer_tls_key}};
  for (const auto& [flag, path] : files) {
    if (!path->empty()) RETURN_IF_ERROR(CheckPemFile(flag, *path));
  }
  // After the checks, so that a bad file is named by the flag that gave it.
  if (config.peer_tls_cert.empty()) {
    config.peer_tls_cert = config.tls_cert;
    config.peer_tls_key = config.tls_key;
  }
  config.tls_reload_interval = absl::GetFlag(FLAGS_tls_reload_interval);
  if (config.tls_reload_interval < absl::Seconds(1) ||
      config.tls_reload_interval != absl::Floor(config.tls_reload_interval, absl::Seconds(1))) {
    return BadValue("tls_reload_interval",
                    absl::StrCat("must be whole seconds, at least 1s, got ",
                                 absl::FormatDuration(config.tls_reload_interval)));
  }
  return absl::OkStatus();
}

}  // namespace

bool SecuredForNetwork(const Config& config) {
  // The one place for the rule: TLS, so that nothing crosses the network in
  // clear, and authentication, so that nobody is let in unnamed.
  return !config.tls_cert.empty() && config.auth;
}

const std::vector<FlagEnv>& ConfigFlags() {
  static const std::vector<FlagEnv>* const kFlags = new std::vector<FlagEnv>{
      {"listen", "RECONDB_LISTEN"},
      {"data_dir", "RECONDB_DATA_DIR"},
      {"storage", "RECONDB_STORAGE"},
      {"durability", "RECONDB_DURABILITY"},
      {"page_size", "RECONDB_PAGE_SIZE"},
      {"log_level", "RECONDB_LOG_LEVEL"},
      {"max_message_bytes", "RECONDB_MAX_MESSAGE_BYTES"},
      {"max_record_bytes", "RECONDB_MAX_RECORD_BYTES"},
      {"worker_threads", "RECONDB_WORKER_THREADS"},
      {"peer", "RECONDB_PEERS"},
      {"stale_peer_after", "RECONDB_STALE_PEER_AFTER"},
      {"replication_batch_records", "RECONDB_REPLICATION_BATCH_RECORDS"},
      {"max_streams_per_principal", "RECONDB_MAX_STREAMS_PER_PRINCIPAL"},
      {"max_connection_idle", "RECONDB_MAX_CONNECTION_IDLE"},
      {"keepalive_time", "RECONDB_KEEPALIVE_TIME"},
      {"keepalive_timeout", "RECONDB_KEEPALIVE_TIMEOUT"},
      {"min_ping_interval", "RECONDB_MIN_PING_INTERVAL"},
      {"max_ping_strikes", "RECONDB_MAX_PING_STRIKES"},
      {"insecure", "RECONDB_INSECURE"},
      {"tls_cert", "RECONDB_TLS_CERT"},
      {"tls_key", "RECONDB_TLS_KEY"},
      {"tls_client_ca", "RECONDB_TLS_CLIENT_CA"},
      {"peer_tls_ca", "RECONDB_PEER_TLS_CA"},
      {"peer_tls_cert", "RECONDB_PEER_TLS_CERT"},
      {"peer_tls_key", "RECONDB_PEER_TLS_KEY"},
      {"tls_reload_interval", "RECONDB_TLS_RELOAD_INTERVAL"},
      {"auth", "RECONDB_AUTH"},
      {"auth_file", "RECONDB_AUTH_FILE"},
      {"admin_token_file", "RECONDB_ADMIN_TOKEN_FILE"},
  };
  return *kFlags;
}

EnvLookup ProcessEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

absl::Status ApplyEnvironment(const EnvLookup& env) {
  for (const FlagEnv& fe : ConfigFlags()) {
    std::optional<std::string> value = env(fe.env);
    if (!value.has_value()) continue;
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(Sv(fe.flag));
    if (flag == nullptr) {
      return absl::InternalError(absl::StrCat("flag --", Sv(fe.flag), " is not defined"));
    }
    std::string error;
    if (!flag->ParseFrom(*value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat(Sv(fe.env), "=\"", *value, "\" (--", Sv(fe.flag), "): ", error));
    }
  }
  return absl::OkStatus();
}

namespace {

// A duration flag that must lie in [min, max], whole milliseconds for gRPC.
absl::StatusOr<absl::Duration> DurationInRange(std::string_view flag, absl::Duration value,
                                               absl::Duration min, absl::Duration max) {
  if (value < min || value > max) {
    return BadValue(flag, absl::StrCat("must be from ", absl::FormatDuration(min), " to ",
                                       absl::FormatDuration(max), ", got ",
                                       absl::FormatDuration(value)));
  }
  return value;
}

absl::Status ConnectionLimitsFromFlags(Config& config) {
  const absl::Duration day = absl::Hours(24);
  ASSIGN_OR_RETURN(config.max_connection_idle,
                   DurationInRange("max_connection_idle", absl::GetFlag(FLAGS_max_connection_idle),
                                   absl::Seconds(1), 24 * day));
  ASSIGN_OR_RETURN(config.keepalive_time,
                   DurationInRange("keepalive_time", absl::GetFlag(FLAGS_keepalive_time),
                                   absl::Seconds(1), day));
  ASSIGN_OR_RETURN(config.keepalive_timeout,
                   DurationInRange("keepalive_timeout", absl::GetFlag(FLAGS_keepalive_timeout),
                                   absl::Seconds(1), day));
  ASSIGN_OR_RETURN(config.min_ping_interval,
                   DurationInRange("min_ping_interval", absl::GetFlag(FLAGS_min_ping_interval),
                                   absl::ZeroDuration(), day));
  config.max_ping_strikes = absl::GetFlag(FLAGS_max_ping_strikes);
  return CheckRange("max_ping_strikes", config.max_ping_strikes, 0, 1000);
}

}  // namespace

absl::StatusOr<Config> ConfigFromFlags() {
  Config config;
  config.listen = absl::GetFlag(FLAGS_listen);
  absl::StatusOr<ListenAddress> listen = ParseListenAddress(config.listen);
  if (!listen.ok()) {
    return BadValue("listen", std::string_view(listen.status().message().data(),
                                                listen.status().message().size()));
  }
  config.insecure = absl::GetFlag(FLAGS_insecure);
  RETURN_IF_ERROR(ReadTlsFlags(config));
  ASSIGN_OR_RETURN(config.auth, ParseAuth(absl::GetFlag(FLAGS_auth)));
  if (!listen->IsLocalOnly() && !config.insecure && !SecuredForNetwork(config)) {
    // Closed by default: a node on the network must not be an open door.
    return BadValue(
        "listen",
        absl::StrCat("\"", config.listen,
                     "\" is reachable from the network: anyone reaching it could read and "
                     "change every table. Set --tls_cert/--tls_key and --auth=on, listen on "
                     "127.0.0.1:PORT or unix:PATH, or accept the risk with --insecure "
                     "(RECONDB_INSECURE=true) on a network you trust"));
  }
  config.data_dir = absl::GetFlag(FLAGS_data_dir);
  ASSIGN_OR_RETURN(config.storage, ParseStorageKind(absl::GetFlag(FLAGS_storage)));
  RETURN_IF_ERROR(ResolveAuthFiles(config));
  if (config.storage == StorageKind::kSqlite && config.data_dir.empty()) {
    return BadValue("data_dir", "must not be empty with --storage=sqlite");
  }
  ASSIGN_OR_RETURN(config.durability, ParseDurability(absl::GetFlag(FLAGS_durability)));
  config.page_size = absl::GetFlag(FLAGS_page_size);
  if (absl::Status s = storage::CheckPageSize(config.page_size); !s.ok()) {
    return BadValue("page_size", std::string_view(s.message().data(), s.message().size()));
  }
  ASSIGN_OR_RETURN(config.log_level, ParseLogLevel(absl::GetFlag(FLAGS_log_level)));

  const int64_t max_message = absl::GetFlag(FLAGS_max_message_bytes);
  RETURN_IF_ERROR(CheckRange("max_message_bytes", max_message, kMinMessageBytes,
                             std::numeric_limits<int>::max()));
  config.max_message_bytes = static_cast<int>(max_message);
  config.max_record_bytes = absl::GetFlag(FLAGS_max_record_bytes);
  RETURN_IF_ERROR(CheckRange("max_record_bytes", config.max_record_bytes, 1,
                             std::numeric_limits<int64_t>::max()));
  config.worker_threads = absl::GetFlag(FLAGS_worker_threads);
  RETURN_IF_ERROR(CheckRange("worker_threads", config.worker_threads, 1, kMaxWorkerThreads));
  config.stale_peer_after = absl::GetFlag(FLAGS_stale_peer_after);
  if (config.stale_peer_after <= absl::ZeroDuration()) {
    return BadValue(
        "stale_peer_after",
        absl::StrCat("must be positive, got ", absl::FormatDuration(config.stale_peer_after)));
  }
  config.replication_batch_records = absl::GetFlag(FLAGS_replication_batch_records);
  RETURN_IF_ERROR(
      CheckRange("replication_batch_records", config.replication_batch_records, 1, 100000));
  config.max_streams_per_principal = absl::GetFlag(FLAGS_max_streams_per_principal);
  RETURN_IF_ERROR(
      CheckRange("max_streams_per_principal", config.max_streams_per_principal, 0, 1000000));
  RETURN_IF_ERROR(ConnectionLimitsFromFlags(config));
  for (const std::string& peer : absl::GetFlag(FLAGS_peer)) {
    const std::string address(absl::StripAsciiWhitespace(peer));
    if (address.empty()) continue;  // "a,,b" or a trailing comma.
    if (absl::Status s = reconciler::ValidatePeerAddress(address); !s.ok()) {
      return BadValue("peer", std::string_view(s.message().data(), s.message().size()));
    }
    if (std::find(config.peers.begin(), config.peers.end(), address) == config.peers.end()) {
      config.peers.push_back(address);
    }
  }
  return config;
}

absl::StatusOr<Config> ParseConfig(int argc, char** argv, const EnvLookup& env) {
  static std::once_flag usage_once;
  std::call_once(usage_once, [] {
    // --help and --helpshort list the flags of this file (absl's default
    // looks for flags defined in main.cc).
    absl::FlagsUsageConfig usage;
    usage.contains_help_flags = [](absl::string_view file) {
      return absl::StrContains(file, "daemon/config.");
    };
    usage.contains_helpshort_flags = usage.contains_help_flags;
    usage.version_string = [] { return absl::StrCat("recondbd ", RECONDB_VERSION, "\n"); };
    absl::SetFlagsUsageConfig(usage);
    absl::SetProgramUsageMessage(
        "the recondb database daemon (gRPC services recondb.v1.Database, "
        "Replication and Admin, health, reflection).\n"
        "Usage: recondbd [--flag=value ...]\n"
        "Each flag may also be set by the environment variable named in its "
        "help; a flag on the command line wins over the environment.");
  });
  RETURN_IF_ERROR(ApplyEnvironment(env));
  std::vector<std::string> storage;
  std::vector<char*> args = JoinRepeatedPeerFlags(argc, argv, &storage);
  std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(args.size()) - 1, args.data());
  if (positional.size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", positional[1],
                                                   "\" (recondbd takes flags only; see --help)"));
  }
  return ConfigFromFlags();
}

std::string_view DurabilityName(storage::Durability durability) {
  return durability == storage::Durability::kFull ? "full" : "normal";
}

}  // namespace recondb::daemon
