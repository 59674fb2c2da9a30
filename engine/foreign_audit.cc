// The audit a peer holds for revisions this node has already: offered with
// the leaves of its summaries, and kept by the rule of internal/audit.h, so
// that nodes that made the same revision independently end with the same
// audit even though neither sends the other the revision itself.
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "engine/engine.h"
#include "engine/internal/audit.h"
#include "engine/internal/records.h"
#include "engine/internal/validation.h"
#include "engine/revision.h"

namespace recondb::engine {
namespace {

struct Candidate {
  std::string table;
  std::string id;
  std::string revision;
  storage::RevisionAudit audit;
  // False: the offered audit is worse than the stored one, which is offered
  // back instead (the record gets a feed entry).
  bool adopt = true;
};

}  // namespace

absl::StatusOr<int64_t> Engine::MergeForeignAudit(const std::vector<ChangedRecord>& offered) {
  // A read pass first: most summaries change no audit, and they must not
  // cost a write transaction each.
  std::vector<Candidate> candidates;
  {
    ASSIGN_OR_RETURN(SchemaRead read, BeginSchemaRead());
    for (const ChangedRecord& record : offered) {
      if (record.leaf_audits.empty()) continue;
      RETURN_IF_ERROR(internal::ValidateTableName(record.table));
      ASSIGN_OR_RETURN(auto table, read.Find(record.table));
      RETURN_IF_ERROR(internal::ValidateRecordId(record.table, record.id));
      const std::string name = internal::RecordName(record.table, record.id);
      if (record.leaf_audits.size() != record.leaves.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "summary of ", name, ": ", record.leaf_audits.size(), " leaf audits for ",
            record.leaves.size(), " leaves"));
      }
      for (size_t i = 0; i < record.leaves.size(); ++i) {
        const storage::RevisionAudit& audit = record.leaf_audits[i];
        RETURN_IF_ERROR(ParseRevision(record.leaves[i]).status());
        RETURN_IF_ERROR(internal::ValidateAudit(
            audit, absl::StrCat("revision \"", record.leaves[i], "\" of ", name)));
        if (!audit.known()) continue;
        auto stored = read.txn->GetRevision(*table, record.id, record.leaves[i]);
        if (absl::IsNotFound(stored.status())) continue;  // Wanted instead.
        RETURN_IF_ERROR(stored.status());
        if (internal::AuditPrecedes(audit, stored->audit)) {
          candidates.push_back(Candidate{record.table, record.id, record.leaves[i], audit, true});
        } else if (internal::AuditPrecedes(stored->audit, audit)) {
          // The sender holds a worse audit: without a feed entry here it
          // would never be offered the better one (its checkpoint for this
          // node may be past the record's entry).
          candidates.push_back(Candidate{record.table, record.id, record.leaves[i], audit, false});
        }
      }
    }
  }
  if (candidates.empty()) return 0;
  ASSIGN_OR_RETURN(auto txn, options_.storage->BeginWrite());
  int64_t changed = 0;
  int64_t last_seq = 0;
  std::set<std::pair<std::string, std::string>> touched;
  for (const Candidate& c : candidates) {
    ASSIGN_OR_RETURN(auto table, FindTable(txn.get(), c.table));
    // Read again: a graft may have changed it since the read pass.
    ASSIGN_OR_RETURN(const storage::StoredRevision stored,
                     txn->GetRevision(*table, c.id, c.revision));
    if (c.adopt && internal::AuditPrecedes(c.audit, stored.audit)) {
      RETURN_IF_ERROR(txn->SetRevisionAudit(*table, c.id, c.revision, c.audit));
      ++changed;
      touched.emplace(c.table, c.id);
    } else if (!c.adopt && internal::AuditPrecedes(stored.audit, c.audit)) {
      touched.emplace(c.table, c.id);
    }
  }
  // A feed entry per changed record, so that the audit is relayed on.
  for (const auto& [table_name, id] : touched) {
    ASSIGN_OR_RETURN(auto table, FindTable(txn.get(), table_name));
    ASSIGN_OR_RETURN(auto leaves, txn->GetLeaves(*table, id));
    ASSIGN_OR_RETURN(const Published published, PublishWinner(*txn, *table, id, std::move(leaves)));
    last_seq = published.seq;
  }
  RETURN_IF_ERROR(CommitAndNotify(std::move(txn), last_seq));
  return changed;
}

}  // namespace recondb::engine
