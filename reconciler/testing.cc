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
  absl::StatusOr<Node> node = ::recondb::testing::OpenTestNode(std::move(storage));
  if (!node.ok()) {
    fprintf(stderr, "engine: %s\n", node.status().ToString().c_str());
    abort();
  }
  return *std::move(node);
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

absl::Status RandomNoteWrite(engine::Engine& engine, std::mt19937& rng, int record_ids) {
  if (!engine.GetTable("notes").ok()) return absl::OkStatus();
  const std::string id = absl::StrCat("n", rng() % record_ids);
  v1::GetRecordRequest get;
  get.set_table("notes");
  get.set_id(id);
  get.set_include_conflicts(true);
  auto current = engine.GetRecord(get);
  v1::Record write;
  write.set_table("notes");
  write.set_id(id);
  (*write.mutable_attributes())["text"].set_string(absl::StrCat("t", rng() % 3));
  if (rng() % 2) (*write.mutable_attributes())["rank"].set_int_(rng() % 5);
  if (!current.ok()) return engine.PutRecord(write, nullptr).status();  // Create or recreate.
  // Sometimes extend a conflicting leaf instead of the winner.
  std::string parent = current->revision();
  if (current->conflicts_size() > 0 && rng() % 3 == 0) parent = current->conflicts(0);
  if (rng() % 4 == 0) {
    v1::DeleteRecordRequest del;
    del.set_table("notes");
    del.set_id(id);
    del.set_revision(parent);
    return engine.DeleteRecord(del).status();
  }
  write.set_revision(parent);
  return engine.PutRecord(write, nullptr).status();
}

SessionOptions SyncSessionOptions(engine::Engine& engine, bool dialer, const SyncOptions& options) {
  SessionOptions o;
  o.engine = &engine;
  o.dialer = dialer;
  o.mode = v1::SESSION_MODE_ONE_SHOT;
  o.tables = dialer ? options.dialer_tables : options.acceptor_tables;
  o.batch_records = options.batch_records;
  o.part_bytes = options.part_bytes;
  o.window = options.window;
  o.max_protocol_version =
      dialer ? options.dialer_max_protocol_version : options.acceptor_max_protocol_version;
  o.access = dialer ? options.dialer_access : options.acceptor_access;
  o.handshake_timeout = options.handshake_timeout;
  return o;
}

SyncResult Sync(engine::Engine& dialer, engine::Engine& acceptor, const SyncOptions& options) {
  PipeEnds pipe = MakePipe(options.pipe_capacity);
  Session a(SyncSessionOptions(dialer, true, options), pipe.first.get());
  Session b(SyncSessionOptions(acceptor, false, options), pipe.second.get());
  SyncResult result;
  std::thread other([&] { result.acceptor = b.Run(); });
  result.dialer = a.Run();
  other.join();
  result.dialer_progress = a.progress();
  result.acceptor_progress = b.progress();
  return result;
}

std::string AuditSnapshot(engine::Engine& engine) {
  auto changes = engine.GetChanges(0, {}, 1 << 30);
  if (!changes.ok()) return changes.status().ToString();
  std::set<std::pair<std::string, std::string>> records;
  for (const auto& c : *changes) {
    if (c.kind() == v1::CHANGE_KIND_RECORD) records.emplace(c.table(), c.id());
  }
  std::string out;
  for (const auto& [table, id] : records) {
    v1::GetRecordHistoryRequest request;
    request.set_table(table);
    request.set_id(id);
    auto history = engine.GetRecordHistory(request);
    if (!history.ok()) return history.status().ToString();
    std::set<std::string> leaves;
    for (const auto& e : history->entries()) {
      if (!e.leaf()) continue;
      leaves.insert(absl::StrCat(e.record().revision(), " by ", e.author(), " on ",
                                 e.origin_node(), " at ", e.create_time().ShortDebugString()));
    }
    out += absl::StrCat(table, "/", id, ":");
    for (const auto& l : leaves) out += " " + l + ";";
    out += "\n";
  }
  return out;
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
  // Each record's latest feed entry: its seq is local, its state is not.
  std::map<std::pair<std::string, std::string>, v1::Change> records;
  for (const auto& c : *changes) {
    if (c.kind() == v1::CHANGE_KIND_RECORD) records[{c.table(), c.id()}] = c;
  }
  for (const auto& [key, change] : records) {
    const auto& [table, id] = key;
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
                        "\n  feed: ", change.revision(), change.deleted() ? " deleted" : "",
                        change.conflicted() ? " conflicted" : "", "\n  ");
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
