// Conversions between the wire messages of replication.proto and the
// engine's replication types, with the checks a message from a peer needs.
#ifndef RECONDB_RECONCILER_INTERNAL_WIRE_H_
#define RECONDB_RECONCILER_INTERNAL_WIRE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "recondb/v1/replication.pb.h"

namespace recondb::reconciler::internal {

// `with_audit` (protocol version 3 on): the audit fields travel; without,
// they are neither sent nor read (a version 2 peer sends none).
v1::RecordSummary ToWire(const engine::ChangedRecord& record, bool with_audit);
engine::ChangedRecord FromWire(const v1::RecordSummary& record, bool with_audit);

v1::RecordWant ToWire(const engine::RevisionWant& want);
engine::RevisionWant FromWire(const v1::RecordWant& want);

v1::RevisionBody ToWire(const engine::ForeignRevision& revision, bool with_audit);
// INVALID_ARGUMENT if the revision id does not parse (the generation comes
// from it); the engine checks everything else.
absl::StatusOr<engine::ForeignRevision> FromWire(const v1::RevisionBody& body, bool with_audit);

}  // namespace recondb::reconciler::internal

#endif  // RECONDB_RECONCILER_INTERNAL_WIRE_H_
