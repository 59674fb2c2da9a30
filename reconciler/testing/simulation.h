// Deterministic simulation of replication (issue 14, point 4): N in-process
// nodes over memory storage with fake clocks, a seeded schedule of random
// writes and of pairwise sessions over faulty streams, then a fault-free
// all-pairs reconciliation and a check that every node holds the same data.
// The seed fixes the schedule and the faults; the sessions' threads still
// interleave freely, so a run is reproducible in its schedule, not always
// in its outcome. docs/reliability.md tells how to run and replay it.
#ifndef RECONDB_RECONCILER_TESTING_SIMULATION_H_
#define RECONDB_RECONCILER_TESTING_SIMULATION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "engine/engine.h"
#include "reconciler/testing.h"
#include "reconciler/testing/faulty_stream.h"
#include "storage/storage.h"

namespace recondb::reconciler::testing {

// The result of one session pair run to its end over faulty streams.
struct FaultySyncResult {
  SyncResult sync;
  // True if the sessions had not ended by the watchdog's deadline and were
  // stopped by it (a hang: always a failure).
  bool hung = false;
  FaultyStreamStats dialer_stream;
  FaultyStreamStats acceptor_stream;
};

// One ONE_SHOT session between `dialer` and `acceptor` where each side
// writes through a FaultyStream with the given options. A watchdog stops
// both sessions after `watchdog_micros` of real time (a bound, not a
// timing: a session that ends normally never meets it).
FaultySyncResult FaultySync(engine::Engine& dialer, engine::Engine& acceptor, const SyncOptions& sync,
                            const FaultyStreamOptions& dialer_faults,
                            const FaultyStreamOptions& acceptor_faults,
                            int64_t watchdog_micros = 30 * 1000 * 1000);

// Makes the storage of simulated node `index`. The default is memory
// storage; the lead can wrap it (e.g. in a FaultyStorage) here.
using StorageFactory = std::function<std::unique_ptr<storage::Storage>(int index, uint64_t seed)>;

struct SimulationOptions {
  uint64_t seed = 0;
  // Default (0): 3 to 5, from the seed.
  int nodes = 0;
  // Default (0): from the seed.
  int rounds = 0;
  StorageFactory storage;  // Default: memory storage.
};

struct SimulationResult {
  absl::Status status;  // OK: converged; else what diverged or hung.
  std::string final_snapshot;  // Node 0's Snapshot at the end.
  int sessions = 0;
  int faulty_sessions_failed = 0;
};

SimulationResult RunSimulation(const SimulationOptions& options);

}  // namespace recondb::reconciler::testing

#endif  // RECONDB_RECONCILER_TESTING_SIMULATION_H_
