#include "tools/bench/replication_bench.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "engine/revision.h"
#include "grpcpp/grpcpp.h"
#include "recondb/v1/admin.grpc.pb.h"
#include "recondb/v1/database.grpc.pb.h"

namespace recondb::tools {
namespace {

using Clock = std::chrono::steady_clock;

v1::Table TodoTable(const std::string& name) {
  v1::Table t;
  t.set_name(name);
  auto add = [&](const char* column, v1::ColumnType type, bool nullable, int max_length) {
    auto* c = t.add_columns();
    c->set_name(column);
    c->set_type(type);
    c->set_nullable(nullable);
    c->set_max_length(max_length);
    return c;
  };
  add("title", v1::COLUMN_TYPE_STRING, false, 80);
  add("description", v1::COLUMN_TYPE_STRING, true, 120);
  add("completed", v1::COLUMN_TYPE_BOOL, false, 0)->mutable_default_value()->set_bool_(false);
  add("deadline_at", v1::COLUMN_TYPE_TIMESTAMP, true, 0);
  return t;
}

// A todo-sized revision of record `id` (generation 1 or a child of `parent`),
// with its canonical revision id, as ImportRevisions takes it.
v1::HistoryEntry TodoRevision(const std::string& table, const std::string& id, int64_t n,
                              const std::string& parent, int64_t generation) {
  std::map<std::string, v1::Value> attributes;
  attributes["title"].set_string(absl::StrCat("Buy water filters, batch ", n));
  attributes["description"].set_string("For the field office; check the ceramic ones first.");
  attributes["completed"].set_bool_(generation > 1);
  attributes["deadline_at"].mutable_timestamp()->set_seconds(1798761600 + n);
  engine::RevisionContent content{table, id, parent, false, &attributes};
  v1::HistoryEntry entry;
  entry.set_parent_revision(parent);
  v1::Record* record = entry.mutable_record();
  record->set_table(table);
  record->set_id(id);
  record->set_revision(engine::ComputeRevision(generation, content));
  for (auto& [k, v] : attributes) (*record->mutable_attributes())[k] = v;
  return entry;
}

bool Check(const grpc::Status& status, const char* what) {
  if (status.ok()) return true;
  std::fprintf(stderr, "%s: %s (%d)\n", what, status.error_message().c_str(),
               static_cast<int>(status.error_code()));
  return false;
}

// Imports revisions in batches of 1,000; keeps the last revision per index.
bool Load(v1::Database::Stub& db, const ReplicationBenchConfig& c, int64_t count,
          std::vector<std::string>* revisions, int64_t generation) {
  revisions->resize(c.records);
  for (int64_t start = 0; start < count; start += 1000) {
    v1::ImportRevisionsRequest request;
    for (int64_t i = start; i < std::min(count, start + 1000); ++i) {
      const std::string id = absl::StrCat("todo-", 100000000 + i);
      *request.add_revisions() =
          TodoRevision(c.table, id, i, generation == 1 ? "" : (*revisions)[i], generation);
      (*revisions)[i] = request.revisions().rbegin()->record().revision();
    }
    grpc::ClientContext context;
    v1::ImportRevisionsResponse response;
    if (!Check(db.ImportRevisions(&context, request, &response), "ImportRevisions")) return false;
  }
  return true;
}

bool SyncOnce(v1::Admin::Stub& admin, const std::string& source, v1::SyncResponse* response,
              double* seconds) {
  v1::SyncRequest request;
  request.set_address(source);
  request.mutable_timeout()->set_seconds(3600);
  grpc::ClientContext context;
  const Clock::time_point start = Clock::now();
  const bool ok = Check(admin.Sync(&context, request, response), "Admin.Sync");
  *seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return ok;
}

// Peak resident set of `pid` in MiB (VmHWM), or -1.
double PeakRssMib(int64_t pid) {
  if (pid <= 0) return -1;
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return -1;
}

}  // namespace

int RunReplicationBench(const ReplicationBenchConfig& c) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  auto source_channel =
      grpc::CreateCustomChannel(c.source_addr, grpc::InsecureChannelCredentials(), args);
  auto receiver_channel =
      grpc::CreateCustomChannel(c.receiver_addr, grpc::InsecureChannelCredentials(), args);
  auto source = v1::Database::NewStub(source_channel);
  auto admin = v1::Admin::NewStub(receiver_channel);
  {
    v1::CreateTableRequest request;
    *request.mutable_table() = TodoTable(c.table);
    grpc::ClientContext context;
    v1::Table table;
    grpc::Status status = source->CreateTable(&context, request, &table);
    if (!status.ok() && status.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
      return Check(status, "CreateTable") ? 0 : 1;
    }
  }
  std::vector<std::string> revisions;
  Clock::time_point start = Clock::now();
  if (!Load(*source, c, c.records, &revisions, 1)) return 1;
  std::fprintf(stderr, "loaded %lld records into the source in %.2fs\n",
               static_cast<long long>(c.records),
               std::chrono::duration<double>(Clock::now() - start).count());

  v1::SyncResponse full;
  double full_s = 0;
  if (!SyncOnce(*admin, c.source_addr, &full, &full_s)) return 1;
  const double rss_after_full = PeakRssMib(c.receiver_pid);

  const int64_t changed = std::min(c.incremental, c.records);
  if (!Load(*source, c, changed, &revisions, 2)) return 1;
  v1::SyncResponse incremental;
  double incremental_s = 0;
  if (!SyncOnce(*admin, c.source_addr, &incremental, &incremental_s)) return 1;
  const double rss_peak = PeakRssMib(c.receiver_pid);

  const int64_t pulled = full.received().revisions_grafted();
  std::printf(
      "mode=replicate records=%lld pulled=%lld full_sync=%.2fs rate=%.0f records/s "
      "incremental=%lld changed, %lld grafted, %.1f ms receiver_peak_rss=%.1f MiB (after full sync "
      "%.1f MiB)\n",
      static_cast<long long>(c.records), static_cast<long long>(pulled), full_s,
      full_s > 0 ? pulled / full_s : 0.0, static_cast<long long>(changed),
      static_cast<long long>(incremental.received().revisions_grafted()), incremental_s * 1000,
      rss_peak, rss_after_full);
  if (c.json) {
    std::printf(
        "{\"mode\":\"replicate\",\"records\":%lld,\"pulled\":%lld,\"full_sync_s\":%.3f,"
        "\"records_per_s\":%.0f,\"incremental_changed\":%lld,\"incremental_grafted\":%lld,"
        "\"incremental_ms\":%.1f,\"receiver_peak_rss_mib\":%.1f}\n",
        static_cast<long long>(c.records), static_cast<long long>(pulled), full_s,
        full_s > 0 ? pulled / full_s : 0.0, static_cast<long long>(changed),
        static_cast<long long>(incremental.received().revisions_grafted()), incremental_s * 1000,
        rss_peak);
  }
  const bool complete = pulled == c.records && incremental.received().revisions_grafted() == changed;
  if (!complete) std::fprintf(stderr, "the receiver did not get every revision\n");
  return complete ? 0 : 1;
}

}  // namespace recondb::tools
