// Local writes: create, update (optimistic concurrency on a leaf), delete.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
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

absl::StatusOr<v1::Record> Engine::PutRecord(const v1::Record& record,
                                             const google::protobuf::FieldMask* mask) {
  RETURN_IF_ERROR(internal::ValidateTableName(record.table()));
  if (record.deleted()) {
    return absl::InvalidArgumentError("record.deleted must be false; use DeleteRecord to delete");
  }
  if (record.conflicts_size() > 0 || record.conflict_records_size() > 0) {
    return absl::InvalidArgumentError(
        "record.conflicts and record.conflict_records are output only and must be empty");
  }
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
  const storage::Attributes* base = parent != nullptr && !parent->deleted ? &parent->attributes : nullptr;
  ASSIGN_OR_RETURN(storage::Attributes attributes,
                   internal::BuildAttributes(*table, record.attributes(), mask, base));
  return WriteLocalRevision(std::move(txn), *table, id, parent, std::move(leaves),
                            /*deleted=*/false, std::move(attributes));
}

absl::StatusOr<v1::Record> Engine::DeleteRecord(const v1::DeleteRecordRequest& request) {
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
  return WriteLocalRevision(std::move(txn), *table, request.id(), parent, std::move(leaves),
                            /*deleted=*/true, storage::Attributes());
}

absl::StatusOr<v1::Record> Engine::WriteLocalRevision(
    std::unique_ptr<storage::WriteTransaction> txn, const v1::Table& table, std::string_view id,
    const StoredRevision* parent, std::vector<StoredRevision> leaves, bool deleted,
    storage::Attributes attributes) {
  ASSIGN_OR_RETURN(StoredRevision rev,
                   internal::MakeLocalRevision(table, id, parent, deleted, std::move(attributes),
                                               options_.max_record_bytes));
  RETURN_IF_ERROR(txn->InsertRevision(table, rev));

  // The parent stops being a leaf; the new revision is one.
  if (parent != nullptr) {
    const std::string parent_revision = parent->revision;  // `parent` points into `leaves`.
    leaves.erase(std::remove_if(leaves.begin(), leaves.end(),
                                [&](const StoredRevision& l) { return l.revision == parent_revision; }),
                 leaves.end());
  }
  leaves.push_back(rev);
  ASSIGN_OR_RETURN(int64_t seq, PublishWinner(*txn, table, id, std::move(leaves)));
  RETURN_IF_ERROR(CommitAndNotify(std::move(txn), seq));
  return internal::ToRecord(table.name(), id, rev);
}

}  // namespace recondb::engine
