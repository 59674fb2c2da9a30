// The one way a node makes a new revision of its own: the id is computed
// from the content (docs/revision-encoding.md), so that the same write of the
// same parent is the same revision on every node.
#ifndef RECONDB_ENGINE_INTERNAL_LOCAL_REVISION_H_
#define RECONDB_ENGINE_INTERNAL_LOCAL_REVISION_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "recondb/v1/types.pb.h"
#include "storage/storage.h"

namespace recondb::engine::internal {

// The revision of record `id` of `table` that is a child of `parent` (null:
// a first revision), a tombstone when `deleted` (then `attributes` must be
// empty), with id, parent, generation and `audit` set; not stored.
// RESOURCE_EXHAUSTED (naming the record) when its canonical encoding exceeds
// `max_record_bytes`.
absl::StatusOr<storage::StoredRevision> MakeLocalRevision(
    const v1::Table& table, std::string_view id, const storage::StoredRevision* parent,
    bool deleted, storage::Attributes attributes, int64_t max_record_bytes,
    const storage::RevisionAudit& audit);

// MakeLocalRevision, then inserts the revision through `txn`. Returns it.
absl::StatusOr<storage::StoredRevision> InsertLocalRevision(
    storage::WriteTransaction& txn, const v1::Table& table, std::string_view id,
    const storage::StoredRevision* parent, bool deleted, storage::Attributes attributes,
    int64_t max_record_bytes, const storage::RevisionAudit& audit);

// Closes the leaf `leaf` as reviewed (engine/DESIGN.md "Deleted conflicts"):
// a live leaf L gets a tombstone L' and L' its acknowledgement L'' (a
// tombstone of a tombstone), so a discarded branch is not reported as a
// deleted conflict; a tombstone T gets its acknowledgement T'. Inserts them
// through `txn` (each with `audit`) and returns the new leaf (L'' or T').
absl::StatusOr<storage::StoredRevision> InsertReviewedClose(storage::WriteTransaction& txn,
                                                            const v1::Table& table,
                                                            const storage::StoredRevision& leaf,
                                                            int64_t max_record_bytes,
                                                            const storage::RevisionAudit& audit);

}  // namespace recondb::engine::internal

#endif  // RECONDB_ENGINE_INTERNAL_LOCAL_REVISION_H_
