// Local writes: create, update (optimistic concurrency on a leaf), delete.
// The writes that review a delete (the dismissal of a conflict, a
// recreation) extend tombstones as engine/DESIGN.md "Deleted conflicts"
// says.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "engine/engine.h"
#include "engine/internal/audit.h"
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

std::string RecordName(const v1::Table& table, std::string_view id) {
  return internal::RecordName(table.name(), id);
}

const StoredRevision* Find(const std::vector<StoredRevision>& leaves, std::string_view revision) {
  for (const auto& leaf : leaves) {
    if (leaf.revision == revision) return &leaf;
  }
  return nullptr;
}

bool AllDeleted(const std::vector<StoredRevision>& leaves) {
  for (const auto& leaf : leaves) {
    if (!leaf.deleted) return false;
  }
  return true;
}

std::string WinnerOf(std::vector<StoredRevision> leaves) {
  internal::SortByPrecedence(leaves);
  return leaves.empty() ? std::string() : leaves.front().revision;
}

// The leaf a write with `revision` (non-empty) extends. NOT_FOUND when the
// record or revision is unknown; ABORTED when the revision is stale (not a
// leaf, or a deleted leaf of a record that still lives).
absl::StatusOr<const StoredRevision*> FindParentLeaf(storage::ReadTransaction& txn,
                                                     const v1::Table& table, std::string_view id,
                                                     std::string_view revision,
                                                     const std::vector<StoredRevision>& leaves) {
  RETURN_IF_ERROR(ParseRevision(revision).status());
  if (leaves.empty()) return absl::NotFoundError(absl::StrCat(RecordName(table, id), " does not exist"));
  const StoredRevision* leaf = Find(leaves, revision);
  if (leaf != nullptr && (!leaf->deleted || AllDeleted(leaves))) return leaf;
  if (leaf == nullptr) {
    auto stored = txn.GetRevision(table, id, revision);
    if (absl::IsNotFound(stored.status())) {
      return absl::NotFoundError(
          absl::StrCat(RecordName(table, id), " has no revision \"", Sv(revision), "\""));
    }
    RETURN_IF_ERROR(stored.status());
  }
  return absl::AbortedError(absl::StrCat("revision \"", Sv(revision), "\" of ", RecordName(table, id),
                                         " is stale; the current revision is \"",
                                         WinnerOf(leaves), "\""));
}

}  // namespace

absl::StatusOr<storage::RevisionAudit> Engine::LocalAudit(std::string_view author) const {
  if (!internal::IsPrincipalName(author)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "author ", QuoteInput(author), " is not a principal name ([a-z0-9][a-z0-9._-]{0,62})"));
  }
  return storage::RevisionAudit{std::string(author), node_id_, options_.clock->NowMicros()};
}

absl::StatusOr<v1::Record> Engine::PutRecord(const v1::Record& record,
                                             const google::protobuf::FieldMask* mask,
                                             std::string_view author) {
  ASSIGN_OR_RETURN(const storage::RevisionAudit audit, LocalAudit(author));
  RETURN_IF_ERROR(internal::ValidateTableName(record.table()));
  if (record.deleted()) {
    return absl::InvalidArgumentError("record.deleted must be false; use DeleteRecord to delete");
  }
  RETURN_IF_ERROR(internal::CheckNoOutputOnlyFields(record));
  const bool create = record.revision().empty();
  std::string id = record.id();
  if (id.empty()) {
    if (!create) return absl::InvalidArgumentError("record.id is required with record.revision");
    id = NewUuidV7(options_.clock->NowMicros() / 1000);
  }
  RETURN_IF_ERROR(internal::ValidateRecordId(record.table(), id));
  if (!create) RETURN_IF_ERROR(ParseRevision(record.revision()).status());

  ASSIGN_OR_RETURN(auto txn, options_.storage->BeginWrite());
  ASSIGN_OR_RETURN(auto table, FindTable(txn.get(), record.table()));
  ASSIGN_OR_RETURN(std::vector<StoredRevision> leaves, txn->GetLeaves(*table, id));
  const StoredRevision* parent = nullptr;
  std::vector<StoredRevision> acknowledged;
  if (create) {
    if (!AllDeleted(leaves)) {
      return absl::AlreadyExistsError(absl::StrCat(RecordName(*table, id),
                                                   " already exists at revision \"",
                                                   WinnerOf(leaves), "\""));
    }
    if (!leaves.empty()) {  // Recreation: a child of the winning tombstone.
      internal::SortByPrecedence(leaves);
      parent = &leaves.front();
    }
  } else {
    ASSIGN_OR_RETURN(parent, FindParentLeaf(*txn, *table, id, record.revision(), leaves));
  }
  if (parent != nullptr && parent->deleted) {
    // A recreation (by create, or by giving a tombstone of the deleted
    // record): the other deletes of the old life are acknowledged, so that
    // none shows up as a deleted conflict of the new one.
    for (const StoredRevision& leaf : leaves) {
      if (leaf.revision == parent->revision) continue;
      ASSIGN_OR_RETURN(const bool unreviewed, internal::IsUnreviewedDelete(*txn, *table, leaf));
      if (unreviewed) acknowledged.push_back(leaf);
    }
  }
  const storage::Attributes* base = parent != nullptr && !parent->deleted ? &parent->attributes : nullptr;
  ASSIGN_OR_RETURN(storage::Attributes attributes,
                   internal::BuildAttributes(*table, record.attributes(), mask, base));
  return WriteLocalRevision(std::move(txn), audit, *table, id, parent, std::move(leaves),
                            /*deleted=*/false, std::move(attributes), /*acknowledge=*/false,
                            std::move(acknowledged));
}

absl::StatusOr<v1::Record> Engine::DeleteRecord(const v1::DeleteRecordRequest& request,
                                                std::string_view author) {
  ASSIGN_OR_RETURN(const storage::RevisionAudit audit, LocalAudit(author));
  RETURN_IF_ERROR(internal::ValidateTableName(request.table()));
  RETURN_IF_ERROR(internal::ValidateRecordId(request.table(), request.id()));
  if (!request.revision().empty()) RETURN_IF_ERROR(ParseRevision(request.revision()).status());

  ASSIGN_OR_RETURN(auto txn, options_.storage->BeginWrite());
  ASSIGN_OR_RETURN(auto table, FindTable(txn.get(), request.table()));
  ASSIGN_OR_RETURN(std::vector<StoredRevision> leaves, txn->GetLeaves(*table, request.id()));
  if (leaves.empty()) {
    return absl::NotFoundError(absl::StrCat(RecordName(*table, request.id()), " does not exist"));
  }
  if (AllDeleted(leaves)) {
    return absl::NotFoundError(absl::StrCat(RecordName(*table, request.id()),
                                            " is already deleted (revision \"",
                                            WinnerOf(leaves), "\")"));
  }
  const StoredRevision* parent = nullptr;
  if (request.revision().empty()) {
    internal::SortByPrecedence(leaves);
    parent = &leaves.front();
  } else {
    ASSIGN_OR_RETURN(parent,
                     FindParentLeaf(*txn, *table, request.id(), request.revision(), leaves));
  }
  // Deleting a live leaf that is not the winner dismisses that conflict: a
  // review, so the tombstone is acknowledged at once and not reported as a
  // deleted conflict. Deleting the winner is a real delete: if another live
  // leaf then wins, the tombstone is rightly a deleted conflict.
  const bool dismissal = parent->revision != WinnerOf(leaves);
  return WriteLocalRevision(std::move(txn), audit, *table, request.id(), parent,
                            std::move(leaves),
                            /*deleted=*/true, storage::Attributes(), dismissal);
}

absl::StatusOr<v1::Record> Engine::WriteLocalRevision(
    std::unique_ptr<storage::WriteTransaction> txn, const storage::RevisionAudit& audit,
    const v1::Table& table, std::string_view id,
    const StoredRevision* parent, std::vector<StoredRevision> leaves, bool deleted,
    storage::Attributes attributes, bool acknowledge, std::vector<StoredRevision> close) {
  // Replaces leaf `old_revision` by its new descendant `leaf`.
  auto replace_leaf = [&leaves](const std::string& old_revision, const StoredRevision& leaf) {
    leaves.erase(
        std::remove_if(leaves.begin(), leaves.end(),
                       [&](const StoredRevision& l) { return l.revision == old_revision; }),
        leaves.end());
    leaves.push_back(leaf);
  };
  // `parent` points into `leaves`: copied before they change.
  const std::string parent_revision = parent != nullptr ? parent->revision : std::string();
  ASSIGN_OR_RETURN(StoredRevision rev,
                   internal::InsertLocalRevision(*txn, table, id, parent, deleted,
                                                 std::move(attributes), options_.max_record_bytes,
                                                 audit));
  if (acknowledge && deleted) {
    ASSIGN_OR_RETURN(
        rev, internal::InsertLocalRevision(*txn, table, id, &rev, /*deleted=*/true,
                                           storage::Attributes(), options_.max_record_bytes,
                                           audit));
  }
  replace_leaf(parent_revision, rev);
  for (const StoredRevision& leaf : close) {
    ASSIGN_OR_RETURN(const StoredRevision closed,
                     internal::InsertReviewedClose(*txn, table, leaf, options_.max_record_bytes,
                                                   audit));
    replace_leaf(leaf.revision, closed);
  }
  ASSIGN_OR_RETURN(const Published published, PublishWinner(*txn, table, id, std::move(leaves)));
  RETURN_IF_ERROR(CommitAndNotify(std::move(txn), published.seq));
  v1::Record result = internal::ToRecord(table.name(), id, rev);
  result.set_conflicted(published.conflicted);
  return result;
}

}  // namespace recondb::engine
