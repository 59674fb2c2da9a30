#include "engine/internal/local_revision.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "engine/internal/records.h"
#include "engine/revision.h"

namespace recondb::engine::internal {

absl::StatusOr<storage::StoredRevision> MakeLocalRevision(
    const v1::Table& table, std::string_view id, const storage::StoredRevision* parent,
    bool deleted, storage::Attributes attributes, int64_t max_record_bytes,
    const storage::RevisionAudit& audit) {
  storage::StoredRevision rev;
  rev.audit = audit;
  rev.id = std::string(id);
  rev.parent = parent != nullptr ? parent->revision : std::string();
  rev.generation = parent != nullptr ? parent->generation + 1 : 1;
  rev.deleted = deleted;
  rev.attributes = std::move(attributes);
  const RevisionContent content{table.name(), id, rev.parent, deleted, &rev.attributes};
  const std::string encoding = CanonicalEncoding(content);
  if (static_cast<int64_t>(encoding.size()) > max_record_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat(RecordName(table.name(), id), " is ", encoding.size(),
                     " bytes encoded; the limit is ", max_record_bytes));
  }
  rev.revision = ComputeRevision(rev.generation, content);
  return rev;
}

absl::StatusOr<storage::StoredRevision> InsertLocalRevision(
    storage::WriteTransaction& txn, const v1::Table& table, std::string_view id,
    const storage::StoredRevision* parent, bool deleted, storage::Attributes attributes,
    int64_t max_record_bytes, const storage::RevisionAudit& audit) {
  ASSIGN_OR_RETURN(storage::StoredRevision rev,
                   MakeLocalRevision(table, id, parent, deleted, std::move(attributes),
                                     max_record_bytes, audit));
  RETURN_IF_ERROR(txn.InsertRevision(table, rev));
  return rev;
}

absl::StatusOr<storage::StoredRevision> InsertReviewedClose(storage::WriteTransaction& txn,
                                                            const v1::Table& table,
                                                            const storage::StoredRevision& leaf,
                                                            int64_t max_record_bytes,
                                                            const storage::RevisionAudit& audit) {
  ASSIGN_OR_RETURN(storage::StoredRevision tombstone,
                   InsertLocalRevision(txn, table, leaf.id, &leaf, /*deleted=*/true,
                                       storage::Attributes(), max_record_bytes, audit));
  if (leaf.deleted) return tombstone;  // T' acknowledges T.
  return InsertLocalRevision(txn, table, leaf.id, &tombstone, /*deleted=*/true,
                             storage::Attributes(), max_record_bytes, audit);
}

}  // namespace recondb::engine::internal
