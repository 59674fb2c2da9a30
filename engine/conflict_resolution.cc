// Conflict resolution: one local write that extends the winner with the
// merged value and tombstones every other live leaf, so that the record has
// one live leaf again. Every revision it makes is an ordinary local revision
// (internal::MakeLocalRevision): two nodes that resolve the same conflict
// the same way make the same revisions, which replication then recognises by
// id alone.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "engine/engine.h"
#include "engine/internal/attributes.h"
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
absl::Status CheckResolution(const v1::Record& record) {
  RETURN_IF_ERROR(internal::ValidateTableName(record.table()));
  if (record.id().empty()) return absl::InvalidArgumentError("record.id is required");
  RETURN_IF_ERROR(internal::ValidateRecordId(record.table(), record.id()));
  if (record.revision().empty()) {
    return absl::InvalidArgumentError(
        "record.revision is required: the winner being resolved, as read with "
        "GetRecord include_conflicts");
  }
  RETURN_IF_ERROR(ParseRevision(record.revision()).status());
  if (record.deleted()) {
    return absl::InvalidArgumentError(
        "record.deleted must be false; a resolution keeps the record (use DeleteRecord to "
        "delete it)");
  }
  if (record.conflicts_size() > 0 || record.conflict_records_size() > 0) {
    return absl::InvalidArgumentError(
        "record.conflicts and record.conflict_records are output only and must be empty");
  }
  return absl::OkStatus();
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
                                                   const google::protobuf::FieldMask* mask) {
  RETURN_IF_ERROR(CheckResolution(record));
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

  const StoredRevision& winner = leaves.front();
  ASSIGN_OR_RETURN(
      storage::Attributes attributes,
      internal::BuildAttributes(*table, record.attributes(), mask, &winner.attributes));
  ASSIGN_OR_RETURN(StoredRevision merged,
                   internal::MakeLocalRevision(*table, id, &winner, /*deleted=*/false,
                                               std::move(attributes), options_.max_record_bytes));
  RETURN_IF_ERROR(txn->InsertRevision(*table, merged));
  // The leaves after the write: the merged revision, the tombstones of the
  // losers (best first), and the deleted leaves that were there already.
  std::vector<StoredRevision> after = {merged};
  int tombstones = 0;
  for (size_t i = 1; i < leaves.size(); ++i) {
    if (leaves[i].deleted) {
      after.push_back(std::move(leaves[i]));
      continue;
    }
    ASSIGN_OR_RETURN(StoredRevision tombstone,
                     internal::MakeLocalRevision(*table, id, &leaves[i], /*deleted=*/true,
                                                 storage::Attributes(), options_.max_record_bytes));
    RETURN_IF_ERROR(txn->InsertRevision(*table, tombstone));
    after.push_back(std::move(tombstone));
    ++tombstones;
  }
  ASSIGN_OR_RETURN(int64_t seq, PublishWinner(*txn, *table, id, std::move(after)));
  RETURN_IF_ERROR(CommitAndNotify(std::move(txn), seq));
  options_.logger->debug("resolved {}: {} -> {}, {} losing leaves tombstoned", name,
                         record.revision(), merged.revision, tombstones);
  return internal::ToRecord(table->name(), id, merged);
}

}  // namespace recondb::engine
