#include "tools/cli/input.h"

#include <iostream>
#include <iterator>

#include "grpcpp/client_context.h"

namespace recondb::cli {

absl::StatusOr<std::string> ReadJsonInput(Context& ctx, std::string_view arg) {
  if (arg != "-") return std::string(arg);
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  if (std::cin.bad()) return absl::InvalidArgumentError("cannot read --json-input from stdin");
  return text;
}

FetchedTable FetchTable(Context& ctx, std::string_view name) {
  FetchedTable fetched;
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::GetTableRequest request;
  request.set_name(std::string(name));
  grpc::Status status = ctx.Db().GetTable(&rpc, request, &fetched.table);
  if (!status.ok()) fetched.exit = RpcError(ctx, status, "GetTable " + std::string(name));
  return fetched;
}

}  // namespace recondb::cli
