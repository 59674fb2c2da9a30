// ListRecords page tokens: an opaque, URL-safe keyset position bound to the
// query it came from (table, filter, order, conflicted_only: every field of
// the request but page size and token), so a token cannot be replayed
// against another query.
#ifndef RECONDB_ENGINE_INTERNAL_PAGE_TOKEN_H_
#define RECONDB_ENGINE_INTERNAL_PAGE_TOKEN_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "recondb/v1/database.pb.h"
#include "storage/storage.h"

namespace recondb::engine::internal {

// A fingerprint of everything in `request` but page size and token.
std::string QueryFingerprint(const v1::ListRecordsRequest& request);

std::string EncodePageToken(std::string_view fingerprint, const storage::ViewCursor& cursor);

// INVALID_ARGUMENT naming page_token if `token` is not one of ours or was made
// for another query.
absl::StatusOr<storage::ViewCursor> DecodePageToken(std::string_view token,
                                                    std::string_view fingerprint);

}  // namespace recondb::engine::internal

#endif  // RECONDB_ENGINE_INTERNAL_PAGE_TOKEN_H_
