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

// Checks that `attributes` (from another node) hold exactly the columns of
// `table` with valid, already normalized values. INVALID_ARGUMENT otherwise.
absl::Status CheckCompleteAttributes(const v1::Table& table, std::string_view id,
                                     const storage::Attributes& attributes);

}  // namespace recondb::engine::internal

#endif  // RECONDB_ENGINE_INTERNAL_ATTRIBUTES_H_
