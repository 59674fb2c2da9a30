// Revision ids and the canonical encoding (engine/revision.h,
// docs/revision-encoding.md).
// Frame 0: a revision id to parse. Then frames that make a revision's
// content: tag 0 table, 1 record id, 2 parent, 3 deleted (first byte), and
// tag 4 an attribute: a serialized v1::Column whose name and type the value
// is checked against, followed... (frame 4 = column, the next frame = the
// serialized v1::Value). Values that NormalizeValue refuses are dropped, so
// the content meets CanonicalEncoding's requirements.
// Invariants:
// - a parsed id formats back to the same text, with generation >= 1 and 32
//   lowercase hex digits; a refused one is INVALID_ARGUMENT with a message;
// - the encoding is deterministic, decodes back to exactly the content it
//   was made from (so two different contents never share an encoding), and
//   the id ComputeRevision makes parses and carries the generation.
#include <cstring>
#include <map>
#include <string>

#include "engine/internal/validation.h"
#include "engine/revision.h"
#include "fuzz/frames.h"
#include "google/protobuf/util/message_differencer.h"

namespace recondb::fuzz {
namespace {

using engine::RevisionContent;

void CheckParse(std::string_view text) {
  absl::StatusOr<engine::RevisionId> parsed = engine::ParseRevision(text);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument,
               parsed.status().ToString());
    FUZZ_CHECK(!parsed.status().message().empty(), "empty message");
    return;
  }
  FUZZ_CHECK(parsed->generation >= 1, "generation < 1");
  FUZZ_CHECK(parsed->hex.size() == 32, "hex size");
  FUZZ_CHECK(engine::FormatRevision(*parsed) == text, "parse/format round trip");
}

// A reader of the encoding, written from docs/revision-encoding.md.
struct Reader {
  std::string_view in;
  bool ok = true;
  uint64_t Uint(int bytes) {
    if (in.size() < static_cast<size_t>(bytes)) {
      ok = false;
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
    in.remove_prefix(bytes);
    return v;
  }
  std::string Str() {
    const uint64_t n = Uint(4);
    if (!ok || in.size() < n) {
      ok = false;
      return {};
    }
    std::string s(in.substr(0, n));
    in.remove_prefix(n);
    return s;
  }
};

v1::Value DecodeValue(int tag, const std::string& bytes, bool* ok) {
  v1::Value v;
  auto u64 = [&]() {
    Reader r{bytes};
    const uint64_t x = r.Uint(8);
    if (!r.ok || !r.in.empty()) *ok = false;
    return x;
  };
  switch (tag) {
    case v1::Value::kNull:
      v.set_null(google::protobuf::NULL_VALUE);
      if (!bytes.empty()) *ok = false;
      break;
    case v1::Value::kString: v.set_string(bytes); break;
    case v1::Value::kInt: v.set_int_(static_cast<int64_t>(u64())); break;
    case v1::Value::kFloat: {
      const uint64_t bits = u64();
      double d;
      std::memcpy(&d, &bits, sizeof d);
      v.set_float_(d);
      break;
    }
    case v1::Value::kBool:
      if (bytes.size() != 1 || static_cast<uint8_t>(bytes[0]) > 1) *ok = false;
      v.set_bool_(!bytes.empty() && bytes[0] == 1);
      break;
    case v1::Value::kTimestamp: {
      const auto micros = static_cast<int64_t>(u64());
      // Floor division: nanos are never negative.
      int64_t seconds = micros / 1000000;
      int64_t rest = micros % 1000000;
      if (rest < 0) {
        rest += 1000000;
        --seconds;
      }
      v.mutable_timestamp()->set_seconds(seconds);
      v.mutable_timestamp()->set_nanos(static_cast<int32_t>(rest * 1000));
      break;
    }
    case v1::Value::kBytes: v.set_bytes(bytes); break;
    default: *ok = false;
  }
  return v;
}

void CheckEncoding(const std::string& table, const std::string& id, const std::string& parent,
                   bool deleted, const storage::Attributes& attributes) {
  RevisionContent content{table, id, parent, deleted, &attributes};
  const std::string bytes = engine::CanonicalEncoding(content);
  FUZZ_CHECK(engine::CanonicalEncoding(content) == bytes, "encoding is not deterministic");

  Reader r{bytes};
  FUZZ_CHECK(r.Str() == "recondb-revision-v1", "tag");
  FUZZ_CHECK(r.Str() == table, "table");
  FUZZ_CHECK(r.Str() == id, "id");
  FUZZ_CHECK(r.Str() == parent, "parent");
  FUZZ_CHECK(r.Uint(1) == (deleted ? 1u : 0u), "deleted");
  const uint64_t n = r.Uint(4);
  FUZZ_CHECK(r.ok && n == attributes.size(), "attribute count");
  std::string previous;
  auto expected = attributes.begin();
  for (uint64_t i = 0; i < n; ++i, ++expected) {
    const std::string name = r.Str();
    FUZZ_CHECK(i == 0 || previous < name, "attributes not sorted bytewise");
    previous = name;
    const int tag = static_cast<int>(r.Uint(1));
    const std::string value_bytes = r.Str();
    FUZZ_CHECK(r.ok, "truncated attribute");
    bool ok = true;
    const v1::Value value = DecodeValue(tag, value_bytes, &ok);
    FUZZ_CHECK(ok, "undecodable value of " + name);
    FUZZ_CHECK(name == expected->first, "attribute name");
    // Bitwise for floats: the encoding must not confuse 0.0 and -0.0.
    if (value.kind_case() == v1::Value::kFloat) {
      FUZZ_CHECK(expected->second.kind_case() == v1::Value::kFloat, "kind");
      const double got = value.float_(), want = expected->second.float_();
      FUZZ_CHECK(std::memcmp(&got, &want, sizeof(double)) == 0, "float bits");
    } else {
      FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(value, expected->second),
                 "value of " + name + " does not round-trip: " + value.ShortDebugString() +
                     " vs " + expected->second.ShortDebugString());
    }
  }
  FUZZ_CHECK(r.ok && r.in.empty(), "trailing bytes");

  const int64_t generation = parent.empty() ? 1 : 2;
  const std::string rev = engine::ComputeRevision(generation, content);
  absl::StatusOr<engine::RevisionId> parsed = engine::ParseRevision(rev);
  FUZZ_CHECK(parsed.ok(), "computed revision does not parse: " + rev);
  FUZZ_CHECK(parsed->generation == generation, "generation");
  FUZZ_CHECK(engine::ComputeRevision(generation, content) == rev, "id is not deterministic");
}

}  // namespace
}  // namespace recondb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace recondb;
  const std::vector<fuzz::Frame> frames = fuzz::SplitFrames(data, size, 64);
  if (frames.empty()) return 0;
  fuzz::CheckParse(frames[0].bytes);
  std::string table = "t", id = "r", parent;
  bool deleted = false;
  storage::Attributes attributes;
  for (size_t i = 1; i < frames.size(); ++i) {
    const fuzz::Frame& f = frames[i];
    switch (f.tag % 5) {
      case 0: table = std::string(f.bytes); break;
      case 1: id = std::string(f.bytes); break;
      case 2: parent = std::string(f.bytes); break;
      case 3: deleted = !f.bytes.empty() && (f.bytes[0] & 1); break;
      case 4: {
        if (i + 1 >= frames.size()) break;
        v1::Column column;
        v1::Value value;
        const bool parsed = column.ParseFromArray(f.bytes.data(), f.bytes.size()) &&
                            value.ParseFromArray(frames[i + 1].bytes.data(),
                                                 frames[i + 1].bytes.size());
        ++i;
        if (!parsed) break;
        // Unknown fields are no part of a value (the encoding has no place
        // for them); a request's parser may keep them, the content does not.
        column.DiscardUnknownFields();
        value.DiscardUnknownFields();
        absl::StatusOr<v1::Value> normalized =
            engine::internal::NormalizeValue(table, column, value);
        if (!normalized.ok()) break;
        // Normalizing is idempotent: a stored value is already canonical.
        absl::StatusOr<v1::Value> again =
            engine::internal::NormalizeValue(table, column, *normalized);
        FUZZ_CHECK(again.ok() &&
                       google::protobuf::util::MessageDifferencer::Equals(*again, *normalized),
                   "NormalizeValue is not idempotent: " + normalized->ShortDebugString());
        attributes[column.name()] = *std::move(normalized);
        break;
      }
    }
  }
  fuzz::CheckEncoding(table, id, parent, deleted, attributes);
  return 0;
}
