// recondb_bench: drives a running recondbd (or recondb_echo_server) with
// unary calls from N threads, each with a blocking stub, and prints the
// throughput and the latency distribution. See tools/DESIGN.md.
//
//   recondb_bench --addr=127.0.0.1:7470 --mode=get --concurrency=16 --duration_s=10
//   recondb_bench --addr=127.0.0.1:7470 --mode=put --concurrency=1 --requests=5000 --json
//   recondb_bench --addr=127.0.0.1:7471 --mode=echo --concurrency=16   # echo server
//   recondb_bench --addr=RECEIVER --source_addr=SOURCE --mode=replicate --records=100000
//       --receiver_pid=PID   # two running daemons; the receiver fresh
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/str_format.h"
#include "bench/echo.grpc.pb.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "recondb/v1/database.grpc.pb.h"
#include "tools/bench/replication_bench.h"

ABSL_FLAG(std::string, addr, "",
          "HOST:PORT of the daemon (or echo server). Default: $RECONDB_ADDR, else 127.0.0.1:7470.");
ABSL_FLAG(std::string, mode, "get",
          "put: create new records; get: GetRecord of preloaded records; mixed: both "
          "(see --read_fraction); echo: calls recondb_echo_server; replicate: see --source_addr.");
ABSL_FLAG(int, concurrency, 1, "Worker threads, each with one blocking call in flight.");
ABSL_FLAG(int, channels, 1, "gRPC channels (TCP connections) shared round-robin by the workers.");
ABSL_FLAG(double, duration_s, 10, "Seconds to run when --requests is 0.");
ABSL_FLAG(int64_t, requests, 0, "Total calls to make (over all workers); 0: run for --duration_s.");
ABSL_FLAG(double, warmup_s, 1, "Seconds of calls made before measuring (not counted).");
ABSL_FLAG(std::string, table, "bench_todos", "Table to use; created todo-shaped if missing.");
ABSL_FLAG(int, records, 1000, "Records preloaded for --mode=get and --mode=mixed.");
ABSL_FLAG(double, read_fraction, 0.5, "Share of GetRecord calls in --mode=mixed.");
ABSL_FLAG(int, payload_bytes, 256, "Payload size in --mode=echo.");
ABSL_FLAG(int, description_bytes, 0,
          "Length of each written record's description, up to 65536; 0: a fixed 59-byte text.");
ABSL_FLAG(int, timeout_ms, 10000, "Deadline of each call.");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the workers' random choices.");
ABSL_FLAG(std::string, source_addr, "",
          "--mode=replicate: the node loaded with --records records (--addr is the fresh receiver).");
ABSL_FLAG(int64_t, receiver_pid, 0, "--mode=replicate: PID of the receiver, for its peak RSS.");
ABSL_FLAG(int64_t, incremental, 1000, "--mode=replicate: records changed for the incremental sync.");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM file of the CA of the daemon's certificate: connect with TLS. Default: $RECONDB_TLS_CA, "
          "else plaintext.");
ABSL_FLAG(std::string, tls_server_name, "",
          "With --tls_ca: the name to verify the certificate against, if not the host of --addr.");
ABSL_FLAG(bool, json, false, "Also print the result as one JSON line on stdout.");

namespace recondb::tools {
namespace {

using Clock = std::chrono::steady_clock;
namespace v1 = recondb::v1;

// The bench table's description column holds up to this many characters.
constexpr int kMaxDescriptionBytes = 65536;

enum class Mode { kPut, kGet, kMixed, kEcho };

struct Config {
  std::string addr;
  std::string tls_ca_pem;  // Empty: plaintext.
  std::string tls_server_name;
  Mode mode;
  std::string mode_name;
  int concurrency;
  int channels;
  double duration_s;
  int64_t requests;
  double warmup_s;
  std::string table;
  int records;
  double read_fraction;
  int payload_bytes;
  int description_bytes;
  int timeout_ms;
  uint64_t seed;
  bool json;
};

bool ParseMode(const std::string& s, Mode* mode) {
  if (s == "put") *mode = Mode::kPut;
  else if (s == "get") *mode = Mode::kGet;
  else if (s == "mixed") *mode = Mode::kMixed;
  else if (s == "echo") *mode = Mode::kEcho;
  else return false;
  return true;
}

// One call's outcome, as the workers see it.
struct CallResult {
  bool ok;
  std::string error;
};

// The calls of one worker; owns nothing shared but the stubs' channels.
class Caller {
 public:
  Caller(const Config& config, std::shared_ptr<grpc::Channel> channel, const std::vector<std::string>* ids,
         uint64_t seed)
      : config_(config),
        db_(v1::Database::NewStub(channel)),
        echo_(bench::v1::Echo::NewStub(channel)),
        ids_(ids),
        rng_(seed),
        payload_(static_cast<size_t>(std::max(0, config.payload_bytes)), 'x'),
        description_(config.description_bytes > 0
                         ? std::string(static_cast<size_t>(config.description_bytes), 'd')
                         : std::string("a todo-shaped record written by recondb_bench, ~60 bytes")) {}

  CallResult Call() {
    switch (config_.mode) {
      case Mode::kPut:
        return Put();
      case Mode::kGet:
        return Get();
      case Mode::kMixed:
        return std::uniform_real_distribution<double>(0, 1)(rng_) < config_.read_fraction ? Get() : Put();
      case Mode::kEcho:
        return Echo();
    }
    return {false, "bad mode"};
  }

  // Creates one todo-shaped record; returns its id in *id.
  CallResult Put(std::string* id = nullptr) {
    grpc::ClientContext ctx;
    SetDeadline(&ctx);
    v1::PutRecordRequest req;
    v1::Record* r = req.mutable_record();
    r->set_table(config_.table);
    auto& attrs = *r->mutable_attributes();
    attrs["title"].set_string(absl::StrCat("bench todo ", counter_++));
    attrs["description"].set_string(description_);
    attrs["completed"].set_bool_(false);
    *attrs["deadline_at"].mutable_timestamp() = google::protobuf::util::TimeUtil::GetCurrentTime();
    v1::Record resp;
    grpc::Status s = db_->PutRecord(&ctx, req, &resp);
    if (!s.ok()) return Failed("PutRecord", s);
    if (id != nullptr) *id = resp.id();
    return {true, ""};
  }

 private:
  CallResult Get() {
    grpc::ClientContext ctx;
    SetDeadline(&ctx);
    v1::GetRecordRequest req;
    req.set_table(config_.table);
    req.set_id((*ids_)[std::uniform_int_distribution<size_t>(0, ids_->size() - 1)(rng_)]);
    v1::Record resp;
    grpc::Status s = db_->GetRecord(&ctx, req, &resp);
    if (!s.ok()) return Failed("GetRecord", s);
    return {true, ""};
  }

  CallResult Echo() {
    grpc::ClientContext ctx;
    SetDeadline(&ctx);
    bench::v1::EchoRequest req;
    req.set_payload(payload_);
    bench::v1::EchoResponse resp;
    grpc::Status s = echo_->Echo(&ctx, req, &resp);
    if (!s.ok()) return Failed("Echo", s);
    return {true, ""};
  }

  void SetDeadline(grpc::ClientContext* ctx) const {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(config_.timeout_ms));
  }

  static CallResult Failed(const char* method, const grpc::Status& s) {
    return {false, absl::StrCat(method, ": code ", s.error_code(), ": ", s.error_message())};
  }

  const Config& config_;
  std::unique_ptr<v1::Database::Stub> db_;
  std::unique_ptr<bench::v1::Echo::Stub> echo_;
  const std::vector<std::string>* ids_;
  std::mt19937_64 rng_;
  std::string payload_;
  std::string description_;
  int64_t counter_ = 0;
};

std::vector<std::shared_ptr<grpc::Channel>> MakeChannels(const Config& config) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < std::max(1, config.channels); ++i) {
    grpc::ChannelArguments args;
    // Distinct channels get distinct connections.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("recondb_bench.channel", i);
    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
    if (!config.tls_ca_pem.empty()) {
      grpc::SslCredentialsOptions tls;
      tls.pem_root_certs = config.tls_ca_pem;
      credentials = grpc::SslCredentials(tls);
      if (!config.tls_server_name.empty()) {
        args.SetSslTargetNameOverride(config.tls_server_name);
      }
    }
    channels.push_back(grpc::CreateCustomChannel(config.addr, credentials, args));
  }
  return channels;
}

// Creates the table if missing: title string not null, description string,
// completed bool default false, deadline_at timestamp.
bool EnsureTable(const Config& config, const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::Database::NewStub(channel);
  grpc::ClientContext get_ctx;
  get_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(config.timeout_ms));
  v1::GetTableRequest get;
  get.set_name(config.table);
  v1::Table table;
  grpc::Status s = stub->GetTable(&get_ctx, get, &table);
  if (s.ok()) return true;
  if (s.error_code() != grpc::StatusCode::NOT_FOUND) {
    std::fprintf(stderr, "GetTable %s: %s\n", config.table.c_str(), s.error_message().c_str());
    return false;
  }
  v1::CreateTableRequest create;
  v1::Table* t = create.mutable_table();
  t->set_name(config.table);
  auto add = [t](const char* name, v1::ColumnType type, bool nullable) {
    v1::Column* c = t->add_columns();
    c->set_name(name);
    c->set_type(type);
    c->set_nullable(nullable);
    return c;
  };
  add("title", v1::COLUMN_TYPE_STRING, false)->set_max_length(80);
  add("description", v1::COLUMN_TYPE_STRING, true)->set_max_length(kMaxDescriptionBytes);
  add("completed", v1::COLUMN_TYPE_BOOL, false)->mutable_default_value()->set_bool_(false);
  add("deadline_at", v1::COLUMN_TYPE_TIMESTAMP, true);
  grpc::ClientContext create_ctx;
  create_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(config.timeout_ms));
  s = stub->CreateTable(&create_ctx, create, &table);
  if (s.ok() || s.error_code() == grpc::StatusCode::ALREADY_EXISTS) return true;
  std::fprintf(stderr, "CreateTable %s: %s\n", config.table.c_str(), s.error_message().c_str());
  return false;
}

// Writes config.records records with config.concurrency threads; their ids.
bool Preload(const Config& config, const std::vector<std::shared_ptr<grpc::Channel>>& channels,
             std::vector<std::string>* ids) {
  std::mutex mu;
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < config.concurrency; ++w) {
    threads.emplace_back([&, w] {
      Caller caller(config, channels[w % channels.size()], nullptr, config.seed + w);
      std::string id;
      while (!failed.load() && next.fetch_add(1) < config.records) {
        CallResult r = caller.Put(&id);
        if (!r.ok) {
          std::fprintf(stderr, "preload: %s\n", r.error.c_str());
          failed = true;
          return;
        }
        std::lock_guard<std::mutex> l(mu);
        ids->push_back(id);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return !failed.load();
}

struct Result {
  int64_t calls = 0;
  int64_t errors = 0;
  double seconds = 0;
  std::vector<int64_t> latencies_ns;  // successful calls only
  std::string first_error;
};

// Runs the workers: a warm-up, then the measured part, ending after
// config.requests calls in all or config.duration_s seconds.
Result RunWorkers(const Config& config, const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                  const std::vector<std::string>& ids) {
  std::atomic<int64_t> issued{0};
  std::atomic<bool> measuring{false};
  std::atomic<bool> stop{false};
  std::mutex mu;
  Result result;
  std::vector<std::thread> threads;
  for (int w = 0; w < config.concurrency; ++w) {
    threads.emplace_back([&, w] {
      Caller caller(config, channels[w % channels.size()], &ids, config.seed * 7919 + w);
      std::vector<int64_t> latencies;
      latencies.reserve(1 << 16);
      int64_t errors = 0;
      std::string first_error;
      while (!stop.load(std::memory_order_relaxed)) {
        const bool counted = measuring.load(std::memory_order_acquire);
        if (counted && config.requests > 0 && issued.fetch_add(1) >= config.requests) break;
        Clock::time_point start = Clock::now();
        CallResult r = caller.Call();
        int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
        if (!counted) continue;
        if (r.ok) {
          latencies.push_back(ns);
        } else {
          ++errors;
          if (first_error.empty()) first_error = r.error;
        }
      }
      std::lock_guard<std::mutex> l(mu);
      result.latencies_ns.insert(result.latencies_ns.end(), latencies.begin(), latencies.end());
      result.errors += errors;
      if (result.first_error.empty()) result.first_error = first_error;
    });
  }
  if (config.warmup_s > 0) {
    std::this_thread::sleep_for(std::chrono::duration<double>(config.warmup_s));
  }
  Clock::time_point start = Clock::now();
  measuring.store(true, std::memory_order_release);
  if (config.requests <= 0) {
    std::this_thread::sleep_for(std::chrono::duration<double>(config.duration_s));
    stop = true;
  }
  for (std::thread& t : threads) t.join();
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.calls = static_cast<int64_t>(result.latencies_ns.size()) + result.errors;
  return result;
}

double PercentileUs(const std::vector<int64_t>& sorted_ns, double p) {
  if (sorted_ns.empty()) return 0;
  size_t i = static_cast<size_t>(p * (sorted_ns.size() - 1) + 0.5);
  return sorted_ns[std::min(i, sorted_ns.size() - 1)] / 1000.0;
}

void Report(const Config& config, Result& r) {
  std::sort(r.latencies_ns.begin(), r.latencies_ns.end());
  const double ok_per_s = r.seconds > 0 ? r.latencies_ns.size() / r.seconds : 0;
  const double p50 = PercentileUs(r.latencies_ns, 0.50);
  const double p90 = PercentileUs(r.latencies_ns, 0.90);
  const double p99 = PercentileUs(r.latencies_ns, 0.99);
  const double max = r.latencies_ns.empty() ? 0 : r.latencies_ns.back() / 1000.0;
  std::printf(
      "mode=%s addr=%s tls=%s concurrency=%d channels=%d calls=%lld errors=%lld time=%.2fs\n"
      "throughput: %.0f calls/s\n"
      "latency: p50=%.0fus p90=%.0fus p99=%.0fus max=%.0fus\n",
      config.mode_name.c_str(), config.addr.c_str(), config.tls_ca_pem.empty() ? "no" : "yes",
      config.concurrency, config.channels,
      static_cast<long long>(r.calls), static_cast<long long>(r.errors), r.seconds, ok_per_s, p50, p90,
      p99, max);
  if (!r.first_error.empty()) std::fprintf(stderr, "first error: %s\n", r.first_error.c_str());
  if (config.json) {
    std::printf(
        "{\"mode\":\"%s\",\"addr\":\"%s\",\"tls\":%s,\"concurrency\":%d,\"channels\":%d,\"calls\":%lld,"
        "\"errors\":%lld,\"seconds\":%.3f,\"calls_per_s\":%.1f,\"p50_us\":%.1f,\"p90_us\":%.1f,"
        "\"p99_us\":%.1f,\"max_us\":%.1f}\n",
        config.mode_name.c_str(), config.addr.c_str(), config.tls_ca_pem.empty() ? "false" : "true",
        config.concurrency, config.channels,
        static_cast<long long>(r.calls), static_cast<long long>(r.errors), r.seconds, ok_per_s, p50, p90,
        p99, max);
  }
  std::fflush(stdout);
}

int Main() {
  Config c;
  c.addr = absl::GetFlag(FLAGS_addr);
  if (c.addr.empty()) {
    const char* env = std::getenv("RECONDB_ADDR");
    c.addr = env != nullptr && *env != '\0' ? env : "127.0.0.1:7470";
  }
  std::string tls_ca = absl::GetFlag(FLAGS_tls_ca);
  if (tls_ca.empty()) {
    const char* env = std::getenv("RECONDB_TLS_CA");
    if (env != nullptr) tls_ca = env;
  }
  if (!tls_ca.empty()) {
    std::ifstream in(tls_ca, std::ios::binary);
    std::stringstream pem;
    pem << in.rdbuf();
    if (!in || pem.str().empty()) {
      std::fprintf(stderr, "--tls_ca: cannot read %s\n", tls_ca.c_str());
      return 2;
    }
    c.tls_ca_pem = pem.str();
  }
  c.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  c.mode_name = absl::GetFlag(FLAGS_mode);
  if (c.mode_name == "replicate") {
    ReplicationBenchConfig r;
    r.receiver_addr = c.addr;
    r.source_addr = absl::GetFlag(FLAGS_source_addr);
    r.receiver_pid = absl::GetFlag(FLAGS_receiver_pid);
    r.table = absl::GetFlag(FLAGS_table);
    r.records = absl::GetFlag(FLAGS_records);
    r.incremental = absl::GetFlag(FLAGS_incremental);
    r.json = absl::GetFlag(FLAGS_json);
    if (r.source_addr.empty() || r.records < 1) {
      std::fprintf(stderr, "--mode=replicate needs --source_addr and --records >= 1\n");
      return 2;
    }
    return RunReplicationBench(r);
  }
  if (!ParseMode(c.mode_name, &c.mode)) {
    std::fprintf(stderr, "--mode must be put, get, mixed or echo, not '%s'\n", c.mode_name.c_str());
    return 2;
  }
  c.concurrency = absl::GetFlag(FLAGS_concurrency);
  c.channels = absl::GetFlag(FLAGS_channels);
  c.duration_s = absl::GetFlag(FLAGS_duration_s);
  c.requests = absl::GetFlag(FLAGS_requests);
  c.warmup_s = absl::GetFlag(FLAGS_warmup_s);
  c.table = absl::GetFlag(FLAGS_table);
  c.records = absl::GetFlag(FLAGS_records);
  c.read_fraction = absl::GetFlag(FLAGS_read_fraction);
  c.payload_bytes = absl::GetFlag(FLAGS_payload_bytes);
  c.description_bytes = absl::GetFlag(FLAGS_description_bytes);
  c.timeout_ms = absl::GetFlag(FLAGS_timeout_ms);
  c.seed = absl::GetFlag(FLAGS_seed);
  c.json = absl::GetFlag(FLAGS_json);
  if (c.concurrency < 1 || c.channels < 1 || c.timeout_ms < 1 ||
      (c.requests <= 0 && c.duration_s <= 0)) {
    std::fprintf(stderr, "need --concurrency, --channels, --timeout_ms >= 1 and --requests or --duration_s > 0\n");
    return 2;
  }
  if (c.description_bytes < 0 || c.description_bytes > kMaxDescriptionBytes) {
    std::fprintf(stderr, "--description_bytes must be 0..%d\n", kMaxDescriptionBytes);
    return 2;
  }
  if ((c.mode == Mode::kGet || c.mode == Mode::kMixed) && c.records < 1) {
    std::fprintf(stderr, "--mode=%s needs --records >= 1\n", c.mode_name.c_str());
    return 2;
  }

  std::vector<std::shared_ptr<grpc::Channel>> channels = MakeChannels(c);
  std::vector<std::string> ids;
  if (c.mode != Mode::kEcho) {
    if (!EnsureTable(c, channels[0])) return 1;
    if (c.mode == Mode::kGet || c.mode == Mode::kMixed) {
      Clock::time_point start = Clock::now();
      if (!Preload(c, channels, &ids)) return 1;
      std::fprintf(stderr, "preloaded %zu records in %.2fs\n", ids.size(),
                   std::chrono::duration<double>(Clock::now() - start).count());
    }
  }
  Result r = RunWorkers(c, channels, ids);
  Report(c, r);
  return r.errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace recondb::tools

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Drives a running recondbd with PutRecord/GetRecord (or recondb_echo_server with Echo) and "
      "prints throughput and latency percentiles.");
  absl::ParseCommandLine(argc, argv);
  // As in recondbd: no lock-order graph (on in Debian's abseil) in the
  // measuring client.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return recondb::tools::Main();
}
