// recondb_bench --mode=replicate: how fast a fresh node pulls records from
// another over gRPC, how long an incremental sync takes, and the receiver's
// peak memory. Both daemons must be running; the source is loaded here.
#ifndef RECONDB_TOOLS_BENCH_REPLICATION_BENCH_H_
#define RECONDB_TOOLS_BENCH_REPLICATION_BENCH_H_

#include <cstdint>
#include <string>

namespace recondb::tools {

struct ReplicationBenchConfig {
  std::string source_addr;    // Loaded with `records` todo-sized records.
  std::string receiver_addr;  // Fresh node; Admin.Sync is called on it.
  int64_t receiver_pid = 0;   // For its peak RSS (/proc/PID/status VmHWM); 0: not reported.
  std::string table = "bench_todos";
  int64_t records = 100000;
  int64_t incremental = 1000;  // Records changed on the source for the second sync.
  bool json = false;
};

// Prints the results; returns the process exit code.
int RunReplicationBench(const ReplicationBenchConfig& config);

}  // namespace recondb::tools

#endif  // RECONDB_TOOLS_BENCH_REPLICATION_BENCH_H_
