// Conflict resolution: one local write that extends the winner with the
// merged value (or, choosing the delete, closes it too) and closes every
// other conflict as reviewed (internal::InsertReviewedClose: a live leaf
// gets a tombstone and its acknowledgement, an unreviewed delete its
// acknowledgement), so that the record has at most one live leaf and no
// deleted conflict. Every revision it makes is an ordinary local revision
// (internal::MakeLocalRevision): two nodes that resolve the same conflict
// the same way make the same revisions, which replication then recognises by
// id alone.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "engine/engine.h"
#include "engine/internal/attributes.h"
#include "engine/internal/conflicts.h"
#include "engine/internal/local_revision.h"
#include "engine/internal/records.h"
#include "engine/internal/validation.h"
#include "engine/internal/winner.h"
#include "engine/revision.h"

namespace recondb::engine {
namespace {

using storage::StoredRevision;

// The checks of a resolution that need no storage: INVALID_ARGUMENT naming
// the field at fault.
absl::Status CheckResolution(const v1::Record& record, const google::protobuf::FieldMask* mask) {
  RETURN_IF_ERROR(internal::ValidateTableName(record.table()));
  if (record.id().empty()) return absl::InvalidArgumentError("record.id is required");
  RETURN_IF_ERROR(internal::ValidateRecordId(record.table(), record.id()));
  if (record.revision().empty()) {
    return absl::InvalidArgumentError(
        "record.revision is required: the winner being resolved, as read with "
        "GetRecord include_conflicts");
  }
  RETURN_IF_ERROR(ParseRevision(record.revision()).status());
  if (record.deleted()) {  // Choosing the delete: there is no merged value.
    if (!record.attributes().empty()) {
      return absl::InvalidArgumentError(
          "record.attributes must be empty when record.deleted is true (the resolution "
          "chooses the delete)");
    }
    if (mask != nullptr && mask->paths_size() > 0) {
      return absl::InvalidArgumentError(
          "update_mask must be empty when record.deleted is true (the resolution chooses the "
          "delete)");
    }
  }
  return internal::CheckNoOutputOnlyFields(record);
}

// OK when `revision` is the winner of `sorted` (the record's leaves, best
// first, not all deleted). NOT_FOUND when the record has no such revision;
// ABORTED, naming the current winner, when it is any other revision.
absl::Status CheckWinner(storage::ReadTransaction& txn, const v1::Table& table, std::string_view id,
                         std::string_view revision, const std::vector<StoredRevision>& sorted) {
  const std::string& winner = sorted.front().revision;
  if (winner == revision) return absl::OkStatus();
  const std::string name = internal::RecordName(table.name(), id);
  auto stored = txn.GetRevision(table, id, revision);
  if (absl::IsNotFound(stored.status())) {
    return absl::NotFoundError(absl::StrCat(name, " has no revision \"", Sv(revision), "\""));
  }
  RETURN_IF_ERROR(stored.status());
  return absl::AbortedError(absl::StrCat("revision \"", Sv(revision), "\" of ", name,
                                         " is not the current winner; the current revision is \"",
                                         winner, "\" (read the conflicts again and retry)"));
}

}  // namespace

absl::StatusOr<v1::Record> Engine::ResolveConflict(const v1::Record& record,
                                                   const google::protobuf::FieldMask* mask,
                                                   std::string_view author) {
  RETURN_IF_ERROR(CheckResolution(record, mask));
  ASSIGN_OR_RETURN(const storage::RevisionAudit audit, LocalAudit(author));
  const std::string& id = record.id();
  ASSIGN_OR_RETURN(auto txn, options_.storage->BeginWrite());
  ASSIGN_OR_RETURN(auto table, FindTable(txn.get(), record.table()));
  const std::string name = internal::RecordName(table->name(), id);
  ASSIGN_OR_RETURN(std::vector<StoredRevision> leaves, txn->GetLeaves(*table, id));
  if (leaves.empty()) return absl::NotFoundError(absl::StrCat(name, " does not exist"));
  internal::SortByPrecedence(leaves);
  if (leaves.front().deleted) {  // Every leaf is deleted: nothing to resolve.
    return absl::NotFoundError(
        absl::StrCat(name, " is deleted (revision \"", leaves.front().revision, "\")"));
  }
  RETURN_IF_ERROR(CheckWinner(*txn, *table, id, record.revision(), leaves));
  ASSIGN_OR_RETURN(const internal::LeafConflicts conflicts,
                   internal::FindConflicts(*txn, *table, leaves));

  const StoredRevision& winner = leaves.front();
  // The leaves after the write: the new winner (the merged revision, or
  // the acknowledged tombstone of the winner), the closed conflicts of
  // both kinds, and the acknowledged tombstones that were there already.
  std::vector<StoredRevision> after;
  if (record.deleted()) {
    ASSIGN_OR_RETURN(StoredRevision closed,
                     internal::InsertReviewedClose(*txn, *table, winner,
                                                   options_.max_record_bytes, audit));
    after.push_back(std::move(closed));
  } else {
    ASSIGN_OR_RETURN(
        storage::Attributes attributes,
        internal::BuildAttributes(*table, record.attributes(), mask, &winner.attributes));
    ASSIGN_OR_RETURN(StoredRevision merged, internal::InsertLocalRevision(
                                                *txn, *table, id, &winner, /*deleted=*/false,
                                                std::move(attributes), options_.max_record_bytes,
                                                audit));
    after.push_back(std::move(merged));
  }
  v1::Record result = internal::ToRecord(table->name(), id, after.front());
  std::set<std::string> closed_revisions = {winner.revision};
  for (const auto* kind : {&conflicts.live, &conflicts.deleted}) {
    for (const StoredRevision& leaf : *kind) {
      ASSIGN_OR_RETURN(StoredRevision closed,
                       internal::InsertReviewedClose(*txn, *table, leaf,
                                                     options_.max_record_bytes, audit));
      after.push_back(std::move(closed));
      closed_revisions.insert(leaf.revision);
    }
  }
  for (StoredRevision& leaf : leaves) {
    if (closed_revisions.count(leaf.revision) == 0) after.push_back(std::move(leaf));
  }
  ASSIGN_OR_RETURN(const Published published, PublishWinner(*txn, *table, id, std::move(after)));
  RETURN_IF_ERROR(CommitAndNotify(std::move(txn), published.seq));
  result.set_conflicted(published.conflicted);  // False: nothing is left unreviewed.
  options_.logger->debug("resolved {}: {} -> {} ({}), {} conflicts and {} deleted conflicts closed",
                         name, record.revision(), result.revision(),
                         record.deleted() ? "deleted" : "kept", conflicts.live.size(),
                         conflicts.deleted.size());
  return result;
}

}  // namespace recondb::engine
