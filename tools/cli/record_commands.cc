// `recondb records put|get|list|delete|history|conflicts|resolve`.
#include <ostream>

#include "absl/strings/numbers.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/client_context.h"
#include "tools/cli/cli.h"
#include "tools/cli/input.h"
#include "tools/cli/output.h"
#include "tools/cli/values.h"

namespace recondb::cli {
namespace {

const std::string& Arg(Context& ctx, size_t i) { return ctx.args.positional()[i]; }

// Prints one record, looking up its table for the column order in text mode.
void PrintOne(Context& ctx, const v1::Record& record, const v1::Table* table) {
  if (ctx.json) return PrintJson(*ctx.out, record);
  PrintRecordText(*ctx.out, record, table);
}

// Fills `request` from --set/--null (typed by `table`) or --json-input.
// Returns an exit code; kExitOk when the request is ready.
int BuildPut(Context& ctx, const v1::Table& table, v1::PutRecordRequest* request) {
  v1::Record* record = request->mutable_record();
  const auto sets = ctx.args.GetAll("set");
  const auto nulls = ctx.args.GetAll("null");
  if (ctx.args.Has("json-input")) {
    if (!sets.empty() || !nulls.empty()) {
      return UsageError(ctx, "give either --set/--null or --json-input, not both");
    }
    auto text = ReadJsonInput(ctx, ctx.args.Get("json-input"));
    if (!text.ok()) return InputError(ctx, std::string(text.status().message()));
    auto parsed = google::protobuf::util::JsonStringToMessage(*text, record);
    if (!parsed.ok()) {
      return InputError(ctx, "--json-input is not a Record in JSON: " + parsed.ToString());
    }
  }
  for (const std::string& set : sets) {
    const size_t eq = set.find('=');
    if (eq == std::string::npos) return UsageError(ctx, "bad --set \"" + set + "\": COL=VALUE");
    const std::string name = set.substr(0, eq);
    const v1::Column* column = FindColumn(table, name);
    if (column == nullptr) {
      return UsageError(ctx, "table " + table.name() + " has no column \"" + name + "\"");
    }
    auto value = ParseValue(column->type(), set.substr(eq + 1), name);
    if (!value.ok()) return UsageError(ctx, std::string(value.status().message()));
    (*record->mutable_attributes())[name] = *value;
  }
  for (const std::string& name : nulls) {
    if (FindColumn(table, name) == nullptr) {
      return UsageError(ctx, "table " + table.name() + " has no column \"" + name + "\"");
    }
    (*record->mutable_attributes())[name].set_null(google::protobuf::NULL_VALUE);
  }
  record->set_table(table.name());
  if (ctx.args.positional().size() > 1) record->set_id(Arg(ctx, 1));
  if (ctx.args.Has("revision")) record->set_revision(ctx.args.Get("revision"));
  // An update from flags changes only the columns it names, unless --replace.
  if (!record->revision().empty() && !ctx.args.Has("json-input") && !ctx.args.Has("replace")) {
    for (const auto& [name, value] : record->attributes()) {
      request->mutable_update_mask()->add_paths(name);
    }
  }
  return kExitOk;
}

int PutRecord(Context& ctx) {
  FetchedTable fetched = FetchTable(ctx, Arg(ctx, 0));
  if (fetched.exit != kExitOk) return fetched.exit;
  v1::PutRecordRequest request;
  if (int exit = BuildPut(ctx, fetched.table, &request); exit != kExitOk) return exit;
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::Record written;
  grpc::Status status = ctx.Db().PutRecord(&rpc, request, &written);
  if (!status.ok()) return RpcError(ctx, status, "PutRecord " + Arg(ctx, 0));
  PrintOne(ctx, written, &fetched.table);
  return kExitOk;
}

int GetRecord(Context& ctx) {
  v1::GetRecordRequest request;
  request.set_table(Arg(ctx, 0));
  request.set_id(Arg(ctx, 1));
  request.set_revision(ctx.args.Get("revision"));
  request.set_include_conflicts(ctx.args.Has("conflicts"));
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::Record record;
  grpc::Status status = ctx.Db().GetRecord(&rpc, request, &record);
  if (!status.ok()) return RpcError(ctx, status, "GetRecord " + Arg(ctx, 0) + "/" + Arg(ctx, 1));
  PrintOne(ctx, record, nullptr);
  return kExitOk;
}

int DeleteRecord(Context& ctx) {
  v1::DeleteRecordRequest request;
  request.set_table(Arg(ctx, 0));
  request.set_id(Arg(ctx, 1));
  request.set_revision(ctx.args.Get("revision"));
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::Record tombstone;
  grpc::Status status = ctx.Db().DeleteRecord(&rpc, request, &tombstone);
  if (!status.ok()) {
    return RpcError(ctx, status, "DeleteRecord " + Arg(ctx, 0) + "/" + Arg(ctx, 1));
  }
  PrintOne(ctx, tombstone, nullptr);
  return kExitOk;
}

int ListRecords(Context& ctx) {
  FetchedTable fetched = FetchTable(ctx, Arg(ctx, 0));
  if (fetched.exit != kExitOk) return fetched.exit;
  v1::ListRecordsRequest request;
  request.set_table(Arg(ctx, 0));
  for (const std::string& where : ctx.args.GetAll("where")) {
    auto cond = ParseCondition(fetched.table, where);
    if (!cond.ok()) return UsageError(ctx, std::string(cond.status().message()));
    *request.add_filter() = *cond;
  }
  request.set_order_by(ctx.args.Get("order-by"));
  request.set_descending(ctx.args.Has("desc"));
  request.set_conflicted_only(ctx.args.Has("conflicted"));
  int64_t limit = -1;
  if (ctx.args.Has("limit") && (!absl::SimpleAtoi(ctx.args.Get("limit"), &limit) || limit < 0)) {
    return UsageError(ctx, "--limit must be a number >= 0");
  }
  std::vector<v1::Record> records;  // text mode only: aligned columns need them all
  int64_t count = 0;
  do {
    if (limit >= 0 && count >= limit) break;
    request.set_page_size(limit >= 0 && limit - count < 1000 ? static_cast<int>(limit - count)
                                                             : 1000);
    grpc::ClientContext rpc;
    rpc.set_deadline(Deadline(ctx));
    v1::ListRecordsResponse response;
    grpc::Status status = ctx.Db().ListRecords(&rpc, request, &response);
    if (!status.ok()) return RpcError(ctx, status, "ListRecords " + Arg(ctx, 0));
    count += response.records_size();
    for (v1::Record& r : *response.mutable_records()) {
      if (ctx.json) {
        PrintJson(*ctx.out, r);
      } else {
        records.push_back(std::move(r));
      }
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  if (!ctx.json) PrintRecordsText(*ctx.out, records, fetched.table);
  return kExitOk;
}

int History(Context& ctx) {
  v1::GetRecordHistoryRequest request;
  request.set_table(Arg(ctx, 0));
  request.set_id(Arg(ctx, 1));
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::GetRecordHistoryResponse response;
  grpc::Status status = ctx.Db().GetRecordHistory(&rpc, request, &response);
  if (!status.ok()) {
    return RpcError(ctx, status, "GetRecordHistory " + Arg(ctx, 0) + "/" + Arg(ctx, 1));
  }
  if (ctx.json) {
    for (const v1::HistoryEntry& e : response.entries()) PrintJson(*ctx.out, e);
    return kExitOk;
  }
  // AUTHOR, NODE and CREATED are the revision's audit trail; "-" for a
  // revision made before audit existed.
  TextTable out({"REVISION", "PARENT", "LEAF", "DELETED", "AUTHOR", "NODE", "CREATED",
                 "ATTRIBUTES"});
  for (const v1::HistoryEntry& e : response.entries()) {
    // A stub is known by id only: no attributes to show.
    std::string attributes = e.stub() ? "(stub: known by id only)" : "";
    for (const std::string& name : AttributeOrder(e.record(), nullptr)) {
      if (!attributes.empty()) attributes += " ";
      attributes += name + "=" + FormatValue(e.record().attributes().at(name));
    }
    const bool audited = !e.origin_node().empty();
    v1::Value created;
    *created.mutable_timestamp() = e.create_time();
    out.AddRow({e.record().revision(), e.parent_revision(), e.leaf() ? "yes" : "no",
                e.record().deleted() ? "yes" : "no", audited ? e.author() : "-",
                audited ? e.origin_node() : "-", audited ? FormatValue(created) : "-",
                attributes});
  }
  out.Print(*ctx.out);
  return kExitOk;
}

// The columns of `table` whose value is not the same in every one of
// `leaves`, in column order.
std::vector<std::string> DifferingColumns(const std::vector<const v1::Record*>& leaves,
                                          const v1::Table& table) {
  std::vector<std::string> out;
  for (const v1::Column& column : table.columns()) {
    const auto& first = leaves[0]->attributes();
    auto a = first.find(column.name());
    for (const v1::Record* leaf : leaves) {
      auto b = leaf->attributes().find(column.name());
      const bool same = (a == first.end()) == (b == leaf->attributes().end()) &&
                        (a == first.end() ||
                         google::protobuf::util::MessageDifferencer::Equals(a->second, b->second));
      if (!same) {
        out.push_back(column.name());
        break;
      }
    }
  }
  return out;
}

// The winner, each conflicting live leaf with its values and each deleted
// conflict, from one GetRecord with include_conflicts.
int Conflicts(Context& ctx) {
  FetchedTable fetched = FetchTable(ctx, Arg(ctx, 0));  // For the column order.
  if (fetched.exit != kExitOk) return fetched.exit;
  v1::GetRecordRequest request;
  request.set_table(Arg(ctx, 0));
  request.set_id(Arg(ctx, 1));
  request.set_include_conflicts(true);
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::Record winner;
  grpc::Status status = ctx.Db().GetRecord(&rpc, request, &winner);
  if (!status.ok()) return RpcError(ctx, status, "GetRecord " + Arg(ctx, 0) + "/" + Arg(ctx, 1));
  if (ctx.json) {  // The winner (with the conflicts' ids), then each conflict.
    v1::Record head = winner;
    head.clear_conflict_records();
    PrintJson(*ctx.out, head);
    for (const v1::Record& c : winner.conflict_records()) PrintJson(*ctx.out, c);
    return kExitOk;
  }
  if (winner.conflict_records_size() == 0 && winner.deleted_conflicts_size() == 0) {
    *ctx.out << "no conflicts: " << winner.revision()
             << " is the only live leaf and no delete lost to it\n";
    return kExitOk;
  }
  std::vector<const v1::Record*> leaves = {&winner};
  for (const v1::Record& c : winner.conflict_records()) leaves.push_back(&c);
  std::vector<std::string> header = {"ROLE", "REVISION"};
  for (const v1::Column& c : fetched.table.columns()) header.push_back(c.name());
  TextTable out(std::move(header));
  for (const v1::Record* leaf : leaves) {
    std::vector<std::string> row = {leaf == &winner ? "winner" : "conflict", leaf->revision()};
    for (const v1::Column& c : fetched.table.columns()) {
      auto it = leaf->attributes().find(c.name());
      row.push_back(it == leaf->attributes().end() ? "" : FormatValue(it->second));
    }
    out.AddRow(std::move(row));
  }
  // A delete that lost to a live edit: no values to show.
  for (const std::string& revision : winner.deleted_conflicts()) {
    std::vector<std::string> row = {"deleted", revision};
    row.resize(2 + fetched.table.columns_size());
    out.AddRow(std::move(row));
  }
  out.Print(*ctx.out);
  std::string differ;
  for (const std::string& name : DifferingColumns(leaves, fetched.table)) {
    differ += (differ.empty() ? "" : ", ") + name;
  }
  const int live = winner.conflict_records_size();
  const int deleted = winner.deleted_conflicts_size();
  *ctx.out << "\n";
  if (live > 0) {
    *ctx.out << live << (live == 1 ? " conflicting leaf" : " conflicting leaves")
             << (differ.empty() ? "" : "; they differ in: " + differ) << "\n";
  }
  if (deleted > 0) {
    *ctx.out << deleted << (deleted == 1 ? " delete" : " deletes")
             << " lost to the winner (deleted conflicts)\n";
  }
  *ctx.out << "resolve with: recondb records resolve " << Arg(ctx, 0) << " " << Arg(ctx, 1)
           << " --revision " << winner.revision() << " [--from REV] [--set COL=VALUE ...]\n"
           << "or choose the delete: recondb records resolve " << Arg(ctx, 0) << " " << Arg(ctx, 1)
           << " --revision " << winner.revision() << " --delete\n";
  return kExitOk;
}

// Copies the values of `revision` of the record (the --from of a
// resolution, given or implied) into `record`. Returns an exit code.
int FetchFrom(Context& ctx, const std::string& revision, v1::Record* record) {
  v1::GetRecordRequest request;
  request.set_table(Arg(ctx, 0));
  request.set_id(Arg(ctx, 1));
  request.set_revision(revision);
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::Record from;
  grpc::Status status = ctx.Db().GetRecord(&rpc, request, &from);
  if (!status.ok()) {
    return RpcError(ctx, status,
                    "GetRecord " + Arg(ctx, 0) + "/" + Arg(ctx, 1) + " at " + revision);
  }
  if (from.deleted() && ctx.args.Has("from")) {
    return UsageError(ctx, "--from " + from.revision() + " is a tombstone: it has no values");
  }  // An implied --from (the winner) that is a tombstone: the server says why.
  *record->mutable_attributes() = from.attributes();
  return kExitOk;
}

// A resolution that chooses the delete: the record is deleted, every
// conflict closed.
int ResolveByDeleting(Context& ctx) {
  for (const char* flag : {"from", "set", "null", "replace", "json-input"}) {
    if (ctx.args.Has(flag)) {
      return UsageError(ctx, std::string("--delete cannot be combined with --") + flag +
                                 ": the delete has no values");
    }
  }
  v1::ResolveConflictRequest request;
  request.mutable_record()->set_table(Arg(ctx, 0));
  request.mutable_record()->set_id(Arg(ctx, 1));
  request.mutable_record()->set_revision(ctx.args.Get("revision"));
  request.mutable_record()->set_deleted(true);
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::Record tombstone;
  grpc::Status status = ctx.Db().ResolveConflict(&rpc, request, &tombstone);
  if (!status.ok()) {
    return RpcError(ctx, status, "ResolveConflict " + Arg(ctx, 0) + "/" + Arg(ctx, 1));
  }
  PrintOne(ctx, tombstone, nullptr);
  return kExitOk;
}

int Resolve(Context& ctx) {
  const bool json_input = ctx.args.Has("json-input");
  if (!ctx.args.Has("revision") && !json_input) {
    return UsageError(ctx,
                      "--revision is required: the winner shown by 'recondb records conflicts'");
  }
  if (ctx.args.Has("delete")) return ResolveByDeleting(ctx);
  if (ctx.args.Has("from") && (json_input || ctx.args.Has("replace"))) {
    return UsageError(ctx, "--from cannot be combined with --json-input or --replace");
  }
  // Nothing given: keep the winner's values (and dismiss the conflicts).
  std::string from = ctx.args.Get("from");
  if (from.empty() && !json_input && !ctx.args.Has("replace") && !ctx.args.Has("set") &&
      !ctx.args.Has("null")) {
    from = ctx.args.Get("revision");
  }
  FetchedTable fetched = FetchTable(ctx, Arg(ctx, 0));
  if (fetched.exit != kExitOk) return fetched.exit;
  v1::PutRecordRequest put;  // The same input as `records put`.
  if (!from.empty()) {
    if (int exit = FetchFrom(ctx, from, put.mutable_record()); exit != kExitOk) return exit;
  }
  if (int exit = BuildPut(ctx, fetched.table, &put); exit != kExitOk) return exit;
  if (!from.empty()) put.clear_update_mask();  // Every column is given.
  v1::ResolveConflictRequest request;
  *request.mutable_record() = std::move(*put.mutable_record());
  if (put.has_update_mask()) *request.mutable_update_mask() = put.update_mask();
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::Record written;
  grpc::Status status = ctx.Db().ResolveConflict(&rpc, request, &written);
  if (!status.ok()) {
    return RpcError(ctx, status, "ResolveConflict " + Arg(ctx, 0) + "/" + Arg(ctx, 1));
  }
  PrintOne(ctx, written, &fetched.table);
  return kExitOk;
}

}  // namespace

std::vector<Command> RecordCommands() {
  return {
      {"records put",
       "TABLE [ID]",
       "create or update a record",
       "Without --revision, creates the record (ID empty: the server assigns a UUIDv7).\n"
       "With --revision (a live leaf, e.g. the current revision), updates it: --set and\n"
       "--null change only the columns they name, unless --replace (then columns left out\n"
       "get their default or null). Values are typed by the table's schema: int, float,\n"
       "bool (true/false), timestamp (RFC 3339), bytes (base64). --json-input takes a whole\n"
       "Record in proto3 JSON (TABLE, ID and --revision override its fields).\n"
       "Examples:\n"
       "  recondb records put todos --set title='Buy water filters' --set completed=false\n"
       "  recondb records put todos ID --revision 1-... --set completed=true",
       {{"set", "COL=VALUE", "a column value (repeatable)"},
        {"null", "COL", "set a column to null (repeatable)"},
        {"revision", "REV", "the live leaf to update"},
        {"replace", "", "with --revision: send the whole record (no update mask)"},
        {"json-input", "JSON|-", "the Record as proto3 JSON, or - for stdin"}},
       1,
       2,
       PutRecord},
      {"records get",
       "TABLE ID",
       "show a record",
       "Without --revision, the winner (NOT_FOUND if deleted); with it, that revision\n"
       "(tombstones included).",
       {{"revision", "REV", "a revision of the record"},
        {"conflicts", "", "also list the other live leaves and the deleted conflicts"}},
       2,
       2,
       GetRecord},
      {"records list",
       "TABLE",
       "list live records (winners)",
       "Conditions are ANDed: --where 'COL OP VALUE' with OP = != < <= > >=, or\n"
       "--where 'COL is null' / 'COL is not null'; COL is a column or id.\n"
       "With --conflicted, only the records with conflicts or deleted conflicts (an\n"
       "indexed query: a review queue). The CONFLICTED column (`conflicted` in --json)\n"
       "says which records have them.\n"
       "Example: recondb records list todos --where 'completed = true' --order-by deadline_at",
       {{"where", "COND", "a condition (repeatable)"},
        {"conflicted", "", "only records with conflicts or deleted conflicts"},
        {"order-by", "COL", "order by this column (default id)"},
        {"desc", "", "descending order"},
        {"limit", "N", "at most N records (default: all, fetched page by page)"}},
       1,
       1,
       ListRecords},
      {"records delete",
       "TABLE ID",
       "delete a record (writes a tombstone)",
       "Without --revision, deletes the winner; with it, that live leaf (how a conflict is\n"
       "dismissed: the tombstone is acknowledged at once, so it is no deleted conflict).",
       {{"revision", "REV", "the live leaf to delete"}},
       2,
       2,
       DeleteRecord},
      {"records history",
       "TABLE ID",
       "every revision of a record, newest first",
       "",
       {},
       2,
       2,
       History},
      {"records conflicts",
       "TABLE ID",
       "the winner, the conflicting live leaves (with their values) and the deleted\n"
       "conflicts of a record",
       "One GetRecord with include_conflicts. Text: a table of the winner, each\n"
       "conflicting leaf (best first, by the winner rule) and each deleted conflict (a\n"
       "delete that lost to a live edit: ROLE `deleted`, no values), the columns that\n"
       "differ, and the commands that resolve them. \"no conflicts\" only when there are\n"
       "neither. --json: the winner (its `conflicts` and `deletedConflicts` list the\n"
       "revisions), then one Record per conflicting live leaf, one per line.",
       {},
       2,
       2,
       Conflicts},
      {"records resolve",
       "TABLE ID",
       "resolve a record's conflicts with a merged value, or by choosing the delete",
       "Writes the merged value as a child of the winner (--revision, the winner shown by\n"
       "'records conflicts') and a tombstone on every conflicting leaf, in one transaction;\n"
       "afterwards the record has no conflicts. If the winner changed meanwhile, the server\n"
       "refuses (ABORTED, naming the current winner): look again and retry. Without\n"
       "conflicts this is an update of the winner.\n"
       "The merged value is given as for 'records put': --set/--null change only the\n"
       "columns they name (the others keep the winner's value) unless --replace;\n"
       "--json-input takes a whole Record. --from REV starts from the values of revision\n"
       "REV (e.g. a conflicting leaf: 'keep theirs'), then applies --set/--null. With\n"
       "neither --from, --set, --null, --replace nor --json-input, the winner's values are\n"
       "kept ('keep mine'): the conflicting leaves are just dismissed. Every deleted\n"
       "conflict is acknowledged either way. --delete chooses the delete instead: the\n"
       "record is deleted (the winner and every conflicting leaf get tombstones).\n"
       "Examples:\n"
       "  recondb records resolve todos t1 --revision 2-... --set 'title=Buy 2 filters'\n"
       "  recondb records resolve todos t1 --revision 2-... --from 2-...\n"
       "  recondb records resolve todos t1 --revision 2-... --delete",
       {{"revision", "REV", "the current winner (required)"},
        {"delete", "", "choose the delete: the record is deleted"},
        {"from", "REV", "start from the values of this revision (e.g. a conflict)"},
        {"set", "COL=VALUE", "a column value (repeatable)"},
        {"null", "COL", "set a column to null (repeatable)"},
        {"replace", "", "send the whole record (no update mask)"},
        {"json-input", "JSON|-", "the merged Record as proto3 JSON, or - for stdin"}},
       2,
       2,
       Resolve},
  };
}

}  // namespace recondb::cli
