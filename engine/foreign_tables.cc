// Table definitions made by other nodes. (Minimal version: creation only;
// additive merges arrive with schema evolution.)
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "engine/engine.h"
#include "engine/internal/validation.h"

namespace recondb::engine {

absl::StatusOr<bool> Engine::ApplyForeignTable(const v1::Table& incoming) {
  ASSIGN_OR_RETURN(v1::Table table, internal::ValidateTableDefinition(incoming));
  table.mutable_create_time()->CopyFrom(incoming.create_time());
  table.set_created_by(incoming.created_by());
  ASSIGN_OR_RETURN(auto txn, options_.storage->BeginWrite());
  auto existing = txn->GetTable(table.name());
  if (existing.ok()) {
    if (existing->columns_size() != table.columns_size()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "table \"", table.name(), "\" has another definition on this node"));
    }
    return false;
  }
  if (!absl::IsNotFound(existing.status())) return existing.status();
  RETURN_IF_ERROR(txn->CreateTable(table));
  v1::Change change;
  change.set_kind(v1::CHANGE_KIND_TABLE);
  change.set_table(table.name());
  ASSIGN_OR_RETURN(int64_t seq, txn->AppendChange(change));
  RETURN_IF_ERROR(CommitAndNotify(std::move(txn), seq));
  return true;
}

}  // namespace recondb::engine
