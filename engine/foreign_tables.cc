// Applying a table definition made on another node: create the table, or
// append the columns it has beyond ours. Definitions only ever grow at the
// end (additive changes), so of two definitions of one table, one is a
// prefix of the other unless they were made independently and diverge.
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "engine/engine.h"
#include "engine/internal/validation.h"
#include "google/protobuf/util/message_differencer.h"

namespace recondb::engine {
namespace {

// Two columns at the same position are the same column when everything
// that shapes the data agrees. `indexed` is left out: it only asks this
// node for an index, and each node keeps its own choice.
bool SameColumn(const v1::Column& a, const v1::Column& b) {
  v1::Column x = a;
  v1::Column y = b;
  x.clear_indexed();
  y.clear_indexed();
  return google::protobuf::util::MessageDifferencer::Equals(x, y);
}

// The first position where the columns of `ours` and `theirs` differ, or
// -1 if one is a prefix of the other.
int FirstDifference(const v1::Table& ours, const v1::Table& theirs) {
  const int common = std::min(ours.columns_size(), theirs.columns_size());
  for (int i = 0; i < common; ++i) {
    if (!SameColumn(ours.columns(i), theirs.columns(i))) return i;
  }
  return -1;
}

}  // namespace

absl::StatusOr<bool> Engine::ApplyForeignTable(const v1::Table& incoming) {
  // The same checks as a local CreateTable; the creation metadata is kept
  // as the creating node set it.
  ASSIGN_OR_RETURN(v1::Table table, internal::ValidateTableDefinition(incoming));
  *table.mutable_create_time() = incoming.create_time();
  table.set_created_by(incoming.created_by());

  absl::ReleasableMutexLock schema_lock(&schema_mu_);
  ASSIGN_OR_RETURN(auto txn, options_.storage->BeginWrite());
  auto current = FindTable(txn.get(), table.name());
  if (absl::IsNotFound(current.status())) {
    RETURN_IF_ERROR(txn->CreateTable(table));
    ASSIGN_OR_RETURN(const int64_t seq, CommitTableChange(std::move(txn), table));
    schema_lock.Release();  // Listeners may read.
    NotifyListeners(seq);
    options_.logger->info("created table {} ({} columns) from node {}", table.name(),
                          table.columns_size(), table.created_by());
    return true;
  }
  RETURN_IF_ERROR(current.status());
  const v1::Table& ours = **current;
  if (const int i = FirstDifference(ours, table); i >= 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "table \"", table.name(), "\" diverges from the definition of node \"", table.created_by(),
        "\" at column ", i + 1, ": here ", ours.columns(i).ShortDebugString(), ", there ",
        table.columns(i).ShortDebugString(),
        "; the same table was defined differently on two nodes"));
  }
  if (table.columns_size() <= ours.columns_size()) return false;  // Ours has it all.
  v1::Table extended = ours;
  for (int i = ours.columns_size(); i < table.columns_size(); ++i) {
    *extended.add_columns() = table.columns(i);
  }
  RETURN_IF_ERROR(AppendColumnsInTxn(*txn, ours, extended));
  ASSIGN_OR_RETURN(const int64_t seq, CommitTableChange(std::move(txn), extended));
  schema_lock.Release();  // Listeners may read.
  NotifyListeners(seq);
  options_.logger->info("added {} columns to table {} from another node",
                        extended.columns_size() - ours.columns_size(), table.name());
  return true;
}

}  // namespace recondb::engine
