#include "reconciler/testing.h"

#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "reconciler/pipe_stream.h"
#include "storage/memory_storage.h"
#include "storage/sqlite_storage.h"

namespace recondb::reconciler::testing {
namespace {

Node Open(std::unique_ptr<storage::Storage> storage) {
  Node node{std::move(storage), nullptr};
  engine::EngineOptions options;
  options.storage = node.storage.get();
  auto engine = engine::Engine::Open(options);
  if (!engine.ok()) {
    fprintf(stderr, "engine: %s\n", engine.status().ToString().c_str());
    abort();
  }
  node.engine = std::move(*engine);
  return node;
}

}  // namespace

Node MemoryNode() { return Open(storage::NewMemoryStorage()); }

std::unique_ptr<storage::Storage> Backup(const Node& node) {
  auto copy = storage::CopyMemoryStorage(*node.storage, /*keep_identity=*/true);
  if (!copy.ok()) {
    fprintf(stderr, "copy: %s\n", copy.status().ToString().c_str());
    abort();
  }
  return std::move(*copy);
}

Node Restore(storage::Storage& backup, bool keep_identity) {
  auto copy = storage::CopyMemoryStorage(backup, keep_identity);
  if (!copy.ok()) {
    fprintf(stderr, "copy: %s\n", copy.status().ToString().c_str());
    abort();
  }
  return Open(std::move(*copy));
}

Node CopyOf(const Node& node, bool keep_identity) { return Restore(*node.storage, keep_identity); }

Node SqliteNode(const std::string& path) {
  storage::SqliteOptions options;
  options.path = path;
  options.durability = storage::Durability::kNormal;
  auto storage = storage::OpenSqliteStorage(options);
  if (!storage.ok()) {
    fprintf(stderr, "sqlite: %s\n", storage.status().ToString().c_str());
    abort();
  }
  return Open(std::move(*storage));
}

SyncResult Sync(engine::Engine& dialer, engine::Engine& acceptor, const SyncOptions& options) {
  PipeEnds pipe = MakePipe(options.pipe_capacity);
  auto make = [&](engine::Engine& engine, bool is_dialer, const std::vector<std::string>& tables) {
    SessionOptions o;
    o.engine = &engine;
    o.dialer = is_dialer;
    o.mode = v1::SESSION_MODE_ONE_SHOT;
    o.tables = tables;
    o.batch_records = options.batch_records;
    o.part_bytes = options.part_bytes;
    o.window = options.window;
    o.max_protocol_version = is_dialer ? options.dialer_max_protocol_version
                                       : options.acceptor_max_protocol_version;
    return o;
  };
  Session a(make(dialer, true, options.dialer_tables), pipe.first.get());
  Session b(make(acceptor, false, options.acceptor_tables), pipe.second.get());
  SyncResult result;
  std::thread other([&] { result.acceptor = b.Run(); });
  result.dialer = a.Run();
  other.join();
  result.dialer_progress = a.progress();
  result.acceptor_progress = b.progress();
  return result;
}

std::string Snapshot(engine::Engine& engine) {
  std::string out;
  auto tables = engine.ListTables();
  if (!tables.ok()) return tables.status().ToString();
  for (const v1::Table& table : *tables) {
    out += "table " + table.name() + ":";
    for (const auto& c : table.columns()) out += " " + c.ShortDebugString();
    out += "\n";
  }
  auto changes = engine.GetChanges(0, {}, 1 << 30);
  if (!changes.ok()) return changes.status().ToString();
  std::set<std::pair<std::string, std::string>> records;
  for (const auto& c : *changes) {
    if (c.kind() == v1::CHANGE_KIND_RECORD) records.emplace(c.table(), c.id());
  }
  for (const auto& [table, id] : records) {
    v1::GetRecordHistoryRequest history_request;
    history_request.set_table(table);
    history_request.set_id(id);
    auto history = engine.GetRecordHistory(history_request);
    if (!history.ok()) return history.status().ToString();
    std::set<std::string> revisions;
    for (const auto& e : history->entries()) {
      revisions.insert(absl::StrCat(e.record().revision(), "<", e.parent_revision(),
                                    e.leaf() ? " leaf" : "", e.record().deleted() ? " deleted" : ""));
    }
    v1::GetRecordRequest get;
    get.set_table(table);
    get.set_id(id);
    get.set_include_conflicts(true);
    auto winner = engine.GetRecord(get);
    out += absl::StrCat(table, "/", id, ": ", winner.ok() ? winner->ShortDebugString() : "deleted",
                        "\n  ");
    for (const auto& r : revisions) out += r + "; ";
    out += "\n";
  }
  for (const v1::Table& table : *tables) {
    v1::ListRecordsRequest list;
    list.set_table(table.name());
    list.set_page_size(1000);
    while (true) {
      auto page = engine.ListRecords(list);
      if (!page.ok()) return page.status().ToString();
      for (const auto& r : page->records()) out += "view " + r.ShortDebugString() + "\n";
      if (page->next_page_token().empty()) break;
      list.set_page_token(page->next_page_token());
    }
  }
  return out;
}

}  // namespace recondb::reconciler::testing
