// ViewQuery as SQL. Filtering, ordering, the keyset cursor and the limit all
// run in SQLite; nothing is scanned in C++.
//
// Ordering by a column c puts nulls after every value ascending (before them
// descending), which is not SQLite's default. Rather than ORDER BY
// ("c" IS NULL), which no index can serve, a query runs as up to two
// statements, one per segment, each of which an index on c (whose entries end
// with the id in a WITHOUT ROWID view) serves in order:
//   ascending:  c IS NOT NULL ORDER BY c, id   then   c IS NULL ORDER BY id
//   descending: c IS NULL ORDER BY id DESC     then   c IS NOT NULL ORDER BY c DESC, id DESC
// A cursor selects the segment to resume in: a row-value comparison
// (c, id) > (?, ?) in the values, or id > ? among the nulls. The second
// statement runs only if the first returned fewer rows than the limit.
#ifndef RECONDB_STORAGE_INTERNAL_SQLITE_QUERY_H_
#define RECONDB_STORAGE_INTERNAL_SQLITE_QUERY_H_

#include <vector>

#include "absl/status/statusor.h"
#include "recondb/v1/types.pb.h"
#include "storage/internal/sqlite_connection.h"
#include "storage/internal/sqlite_table_sql.h"
#include "storage/storage.h"

namespace recondb::storage::internal {

// Runs `query` over the view of `table`, whose statements are `sql`, on
// `connection` (inside a transaction). INVALID_ARGUMENT for a column that is
// neither "id" nor a column of `table`, an unspecified operator, a value of
// the wrong kind for its column, or a limit below 1.
absl::StatusOr<std::vector<v1::Record>> RunViewQuery(Connection& connection, const TableSql& sql,
                                                     const v1::Table& table,
                                                     const ViewQuery& query);

}  // namespace recondb::storage::internal

#endif  // RECONDB_STORAGE_INTERNAL_SQLITE_QUERY_H_
