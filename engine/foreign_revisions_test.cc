// Regression tests for revisions from other nodes that a hostile client or
// peer forged (issue 14 point 6): copies of one revision id that differ, and
// a float -0.0 hashed before it is normalized. Over every storage backend.
#include <cmath>
#include <memory>

#include "common/clock.h"
#include "engine/engine.h"
#include "engine/revision.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_nodes.h"

namespace recondb::engine {
namespace {

using ::recondb::testing::IsOk;
using ::recondb::testing::IsOkAndHolds;
using ::recondb::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr int64_t kNow = 1767225600LL * 1000000;  // 2026-01-01T00:00:00Z

class ForeignRevisionsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.clock = &clock_;
    ASSERT_OK_AND_ASSIGN(testing::TestNode node,
                         testing::OpenTestNode(GetParam(), dir_, "db", options));
    storage_ = std::move(node.storage);
    engine_ = std::move(node.engine);
    v1::Table readings;
    readings.set_name("readings");
    v1::Column* value = readings.add_columns();
    value->set_name("value");
    value->set_type(v1::COLUMN_TYPE_FLOAT);
    value->set_nullable(true);
    ASSERT_THAT(engine_->CreateTable(readings), IsOk());
  }

  // A revision of record `id` holding `value`, child of `parent` (empty: a
  // first write), whose id is the hash of its content.
  static ForeignRevision Reading(const std::string& id, const std::string& parent,
                                 int64_t parent_generation, double value) {
    ForeignRevision f;
    f.table = "readings";
    f.rev.id = id;
    f.rev.parent = parent;
    f.rev.generation = parent_generation + 1;
    f.rev.attributes["value"].set_float_(value);
    f.rev.revision = ComputeRevision(
        f.rev.generation, {"readings", f.rev.id, f.rev.parent, false, &f.rev.attributes});
    return f;
  }

  // `f` sent without its content.
  static ForeignRevision Stub(ForeignRevision f) {
    f.rev.stub = true;
    f.rev.attributes.clear();
    return f;
  }

  // `f` with other content under the same revision id.
  static ForeignRevision Forged(ForeignRevision f) {
    f.rev.attributes["value"].set_float_(666.0);
    return f;
  }

  absl::StatusOr<v1::Record> Get(const std::string& id, const std::string& revision = "") {
    v1::GetRecordRequest request;
    request.set_table("readings");
    request.set_id(id);
    request.set_revision(revision);
    return engine_->GetRecord(request);
  }

  recondb::testing::TempDir dir_;
  FakeClock clock_{kNow};
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<Engine> engine_;
};

TEST_P(ForeignRevisionsTest, ForgedCopyAfterAGoodRevisionRefusesTheBatch) {
  const ForeignRevision good = Reading("r1", "", 0, 1.5);
  const ForeignRevision forged = Forged(good);
  const int64_t seq = engine_->LastSeq();
  for (const auto& batch :
       {std::vector<ForeignRevision>{good, forged}, std::vector<ForeignRevision>{forged, good}}) {
    EXPECT_THAT(engine_->ApplyForeignRevisions(batch),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("\"r1\""), HasSubstr(good.rev.revision))));
  }
  EXPECT_THAT(Get("r1"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(engine_->LastSeq(), seq);
}

TEST_P(ForeignRevisionsTest, StubAndBodyOfOneRevisionThatDisagreeRefuseTheBatch) {
  const ForeignRevision a = Reading("r1", "", 0, 1.0);
  const ForeignRevision b = Reading("r1", "", 0, 2.0);
  const ForeignRevision child = Reading("r1", a.rev.revision, 1, 3.0);
  const ForeignRevision grandchild = Reading("r1", child.rev.revision, 2, 4.0);
  // A stub of `child` that says its parent is `b`: each copy passes on its
  // own, but one revision id cannot have two parents.
  ForeignRevision false_stub = Stub(child);
  false_stub.rev.parent = b.rev.revision;
  EXPECT_THAT(
      engine_->ApplyForeignRevisions({a, b, child, false_stub, grandchild}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("\"r1\""), HasSubstr(child.rev.revision), HasSubstr("twice"))));
  EXPECT_THAT(Get("r1"), StatusIs(absl::StatusCode::kNotFound));
  // Copies that agree are still fine: a body and its stub, two stubs.
  EXPECT_THAT(engine_->ApplyForeignRevisions({Stub(child), a, child, Stub(child), grandchild}),
              IsOkAndHolds(3));
}

TEST_P(ForeignRevisionsTest, ForgedBodyOfAStoredRevisionIsRefused) {
  const ForeignRevision good = Reading("r1", "", 0, 1.5);
  ASSERT_THAT(engine_->ApplyForeignRevisions({good}), IsOkAndHolds(1));
  const int64_t seq = engine_->LastSeq();
  EXPECT_THAT(engine_->ApplyForeignRevisions({Forged(good)}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("\"r1\""), HasSubstr(good.rev.revision))));
  // The same good copy again is idempotent.
  EXPECT_THAT(engine_->ApplyForeignRevisions({good}), IsOkAndHolds(0));
  EXPECT_EQ(engine_->LastSeq(), seq);
  auto stored = Get("r1");
  ASSERT_THAT(stored, IsOk());
  EXPECT_EQ(stored->attributes().at("value").float_(), 1.5);
}

TEST_P(ForeignRevisionsTest, FalseStubOfAStoredRevisionIsRefused) {
  const ForeignRevision a = Reading("r1", "", 0, 1.0);
  const ForeignRevision b = Reading("r1", "", 0, 2.0);
  const ForeignRevision child = Reading("r1", a.rev.revision, 1, 3.0);
  ASSERT_THAT(engine_->ApplyForeignRevisions({a, b, child}), IsOkAndHolds(3));
  ForeignRevision false_stub = Stub(child);
  false_stub.rev.parent = b.rev.revision;
  EXPECT_THAT(engine_->ApplyForeignRevisions({false_stub}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(child.rev.revision), HasSubstr("differs from the stored"))));
  EXPECT_THAT(engine_->ApplyForeignRevisions({Stub(child)}), IsOkAndHolds(0));
}

TEST_P(ForeignRevisionsTest, StoredStubIsFilledByItsBodyAndNotByAForgery) {
  const ForeignRevision first = Reading("r1", "", 0, 1.0);
  const ForeignRevision second = Reading("r1", first.rev.revision, 1, 2.0);
  ASSERT_THAT(engine_->ApplyForeignRevisions({Stub(first), second}), IsOkAndHolds(2));
  EXPECT_THAT(engine_->ApplyForeignRevisions({Forged(first)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("hash")));
  EXPECT_THAT(engine_->ApplyForeignRevisions({first}), IsOkAndHolds(1));
  auto filled = Get("r1", first.rev.revision);
  ASSERT_THAT(filled, IsOk());
  EXPECT_EQ(filled->attributes().at("value").float_(), 1.0);
}

// The documented id of a -0.0 value is the hash over 0.0
// (docs/revision-encoding.md): accepted, stored as 0.0, so the stored
// revision still matches its id. An id over the raw -0.0 bits is refused.
TEST_P(ForeignRevisionsTest, NegativeZeroIsNormalizedBeforeHashing) {
  ForeignRevision documented = Reading("r1", "", 0, 0.0);
  documented.rev.attributes["value"].set_float_(-0.0);
  ASSERT_THAT(engine_->ApplyForeignRevisions({documented}), IsOkAndHolds(1));
  auto stored = Get("r1");
  ASSERT_THAT(stored, IsOk());
  EXPECT_EQ(stored->revision(), documented.rev.revision);
  EXPECT_EQ(stored->attributes().at("value").float_(), 0.0);
  EXPECT_FALSE(std::signbit(stored->attributes().at("value").float_()));
  storage::Attributes read_back(stored->attributes().begin(), stored->attributes().end());
  EXPECT_EQ(ComputeRevision(1, {"readings", "r1", "", false, &read_back}), stored->revision());

  const ForeignRevision raw_bits = Reading("r2", "", 0, -0.0);
  ASSERT_NE(raw_bits.rev.revision, Reading("r2", "", 0, 0.0).rev.revision);
  EXPECT_THAT(
      engine_->ApplyForeignRevisions({raw_bits}),
      StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr("\"r2\""), HasSubstr("hash"))));
  EXPECT_THAT(Get("r2"), StatusIs(absl::StatusCode::kNotFound));
}

// docs/revision-encoding.md, "What a write converts, and what an import
// refuses": an imported revision must already be canonical. A value with no
// kind (which a local write stores as null) is refused, even with the id of
// its null; a spelled-out null with that id is accepted.
TEST_P(ForeignRevisionsTest, AValueWithNoKindIsRefusedOnImport) {
  ForeignRevision null_value;
  null_value.table = "readings";
  null_value.rev.id = "n1";
  null_value.rev.generation = 1;
  null_value.rev.attributes["value"].set_null(google::protobuf::NULL_VALUE);
  null_value.rev.revision =
      ComputeRevision(1, {"readings", "n1", "", false, &null_value.rev.attributes});
  ForeignRevision no_kind = null_value;
  no_kind.rev.attributes["value"] = v1::Value();
  EXPECT_THAT(engine_->ApplyForeignRevisions({no_kind}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not in canonical form")));
  EXPECT_THAT(Get("n1"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(engine_->ApplyForeignRevisions({null_value}), IsOkAndHolds(1));
}

INSTANTIATE_TEST_SUITE_P(Backends, ForeignRevisionsTest, ::testing::Values("memory", "sqlite"));

}  // namespace
}  // namespace recondb::engine
