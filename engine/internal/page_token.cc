#include "engine/internal/page_token.h"

#include <openssl/evp.h>

#include "absl/strings/escaping.h"
#include "common/strings.h"

namespace recondb::engine::internal {
namespace {

constexpr char kVersion = 1;
constexpr size_t kFingerprintBytes = 8;

void AppendString(std::string& out, std::string_view s) {
  const auto n = static_cast<uint32_t>(s.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  out.append(s.data(), s.size());
}

bool ReadString(std::string_view& in, std::string* out) {
  if (in.size() < 4) return false;
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<unsigned char>(in[i]);
  in.remove_prefix(4);
  if (in.size() < n) return false;
  out->assign(in.data(), n);
  in.remove_prefix(n);
  return true;
}

absl::Status Invalid() {
  return absl::InvalidArgumentError(
      "page_token is invalid: pass the next_page_token of a previous response to the same query");
}

}  // namespace

std::string QueryFingerprint(const v1::ListRecordsRequest& request) {
  v1::ListRecordsRequest query = request;
  query.clear_page_size();
  query.clear_page_token();
  std::string bytes;
  query.SerializeToString(&bytes);  // Deterministic enough: same request, same bytes.
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(digest), kFingerprintBytes);
}

std::string EncodePageToken(std::string_view fingerprint, const storage::ViewCursor& cursor) {
  std::string raw(1, kVersion);
  raw.append(fingerprint.data(), fingerprint.size());
  AppendString(raw, cursor.id);
  AppendString(raw, cursor.order_value.SerializeAsString());
  std::string token;
  absl::WebSafeBase64Escape(raw, &token);
  return token;
}

absl::StatusOr<storage::ViewCursor> DecodePageToken(std::string_view token,
                                                    std::string_view fingerprint) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(Sv(token), &raw)) return Invalid();
  std::string_view in(raw);
  if (in.size() < 1 + kFingerprintBytes || in[0] != kVersion) return Invalid();
  if (in.substr(1, kFingerprintBytes) != fingerprint) {
    return absl::InvalidArgumentError(
        "page_token was made for another query (table, filter, order or conflicted_only "
        "differ)");
  }
  in.remove_prefix(1 + kFingerprintBytes);
  storage::ViewCursor cursor;
  std::string value_bytes;
  if (!ReadString(in, &cursor.id) || !ReadString(in, &value_bytes) || !in.empty() ||
      !cursor.order_value.ParseFromString(value_bytes)) {
    return Invalid();
  }
  return cursor;
}

}  // namespace recondb::engine::internal
