#include "engine/revision.h"

#include "absl/strings/escaping.h"
#include "engine/internal/validation.h"
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

// Vectors 1-4 of docs/revision-encoding.md, which the independent
// implementation docs/revision_reference.py reproduces.
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
  EXPECT_EQ(absl::BytesToHexString(CanonicalEncoding(update)),
            "000000137265636f6e64622d7265766973696f6e2d763100000005746f646f730000000274310000"
            "0022312d343065623937393730376261373437636137646536313238373632636637396600000000"
            "0400000009636f6d706c657465640500000001010000000b646561646c696e655f61740600000008"
            "00064748462040010000000b6465736372697074696f6e020000001066c3bc722031322050657273"
            "6f6e656e000000057469746c6502000000114275792077617465722066696c74657273");
  EXPECT_EQ(ComputeRevision(2, update), "2-f9ca3a0442738347ae7f0d2f5eaba19c");
  storage::Attributes none;
  RevisionContent tombstone{"todos", "t1", "2-f9ca3a0442738347ae7f0d2f5eaba19c", true, &none};
  EXPECT_EQ(absl::BytesToHexString(CanonicalEncoding(tombstone)),
            "000000137265636f6e64622d7265766973696f6e2d763100000005746f646f730000000274310000"
            "0022322d663963613361303434323733383334376165376630643266356561626131396301000000"
            "00");
  EXPECT_EQ(ComputeRevision(3, tombstone), "3-410aeb22af8ae707979bd21dbc801e58");
}

TEST(RevisionVectorsTest, NumbersAndBytes) {
  storage::Attributes attributes{{"count", Int(-1234)},
                                 {"big", Int(INT64_MAX)},
                                 {"ratio", Float(0.1)},
                                 {"raw", Bytes(std::string("\x00\xff", 2))},
                                 {"empty", Str("")}};
  RevisionContent content{"readings", "r-1", "", false, &attributes};
  EXPECT_EQ(absl::BytesToHexString(CanonicalEncoding(content)),
            "000000137265636f6e64622d7265766973696f6e2d76310000000872656164696e67730000000372"
            "2d310000000000000000050000000362696703000000087fffffffffffffff00000005636f756e74"
            "0300000008fffffffffffffb2e00000005656d707479020000000000000005726174696f04000000"
            "083fb999999999999a00000003726177070000000200ff");
  EXPECT_EQ(ComputeRevision(1, content), "1-4c7396a8f122247e4e1f318e40104539");
}

// Vectors 5-11 of docs/revision-encoding.md: every rule an outside
// implementation must know, each with its full encoding. The values come
// from this implementation; docs/revision_reference.py reproduces them.
struct Vector {
  std::string name;
  int64_t generation;
  std::string table;
  std::string id;
  std::string parent;
  bool deleted;
  storage::Attributes attributes;
  std::string encoding_hex;
  std::string revision;
};

v1::Value Timestamp(int64_t seconds, int32_t nanos) {
  v1::Value v;
  v.mutable_timestamp()->set_seconds(seconds);
  v.mutable_timestamp()->set_nanos(nanos);
  return v;
}

std::vector<Vector> LaterVectors() {
  return {
      {"5 float -0.0 (stored as 0.0)", 1, "gauges", "g-1", "", false,
       {{"ratio", Float(0.0)}},
       "000000137265636f6e64622d7265766973696f6e2d76310000000667617567657300000003672d31"
       "00000000000000000100000005726174696f04000000080000000000000000",
       "1-e8ee23941d01bfada05ee0013e0ac83f"},
      {"6 pre-1970 timestamp", 1, "todos", "apollo", "", false,
       {{"title", Str("Moon landing")},
        {"description", Null()},
        {"completed", Bool(true)},
        // 1969-07-20T20:17:40.1234567Z as written: -14182939876544 us.
        {"deadline_at", Timestamp(-14182940, 123456000)}},
       "000000137265636f6e64622d7265766973696f6e2d763100000005746f646f730000000661706f6c"
       "6c6f00000000000000000400000009636f6d706c657465640500000001010000000b646561646c69"
       "6e655f61740600000008fffff319c6e823400000000b6465736372697074696f6e01000000000000"
       "00057469746c65020000000c4d6f6f6e206c616e64696e67",
       "1-0df4088fd5a18a1f7bbae8219464e788"},
      {"7 recreation after delete", 4, "todos", "t1", "3-410aeb22af8ae707979bd21dbc801e58", false,
       {{"title", Str("Buy water filters again")},
        {"description", Null()},
        {"completed", Bool(false)},
        {"deadline_at", Null()}},
       "000000137265636f6e64622d7265766973696f6e2d763100000005746f646f730000000274310000"
       "0022332d343130616562323261663861653730373937396264323164626338303165353800000000"
       "0400000009636f6d706c657465640500000001000000000b646561646c696e655f61740100000000"
       "0000000b6465736372697074696f6e0100000000000000057469746c650200000017427579207761"
       "7465722066696c7465727320616761696e",
       "4-0eb3de7282e7ebafe419b525efd7bc96"},
      {"8 fewer columns than its table", 1, "notes", "n1", "", false,
       {{"title", Str("written before pinned was added")}},
       "000000137265636f6e64622d7265766973696f6e2d7631000000056e6f746573000000026e310000"
       "00000000000001000000057469746c65020000001f7772697474656e206265666f72652070696e6e"
       "656420776173206164646564",
       "1-b6a020eff3f3bcc91ed736ac0add47a2"},
      {"9 non-ASCII record id (NFC)", 1, "todos", "caf\xc3\xa9-\xe2\x98\x95", "", false,
       {{"title", Str("cr\xc3\xa8me br\xc3\xbbl\xc3\xa9" "e")},
        {"description", Null()},
        {"completed", Bool(false)},
        {"deadline_at", Null()}},
       "000000137265636f6e64622d7265766973696f6e2d763100000005746f646f7300000009636166c3"
       "a92de2989500000000000000000400000009636f6d706c657465640500000001000000000b646561"
       "646c696e655f617401000000000000000b6465736372697074696f6e010000000000000005746974"
       "6c65020000000f6372c3a86d65206272c3bb6cc3a965",
       "1-6f5ce325dd8ef33715233242897574a1"},
      {"10 the same id decomposed (NFD)", 1, "todos", "cafe\xcc\x81-\xe2\x98\x95", "", false,
       {{"title", Str("cr\xc3\xa8me br\xc3\xbbl\xc3\xa9" "e")},
        {"description", Null()},
        {"completed", Bool(false)},
        {"deadline_at", Null()}},
       "000000137265636f6e64622d7265766973696f6e2d763100000005746f646f730000000a63616665"
       "cc812de2989500000000000000000400000009636f6d706c657465640500000001000000000b6465"
       "61646c696e655f617401000000000000000b6465736372697074696f6e0100000000000000057469"
       "746c65020000000f6372c3a86d65206272c3bb6cc3a965",
       "1-febb8ad2b0de12ba3df35c465b75020a"},
      {"11 nulls of every kind", 1, "readings", "r-3", "", false,
       {{"count", Null()}, {"big", Null()}, {"ratio", Null()}, {"raw", Null()}, {"empty", Null()}},
       "000000137265636f6e64622d7265766973696f6e2d76310000000872656164696e67730000000372"
       "2d3300000000000000000500000003626967010000000000000005636f756e740100000000000000"
       "05656d707479010000000000000005726174696f0100000000000000037261770100000000",
       "1-fed6933894da2a0b8ff4686b317459bb"},
  };
}

TEST(RevisionVectorsTest, LaterVectorsEncodeAndHashAsDocumented) {
  for (const Vector& v : LaterVectors()) {
    SCOPED_TRACE(v.name);
    RevisionContent content{v.table, v.id, v.parent, v.deleted, &v.attributes};
    EXPECT_EQ(absl::BytesToHexString(CanonicalEncoding(content)), v.encoding_hex);
    EXPECT_EQ(ComputeRevision(v.generation, content), v.revision);
  }
}

// What the write path does before hashing, for vectors 5 and 6: -0.0 is
// made 0.0, and a timestamp's sub-microsecond digits are dropped from its
// nanos, which for an instant before 1970 (negative seconds, nanos counted
// forward) moves it to the earlier microsecond, not toward zero.
TEST(RevisionVectorsTest, TheWritePathNormalizesBeforeHashing) {
  v1::Column ratio;
  ratio.set_name("ratio");
  ratio.set_type(v1::COLUMN_TYPE_FLOAT);
  ASSERT_OK_AND_ASSIGN(v1::Value zero, internal::NormalizeValue("gauges", ratio, Float(-0.0)));
  storage::Attributes normalized{{"ratio", zero}};
  EXPECT_EQ(absl::BytesToHexString(CanonicalEncoding({"gauges", "g-1", "", false, &normalized})),
            LaterVectors()[0].encoding_hex);
  v1::Column deadline;
  deadline.set_name("deadline_at");
  deadline.set_type(v1::COLUMN_TYPE_TIMESTAMP);
  deadline.set_nullable(true);
  ASSERT_OK_AND_ASSIGN(v1::Value written,
                       internal::NormalizeValue("todos", deadline, Timestamp(-14182940, 123456700)));
  EXPECT_EQ(written.timestamp().seconds(), -14182940);
  EXPECT_EQ(written.timestamp().nanos(), 123456000);
  // Half a microsecond before the epoch is stored as -1 us, not 0.
  ASSERT_OK_AND_ASSIGN(v1::Value before_epoch,
                       internal::NormalizeValue("todos", deadline, Timestamp(-1, 999999500)));
  storage::Attributes one{{"deadline_at", before_epoch}};
  const std::string hex = absl::BytesToHexString(CanonicalEncoding({"t", "x", "", false, &one}));
  EXPECT_EQ(hex.substr(hex.size() - 16), "ffffffffffffffff");  // i64(-1).
  // A value with no kind is written as null (nullable columns only).
  ASSERT_OK_AND_ASSIGN(v1::Value unset, internal::NormalizeValue("todos", deadline, v1::Value()));
  EXPECT_EQ(unset.kind_case(), v1::Value::kNull);
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
