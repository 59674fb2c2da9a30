// What a record's leaves say about its conflicts: the live leaves that lost
// (conflicts) and the deletes that lost to a live edit and were not reviewed
// (deleted conflicts). The rule is engine/DESIGN.md "Deleted conflicts":
// a tombstone whose parent is live, or that has no parent, is an unreviewed
// delete; a tombstone whose parent is a tombstone acknowledges it. Writes
// that review a delete extend it with such a tombstone child.
#ifndef RECONDB_ENGINE_INTERNAL_CONFLICTS_H_
#define RECONDB_ENGINE_INTERNAL_CONFLICTS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "recondb/v1/types.pb.h"
#include "storage/storage.h"

namespace recondb::engine::internal {

// True when `rev` (of record rev.id of `table`) is a tombstone whose parent
// is not a stored tombstone: no parent, a live parent (stubs included: a
// stub knows its deleted flag), or a parent this node does not have.
// False for a live revision. Reads the parent through `txn`.
absl::StatusOr<bool> IsUnreviewedDelete(storage::ReadTransaction& txn, const v1::Table& table,
                                        const storage::StoredRevision& rev);

// The conflicts of a record whose leaves are `sorted` (every leaf, best
// first by internal::SortByPrecedence, not empty).
struct LeafConflicts {
  std::vector<storage::StoredRevision> live;     // Live leaves but the winner.
  std::vector<storage::StoredRevision> deleted;  // Unreviewed tombstone leaves.
  // The record is live and has a conflict of either kind.
  bool conflicted() const { return !live.empty() || !deleted.empty(); }
};

// Both kinds, best first; both empty when the winner is a tombstone (a
// deleted record reports nothing).
absl::StatusOr<LeafConflicts> FindConflicts(storage::ReadTransaction& txn, const v1::Table& table,
                                            const std::vector<storage::StoredRevision>& sorted);

}  // namespace recondb::engine::internal

#endif  // RECONDB_ENGINE_INTERNAL_CONFLICTS_H_
