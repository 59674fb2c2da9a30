// Turns the attributes of a write into the complete, validated attribute set
// of a new revision.
#ifndef RECONDB_ENGINE_INTERNAL_ATTRIBUTES_H_
#define RECONDB_ENGINE_INTERNAL_ATTRIBUTES_H_

#include "absl/status/statusor.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/map.h"
#include "recondb/v1/types.pb.h"
#include "storage/storage.h"

namespace recondb::engine::internal {

using RequestAttributes = google::protobuf::Map<std::string, v1::Value>;

// Returns every column of `table` for a new revision:
// - without `mask` (null or empty): the request's value, else the column's
//   default, else null;
// - with `mask`: for listed columns as above; for the others the value in
//   `base` (the parent revision), else the default, else null.
// INVALID_ARGUMENT when a request attribute or mask path names no column, a
// value does not fit its column, or a non-nullable column ends up null.
absl::StatusOr<storage::Attributes> BuildAttributes(const v1::Table& table,
                                                    const RequestAttributes& request,
                                                    const google::protobuf::FieldMask* mask,
                                                    const storage::Attributes* base);

// Checks that `attributes` (of a revision from another node) hold exactly
// the first k columns of `table`, 0 <= k <= its column count (the columns
// the table had when the revision was written), with valid values in
// canonical form, and returns them normalized by NormalizeValue, as a local
// write stores them: a float -0.0 becomes 0.0 (one value, and the revision
// encoding hashes 0.0, docs/revision-encoding.md). INVALID_ARGUMENT naming
// the column otherwise (a timestamp with sub-microsecond digits is refused,
// not truncated: truncating would change the content the peer hashed).
absl::StatusOr<storage::Attributes> NormalizeHeldAttributes(const v1::Table& table,
                                                            std::string_view id,
                                                            const storage::Attributes& attributes);

// `held` (the attributes of a live revision: a prefix of the columns) with
// every column of `table` it lacks set to the column's default, else null.
storage::Attributes FillColumns(const v1::Table& table, const storage::Attributes& held);

// A column added to an existing table must be nullable or have a default:
// the records written before have no value for it. FAILED_PRECONDITION
// naming the column otherwise.
absl::Status CheckAdditiveColumn(std::string_view table, const v1::Column& column);

}  // namespace recondb::engine::internal

#endif  // RECONDB_ENGINE_INTERNAL_ATTRIBUTES_H_
