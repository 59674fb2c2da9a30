// recondb_engine_bench: the engine's write path without gRPC (Google
// Benchmark). Each iteration creates one todo-shaped record through
// Engine::PutRecord, as a PutRecord call of recondb_bench would, so the
// difference between the two tools is the daemon and gRPC. Variants: the
// SQLite backend durable (synchronous=FULL, an fsync per commit) or not
// (NORMAL: what is left is the engine's and SQLite's CPU work and the WAL
// writes), at two page sizes, and the memory backend.
//
//   recondb_engine_bench [--benchmark_filter=...] [--benchmark_repetitions=N]
//
// The SQLite file lives in $TMPDIR (default /tmp), which must be on the disk
// being measured; it is removed afterwards.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "engine/engine.h"
#include "storage/memory_storage.h"
#include "storage/sqlite_storage.h"

namespace recondb::tools {
namespace {

namespace v1 = recondb::v1;

v1::Table TodoTable() {
  v1::Table table;
  table.set_name("todos");
  auto add = [&table](const char* name, v1::ColumnType type) {
    v1::Column* column = table.add_columns();
    column->set_name(name);
    column->set_type(type);
    column->set_nullable(true);
    return column;
  };
  add("title", v1::COLUMN_TYPE_STRING);
  add("description", v1::COLUMN_TYPE_STRING);
  add("completed", v1::COLUMN_TYPE_BOOL);
  add("deadline_at", v1::COLUMN_TYPE_TIMESTAMP);
  return table;
}

// A fresh directory under $TMPDIR, removed with the object.
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/recondb-engine-bench-XXXXXX");
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Creates records until the benchmark has timed enough of them.
void CreateRecords(benchmark::State& state, storage::Storage& store) {
  engine::EngineOptions options;
  options.storage = &store;
  auto engine = engine::Engine::Open(options);
  if (!engine.ok()) {
    state.SkipWithError(engine.status().ToString().c_str());
    return;
  }
  if (auto table = (*engine)->CreateTable(TodoTable()); !table.ok()) {
    state.SkipWithError(table.status().ToString().c_str());
    return;
  }
  v1::Record record;
  record.set_table("todos");
  auto& attributes = *record.mutable_attributes();
  attributes["description"].set_string("a todo-shaped record written by the engine bench");
  attributes["completed"].set_bool_(false);
  attributes["deadline_at"].mutable_timestamp()->set_seconds(1767323045);
  int64_t n = 0;
  for (auto _ : state) {
    attributes["title"].set_string(absl::StrCat("bench todo ", n++));
    auto written = (*engine)->PutRecord(record, nullptr);
    if (!written.ok()) {
      state.SkipWithError(written.status().ToString().c_str());
      return;
    }
  }
  state.SetItemsProcessed(n);
}

// Args: {durable (0 or 1), page size}.
void BM_CreateRecordSqlite(benchmark::State& state) {
  ScratchDir dir;
  if (dir.path().empty()) {
    state.SkipWithError("cannot make a scratch directory under $TMPDIR");
    return;
  }
  storage::SqliteOptions options;
  options.path = absl::StrCat(dir.path(), "/recondb.sqlite3");
  options.durability = state.range(0) != 0 ? storage::Durability::kFull : storage::Durability::kNormal;
  options.page_size = static_cast<int>(state.range(1));
  auto store = storage::OpenSqliteStorage(options);
  if (!store.ok()) {
    state.SkipWithError(store.status().ToString().c_str());
    return;
  }
  CreateRecords(state, **store);
}
BENCHMARK(BM_CreateRecordSqlite)
    ->ArgNames({"durable", "page_size"})
    ->Args({1, 1024})
    ->Args({1, 4096})
    ->Args({0, 1024})
    ->Args({0, 4096})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond)
    ->MinTime(2.0);

void BM_CreateRecordMemory(benchmark::State& state) {
  std::unique_ptr<storage::Storage> store = storage::NewMemoryStorage();
  CreateRecords(state, *store);
}
BENCHMARK(BM_CreateRecordMemory)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace recondb::tools

BENCHMARK_MAIN();
