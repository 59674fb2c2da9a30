#include "engine/internal/conflicts.h"

#include "common/status_macros.h"

namespace recondb::engine::internal {

absl::StatusOr<bool> IsUnreviewedDelete(storage::ReadTransaction& txn, const v1::Table& table,
                                        const storage::StoredRevision& rev) {
  if (!rev.deleted) return false;
  if (rev.parent.empty()) return true;
  auto parent = txn.GetRevision(table, rev.id, rev.parent);
  // An unknown parent (which grafting never leaves) counts as live: an
  // unexplained delete is shown, never hidden.
  if (absl::IsNotFound(parent.status())) return true;
  RETURN_IF_ERROR(parent.status());
  return !parent->deleted;
}

absl::StatusOr<LeafConflicts> FindConflicts(storage::ReadTransaction& txn, const v1::Table& table,
                                            const std::vector<storage::StoredRevision>& sorted) {
  LeafConflicts out;
  if (sorted.empty() || sorted.front().deleted) return out;
  for (size_t i = 1; i < sorted.size(); ++i) {
    const storage::StoredRevision& leaf = sorted[i];
    if (!leaf.deleted) {
      out.live.push_back(leaf);
      continue;
    }
    ASSIGN_OR_RETURN(const bool unreviewed, IsUnreviewedDelete(txn, table, leaf));
    if (unreviewed) out.deleted.push_back(leaf);
  }
  return out;
}

}  // namespace recondb::engine::internal
