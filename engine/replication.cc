// The engine's side of replication (docs/replication-protocol.md): pages of
// the change feed with each record's leaves (source), what a receiver lacks
// (receiver), the revisions asked for with their ancestry (source), and the
// checkpoints and node metadata the reconciler keeps.
#include <algorithm>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "engine/engine.h"
#include "engine/internal/meta_keys.h"
#include "engine/internal/records.h"
#include "engine/internal/validation.h"
#include "engine/revision.h"

namespace recondb::engine {
namespace {

// Ancestors travel as stubs: a record edited a thousand times while the
// receiver was away costs one body and a list of ids.
constexpr bool kSendStubAncestors = true;

}  // namespace

absl::StatusOr<Engine::SchemaRead> Engine::BeginSchemaRead() {
  absl::ReaderMutexLock schema_lock(&schema_mu_);
  SchemaRead out;
  ASSIGN_OR_RETURN(out.txn, options_.storage->BeginRead());
  ASSIGN_OR_RETURN(std::vector<v1::Table> tables, out.txn->ListTables());
  for (v1::Table& table : tables) {
    std::string name = table.name();
    out.tables.emplace(std::move(name), std::make_shared<const v1::Table>(std::move(table)));
  }
  return out;
}

absl::StatusOr<std::shared_ptr<const v1::Table>> Engine::SchemaRead::Find(
    std::string_view name) const {
  auto it = tables.find(std::string(name));
  if (it == tables.end()) {
    return absl::NotFoundError(absl::StrCat("table \"", Sv(name), "\" does not exist"));
  }
  return it->second;
}

absl::StatusOr<ChangePage> Engine::ReadChangePage(int64_t since,
                                                  const std::vector<std::string>& tables,
                                                  int limit) {
  if (limit <= 0) return absl::InvalidArgumentError("limit must be positive");
  RETURN_IF_ERROR(internal::CheckTableFilterSize(tables.size()));
  ASSIGN_OR_RETURN(SchemaRead read, BeginSchemaRead());
  auto& txn = read.txn;
  ChangePage page;
  ASSIGN_OR_RETURN(const int64_t last_seq, txn->LastSeq());
  // A filter naming only tables that do not exist (yet) selects nothing; an
  // empty list would select everything.
  std::vector<std::string> existing;
  for (const std::string& name : tables) {
    if (read.tables.contains(name)) existing.push_back(name);
  }
  std::vector<v1::Change> changes;
  if (tables.empty() || !existing.empty()) {
    ASSIGN_OR_RETURN(changes, txn->ScanChanges(since, existing, limit));
  }
  page.up_to_seq = since;
  absl::flat_hash_map<std::string, std::shared_ptr<const v1::Table>> defs;
  for (const v1::Change& change : changes) {
    page.up_to_seq = change.seq();
    ASSIGN_OR_RETURN(auto table, read.Find(change.table()));
    if (change.kind() == v1::CHANGE_KIND_TABLE) {
      page.tables.push_back(*table);
      continue;
    }
    ChangedRecord record;
    record.table = change.table();
    record.id = change.id();
    ASSIGN_OR_RETURN(auto leaves, txn->GetLeaves(*table, change.id()));
    std::sort(leaves.begin(), leaves.end(),
              [](const auto& a, const auto& b) { return a.revision < b.revision; });
    for (auto& leaf : leaves) {
      record.leaves.push_back(leaf.revision);
      record.leaf_audits.push_back(std::move(leaf.audit));
    }
    page.records.push_back(std::move(record));
  }
  if (static_cast<int>(changes.size()) < limit) {
    page.end_of_feed = true;
    page.up_to_seq = std::max(page.up_to_seq, last_seq);
  }
  return page;
}

absl::StatusOr<int64_t> Engine::CountChangesAfter(int64_t since,
                                                  const std::vector<std::string>& tables) {
  RETURN_IF_ERROR(internal::CheckTableFilterSize(tables.size()));
  ASSIGN_OR_RETURN(SchemaRead read, BeginSchemaRead());
  std::vector<std::string> existing;
  for (const std::string& name : tables) {
    if (read.tables.contains(name)) existing.push_back(name);
  }
  if (!tables.empty() && existing.empty()) return 0;
  return read.txn->CountChanges(since, existing);
}

absl::StatusOr<std::vector<RevisionWant>> Engine::DiffRevisions(
    const std::vector<ChangedRecord>& offered) {
  ASSIGN_OR_RETURN(SchemaRead read, BeginSchemaRead());
  auto& txn = read.txn;
  std::vector<RevisionWant> wants;
  for (const ChangedRecord& record : offered) {
    RETURN_IF_ERROR(internal::ValidateTableName(record.table));
    ASSIGN_OR_RETURN(auto table, read.Find(record.table));
    RETURN_IF_ERROR(internal::ValidateRecordId(record.table, record.id));
    RevisionWant want;
    for (const std::string& leaf : record.leaves) {
      RETURN_IF_ERROR(ParseRevision(leaf).status());
      auto stored = txn->GetRevision(*table, record.id, leaf);
      if (absl::IsNotFound(stored.status())) {
        want.missing.push_back(leaf);
      } else {
        RETURN_IF_ERROR(stored.status());
      }
    }
    if (want.missing.empty()) continue;
    want.table = record.table;
    want.id = record.id;
    ASSIGN_OR_RETURN(auto leaves, txn->GetLeaves(*table, record.id));
    for (const auto& leaf : leaves) want.known_leaves.push_back(leaf.revision);
    std::sort(want.known_leaves.begin(), want.known_leaves.end());
    wants.push_back(std::move(want));
  }
  return wants;
}

absl::StatusOr<std::vector<ForeignRevision>> Engine::CollectRevisions(
    const std::vector<RevisionWant>& wants) {
  ASSIGN_OR_RETURN(SchemaRead read, BeginSchemaRead());
  auto& txn = read.txn;
  std::vector<ForeignRevision> out;
  for (const RevisionWant& want : wants) {
    RETURN_IF_ERROR(internal::ValidateTableName(want.table));
    ASSIGN_OR_RETURN(auto table, read.Find(want.table));
    RETURN_IF_ERROR(internal::ValidateRecordId(want.table, want.id));
    ASSIGN_OR_RETURN(auto history, txn->GetHistory(*table, want.id));
    absl::flat_hash_map<std::string, storage::StoredRevision*> by_revision;
    for (auto& rev : history) by_revision[rev.revision] = &rev;
    // What the receiver has: its known leaves and their ancestors (as far
    // as this node's tree shows them).
    absl::flat_hash_set<std::string> covered;
    for (const std::string& leaf : want.known_leaves) {
      for (auto it = by_revision.find(leaf); it != by_revision.end() && covered.insert(it->first).second;
           it = by_revision.find(it->second->parent)) {
      }
    }
    absl::flat_hash_set<std::string> wanted(want.missing.begin(), want.missing.end());
    std::vector<const storage::StoredRevision*> selected;
    absl::flat_hash_set<std::string> emitted;
    for (const std::string& missing : want.missing) {
      auto it = by_revision.find(missing);
      if (it == by_revision.end()) {
        return absl::NotFoundError(absl::StrCat("revision \"", missing, "\" of ",
                                                internal::RecordName(want.table, want.id),
                                                " is not on this node"));
      }
      for (; it != by_revision.end() && !covered.contains(it->first) && emitted.insert(it->first).second;
           it = by_revision.find(it->second->parent)) {
        selected.push_back(it->second);
      }
    }
    // Parents before children.
    std::sort(selected.begin(), selected.end(), [](const auto* a, const auto* b) {
      return std::tie(a->generation, a->revision) < std::tie(b->generation, b->revision);
    });
    for (const storage::StoredRevision* rev : selected) {
      ForeignRevision foreign{want.table, *rev};
      if (!wanted.contains(rev->revision) && kSendStubAncestors) {
        foreign.rev.stub = true;
        foreign.rev.attributes.clear();
      }
      foreign.rev.leaf = false;
      out.push_back(std::move(foreign));
    }
  }
  return out;
}

absl::StatusOr<Checkpoint> Engine::GetCheckpoint(std::string_view key) {
  ASSIGN_OR_RETURN(auto txn, options_.storage->BeginRead());
  auto value = txn->GetMeta(internal::CheckpointMetaKey(key));
  if (absl::IsNotFound(value.status())) return Checkpoint{std::string(key), 0, ""};
  RETURN_IF_ERROR(value.status());
  return internal::ParseCheckpoint(key, *value);
}

absl::StatusOr<std::string> Engine::GetNodeMeta(std::string_view key) {
  ASSIGN_OR_RETURN(auto txn, options_.storage->BeginRead());
  return txn->GetMeta(key);
}

absl::Status Engine::SetNodeMeta(std::string_view key, std::string_view value) {
  if (key.empty() || internal::IsEngineMetaKey(key)) {
    return absl::InvalidArgumentError(
        absl::StrCat("node metadata key \"", Sv(key), "\" is reserved or empty"));
  }
  ASSIGN_OR_RETURN(auto txn, options_.storage->BeginWrite());
  RETURN_IF_ERROR(txn->SetMeta(key, value));
  return CommitAndNotify(std::move(txn), 0);
}

}  // namespace recondb::engine
