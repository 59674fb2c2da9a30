// ListRecords page tokens (engine/internal/page_token.h).
// Frames: tag 0 a serialized v1::ListRecordsRequest (the query), tag 1 a
// token to decode, tag 2 a cursor to encode: a serialized v1::Value (the
// order value), tag 3 the cursor's record id.
// Invariants:
// - the fingerprint is 8 bytes and ignores page size and token;
// - any token either decodes or is INVALID_ARGUMENT; a decoded cursor
//   encodes to a token that decodes to the same cursor;
// - every encoded cursor decodes to itself with its query's fingerprint and
//   is refused with another query's; tokens are URL-safe.
#include <string>

#include "engine/internal/page_token.h"
#include "fuzz/frames.h"

namespace recondb::fuzz {
namespace {

bool SameCursor(const storage::ViewCursor& a, const storage::ViewCursor& b) {
  // Bytes, not MessageDifferencer: a NaN order value is not == itself.
  return a.id == b.id && a.order_value.SerializeAsString() == b.order_value.SerializeAsString();
}

void CheckUrlSafe(const std::string& token) {
  for (char c : token) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '-' || c == '_';
    FUZZ_CHECK(safe, "token is not URL-safe: " + token);
  }
}

}  // namespace
}  // namespace recondb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace recondb;
  using engine::internal::DecodePageToken;
  using engine::internal::EncodePageToken;
  v1::ListRecordsRequest query;
  std::string token;
  storage::ViewCursor cursor;
  for (const fuzz::Frame& f : fuzz::SplitFrames(data, size, 16)) {
    switch (f.tag % 4) {
      case 0: (void)query.ParseFromArray(f.bytes.data(), f.bytes.size()); break;
      case 1: token = std::string(f.bytes); break;
      case 2:
        // A cursor's order value is a stored value, so valid (UTF-8 strings):
        // what does not parse is dropped, not kept half-parsed.
        if (!cursor.order_value.ParseFromArray(f.bytes.data(), f.bytes.size())) {
          cursor.order_value.Clear();
        }
        break;
      case 3: cursor.id = std::string(f.bytes); break;
    }
  }
  const std::string fingerprint = engine::internal::QueryFingerprint(query);
  FUZZ_CHECK(fingerprint.size() == 8, "fingerprint size");
  v1::ListRecordsRequest paged = query;
  paged.set_page_size(query.page_size() ^ 1);  // Another size, without overflow.
  paged.set_page_token(token);
  FUZZ_CHECK(engine::internal::QueryFingerprint(paged) == fingerprint,
             "fingerprint depends on page size or token");

  absl::StatusOr<storage::ViewCursor> decoded = DecodePageToken(token, fingerprint);
  if (decoded.ok()) {
    const std::string again = EncodePageToken(fingerprint, *decoded);
    absl::StatusOr<storage::ViewCursor> redecoded = DecodePageToken(again, fingerprint);
    FUZZ_CHECK(redecoded.ok() && fuzz::SameCursor(*redecoded, *decoded),
               "a decoded cursor does not round-trip");
  } else {
    FUZZ_CHECK(decoded.status().code() == absl::StatusCode::kInvalidArgument,
               decoded.status().ToString());
  }

  const std::string encoded = EncodePageToken(fingerprint, cursor);
  fuzz::CheckUrlSafe(encoded);
  absl::StatusOr<storage::ViewCursor> back = DecodePageToken(encoded, fingerprint);
  FUZZ_CHECK(back.ok(), "own token refused: " + back.status().ToString());
  FUZZ_CHECK(fuzz::SameCursor(*back, cursor), "cursor does not round-trip");
  v1::ListRecordsRequest other = query;
  other.set_table(query.table() + "x");
  const std::string other_fingerprint = engine::internal::QueryFingerprint(other);
  if (other_fingerprint != fingerprint) {
    FUZZ_CHECK(!DecodePageToken(encoded, other_fingerprint).ok(), "token replayed on another query");
  }
  return 0;
}
