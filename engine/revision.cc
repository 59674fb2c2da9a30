#include "engine/revision.h"

#include <openssl/evp.h>

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace recondb::engine {
namespace {

// Bumped only with a new encoding; old revisions keep their ids.
constexpr std::string_view kEncodingTag = "recondb-revision-v1";

absl::Status Malformed(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "revision \"", absl::CHexEscape(Sv(text.substr(0, 80))), "\" is malformed: ", Sv(why),
      " (expected <generation>-<32 lowercase hex digits>)"));
}

void AppendU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

void AppendU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

void AppendString(std::string& out, std::string_view s) {
  AppendU32(out, static_cast<uint32_t>(s.size()));
  out.append(s.data(), s.size());
}

// The value bytes of docs/revision-encoding.md, without tag or length.
std::string ValueBytes(const v1::Value& value) {
  std::string out;
  switch (value.kind_case()) {
    case v1::Value::kString:
      out = value.string();
      break;
    case v1::Value::kInt:
      AppendU64(out, static_cast<uint64_t>(value.int_()));
      break;
    case v1::Value::kFloat: {
      uint64_t bits;
      const double d = value.float_();
      std::memcpy(&bits, &d, sizeof bits);
      AppendU64(out, bits);
      break;
    }
    case v1::Value::kBool:
      out.push_back(value.bool_() ? 1 : 0);
      break;
    case v1::Value::kTimestamp: {
      const int64_t micros =
          value.timestamp().seconds() * 1000000 + value.timestamp().nanos() / 1000;
      AppendU64(out, static_cast<uint64_t>(micros));
      break;
    }
    case v1::Value::kBytes:
      out = value.bytes();
      break;
    case v1::Value::kNull:
    case v1::Value::KIND_NOT_SET:
      break;
  }
  return out;
}

}  // namespace

absl::StatusOr<RevisionId> ParseRevision(std::string_view text) {
  const size_t dash = text.find('-');
  if (dash == std::string_view::npos) return Malformed(text, "no '-'");
  const std::string_view gen = text.substr(0, dash);
  const std::string_view hex = text.substr(dash + 1);
  if (gen.empty() || gen.size() > 19) return Malformed(text, "bad generation");
  for (char c : gen) {
    if (c < '0' || c > '9') return Malformed(text, "generation is not a decimal number");
  }
  if (gen[0] == '0') return Malformed(text, "generation must be positive without leading zeros");
  RevisionId rev;
  if (!absl::SimpleAtoi(Sv(gen), &rev.generation) || rev.generation < 1) {
    return Malformed(text, "generation out of range");
  }
  if (hex.size() != 32) return Malformed(text, "hash must have 32 hex digits");
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return Malformed(text, "hash must be lowercase hex");
    }
  }
  rev.hex = std::string(hex);
  return rev;
}

std::string FormatRevision(const RevisionId& rev) {
  return absl::StrCat(rev.generation, "-", rev.hex);
}

std::string CanonicalEncoding(const RevisionContent& content) {
  std::string out;
  out.reserve(128);
  AppendString(out, kEncodingTag);
  AppendString(out, content.table);
  AppendString(out, content.id);
  AppendString(out, content.parent);
  out.push_back(content.deleted ? 1 : 0);
  AppendU32(out, static_cast<uint32_t>(content.attributes->size()));
  // std::map iterates in bytewise name order: the canonical order.
  for (const auto& [name, value] : *content.attributes) {
    AppendString(out, name);
    out.push_back(static_cast<char>(value.kind_case()));  // Tag = proto field number.
    AppendString(out, ValueBytes(value));
  }
  return out;
}

std::string ComputeRevision(int64_t generation, const RevisionContent& content) {
  const std::string bytes = CanonicalEncoding(content);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(32, '0');
  for (int i = 0; i < 16; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return absl::StrCat(generation, "-", hex);
}

}  // namespace recondb::engine
