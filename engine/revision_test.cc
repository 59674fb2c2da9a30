#include "engine/revision.h"

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace recondb::engine {
namespace {

using ::recondb::testing::StatusIs;
using ::testing::HasSubstr;

constexpr int64_t kDeadlineMicros = 1767225600LL * 1000000;  // 2026-01-01T00:00:00Z

v1::Value Str(std::string s) { v1::Value v; v.set_string(std::move(s)); return v; }
v1::Value Int(int64_t i) { v1::Value v; v.set_int_(i); return v; }
v1::Value Float(double d) { v1::Value v; v.set_float_(d); return v; }
v1::Value Bool(bool b) { v1::Value v; v.set_bool_(b); return v; }
v1::Value Bytes(std::string b) { v1::Value v; v.set_bytes(std::move(b)); return v; }
v1::Value Null() { v1::Value v; v.set_null(google::protobuf::NULL_VALUE); return v; }
v1::Value Micros(int64_t micros) {
  v1::Value v;
  v.mutable_timestamp()->set_seconds(micros / 1000000);
  v.mutable_timestamp()->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  return v;
}

TEST(ParseRevisionTest, AcceptsWellFormed) {
  auto rev = ParseRevision("12-0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(rev.ok()) << rev.status();
  EXPECT_EQ(rev->generation, 12);
  EXPECT_EQ(rev->hex, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(FormatRevision(*rev), "12-0123456789abcdef0123456789abcdef");
  auto max = ParseRevision("9223372036854775807-0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->generation, INT64_MAX);
}

TEST(ParseRevisionTest, RefusesMalformed) {
  const std::string hex = "0123456789abcdef0123456789abcdef";
  for (const std::string& bad : std::vector<std::string>{
           std::string(""), std::string("1"), std::string("-") + hex, "1-" + hex.substr(1),
           "1-" + hex + "0", "0-" + hex, "01-" + hex, "+1-" + hex, " 1-" + hex,
           "1-0123456789ABCDEF0123456789abcdef", "1-0123456789abcdeg0123456789abcdef",
           "9223372036854775808-" + hex, "99999999999999999999-" + hex, "1_" + hex,
           std::string("1-\0", 3) + hex.substr(1), "1--" + hex.substr(1)}) {
    EXPECT_THAT(ParseRevision(bad), StatusIs(absl::StatusCode::kInvalidArgument,
                                             HasSubstr("revision")))
        << absl::CHexEscape(absl::string_view(bad));
  }
}

// The vectors of docs/revision-encoding.md, produced by the independent
// implementation docs/revision_reference.py.
TEST(RevisionVectorsTest, FirstWrite) {
  storage::Attributes attributes{{"title", Str("Buy water filters")},
                                 {"description", Null()},
                                 {"completed", Bool(false)},
                                 {"deadline_at", Micros(kDeadlineMicros)}};
  RevisionContent content{"todos", "t1", "", false, &attributes};
  EXPECT_EQ(absl::BytesToHexString(CanonicalEncoding(content)),
            "000000137265636f6e64622d7265766973696f6e2d763100000005746f646f730000000274310000"
            "0000000000000400000009636f6d706c657465640500000001000000000b646561646c696e655f61"
            "74060000000800064748462040000000000b6465736372697074696f6e0100000000000000057469"
            "746c6502000000114275792077617465722066696c74657273");
  EXPECT_EQ(ComputeRevision(1, content), "1-40eb979707ba747ca7de6128762cf79f");
}

TEST(RevisionVectorsTest, UpdateAndTombstone) {
  storage::Attributes attributes{{"title", Str("Buy water filters")},
                                 {"description", Str("f\xc3\xbcr 12 Personen")},
                                 {"completed", Bool(true)},
                                 {"deadline_at", Micros(kDeadlineMicros + 1)}};
  RevisionContent update{"todos", "t1", "1-40eb979707ba747ca7de6128762cf79f", false, &attributes};
  EXPECT_EQ(ComputeRevision(2, update), "2-f9ca3a0442738347ae7f0d2f5eaba19c");
  storage::Attributes none;
  RevisionContent tombstone{"todos", "t1", "2-f9ca3a0442738347ae7f0d2f5eaba19c", true, &none};
  EXPECT_EQ(ComputeRevision(3, tombstone), "3-410aeb22af8ae707979bd21dbc801e58");
}

TEST(RevisionVectorsTest, NumbersAndBytes) {
  storage::Attributes attributes{{"count", Int(-1234)},
                                 {"big", Int(INT64_MAX)},
                                 {"ratio", Float(0.1)},
                                 {"raw", Bytes(std::string("\x00\xff", 2))},
                                 {"empty", Str("")}};
  RevisionContent content{"readings", "r-1", "", false, &attributes};
  EXPECT_EQ(ComputeRevision(1, content), "1-4c7396a8f122247e4e1f318e40104539");
}

TEST(RevisionTest, EveryPartOfTheContentChangesTheHash) {
  storage::Attributes a{{"x", Int(1)}};
  storage::Attributes b{{"x", Int(2)}};
  storage::Attributes c{{"y", Int(1)}};
  storage::Attributes d{{"x", Float(1)}};
  const std::string base = ComputeRevision(1, {"t", "id", "", false, &a});
  EXPECT_NE(base, ComputeRevision(1, {"u", "id", "", false, &a}));
  EXPECT_NE(base, ComputeRevision(1, {"t", "id2", "", false, &a}));
  EXPECT_NE(base, ComputeRevision(1, {"t", "id", "1-0123456789abcdef0123456789abcdef", false, &a}));
  EXPECT_NE(base, ComputeRevision(1, {"t", "id", "", true, &a}));
  EXPECT_NE(base, ComputeRevision(1, {"t", "id", "", false, &b}));
  EXPECT_NE(base, ComputeRevision(1, {"t", "id", "", false, &c}));
  EXPECT_NE(base, ComputeRevision(1, {"t", "id", "", false, &d}));  // Kind is hashed.
  // Length prefixes keep ("ab","c") apart from ("a","bc").
  EXPECT_NE(ComputeRevision(1, {"ab", "c", "", false, &a}), ComputeRevision(1, {"a", "bc", "", false, &a}));
  EXPECT_EQ(base, ComputeRevision(1, {"t", "id", "", false, &a}));
}

}  // namespace
}  // namespace recondb::engine
