#include "reconciler/testing/simulation.h"

#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "engine/internal/meta_keys.h"
#include "reconciler/pipe_stream.h"
#include "storage/memory_storage.h"

namespace recondb::reconciler::testing {

FaultySyncResult FaultySync(engine::Engine& dialer, engine::Engine& acceptor, const SyncOptions& sync,
                            const FaultyStreamOptions& dialer_faults,
                            const FaultyStreamOptions& acceptor_faults, int64_t watchdog_micros) {
  PipeEnds pipe = MakePipe(sync.pipe_capacity);
  FaultyStream dialer_stream(pipe.first.get(), dialer_faults);
  FaultyStream acceptor_stream(pipe.second.get(), acceptor_faults);
  Session a(SyncSessionOptions(dialer, true, sync), &dialer_stream);
  Session b(SyncSessionOptions(acceptor, false, sync), &acceptor_stream);
  FaultySyncResult result;
  absl::Mutex mu;
  bool done = false;
  std::thread watchdog([&] {
    absl::MutexLock lock(&mu);
    if (mu.AwaitWithTimeout(absl::Condition(&done), absl::Microseconds(watchdog_micros))) return;
    result.hung = true;
    a.Stop();
    b.Stop();
    dialer_stream.Cancel();
    acceptor_stream.Cancel();
  });
  std::thread other([&] { result.sync.acceptor = b.Run(); });
  result.sync.dialer = a.Run();
  other.join();
  {
    absl::MutexLock lock(&mu);
    done = true;
  }
  watchdog.join();
  result.sync.dialer_progress = a.progress();
  result.sync.acceptor_progress = b.progress();
  result.dialer_stream = dialer_stream.stats();
  result.acceptor_stream = acceptor_stream.stats();
  return result;
}

namespace {

constexpr int kRecordIds = 10;
constexpr int kExtraColumns = 4;
constexpr int64_t kEpochMicros = 1767225600LL * 1000000;  // 2026-01-01.

// A simulated node: its own fake clock, its storage, its engine.
struct SimNode {
  std::unique_ptr<FakeClock> clock;
  std::unique_ptr<storage::Storage> storage;
  std::unique_ptr<engine::Engine> engine;
};

// The node id a fresh store would draw at random, fixed by the seed so
// that nothing in the run (winner ties, logs, checkpoint keys) depends on
// anything but the seed.
absl::Status FixNodeId(storage::Storage& storage, uint64_t seed, int index) {
  auto txn = storage.BeginWrite();
  if (!txn.ok()) return txn.status();
  char id[40];
  std::snprintf(id, sizeof id, "%08x-0000-4000-8000-%012x", static_cast<unsigned>(seed & 0xffffffff),
                index);
  if (auto s = (*txn)->SetMeta(engine::internal::kNodeIdKey, id); !s.ok()) return s;
  if (auto s = (*txn)->SetMeta(engine::internal::kStoreAnchorKey, storage.Identity()); !s.ok()) {
    return s;
  }
  return (*txn)->Commit();
}

absl::StatusOr<SimNode> OpenNode(const SimulationOptions& options, int index) {
  SimNode node;
  node.clock = std::make_unique<FakeClock>(kEpochMicros + index * 1000);
  node.storage = options.storage ? options.storage(index, options.seed) : storage::NewMemoryStorage();
  if (auto s = FixNodeId(*node.storage, options.seed, index); !s.ok()) return s;
  engine::EngineOptions engine_options;
  engine_options.storage = node.storage.get();
  engine_options.clock = node.clock.get();
  auto engine = engine::Engine::Open(engine_options);
  if (!engine.ok()) return engine.status();
  node.engine = std::move(*engine);
  return node;
}

// Column x<i> always has the same definition, so that nodes adding it
// independently agree on it.
v1::Column ExtraColumn(int i) {
  v1::Column c;
  c.set_name(absl::StrCat("x", i));
  c.set_type(i % 2 == 0 ? v1::COLUMN_TYPE_INT : v1::COLUMN_TYPE_STRING);
  c.set_nullable(true);
  return c;
}

// Writes the extra columns the node's table has, with random values.
void FillExtras(engine::Engine& engine, std::mt19937& rng, v1::Record* record) {
  auto table = engine.GetTable("notes");
  if (!table.ok()) return;
  for (const v1::Column& c : table->columns()) {
    if (c.name().empty() || c.name()[0] != 'x' || rng() % 2) continue;
    auto& value = (*record->mutable_attributes())[c.name()];
    if (c.type() == v1::COLUMN_TYPE_INT) {
      value.set_int_(rng() % 7);
    } else {
      value.set_string(absl::StrCat("s", rng() % 5));
    }
  }
}

// Resolves a conflicted record of "notes", if the node has one among the
// ids, with a random value or a delete.
absl::Status RandomResolution(engine::Engine& engine, std::mt19937& rng) {
  const int start = static_cast<int>(rng() % kRecordIds);
  for (int k = 0; k < kRecordIds; ++k) {
    v1::GetRecordRequest get;
    get.set_table("notes");
    get.set_id(absl::StrCat("n", (start + k) % kRecordIds));
    get.set_include_conflicts(true);
    auto current = engine.GetRecord(get);
    if (!current.ok() || (current->conflicts_size() == 0 && current->deleted_conflicts_size() == 0)) {
      continue;
    }
    v1::Record resolution;
    resolution.set_table("notes");
    resolution.set_id(get.id());
    resolution.set_revision(current->revision());
    if (rng() % 4 == 0) {
      resolution.set_deleted(true);
    } else {
      (*resolution.mutable_attributes())["text"].set_string(absl::StrCat("r", rng() % 3));
      FillExtras(engine, rng, &resolution);
    }
    return engine.ResolveConflict(resolution, nullptr).status();
  }
  return absl::OkStatus();
}

// One random local write on `node`: a put, update or delete (often of the
// same few records, so conflicts arise), a conflict resolution, or a new
// column. Local writes may not fail.
absl::Status RandomWrite(SimNode& node, std::mt19937& rng) {
  node.clock->Advance(1 + rng() % 5000);
  engine::Engine& engine = *node.engine;
  if (!engine.GetTable("notes").ok()) return absl::OkStatus();
  const int kind = static_cast<int>(rng() % 20);
  if (kind == 0) {
    // The next extra column this node lacks, always in the same order: two
    // nodes' definitions must stay one a prefix of the other (engine
    // DESIGN.md, "Schema changes are additive only"); diverging ones are
    // refused by design.
    auto table = engine.GetTable("notes");
    if (!table.ok()) return table.status();
    int extras = 0;
    for (const v1::Column& c : table->columns()) {
      if (!c.name().empty() && c.name()[0] == 'x') ++extras;
    }
    if (extras >= kExtraColumns) return absl::OkStatus();
    return engine.AddColumns("notes", {ExtraColumn(extras)}).status();
  }
  if (kind <= 3) return RandomResolution(engine, rng);
  if (kind <= 6) {
    // A write that sets the extra columns too.
    const std::string id = absl::StrCat("n", rng() % kRecordIds);
    v1::GetRecordRequest get;
    get.set_table("notes");
    get.set_id(id);
    auto current = engine.GetRecord(get);
    v1::Record write;
    write.set_table("notes");
    write.set_id(id);
    (*write.mutable_attributes())["text"].set_string(absl::StrCat("e", rng() % 3));
    FillExtras(engine, rng, &write);
    if (current.ok()) write.set_revision(current->revision());
    return engine.PutRecord(write, nullptr).status();
  }
  return RandomNoteWrite(engine, rng, kRecordIds);
}

// The faults of one side of a faulty session, from the schedule's PRNG.
FaultyStreamOptions RandomFaults(std::mt19937& rng) {
  FaultyStreamOptions f;
  f.seed = rng();
  f.spare_first = 1;
  std::uniform_real_distribution<double> p(0, 1);
  const int kind = static_cast<int>(rng() % 5);
  // Kind 0: delays only. No drops: the session relies on its transport
  // losing nothing (stream_faults_test, ADroppedMessageAfterTheHandshake).
  if (kind == 1) f.duplicate = 0.05 + 0.1 * p(rng);
  if (kind == 2) f.corrupt = 0.05 + 0.1 * p(rng);
  if (kind == 3) f.break_after = rng() % 12;
  f.delay = 0.2 * p(rng);
  f.delay_micros = 1 + rng() % 100000;
  return f;
}

SyncOptions RandomSyncOptions(std::mt19937& rng) {
  SyncOptions options;
  options.batch_records = 1 + rng() % 6;
  options.window = 1 + rng() % 3;
  options.part_bytes = 64 + rng() % 512;
  options.pipe_capacity = 1 + rng() % 4;
  return options;
}

absl::Status CleanSync(SimNode& a, SimNode& b, std::mt19937& rng, int* sessions) {
  ++*sessions;
  FaultySyncResult r = FaultySync(*a.engine, *b.engine, RandomSyncOptions(rng), {}, {});
  if (r.hung) return absl::DeadlineExceededError("a fault-free session hung");
  if (r.sync.dialer.ok() && r.sync.acceptor.ok()) return absl::OkStatus();
  const absl::Status& first = r.sync.dialer.ok() ? r.sync.acceptor : r.sync.dialer;
  return absl::Status(first.code(), absl::StrCat("dialer: ", r.sync.dialer.ToString(),
                                                 "; acceptor: ", r.sync.acceptor.ToString()));
}

SimulationResult Run(const SimulationOptions& options) {
  SimulationResult result;
  std::mt19937 rng(static_cast<uint32_t>(options.seed ^ (options.seed >> 32)));
  const int n = options.nodes > 0 ? options.nodes : 3 + static_cast<int>(rng() % 3);
  std::vector<SimNode> nodes;
  for (int i = 0; i < n; ++i) {
    auto node = OpenNode(options, i);
    if (!node.ok()) {
      result.status = node.status();
      return result;
    }
    nodes.push_back(std::move(*node));
  }
  auto fail = [&](absl::Status s, const std::string& where) {
    result.status = absl::Status(s.code(), absl::StrCat(where, ": ", s.message()));
    return result;
  };
  if (auto s = nodes[rng() % n].engine->CreateTable(NotesTable()); !s.ok()) return fail(s.status(), "create");
  const int rounds = options.rounds > 0 ? options.rounds : 4 + static_cast<int>(rng() % 6);
  for (int round = 0; round < rounds; ++round) {
    const int writes = static_cast<int>(rng() % 14);
    for (int w = 0; w < writes; ++w) {
      const int i = static_cast<int>(rng() % n);
      if (auto s = RandomWrite(nodes[i], rng); !s.ok()) {
        return fail(s, absl::StrCat("round ", round, ": write on node ", i));
      }
    }
    const int links = static_cast<int>(rng() % (n + 1));
    for (int l = 0; l < links; ++l) {
      const int x = static_cast<int>(rng() % n), y = static_cast<int>(rng() % n);
      if (x == y) continue;
      const SyncOptions sync = RandomSyncOptions(rng);
      FaultyStreamOptions dialer_faults, acceptor_faults;
      if (rng() % 2) dialer_faults = RandomFaults(rng);
      if (rng() % 2) acceptor_faults = RandomFaults(rng);
      ++result.sessions;
      FaultySyncResult r =
          FaultySync(*nodes[x].engine, *nodes[y].engine, sync, dialer_faults, acceptor_faults);
      if (r.hung) {
        return fail(absl::DeadlineExceededError("a faulty session hung"),
                    absl::StrCat("round ", round, ": session ", x, " -> ", y));
      }
      if (!r.sync.dialer.ok() || !r.sync.acceptor.ok()) ++result.faulty_sessions_failed;
    }
  }
  // Heal with no faults: every pair, both ways, then once more along a
  // chain so that what the last pairs moved reaches everyone.
  for (int x = 0; x < n; ++x) {
    for (int y = 0; y < n; ++y) {
      if (x == y) continue;
      if (auto s = CleanSync(nodes[x], nodes[y], rng, &result.sessions); !s.ok()) {
        return fail(s, absl::StrCat("heal: session ", x, " -> ", y));
      }
    }
  }
  for (int i = 0; i + 1 < n; ++i) {
    if (auto s = CleanSync(nodes[i], nodes[i + 1], rng, &result.sessions); !s.ok()) {
      return fail(s, absl::StrCat("heal: session ", i, " -> ", i + 1));
    }
  }
  result.final_snapshot = Snapshot(*nodes[0].engine);
  const std::string audits = AuditSnapshot(*nodes[0].engine);
  for (int i = 1; i < n; ++i) {
    const std::string other = Snapshot(*nodes[i].engine);
    if (other != result.final_snapshot) {
      return fail(absl::InternalError(absl::StrCat("--- node 0:\n", result.final_snapshot,
                                                   "--- node ", i, ":\n", other)),
                  absl::StrCat("node ", i, " diverged from node 0"));
    }
    if (AuditSnapshot(*nodes[i].engine) != audits) {
      return fail(absl::InternalError("audits differ"), absl::StrCat("node ", i, " diverged from node 0"));
    }
  }
  return result;
}

}  // namespace

SimulationResult RunSimulation(const SimulationOptions& options) { return Run(options); }

}  // namespace recondb::reconciler::testing
