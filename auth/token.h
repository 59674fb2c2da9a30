// Bearer tokens: rdb_<16 hex id>_<43 base64url characters of 32 random bytes>
// (auth/DESIGN.md, "Tokens"). A node stores only the SHA-256 of a token,
// found by its id and compared in constant time.
#ifndef RECONDB_AUTH_TOKEN_H_
#define RECONDB_AUTH_TOKEN_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace recondb::auth {

inline constexpr std::string_view kTokenPrefix = "rdb_";
inline constexpr size_t kTokenIdLength = 16;
inline constexpr size_t kTokenSecretLength = 43;
inline constexpr size_t kTokenLength = 4 + kTokenIdLength + 1 + kTokenSecretLength;

struct NewToken {
  std::string token;  // the only copy: shown once
  std::string id;
  std::string sha256;  // what is stored
};

// A fresh token from OpenSSL's RAND_bytes. INTERNAL if the generator fails.
absl::StatusOr<NewToken> GenerateToken();

// The token's id if `token` is well-formed; else INVALID_ARGUMENT whose
// message describes the expected form but never quotes the token.
absl::StatusOr<std::string> ParseTokenId(std::string_view token);

// SHA-256 of the whole token, 64 lowercase hex digits.
std::string HashToken(std::string_view token);

// True if `a` and `b` are equal, in time that depends on their length only
// (CRYPTO_memcmp).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// True for 64 lowercase hex digits (a stored hash), or 16 (a token id).
bool IsLowerHex(std::string_view s, size_t length);

}  // namespace recondb::auth

#endif  // RECONDB_AUTH_TOKEN_H_
