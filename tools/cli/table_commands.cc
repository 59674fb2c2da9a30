// `recondb tables list|create|show|add-columns`.
#include <ostream>

#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/client_context.h"
#include "tools/cli/cli.h"
#include "tools/cli/input.h"
#include "tools/cli/output.h"
#include "tools/cli/values.h"

namespace recondb::cli {
namespace {

std::string CreateTime(const v1::Table& table) {
  if (!table.has_create_time()) return "";
  v1::Value v;
  *v.mutable_timestamp() = table.create_time();
  return FormatValue(v);
}

int ListTables(Context& ctx) {
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::ListTablesResponse response;
  grpc::Status status = ctx.Db().ListTables(&rpc, v1::ListTablesRequest(), &response);
  if (!status.ok()) return RpcError(ctx, status, "ListTables");
  if (ctx.json) {
    for (const v1::Table& t : response.tables()) PrintJson(*ctx.out, t);
    return kExitOk;
  }
  TextTable out({"NAME", "COLUMNS", "CREATED"});
  for (const v1::Table& t : response.tables()) {
    out.AddRow({t.name(), std::to_string(t.columns_size()), CreateTime(t)});
  }
  out.Print(*ctx.out);
  return kExitOk;
}

void PrintTable(Context& ctx, const v1::Table& table) {
  if (ctx.json) return PrintJson(*ctx.out, table);
  *ctx.out << "table: " << table.name() << "\ncreated: " << CreateTime(table)
           << "\ncreated by: " << table.created_by() << "\n\n";
  TextTable out({"COLUMN", "TYPE", "NULLABLE", "MAX_LENGTH", "DEFAULT", "INDEXED"});
  for (const v1::Column& c : table.columns()) {
    out.AddRow({c.name(), TypeName(c.type()), c.nullable() ? "yes" : "no",
                c.max_length() > 0 ? std::to_string(c.max_length()) : "",
                c.has_default_value() ? FormatValue(c.default_value()) : "",
                c.indexed() ? "yes" : "no"});
  }
  out.Print(*ctx.out);
}

int ShowTable(Context& ctx) {
  FetchedTable fetched = FetchTable(ctx, ctx.args.positional()[0]);
  if (fetched.exit != kExitOk) return fetched.exit;
  PrintTable(ctx, fetched.table);
  return kExitOk;
}

int CreateTable(Context& ctx) {
  v1::CreateTableRequest request;
  const std::vector<std::string> specs = ctx.args.GetAll("column");
  if (ctx.args.Has("json-input")) {
    if (!specs.empty()) return UsageError(ctx, "give either --column or --json-input, not both");
    auto text = ReadJsonInput(ctx, ctx.args.Get("json-input"));
    if (!text.ok()) return InputError(ctx, std::string(text.status().message()));
    auto parsed = google::protobuf::util::JsonStringToMessage(*text, request.mutable_table());
    if (!parsed.ok()) {
      return InputError(ctx, "--json-input is not a Table in JSON: " + parsed.ToString());
    }
  }
  for (const std::string& spec : specs) {
    auto column = ParseColumnSpec(spec);
    if (!column.ok()) return UsageError(ctx, std::string(column.status().message()));
    *request.mutable_table()->add_columns() = *column;
  }
  if (!ctx.args.positional().empty()) request.mutable_table()->set_name(ctx.args.positional()[0]);
  if (request.table().name().empty()) return UsageError(ctx, "missing TABLE name");
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::Table created;
  grpc::Status status = ctx.Db().CreateTable(&rpc, request, &created);
  if (!status.ok()) return RpcError(ctx, status, "CreateTable " + request.table().name());
  PrintTable(ctx, created);
  return kExitOk;
}

int AddColumns(Context& ctx) {
  v1::AddColumnsRequest request;
  const std::vector<std::string> specs = ctx.args.GetAll("column");
  if (ctx.args.Has("json-input")) {
    if (!specs.empty()) return UsageError(ctx, "give either --column or --json-input, not both");
    auto text = ReadJsonInput(ctx, ctx.args.Get("json-input"));
    if (!text.ok()) return InputError(ctx, std::string(text.status().message()));
    auto parsed = google::protobuf::util::JsonStringToMessage(*text, &request);
    if (!parsed.ok()) {
      return InputError(ctx,
                        "--json-input is not an AddColumnsRequest in JSON: " + parsed.ToString());
    }
  }
  for (const std::string& spec : specs) {
    auto column = ParseColumnSpec(spec);
    if (!column.ok()) return UsageError(ctx, std::string(column.status().message()));
    *request.add_columns() = *column;
  }
  if (!ctx.args.positional().empty()) request.set_table(ctx.args.positional()[0]);
  if (request.table().empty()) return UsageError(ctx, "missing TABLE name");
  if (request.columns().empty()) return UsageError(ctx, "give at least one --column");
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::Table table;
  grpc::Status status = ctx.Db().AddColumns(&rpc, request, &table);
  if (!status.ok()) return RpcError(ctx, status, "AddColumns " + request.table());
  PrintTable(ctx, table);
  return kExitOk;
}

}  // namespace

std::vector<Command> TableCommands() {
  return {
      {"tables list",
       "",
       "list the tables of the node",
       "Tables are listed by name.",
       {},
       0,
       0,
       ListTables},
      {"tables show", "TABLE", "show a table's columns", "", {}, 1, 1, ShowTable},
      {"tables create",
       "TABLE",
       "create a table",
       "Columns are given as --column NAME:TYPE[,nullable][,indexed][,max=N][,default=VALUE]\n"
       "(TYPE: string, int, float, bool, timestamp, bytes; default= takes the rest of the\n"
       "spec), or the whole Table as JSON with --json-input (TABLE, if given, sets the name).\n"
       "Example:\n"
       "  recondb tables create todos --column title:string,max=80 \\\n"
       "    --column description:string,nullable,max=120 \\\n"
       "    --column completed:bool,default=false --column deadline_at:timestamp,nullable",
       {{"column", "SPEC", "a column (repeatable)"},
        {"json-input", "JSON|-", "the Table as proto3 JSON, or - to read it from stdin"}},
       0,
       1,
       CreateTable},
      {"tables add-columns",
       "TABLE",
       "append columns to a table",
       "An additive change: the new columns come after the existing ones, and each must be\n"
       "nullable or have a default (records written before read it). Columns are given\n"
       "as in 'tables create' (--column NAME:TYPE[,nullable][,indexed][,max=N][,default=VALUE]),\n"
       "or as an AddColumnsRequest in JSON with --json-input (TABLE, if given, sets the table).\n"
       "Example:\n"
       "  recondb tables add-columns todos --column priority:int,indexed,default=0 \\\n"
       "    --column assignee:string,nullable",
       {{"column", "SPEC", "a column to add (repeatable)"},
        {"json-input", "JSON|-",
         "the AddColumnsRequest as proto3 JSON, or - to read it from stdin"}},
       0,
       1,
       AddColumns},
  };
}

}  // namespace recondb::cli
