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
#include "engine/internal/audit.h"
#include "engine/internal/meta_keys.h"
#include "engine/internal/records.h"
#include "engine/internal/validation.h"
#include "engine/revision.h"

namespace recondb::engine {
namespace {

using storage::StoredRevision;

std::string RevisionName(std::string_view table, const StoredRevision& rev) {
  return absl::StrCat("revision \"", rev.revision, "\" of ", internal::RecordName(table, rev.id));
}

// Checks one revision on its own: ids, revision syntax, parent linkage,
// content against the table and the hash against the content. A stub has
// no content, so only its ids and linkage can be checked. Returns the
// revision with its attributes normalized as a local write would store
// them (internal::NormalizeHeldAttributes): the hash is checked over those,
// so a revision is stored exactly as the content its id names.
absl::StatusOr<StoredRevision> CheckForeignRevision(const v1::Table& table, StoredRevision rev,
                                                    int64_t max_record_bytes) {
  RETURN_IF_ERROR(internal::ValidateRecordId(table.name(), rev.id));
  const std::string name = RevisionName(table.name(), rev);
  ASSIGN_OR_RETURN(RevisionId parsed, ParseRevision(rev.revision));
  RETURN_IF_ERROR(internal::ValidateAudit(rev.audit, name));
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
  if (rev.stub) {
    if (!rev.attributes.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": a stub has no attributes"));
    }
    return rev;
  }
  if (rev.deleted) {
    if (!rev.attributes.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": a tombstone has no attributes"));
    }
  } else {
    // The columns the table had when the revision was written: a prefix.
    ASSIGN_OR_RETURN(rev.attributes,
                     internal::NormalizeHeldAttributes(table, rev.id, rev.attributes));
  }
  const RevisionContent content{table.name(), rev.id, rev.parent, rev.deleted, &rev.attributes};
  if (static_cast<int64_t>(CanonicalEncoding(content).size()) > max_record_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(name, " is over the record size limit"));
  }
  if (ComputeRevision(rev.generation, content) != rev.revision) {
    return absl::InvalidArgumentError(absl::StrCat(name, " does not match its content (hash)"));
  }
  return rev;
}

// Whether `a` and `b`, two copies of one revision (same table, record and
// revision id, both checked), say the same: the same place in the tree
// (parent, deleted) and, when both have a body, the same content, compared
// by its canonical encoding (exact value bytes). A stub says nothing of the
// content, so a stub agrees with a body that has its parent and deleted flag.
bool Agree(std::string_view table, const StoredRevision& a, const StoredRevision& b) {
  if (a.parent != b.parent || a.deleted != b.deleted) return false;
  if (a.stub || b.stub) return true;
  return CanonicalEncoding({table, a.id, a.parent, a.deleted, &a.attributes}) ==
         CanonicalEncoding({table, b.id, b.parent, b.deleted, &b.attributes});
}

// When `rev` (checked) brings the content of `stored`, a stub, replaces the
// stub by it; true if it did. The content must agree with what the stub
// said of its place in the tree (parent, deleted): the stub's claims were
// not checkable, the content's hash is, so a disagreement means the stub
// was false, and the batch is refused rather than the tree re-linked.
absl::StatusOr<bool> FillStubIfBody(storage::WriteTransaction& txn, const v1::Table& table,
                                    const StoredRevision& stored, const StoredRevision& rev) {
  if (!stored.stub || rev.stub) return false;
  if (stored.parent != rev.parent || stored.deleted != rev.deleted) {
    return absl::InvalidArgumentError(absl::StrCat(
        RevisionName(table.name(), rev), " is stored as a stub with parent \"", stored.parent, "\"",
        stored.deleted ? " (deleted)" : "", "; its content says parent \"", rev.parent, "\"",
        rev.deleted ? " (deleted)" : ""));
  }
  RETURN_IF_ERROR(txn.FillStub(table, rev));
  return true;
}

// `rev` (checked) is already stored as `stored`. OK if they agree (the
// graft is idempotent); INVALID_ARGUMENT otherwise: a revision id names one
// content, so a copy that differs from the stored one is forged (or the
// stored one is), and is never silently dropped.
absl::Status CheckAgainstStored(std::string_view table, const StoredRevision& stored,
                                const StoredRevision& rev) {
  if (Agree(table, stored, rev)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(RevisionName(table, rev), " differs from the stored revision with that id (",
                   stored.parent != rev.parent || stored.deleted != rev.deleted
                       ? absl::StrCat("stored with parent \"", stored.parent, "\"",
                                      stored.deleted ? " (deleted)" : "", ", sent with parent \"",
                                      rev.parent, "\"", rev.deleted ? " (deleted)" : "")
                       : std::string("different content"),
                   "): the batch is refused"));
}

// Keeps the audit rule for a revision already stored as `stored` that
// arrives again with `audit`: replaces the stored audit when `audit`
// precedes it. True if it did.
absl::StatusOr<bool> MergeAudit(storage::WriteTransaction& txn, const v1::Table& table,
                                const StoredRevision& stored,
                                const storage::RevisionAudit& audit) {
  if (!internal::AuditPrecedes(audit, stored.audit)) return false;
  RETURN_IF_ERROR(txn.SetRevisionAudit(table, stored.id, stored.revision, audit));
  return true;
}

}  // namespace

absl::StatusOr<int64_t> Engine::ApplyForeignRevisions(const std::vector<ForeignRevision>& revisions) {
  return ApplyForeignRevisions(revisions, nullptr);
}

absl::StatusOr<int64_t> Engine::ApplyForeignRevisions(const std::vector<ForeignRevision>& revisions,
                                                      const Checkpoint* checkpoint) {
  ASSIGN_OR_RETURN(auto txn, options_.storage->BeginWrite());
  // Every revision of the batch is checked, copies included, and kept in
  // its normalized form.
  std::vector<ForeignRevision> checked;  // Audits merged across copies below.
  checked.reserve(revisions.size());
  for (const ForeignRevision& f : revisions) {
    RETURN_IF_ERROR(internal::ValidateTableName(f.table));
    ASSIGN_OR_RETURN(auto table, FindTable(txn.get(), f.table));
    ASSIGN_OR_RETURN(StoredRevision rev,
                     CheckForeignRevision(*table, f.rev, options_.max_record_bytes));
    checked.push_back(ForeignRevision{f.table, std::move(rev)});
  }
  // Deduplicate (a body wins over a stub of the same revision) and order so
  // that parents come before children. Copies of one revision must agree:
  // two that differ refuse the batch, whichever comes first.
  using Key = std::tuple<std::string, std::string, int64_t, std::string>;
  std::map<Key, ForeignRevision*> ordered;
  // (table, id, parent) of every revision of the batch: a stub needs a child.
  std::set<std::tuple<std::string, std::string, std::string>> parents;
  for (ForeignRevision& f : checked) {
    auto [it, inserted] =
        ordered.emplace(Key{f.table, f.rev.id, f.rev.generation, f.rev.revision}, &f);
    if (!inserted) {
      if (!Agree(f.table, it->second->rev, f.rev)) {
        return absl::InvalidArgumentError(
            absl::StrCat(RevisionName(f.table, f.rev),
                         " is in the batch twice with different content: the batch is refused"));
      }
      // Copies may carry different audits: the batch keeps the first by
      // the rule, whichever copy is kept.
      storage::RevisionAudit audit = it->second->rev.audit;
      if (internal::AuditPrecedes(f.rev.audit, audit)) audit = f.rev.audit;
      if (it->second->rev.stub && !f.rev.stub) it->second = &f;
      it->second->rev.audit = std::move(audit);
    }
    if (!f.rev.parent.empty()) parents.emplace(f.table, f.rev.id, f.rev.parent);
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
    if (rev.stub && parents.count({f->table, rev.id, rev.revision}) == 0) {
      // A stub only stands for the ancestor of a revision, so it is never a
      // leaf. Without a child in the batch it is acceptable only if this
      // node has the revision already (then nothing changes).
      auto stored = txn->GetRevision(*table, rev.id, rev.revision);
      if (stored.ok()) {
        RETURN_IF_ERROR(CheckAgainstStored(table->name(), *stored, rev));
        ASSIGN_OR_RETURN(const bool merged, MergeAudit(*txn, *table, *stored, rev.audit));
        if (merged) touched.emplace(f->table, rev.id);
        continue;
      }
      if (!absl::IsNotFound(stored.status())) return stored.status();
      return absl::InvalidArgumentError(absl::StrCat(
          "stub revision \"", rev.revision, "\" of ", internal::RecordName(table->name(), rev.id),
          " has no child in the batch: a stub is sent only as the ancestor of a revision"));
    }
    absl::Status status = txn->InsertRevision(*table, rev);
    if (absl::IsAlreadyExists(status)) {
      // Already grafted: idempotent, unless a stub gets its content (whose
      // hash was checked); any other copy must agree with the stored one.
      ASSIGN_OR_RETURN(const StoredRevision stored, txn->GetRevision(*table, rev.id, rev.revision));
      ASSIGN_OR_RETURN(const bool filled, FillStubIfBody(*txn, *table, stored, rev));
      if (filled) {
        ++inserted;
      } else {
        RETURN_IF_ERROR(CheckAgainstStored(table->name(), stored, rev));
      }
      ASSIGN_OR_RETURN(const bool merged, MergeAudit(*txn, *table, stored, rev.audit));
      if (merged) touched.emplace(f->table, rev.id);
      continue;
    }
    RETURN_IF_ERROR(status);
    ++inserted;
    touched.emplace(f->table, rev.id);
  }
  for (const auto& [table_name, id] : touched) {
    ASSIGN_OR_RETURN(auto table, FindTable(txn.get(), table_name));
    ASSIGN_OR_RETURN(auto leaves, txn->GetLeaves(*table, id));
    ASSIGN_OR_RETURN(const Published published, PublishWinner(*txn, *table, id, std::move(leaves)));
    last_seq = published.seq;
  }
  if (checkpoint != nullptr) {
    RETURN_IF_ERROR(txn->SetMeta(internal::CheckpointMetaKey(checkpoint->key),
                                 internal::FormatCheckpoint(*checkpoint)));
  }
  RETURN_IF_ERROR(CommitAndNotify(std::move(txn), last_seq));
  return inserted;
}

}  // namespace recondb::engine
