// Revision ids: "<generation>-<32 lowercase hex>", the hex being the first
// 128 bits of SHA-256 over the canonical encoding of docs/revision-encoding.md.
#ifndef RECONDB_ENGINE_REVISION_H_
#define RECONDB_ENGINE_REVISION_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "storage/storage.h"

namespace recondb::engine {

struct RevisionId {
  int64_t generation = 0;  // >= 1.
  std::string hex;         // 32 lowercase hex digits.
};

// Parses `text`. INVALID_ARGUMENT (naming `text`) unless it is a positive
// decimal generation without leading zeros that fits in int64, a '-', and
// exactly 32 lowercase hex digits.
absl::StatusOr<RevisionId> ParseRevision(std::string_view text);

std::string FormatRevision(const RevisionId& rev);

// The content a revision id is computed from.
struct RevisionContent {
  std::string_view table;
  std::string_view id;
  std::string_view parent;  // Empty for generation 1.
  bool deleted = false;
  const storage::Attributes* attributes = nullptr;  // REQUIRES: not null.
};

// The canonical byte encoding of `content` (docs/revision-encoding.md).
// REQUIRES: every value is set (a kind is chosen) and timestamps are whole
// microseconds.
std::string CanonicalEncoding(const RevisionContent& content);

// "<generation>-<hex>" where hex is the first 16 bytes of
// SHA-256(CanonicalEncoding(content)).
std::string ComputeRevision(int64_t generation, const RevisionContent& content);

}  // namespace recondb::engine

#endif  // RECONDB_ENGINE_REVISION_H_
