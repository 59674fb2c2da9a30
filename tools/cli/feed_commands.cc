// `recondb changes` (the change feed, optionally followed) and
// `recondb health` (grpc.health.v1.Health/Check).
#include <ostream>

#include "absl/strings/numbers.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/impl/client_unary_call.h"
#include "grpcpp/impl/rpc_method.h"
#include "tools/cli/cli.h"
#include "tools/cli/output.h"

namespace recondb::cli {
namespace {

std::string KindName(v1::ChangeKind kind) {
  switch (kind) {
    case v1::CHANGE_KIND_RECORD:
      return "record";
    case v1::CHANGE_KIND_TABLE:
      return "table";
    default:
      return "unknown";
  }
}

int Changes(Context& ctx) {
  v1::GetChangesRequest request;
  int64_t since = 0;
  if (!absl::SimpleAtoi(ctx.args.Get("since", "0"), &since) || since < 0) {
    return UsageError(ctx, "--since must be a sequence number >= 0");
  }
  request.set_since(since);
  for (const std::string& t : ctx.args.GetAll("table")) request.add_tables(t);
  request.set_follow(ctx.args.Has("follow"));
  grpc::ClientContext rpc;
  // A followed feed has no end, so no deadline; a one-shot read has one.
  if (!request.follow()) rpc.set_deadline(Deadline(ctx));
  auto reader = ctx.Db().GetChanges(&rpc, request);
  v1::Change change;
  if (!ctx.json && !request.follow()) {
    *ctx.out << "SEQ\tKIND\tTABLE\tID\tREVISION\tDELETED\tCONFLICTED\n";
  }
  while (reader->Read(&change)) {
    if (ctx.json) {
      PrintJson(*ctx.out, change);
    } else {
      *ctx.out << change.seq() << "\t" << KindName(change.kind()) << "\t" << change.table() << "\t"
               << change.id() << "\t" << change.revision() << "\t"
               << (change.deleted() ? "yes" : "no") << "\t" << (change.conflicted() ? "yes" : "no")
               << "\n";
    }
    ctx.out->flush();  // followers read line by line
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return RpcError(ctx, status, "GetChanges");
  return kExitOk;
}

int Health(Context& ctx) {
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(ctx.args.Get("service"));
  grpc::health::v1::HealthCheckResponse response;
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  // The generic unary call of the generated stubs: the daemon's health
  // messages are linked in, the service stub is not generated for tools.
  static const grpc::internal::RpcMethod kCheck("/grpc.health.v1.Health/Check",
                                                grpc::internal::RpcMethod::NORMAL_RPC);
  grpc::Status status = grpc::internal::BlockingUnaryCall<grpc::health::v1::HealthCheckRequest,
                                                          grpc::health::v1::HealthCheckResponse>(
      ctx.Channel().get(), kCheck, &rpc, request, &response);
  if (!status.ok()) return RpcError(ctx, status, "Health/Check");
  const std::string state =
      grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
  if (ctx.json) {
    PrintJson(*ctx.out, response);
  } else {
    *ctx.out << state << "\n";
  }
  if (response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    *ctx.err << "recondb: recondbd at " << ctx.addr << " is " << state << "\n";
    return kExitRefused;
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> FeedCommands() {
  return {
      {"changes",
       "",
       "print the change feed",
       "One line per change with seq > --since (a record appears once, at its latest seq).\n"
       "With --follow, stays open and prints changes as they commit, until interrupted.\n"
       "To resume, pass the last seq printed as --since.",
       {{"since", "N", "only changes after this seq (default 0)"},
        {"table", "TABLE", "only this table (repeatable)"},
        {"follow", "", "stay open for new changes"}},
       0,
       0,
       Changes},
      {"health",
       "",
       "check that the daemon is serving",
       "Calls grpc.health.v1.Health/Check; prints SERVING and exits 0, or exits 2 when the\n"
       "daemon answers NOT_SERVING (shutting down) and 3 when it cannot be reached.",
       {{"service", "NAME", "a service name (default: the whole server)"}},
       0,
       0,
       Health},
  };
}

}  // namespace recondb::cli
