// What the peer on the other end of a replication session may do: the
// narrow interface the reconciler needs of authorization (the daemon builds
// it from the auth module; tests from lambdas). docs/replication-protocol.md,
// "Version 3: grants", says what the session does with it.
#ifndef RECONDB_RECONCILER_PEER_ACCESS_H_
#define RECONDB_RECONCILER_PEER_ACCESS_H_

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace recondb::reconciler {

// Copyable. The functions must be thread-safe (the session calls them from
// several threads) and must not block for long (no network).
struct PeerAccess {
  // The peer's principal, for messages and logs. Default: "anonymous" (the
  // principal of every caller when authentication is off).
  std::string principal = "anonymous";
  // Whether this node may send the peer `table` (its records and its
  // definition). Empty: every table.
  std::function<bool(std::string_view table)> may_pull;
  // Whether this node accepts revisions and definitions of `table` from the
  // peer. Empty: every table.
  std::function<bool(std::string_view table)> may_push;
  // Called with the node id of the peer's Hello before anything else is
  // exchanged: OK binds it to the principal (or it already is); an error
  // (PERMISSION_DENIED: the id belongs to another principal) ends the
  // session with it. Empty: every id is accepted.
  std::function<absl::Status(std::string_view node_id)> claim_node_id;

  bool MayPull(std::string_view table) const { return !may_pull || may_pull(table); }
  bool MayPush(std::string_view table) const { return !may_push || may_push(table); }
  absl::Status ClaimNodeId(std::string_view node_id) const {
    return claim_node_id ? claim_node_id(node_id) : absl::OkStatus();
  }
  // True when neither pull nor push is restricted by a function.
  bool Unrestricted() const { return !may_pull && !may_push; }
};

}  // namespace recondb::reconciler

#endif  // RECONDB_RECONCILER_PEER_ACCESS_H_
