// `recondb export TABLE` and `recondb import TABLE`: a table as JSON lines,
// streamed with bounded memory. The format is docs/cli.md#export-format:
//   line 1      the Table (proto3 JSON), so an empty node can be filled;
//   then        every revision of every record (deleted ones included) as a
//               HistoryEntry, parents before children (the default), or
//               with --winners-only one Record (the winner) per live record.
// History lines are grafted by ImportRevisions, so the imported node has the
// same records with the same revisions; Record lines are created with
// PutRecord (new revisions unless the exported one was a first revision).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/client_context.h"
#include "tools/cli/cli.h"
#include "tools/cli/input.h"
#include "tools/cli/output.h"
#include "tools/cli/progress.h"

namespace recondb::cli {
namespace {

namespace pbu = google::protobuf::util;

// Revisions per ImportRevisions call, and their JSON bytes at most (well
// under the daemon's 4 MiB message limit; a single revision is <= 1 MiB).
constexpr int kBatchRevisions = 500;
constexpr size_t kBatchBytes = 2 << 20;

absl::StatusOr<Progress::Mode> ProgressMode(Context& ctx) {
  return Progress::ParseMode(ctx.args.Get("progress", "auto"), isatty(STDERR_FILENO) == 1);
}

int64_t ProgressEvery(Context& ctx) {
  int64_t every = 1000;
  if (ctx.args.Has("progress-every")) every = std::atoll(ctx.args.Get("progress-every").c_str());
  return every;
}

// Writes every revision of record `id`, oldest generation first.
int ExportHistory(Context& ctx, const std::string& table, const std::string& id,
                  std::ostream& out) {
  v1::GetRecordHistoryRequest request;
  request.set_table(table);
  request.set_id(id);
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::GetRecordHistoryResponse response;
  grpc::Status status = ctx.Db().GetRecordHistory(&rpc, request, &response);
  if (!status.ok()) return RpcError(ctx, status, "GetRecordHistory " + table + "/" + id);
  for (int i = response.entries_size() - 1; i >= 0; --i) out << ToJson(response.entries(i)) << "\n";
  return kExitOk;
}

// Every record of the table (deleted ones too) is in the change feed once.
int ExportAllHistories(Context& ctx, const std::string& table, std::ostream& out,
                       Progress& progress, int64_t* records) {
  v1::GetChangesRequest request;
  request.add_tables(table);
  grpc::ClientContext rpc;  // no deadline: as long as the table is big
  auto reader = ctx.Db().GetChanges(&rpc, request);
  v1::Change change;
  while (reader->Read(&change)) {
    if (change.kind() != v1::CHANGE_KIND_RECORD) continue;
    if (int exit = ExportHistory(ctx, table, change.id(), out); exit != kExitOk) {
      rpc.TryCancel();
      reader->Finish();
      return exit;
    }
    progress.Update(++*records, 0);
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return RpcError(ctx, status, "GetChanges " + table);
  return kExitOk;
}

int ExportWinners(Context& ctx, const std::string& table, std::ostream& out, Progress& progress,
                  int64_t* records) {
  v1::ListRecordsRequest request;
  request.set_table(table);
  request.set_page_size(1000);
  do {
    grpc::ClientContext rpc;
    rpc.set_deadline(Deadline(ctx));
    v1::ListRecordsResponse response;
    grpc::Status status = ctx.Db().ListRecords(&rpc, request, &response);
    if (!status.ok()) return RpcError(ctx, status, "ListRecords " + table);
    for (const v1::Record& r : response.records()) {
      out << ToJson(r) << "\n";
      progress.Update(++*records, 0);
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return kExitOk;
}

int Export(Context& ctx) {
  const std::string table = ctx.args.positional()[0];
  auto mode = ProgressMode(ctx);
  if (!mode.ok()) return UsageError(ctx, std::string(mode.status().message()));
  FetchedTable fetched = FetchTable(ctx, table);
  if (fetched.exit != kExitOk) return fetched.exit;
  const std::string path = ctx.args.Get("output", "-");
  std::ofstream file;
  if (path != "-") {
    file.open(path, std::ios::out | std::ios::trunc);
    if (!file) return InputError(ctx, "cannot open --output " + path + " for writing");
  }
  std::ostream& out = path == "-" ? *ctx.out : file;
  out << ToJson(fetched.table) << "\n";
  Progress progress(ctx.err, *mode, "export " + table, 0, ProgressEvery(ctx));
  int64_t records = 0;
  const int exit = ctx.args.Has("winners-only")
                       ? ExportWinners(ctx, table, out, progress, &records)
                       : ExportAllHistories(ctx, table, out, progress, &records);
  if (exit != kExitOk) return exit;
  out.flush();
  if (!out) return InputError(ctx, "cannot write the export to " + path);
  progress.Finish(records, "");
  return kExitOk;
}

// ---- import ----

struct ImportState {
  std::string table;
  v1::ImportRevisionsRequest batch;
  size_t batch_bytes = 0;
  int64_t batch_first_line = 0;
  int64_t records = 0;  // record lines, or distinct ids of history lines
  std::string last_id;  // of the last history line, to count records
  int64_t revisions_new = 0;
  int64_t revisions_seen = 0;
  int64_t skipped = 0;     // existing records (--skip-existing)
  int64_t renumbered = 0;  // Record lines that got another revision
};

int FlushBatch(Context& ctx, ImportState& state, int64_t last_line) {
  if (state.batch.revisions_size() == 0) return kExitOk;
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::ImportRevisionsResponse response;
  grpc::Status status = ctx.Db().ImportRevisions(&rpc, state.batch, &response);
  if (!status.ok()) {
    return RpcError(ctx, status,
                    absl::StrCat("lines ", state.batch_first_line, "-", last_line,
                                 ": ImportRevisions ", state.table));
  }
  state.revisions_new += response.imported();
  state.revisions_seen += state.batch.revisions_size();
  state.batch.Clear();
  state.batch_bytes = 0;
  return kExitOk;
}

// Flushes a full batch, except its trailing stubs: a stub is accepted only
// with a child in the same request, and its child is the line that comes
// next (export writes parents first). They start the next batch, which
// grows past the limits only if it holds nothing but stubs.
int FlushFull(Context& ctx, ImportState& state, int64_t last_line) {
  auto& revisions = *state.batch.mutable_revisions();
  int keep = 0;
  while (keep < revisions.size() && revisions[revisions.size() - 1 - keep].stub()) ++keep;
  if (keep == revisions.size()) return kExitOk;
  std::vector<v1::HistoryEntry> stubs;
  for (int i = revisions.size() - keep; i < revisions.size(); ++i) {
    stubs.push_back(std::move(revisions[i]));
  }
  revisions.DeleteSubrange(revisions.size() - keep, keep);
  size_t stub_bytes = 0;
  for (const v1::HistoryEntry& e : stubs) stub_bytes += e.ByteSizeLong();
  state.batch_bytes -= std::min(state.batch_bytes, stub_bytes);
  if (int exit = FlushBatch(ctx, state, last_line - keep); exit != kExitOk) return exit;
  for (v1::HistoryEntry& e : stubs) *state.batch.add_revisions() = std::move(e);
  state.batch_bytes = stub_bytes;
  state.batch_first_line = last_line - keep + 1;
  return kExitOk;
}

// Creates the table from the export's first line unless it exists.
int ImportTable(Context& ctx, ImportState& state, v1::Table table) {
  table.set_name(state.table);
  table.clear_create_time();
  table.clear_created_by();
  v1::CreateTableRequest request;
  *request.mutable_table() = table;
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::Table created;
  grpc::Status status = ctx.Db().CreateTable(&rpc, request, &created);
  if (status.ok() || status.error_code() == grpc::StatusCode::ALREADY_EXISTS) return kExitOk;
  return RpcError(ctx, status, "CreateTable " + state.table);
}

int ImportRecord(Context& ctx, ImportState& state, v1::Record record, int64_t line) {
  const std::string exported = record.revision();
  record.set_table(state.table);
  record.clear_revision();
  // A winner exported from a conflicted record says so; the output-only
  // fields are the source node's state, not part of the value.
  record.clear_conflicts();
  record.clear_conflict_records();
  record.clear_deleted_conflicts();
  record.clear_conflicted();
  v1::PutRecordRequest request;
  *request.mutable_record() = std::move(record);
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::Record written;
  grpc::Status status = ctx.Db().PutRecord(&rpc, request, &written);
  if (status.error_code() == grpc::StatusCode::ALREADY_EXISTS && ctx.args.Has("skip-existing")) {
    ++state.skipped;
    return kExitOk;
  }
  if (!status.ok()) return RpcError(ctx, status, absl::StrCat("line ", line, ": PutRecord"));
  ++state.records;
  if (!exported.empty() && written.revision() != exported) ++state.renumbered;
  return kExitOk;
}

int ImportHistoryEntry(Context& ctx, ImportState& state, v1::HistoryEntry entry, int64_t line,
                       size_t bytes) {
  v1::Record& record = *entry.mutable_record();
  if (record.table().empty()) record.set_table(state.table);
  if (record.table() != state.table) {
    return InputError(ctx, absl::StrCat("line ", line, ": a revision of table ", record.table(),
                                        " cannot be imported into table ", state.table,
                                        " (the table name is part of the revision id); export "
                                        "with --winners-only to copy records between tables"));
  }
  if (record.id() != state.last_id) {
    state.last_id = record.id();
    ++state.records;
  }
  if (state.batch.revisions_size() >= kBatchRevisions || state.batch_bytes + bytes > kBatchBytes) {
    if (int exit = FlushFull(ctx, state, line - 1); exit != kExitOk) return exit;
  }
  if (state.batch.revisions_size() == 0) state.batch_first_line = line;
  *state.batch.add_revisions() = std::move(entry);
  state.batch_bytes += bytes;
  return kExitOk;
}

// One line: a HistoryEntry, a Record or (first) the Table, tried in that
// order with strict parsing (their field names differ).
int ImportLine(Context& ctx, ImportState& state, const std::string& text, int64_t line) {
  v1::HistoryEntry entry;
  if (pbu::JsonStringToMessage(text, &entry).ok() && entry.has_record()) {
    return ImportHistoryEntry(ctx, state, std::move(entry), line, text.size());
  }
  if (int exit = FlushBatch(ctx, state, line - 1); exit != kExitOk) return exit;
  v1::Table table;
  if (pbu::JsonStringToMessage(text, &table).ok() && !table.name().empty()) {
    return ImportTable(ctx, state, std::move(table));
  }
  v1::Record record;
  auto parsed = pbu::JsonStringToMessage(text, &record);
  if (!parsed.ok()) {
    return InputError(
        ctx, absl::StrCat("line ", line,
                          ": not a Record, HistoryEntry or Table in JSON: ", parsed.ToString()));
  }
  return ImportRecord(ctx, state, std::move(record), line);
}

int Import(Context& ctx) {
  ImportState state;
  state.table = ctx.args.positional()[0];
  auto mode = ProgressMode(ctx);
  if (!mode.ok()) return UsageError(ctx, std::string(mode.status().message()));
  const std::string path = ctx.args.Get("input", "-");
  std::ifstream file;
  int64_t total = 0;
  if (path != "-") {
    file.open(path);
    if (!file) return InputError(ctx, "cannot open --input " + path);
    struct stat st;
    if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) total = st.st_size;
  }
  std::istream& in = path == "-" ? std::cin : file;
  Progress progress(ctx.err, *mode, "import " + state.table, total, ProgressEvery(ctx));
  std::string text;
  int64_t line = 0, bytes = 0;
  while (std::getline(in, text)) {
    ++line;
    bytes += static_cast<int64_t>(text.size()) + 1;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (int exit = ImportLine(ctx, state, text, line); exit != kExitOk) return exit;
    progress.Update(state.records, bytes);
  }
  if (in.bad()) return InputError(ctx, "cannot read " + path);
  if (int exit = FlushBatch(ctx, state, line); exit != kExitOk) return exit;
  std::string summary;
  if (state.revisions_seen > 0) {
    absl::StrAppend(&summary, ", ", state.revisions_new, " new revisions (",
                    state.revisions_seen - state.revisions_new, " already present)");
  }
  if (state.skipped > 0) absl::StrAppend(&summary, ", ", state.skipped, " existing skipped");
  if (state.renumbered > 0) {
    absl::StrAppend(&summary, ", ", state.renumbered,
                    " got a new revision (winners-only export: history not carried)");
  }
  progress.Finish(state.records, summary);
  return kExitOk;
}

const std::vector<OptionSpec> kProgressOptions = {
    {"progress", "MODE", "auto (a bar on a terminal, else lines), bar, plain, none"},
    {"progress-every", "N", "plain mode: a line every N records (default 1000)"}};

}  // namespace

std::vector<Command> TransferCommands() {
  std::vector<OptionSpec> export_options = {
      {"output", "FILE", "write to FILE instead of stdout"},
      {"winners-only", "", "one Record per live record instead of every revision"}};
  export_options.insert(export_options.end(), kProgressOptions.begin(), kProgressOptions.end());
  std::vector<OptionSpec> import_options = {
      {"input", "FILE", "read FILE instead of stdin"},
      {"skip-existing", "", "Record lines: skip records that already exist instead of failing"}};
  import_options.insert(import_options.end(), kProgressOptions.begin(), kProgressOptions.end());
  return {
      {"export", "TABLE", "write a table as JSON lines",
       "The first line is the Table; then, for every record (deleted ones included), every\n"
       "revision as a HistoryEntry, oldest first: importing it gives identical records and\n"
       "revisions. With --winners-only, one Record per live record instead. Progress goes\n"
       "to stderr. Example: recondb export todos --output todos.jsonl",
       export_options, 1, 1, Export},
      {"import", "TABLE", "read a table from JSON lines",
       "Reads what export writes: creates the table if it does not exist, grafts history\n"
       "lines with their revision ids (ImportRevisions; idempotent: importing twice adds\n"
       "nothing), and creates Record lines with PutRecord. Streams with bounded memory.\n"
       "Example: recondb import todos --input todos.jsonl",
       import_options, 1, 1, Import},
  };
}

}  // namespace recondb::cli
