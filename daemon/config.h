// recondbd's configuration: command-line flags (absl), each with a RECONDB_*
// environment variable. Precedence: flag > environment > default. The table
// of flags is in daemon/DESIGN.md and in `recondbd --help`.
#ifndef RECONDB_DAEMON_CONFIG_H_
#define RECONDB_DAEMON_CONFIG_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/listen_address.h"
#include "spdlog/common.h"
#include "storage/sqlite_storage.h"

namespace recondb::daemon {

enum class StorageKind { kSqlite, kMemory };

// The validated configuration of one daemon. The defaults are those of the
// flags.
struct Config {
  // "host:port" to listen on (port 0 picks a free port), or "unix:PATH" for
  // a Unix domain socket (daemon/listen_address.h).
  std::string listen = "127.0.0.1:7470";
  // Holds recondb.sqlite3 and LOCK. Unused by the memory backend.
  std::string data_dir = "./data";
  StorageKind storage = StorageKind::kSqlite;
  storage::Durability durability = storage::Durability::kFull;
  // Page size of a new SQLite database; an existing one keeps its own.
  int page_size = storage::kDefaultPageSize;
  spdlog::level::level_enum log_level = spdlog::level::info;
  // Largest gRPC message received or sent.
  int max_message_bytes = 4 << 20;
  // Largest canonical encoding of one revision (the engine's limit).
  int64_t max_record_bytes = 1 << 20;
  // Threads answering unary calls (storage work included), and as many in
  // the worker pool that reads for change streams.
  int worker_threads = 8;
  // Peers to replicate with ("host:port"), added at start-up to the
  // persisted ones (--peer, repeatable; RECONDB_PEERS, comma-separated).
  std::vector<std::string> peers;
  // A peer not connected and last seen longer ago than this is flagged
  // stale in Admin.ListPeers and `recondb peers list` (> 0).
  absl::Duration stale_peer_after = absl::Hours(24 * 7);
  // Records per replication Summaries batch this node sends (1-100000).
  int replication_batch_records = 1000;
  // Concurrent GetChanges and Replicate streams of one principal (with
  // --auth=off: of one caller host); over it RESOURCE_EXHAUSTED. 0: no
  // limit.
  int max_streams_per_principal = 32;
  // Connections (daemon/DESIGN.md, "Limits"): a connection without a call
  // for max_connection_idle is closed; idle calls are pinged every
  // keepalive_time and a connection that does not answer within
  // keepalive_timeout is closed; a client that pings more often than
  // min_ping_interval (without data) more than max_ping_strikes times is
  // disconnected.
  absl::Duration max_connection_idle = absl::Minutes(30);
  absl::Duration keepalive_time = absl::Seconds(60);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  absl::Duration min_ping_interval = absl::Seconds(10);
  int max_ping_strikes = 2;
  // Allows a --listen address that the network can reach without the
  // protection SecuredForNetwork() asks for: every table readable and
  // writable by anyone who reaches the port. Without it, such an address is
  // refused at start.
  bool insecure = false;

  // TLS (docs/security.md, "TLS and certificates"). Paths of PEM files,
  // each readable when the configuration was validated; empty: unset.
  // The server's certificate chain and private key: both or neither; set,
  // every connection to --listen is TLS.
  std::string tls_cert;
  std::string tls_key;
  // REQUIRES tls_cert. Set: clients must present a certificate this CA
  // signed (mTLS), or the handshake fails.
  std::string tls_client_ca;
  // Set: peers are dialed over TLS, their certificate verified against this
  // CA and the host name dialed. Empty: peers are dialed in plaintext.
  std::string peer_tls_ca;
  // The client certificate and key presented to dialed peers: both or
  // neither; neither given, they are tls_cert and tls_key.
  std::string peer_tls_cert;
  std::string peer_tls_key;
  // How often the files above are read again, so that replaced files are
  // used for new connections without a restart (whole seconds, >= 1 s).
  absl::Duration tls_reload_interval = absl::Seconds(60);
  // --auth=on: every call must authenticate (a bearer token or a client
  // certificate) and is checked against its principal's grants; off (the
  // default): every call is the principal "anonymous", allowed everything.
  bool auth = false;
  // Read-only principals (JSON, auth/DESIGN.md); empty for none.
  std::string auth_file;
  // The bootstrap admin's token file (docs/security.md, "Principals, tokens
  // and grants"). Resolved: <data_dir>/admin.token unless given; required
  // with --auth=on and --storage=memory; empty with --auth=off.
  std::string admin_token_file;
};

// The closed-by-default rule's condition: whether `config` protects a
// --listen address that the network can reach well enough to start
// without --insecure. Today: TLS (--tls_cert) is set.
bool SecuredForNetwork(const Config& config);

// One flag and its environment variable, e.g. {"listen", "RECONDB_LISTEN"}.
struct FlagEnv {
  std::string_view flag;
  std::string_view env;
};

// Every configuration flag with its environment variable.
const std::vector<FlagEnv>& ConfigFlags();

// Looks up an environment variable; nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The process environment (getenv).
EnvLookup ProcessEnvironment();

// Sets each flag whose environment variable `env` defines to that value, as
// if it had been given on the command line. Call before the command line is
// parsed so that the command line wins. INVALID_ARGUMENT naming the variable
// if a value does not parse as the flag's type.
absl::Status ApplyEnvironment(const EnvLookup& env);

// Reads and validates the current values of the flags. INVALID_ARGUMENT
// naming the flag, its variable and the value when one is out of range or
// not one of the allowed words.
absl::StatusOr<Config> ConfigFromFlags();

// What main() does: applies `env`, then parses the command line (absl:
// --help prints the flags and exits; an unknown flag or a malformed value
// prints a message and exits with 1), then ConfigFromFlags(). Positional
// arguments are refused with INVALID_ARGUMENT. `--peer` may be repeated,
// each occurrence holding one address or a comma-separated list: they add
// up (absl alone keeps the last one), and any --peer replaces
// RECONDB_PEERS.
absl::StatusOr<Config> ParseConfig(int argc, char** argv, const EnvLookup& env);

// "full" / "normal": for logs.
std::string_view DurabilityName(storage::Durability durability);

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_CONFIG_H_
