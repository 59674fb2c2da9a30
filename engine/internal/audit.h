// The audit trail of a revision (who, where, when): what a valid audit is,
// and the one rule by which every node keeps the same audit for a revision
// that was made more than once (docs/revision-encoding.md, "Audit
// metadata"). Peers must agree on this rule: it lives here only.
#ifndef RECONDB_ENGINE_INTERNAL_AUDIT_H_
#define RECONDB_ENGINE_INTERNAL_AUDIT_H_

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "storage/storage.h"

namespace recondb::engine::internal {

// The latest create time an audit may carry: 9999-12-31T23:59:59.999999Z,
// the end of the timestamp range (docs/storage-format.md).
inline constexpr int64_t kMaxAuditTimeMicros = 253402300799999999;

// A principal name: [a-z0-9][a-z0-9._-]{0,62} (auth/authorizer.h).
bool IsPrincipalName(std::string_view name);
// A node id as engines make them: a UUID in canonical lowercase form
// (8-4-4-4-12 hex digits).
bool IsNodeId(std::string_view id);

// OK for an unknown audit (every field empty or 0) and for a known one whose
// author is a principal name, origin_node a node id and create time in
// (0, kMaxAuditTimeMicros]. INVALID_ARGUMENT otherwise, the message starting
// with `what` (the revision) and naming the field ("author",
// "origin_node", "create_time").
absl::Status ValidateAudit(const storage::RevisionAudit& audit, std::string_view what);

// True if a node that holds `b` for a revision and learns `a` for the same
// revision keeps `a`: `a` is known, and `b` is unknown or has the larger
// (create_time, origin_node, author) tuple. A strict total order on known
// audits (unknown last), so nodes that exchange what they hold all keep the
// smallest, whatever the order they learn them in: the earliest making of
// the revision.
bool AuditPrecedes(const storage::RevisionAudit& a, const storage::RevisionAudit& b);

}  // namespace recondb::engine::internal

#endif  // RECONDB_ENGINE_INTERNAL_AUDIT_H_
