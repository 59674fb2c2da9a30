#include "storage/internal/revision_columns.h"

#include "absl/strings/str_cat.h"

namespace recondb::storage::internal {

absl::StatusOr<int> HeldColumns(const v1::Table& table, const StoredRevision& rev) {
  const auto name = [&] {
    return absl::StrCat("revision ", rev.revision, " of record ", rev.id, " of table ",
                        table.name());
  };
  if (rev.deleted || rev.stub) {
    if (!rev.attributes.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name(), ": a ", rev.stub ? "stub" : "tombstone", " holds no attributes"));
    }
    return 0;
  }
  const int held = static_cast<int>(rev.attributes.size());
  if (held > table.columns_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        name(), " holds ", held, " attributes; the table has ", table.columns_size(), " columns"));
  }
  for (int i = 0; i < held; ++i) {
    if (rev.attributes.count(table.columns(i).name()) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(name(), " lacks column ", table.columns(i).name(),
                       ": a revision holds the first columns of its table"));
    }
  }
  return held;
}

absl::Status CheckAppendedColumns(const v1::Table& stored, const v1::Table& table) {
  if (table.name() != stored.name()) {
    return absl::InvalidArgumentError(
        absl::StrCat("table ", table.name(), " is not table ", stored.name()));
  }
  if (table.columns_size() <= stored.columns_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the new definition of table ", table.name(), " adds no column"));
  }
  for (int i = 0; i < stored.columns_size(); ++i) {
    if (table.columns(i).name() != stored.columns(i).name() ||
        table.columns(i).type() != stored.columns(i).type()) {
      return absl::InvalidArgumentError(absl::StrCat("the new definition of table ", table.name(),
                                                     " changes column ", stored.columns(i).name(),
                                                     ": columns may only be appended"));
    }
  }
  return absl::OkStatus();
}

}  // namespace recondb::storage::internal
