// The columns a stored revision holds: a live revision holds the first k
// columns of its table (those the table had when it was written; additive
// changes only append), a tombstone or a stub none. Shared by the backends
// so that they refuse the same malformed revisions.
#ifndef RECONDB_STORAGE_INTERNAL_REVISION_COLUMNS_H_
#define RECONDB_STORAGE_INTERNAL_REVISION_COLUMNS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recondb/v1/types.pb.h"
#include "storage/storage.h"

namespace recondb::storage::internal {

// How many of `table`'s columns `rev` holds: its attributes name exactly
// the first k columns (k = attributes.size()). INVALID_ARGUMENT, naming the
// column, when they name another column or skip one, or when a tombstone or
// a stub has attributes.
absl::StatusOr<int> HeldColumns(const v1::Table& table, const StoredRevision& rev);

// OK if `table` is `stored` with at least one column appended (the stored
// columns keep their names, types and order). INVALID_ARGUMENT otherwise.
absl::Status CheckAppendedColumns(const v1::Table& stored, const v1::Table& table);

}  // namespace recondb::storage::internal

#endif  // RECONDB_STORAGE_INTERNAL_REVISION_COLUMNS_H_
