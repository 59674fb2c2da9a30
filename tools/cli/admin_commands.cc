// `recondb status`, `recondb peers add|list|remove` and `recondb sync`: the
// Admin service (proto/recondb/v1/admin.proto).
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "tools/cli/cli.h"
#include "tools/cli/output.h"

namespace recondb::cli {
namespace {

// How long `sync` lets the daemon sync when --timeout is not given (the
// daemon's own default), and how much longer the call itself may take.
constexpr absl::Duration kDefaultSyncTimeout = absl::Seconds(60);
constexpr absl::Duration kSyncCallMargin = absl::Seconds(5);

std::string FormatTime(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "never";
  const absl::Time t = absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::string FormatUptime(const google::protobuf::Duration& d) {
  return absl::FormatDuration(absl::Seconds(d.seconds()));
}

// --tables a,b (also repeatable): the table filter.
std::vector<std::string> TablesOption(const Context& ctx) {
  std::vector<std::string> tables;
  for (const std::string& v : ctx.args.GetAll("tables")) {
    for (absl::string_view t : absl::StrSplit(v, ',', absl::SkipWhitespace())) {
      tables.emplace_back(t);
    }
  }
  return tables;
}

std::string TablesText(const google::protobuf::RepeatedPtrField<std::string>& tables) {
  return tables.empty() ? "all" : absl::StrJoin(tables, ",");
}

int Status(Context& ctx) {
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::NodeStatus status;
  grpc::Status s = ctx.Admin().GetStatus(&rpc, v1::GetStatusRequest(), &status);
  if (!s.ok()) return RpcError(ctx, s, "GetStatus");
  if (ctx.json) {
    PrintJson(*ctx.out, status);
    return kExitOk;
  }
  TextTable head({"node id:", status.node_id()});
  if (!status.copy_of().empty()) head.AddRow({"copy of:", status.copy_of()});
  head.AddRow({"incarnation:", status.incarnation()});
  head.AddRow({"version:", status.version()});
  head.AddRow({"uptime:", FormatUptime(status.uptime())});
  head.AddRow({"storage:", status.storage()});
  head.AddRow({"last seq:", std::to_string(status.last_seq())});
  head.Print(*ctx.out);
  *ctx.out << "\n";
  TextTable tables({"TABLE", "RECORDS"});
  for (const v1::TableStatus& t : status.tables()) {
    tables.AddRow({t.name(), std::to_string(t.records())});
  }
  tables.Print(*ctx.out);
  return kExitOk;
}

// "1.5 MB", "312 B": sizes for people.
std::string BytesText(int64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (v >= 1024 && unit < 3) {
    v /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.1f %s", v, units[unit]);
}

// One direction's running catch-up: "in 1200 done, 1800 left (~2.1 MiB)";
// empty if none runs.
std::string CatchUpText(const char* direction, const v1::CatchUpProgress& c) {
  if (!c.running()) return "";
  if (!c.remaining_known()) return absl::StrCat(direction, " ", c.records_done(), " done");
  return absl::StrCat(direction, " ", c.records_done(), " done, ", c.records_remaining(),
                      " left (~", BytesText(c.bytes_remaining()), ")");
}

void PrintPeers(Context& ctx, const std::vector<v1::Peer>& peers) {
  if (ctx.json) {
    for (const v1::Peer& p : peers) PrintJson(*ctx.out, p);
    return;
  }
  TextTable out({"ADDRESS", "TABLES", "ORIGIN", "NODE_ID", "CONNECTED", "LAST_SEEN", "LAST_SYNC",
                 "OUT_LAG", "IN_LAG", "CATCH_UP", "FAILURES", "LAST_ERROR"});
  for (const v1::Peer& p : peers) {
    const bool accepted = p.origin() == v1::PEER_ORIGIN_ACCEPTED;
    std::string connected = p.connected() ? "yes" : (p.stale() ? "no (stale)" : "no");
    if (p.copied_store()) connected += " (copied store)";
    std::string catch_up = CatchUpText("in", p.incoming_catch_up());
    const std::string outgoing = CatchUpText("out", p.outgoing_catch_up());
    if (!outgoing.empty()) catch_up = catch_up.empty() ? outgoing : catch_up + "; " + outgoing;
    std::string last_error = p.last_error();
    if (last_error.empty() && !p.connected()) last_error = p.last_disconnect_reason();
    out.AddRow({p.address(), accepted ? "-" : TablesText(p.tables()),
                accepted ? "accepted" : "configured", p.node_id().empty() ? "-" : p.node_id(),
                connected, FormatTime(p.last_seen_time()), FormatTime(p.last_sync_time()),
                std::to_string(p.outgoing().lag()), std::to_string(p.incoming().lag()),
                catch_up.empty() ? "-" : catch_up, std::to_string(p.failures()), last_error});
  }
  out.Print(*ctx.out);
}

int ListPeers(Context& ctx) {
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::ListPeersResponse response;
  grpc::Status s = ctx.Admin().ListPeers(&rpc, v1::ListPeersRequest(), &response);
  if (!s.ok()) return RpcError(ctx, s, "ListPeers");
  PrintPeers(ctx, {response.peers().begin(), response.peers().end()});
  return kExitOk;
}

int AddPeer(Context& ctx) {
  v1::AddPeerRequest request;
  request.set_address(ctx.args.positional()[0]);
  for (const std::string& t : TablesOption(ctx)) request.add_tables(t);
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::Peer peer;
  grpc::Status s = ctx.Admin().AddPeer(&rpc, request, &peer);
  if (!s.ok()) return RpcError(ctx, s, "AddPeer " + request.address());
  PrintPeers(ctx, {peer});
  return kExitOk;
}

int RemovePeer(Context& ctx) {
  v1::RemovePeerRequest request;
  request.set_address(ctx.args.positional()[0]);
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::RemovePeerResponse response;
  grpc::Status s = ctx.Admin().RemovePeer(&rpc, request, &response);
  if (!s.ok()) return RpcError(ctx, s, "RemovePeer " + request.address());
  if (ctx.json) {
    PrintJson(*ctx.out, response);
  } else {
    *ctx.out << "peer " << request.address() << " removed\n";
  }
  return kExitOk;
}

std::vector<std::string> CountsRow(const std::string& direction, const v1::TransferCounts& c) {
  return {direction,
          std::to_string(c.batches()),
          std::to_string(c.records_offered()),
          std::to_string(c.revisions_sent()),
          std::to_string(c.stubs_sent()),
          std::to_string(c.revisions_grafted()),
          std::to_string(c.tables_sent())};
}

int Sync(Context& ctx) {
  v1::SyncRequest request;
  request.set_address(ctx.args.positional()[0]);
  for (const std::string& t : TablesOption(ctx)) request.add_tables(t);
  const absl::Duration timeout = ctx.args.Has("timeout") ? ctx.timeout : kDefaultSyncTimeout;
  request.mutable_timeout()->set_seconds(absl::ToInt64Seconds(timeout));
  request.mutable_timeout()->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(timeout % absl::Seconds(1))));
  grpc::ClientContext rpc;
  rpc.set_deadline(absl::ToChronoTime(absl::Now() + timeout + kSyncCallMargin));
  v1::SyncResponse response;
  grpc::Status s = ctx.Admin().Sync(&rpc, request, &response);
  if (!s.ok()) {
    // The daemon answered about the peer ("sync with ADDR: ..."): that is a
    // refusal of this call, not an unreachable daemon.
    if (s.error_message().rfind("sync with ", 0) == 0) {
      *ctx.err << "recondb: Sync " << request.address() << ": " << CodeName(s.error_code()) << ": "
               << s.error_message() << "\n";
      return kExitRefused;
    }
    return RpcError(ctx, s, "Sync " + request.address());
  }
  if (ctx.json) {
    PrintJson(*ctx.out, response);
    return kExitOk;
  }
  *ctx.out << "synced with " << request.address() << " (node " << response.peer_node_id() << ")\n";
  TextTable out({"DIRECTION", "BATCHES", "RECORDS_OFFERED", "REVISIONS_SENT", "STUBS_SENT",
                 "REVISIONS_GRAFTED", "TABLES_SENT"});
  out.AddRow(CountsRow("sent", response.sent()));
  out.AddRow(CountsRow("received", response.received()));
  out.Print(*ctx.out);
  return kExitOk;
}

}  // namespace

std::vector<Command> AdminCommands() {
  const OptionSpec tables = {"tables", "T1,T2",
                             "only these tables on the link (comma-separated or repeated; "
                             "default all)"};
  return {
      {"status",
       "",
       "show the node: id, version, uptime, storage, tables with their live record counts",
       "Calls Admin/GetStatus.",
       {},
       0,
       0,
       Status},
      {"peers list",
       "",
       "list the peers (configured and those that dialed in) with the state of their link",
       "One line per configured peer (ORIGIN configured: this node dials it), then one per\n"
       "node that dialed in (accepted), remembered across restarts: its address, table\n"
       "filter, node id (once reached), whether the link is up (\"no (stale)\" when not seen\n"
       "for longer than recondbd's --stale_peer_after; \"(copied store)\" when two copies of\n"
       "one store are connected at once), when it was last seen, when both directions were\n"
       "last caught up, the lag each way (changes not yet acknowledged), a running catch-up\n"
       "(records done and left, estimated bytes left), failed attempts since the last\n"
       "success and the last error (or why the last link ended). --json prints each\n"
       "v1.Peer.",
       {},
       0,
       0,
       ListPeers},
      {"peers add",
       "HOST:PORT",
       "add a peer (or change its table filter); the daemon keeps it and dials it",
       "The peer is kept in the node's database, so it survives restarts. Adding a known\n"
       "peer again replaces its table filter. Example:\n"
       "  recondb peers add office.example:7470 --tables todos,notes",
       {tables},
       1,
       1,
       AddPeer},
      {"peers remove",
       "HOST:PORT",
       "forget a peer and close its link",
       "Exit 2 (NOT_FOUND) if the address is not a configured peer.",
       {},
       1,
       1,
       RemovePeer},
      {"sync",
       "HOST:PORT",
       "replicate once with a node, both ways, and print what moved",
       "The daemon dials HOST:PORT, exchanges changes both ways until both sides are caught\n"
       "up, and reports the counts of each direction. It does not add a peer. Here\n"
       "--timeout is how long the sync may take (default 60s). Exit 2 if the daemon could\n"
       "not sync (the peer cannot be reached, the sync timed out: the message says which),\n"
       "3 if the daemon itself cannot be reached.",
       {tables},
       1,
       1,
       Sync},
  };
}

}  // namespace recondb::cli
