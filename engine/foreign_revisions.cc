// Grafting revisions made by other nodes: checked, never re-hashed or
// re-numbered, so that applying them is idempotent and order-independent.
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "engine/engine.h"
#include "engine/internal/attributes.h"
#include "engine/internal/meta_keys.h"
#include "engine/internal/records.h"
#include "engine/internal/validation.h"
#include "engine/revision.h"

namespace recondb::engine {
namespace {

using storage::StoredRevision;

// Checks one revision on its own: ids, revision syntax, parent linkage,
// content against the table and the hash against the content.
absl::Status CheckForeignRevision(const v1::Table& table, const StoredRevision& rev,
                                  int64_t max_record_bytes) {
  RETURN_IF_ERROR(internal::ValidateRecordId(table.name(), rev.id));
  const std::string name =
      absl::StrCat("revision \"", rev.revision, "\" of ", internal::RecordName(table.name(), rev.id));
  ASSIGN_OR_RETURN(RevisionId parsed, ParseRevision(rev.revision));
  if (parsed.generation != rev.generation) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": generation ", rev.generation,
                                                   " does not match its id"));
  }
  if (rev.generation == 1) {
    if (!rev.parent.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": a first revision has no parent"));
    }
  } else {
    ASSIGN_OR_RETURN(RevisionId parent, ParseRevision(rev.parent));
    if (parent.generation != rev.generation - 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": parent \"", rev.parent, "\" is not of the previous generation"));
    }
  }
  if (rev.deleted) {
    if (!rev.attributes.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": a tombstone has no attributes"));
    }
  } else {
    RETURN_IF_ERROR(internal::CheckCompleteAttributes(table, rev.id, rev.attributes));
  }
  const RevisionContent content{table.name(), rev.id, rev.parent, rev.deleted, &rev.attributes};
  if (static_cast<int64_t>(CanonicalEncoding(content).size()) > max_record_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(name, " is over the record size limit"));
  }
  if (ComputeRevision(rev.generation, content) != rev.revision) {
    return absl::InvalidArgumentError(absl::StrCat(name, " does not match its content (hash)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int64_t> Engine::ApplyForeignRevisions(const std::vector<ForeignRevision>& revisions) {
  return ApplyForeignRevisions(revisions, nullptr);
}

absl::StatusOr<int64_t> Engine::ApplyForeignRevisions(const std::vector<ForeignRevision>& revisions,
                                                      const Checkpoint* checkpoint) {
  // Deduplicate and order so that parents come before children.
  using Key = std::tuple<std::string, std::string, int64_t, std::string>;
  std::map<Key, const ForeignRevision*> ordered;
  for (const ForeignRevision& f : revisions) {
    ordered.emplace(Key{f.table, f.rev.id, f.rev.generation, f.rev.revision}, &f);
  }
  ASSIGN_OR_RETURN(auto txn, options_.storage->BeginWrite());
  for (const auto& [key, f] : ordered) {
    RETURN_IF_ERROR(internal::ValidateTableName(f->table));
    ASSIGN_OR_RETURN(auto table, FindTable(txn.get(), f->table));
    RETURN_IF_ERROR(CheckForeignRevision(*table, f->rev, options_.max_record_bytes));
  }
  int64_t inserted = 0;
  int64_t last_seq = 0;
  std::set<std::pair<std::string, std::string>> touched;
  for (const auto& [key, f] : ordered) {
    ASSIGN_OR_RETURN(auto table, FindTable(txn.get(), f->table));
    const StoredRevision& rev = f->rev;
    if (!rev.parent.empty()) {
      auto parent = txn->GetRevision(*table, rev.id, rev.parent);
      if (absl::IsNotFound(parent.status())) {
        return absl::NotFoundError(absl::StrCat(
            "parent \"", rev.parent, "\" of revision \"", rev.revision, "\" of ",
            internal::RecordName(table->name(), rev.id), " is unknown and not in the batch"));
      }
      RETURN_IF_ERROR(parent.status());
    }
    absl::Status status = txn->InsertRevision(*table, rev);
    if (absl::IsAlreadyExists(status)) continue;  // Already grafted: idempotent.
    RETURN_IF_ERROR(status);
    ++inserted;
    touched.emplace(f->table, rev.id);
  }
  for (const auto& [table_name, id] : touched) {
    ASSIGN_OR_RETURN(auto table, FindTable(txn.get(), table_name));
    ASSIGN_OR_RETURN(auto leaves, txn->GetLeaves(*table, id));
    ASSIGN_OR_RETURN(last_seq, PublishWinner(*txn, *table, id, std::move(leaves)));
  }
  if (checkpoint != nullptr) {
    RETURN_IF_ERROR(txn->SetMeta(internal::CheckpointMetaKey(checkpoint->key),
                                 absl::StrCat(checkpoint->seq)));
  }
  RETURN_IF_ERROR(CommitAndNotify(std::move(txn), last_seq));
  return inserted;
}

}  // namespace recondb::engine
