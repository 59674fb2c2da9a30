#include "auth/token.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/strings.h"

namespace recondb::auth {
namespace {

bool IsBase64Url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

absl::StatusOr<std::string> RandomBytes(size_t n) {
  std::string bytes(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)) != 1) {
    return absl::InternalError("the random generator (OpenSSL RAND_bytes) failed");
  }
  return bytes;
}

}  // namespace

bool IsLowerHex(std::string_view s, size_t length) {
  if (s.size() != length) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

absl::StatusOr<NewToken> GenerateToken() {
  absl::StatusOr<std::string> id = RandomBytes(kTokenIdLength / 2);
  if (!id.ok()) return id.status();
  absl::StatusOr<std::string> secret = RandomBytes(32);
  if (!secret.ok()) return secret.status();
  NewToken result;
  result.id = absl::BytesToHexString(*id);
  // WebSafeBase64Escape leaves out the padding: 32 bytes give 43 characters.
  result.token = absl::StrCat(Sv(kTokenPrefix), result.id, "_", absl::WebSafeBase64Escape(*secret));
  result.sha256 = HashToken(result.token);
  return result;
}

absl::StatusOr<std::string> ParseTokenId(std::string_view token) {
  const auto malformed = [] {
    return absl::InvalidArgumentError(
        "malformed token: expected rdb_<16 lowercase hex digits>_<43 base64url characters>");
  };
  if (token.size() != kTokenLength || token.substr(0, kTokenPrefix.size()) != kTokenPrefix) {
    return malformed();
  }
  const std::string_view id = token.substr(kTokenPrefix.size(), kTokenIdLength);
  if (!IsLowerHex(id, kTokenIdLength) || token[kTokenPrefix.size() + kTokenIdLength] != '_') {
    return malformed();
  }
  for (char c : token.substr(kTokenLength - kTokenSecretLength)) {
    if (!IsBase64Url(c)) return malformed();
  }
  return std::string(id);
}

std::string HashToken(std::string_view token) {
  Sha256 sha;
  sha.Update(token);
  return sha.HexDigest();
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace recondb::auth
