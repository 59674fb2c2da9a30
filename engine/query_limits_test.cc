// Regression tests for queries past SQLite's own limits (issue 14 point 6):
// ListRecords with 999 conditions and GetChanges with 250,000 table names
// answered INTERNAL (expression depth, bound variables). The engine bounds
// them before any storage call; the bounds themselves still work on SQLite.
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "engine/engine.h"
#include "engine/limits.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_nodes.h"

namespace recondb::engine {
namespace {

using ::recondb::testing::IsOk;
using ::recondb::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

class QueryLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // SQLite: its expression-depth and variable limits are what the
    // engine's own bounds keep requests under.
    EngineOptions options;
    options.clock = &clock_;
    ASSERT_OK_AND_ASSIGN(testing::TestNode node,
                         testing::OpenTestNode("sqlite", dir_, "db", options));
    storage_ = std::move(node.storage);
    engine_ = std::move(node.engine);
    v1::Table counters;
    counters.set_name("counters");
    v1::Column* n = counters.add_columns();
    n->set_name("n");
    n->set_type(v1::COLUMN_TYPE_INT);
    n->set_nullable(true);
    ASSERT_THAT(engine_->CreateTable(counters), IsOk());
    v1::Record record;
    record.set_table("counters");
    record.set_id("c1");
    (*record.mutable_attributes())["n"].set_int_(7);
    ASSERT_THAT(engine_->PutRecord(record, nullptr), IsOk());
  }

  // ListRecords of counters with `count` conditions n >= 0.
  absl::StatusOr<v1::ListRecordsResponse> ListWith(int count) {
    v1::ListRecordsRequest request;
    request.set_table("counters");
    for (int i = 0; i < count; ++i) {
      v1::Condition* c = request.add_filter();
      c->set_column("n");
      c->set_op(v1::OPERATOR_GE);
      c->mutable_value()->set_int_(-i);  // n = 7 meets them all.
    }
    return engine_->ListRecords(request);
  }

  testing::TempDir dir_;
  FakeClock clock_{1767225600LL * 1000000};
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(QueryLimitsTest, ListRecordsWithTooManyConditionsIsInvalidArgumentNotInternal) {
  auto at_limit = ListWith(kMaxFilterConditions);
  ASSERT_THAT(at_limit, IsOk());
  EXPECT_EQ(at_limit->records_size(), 1);
  for (int count : {kMaxFilterConditions + 1, 999, 5000}) {
    EXPECT_THAT(ListWith(count), StatusIs(absl::StatusCode::kInvalidArgument,
                                          AllOf(HasSubstr("filter"), HasSubstr("64"))))
        << count;
  }
}

TEST_F(QueryLimitsTest, GetChangesWithTooManyTableNamesIsInvalidArgumentNotInternal) {
  const std::vector<std::string> at_limit(kMaxTableFilter, "counters");
  auto changes = engine_->GetChanges(0, at_limit, 100);
  ASSERT_THAT(changes, IsOk());
  EXPECT_FALSE(changes->empty());
  for (size_t count : {size_t{kMaxTableFilter + 1}, size_t{250000}}) {
    const std::vector<std::string> tables(count, "counters");
    EXPECT_THAT(
        engine_->GetChanges(0, tables, 100),
        StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr("tables"), HasSubstr("1000"))))
        << count;
    // A peer's table filter goes through the same bound.
    EXPECT_THAT(engine_->ReadChangePage(0, tables, 100),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tables")));
    EXPECT_THAT(engine_->CountChangesAfter(0, tables),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tables")));
  }
}

}  // namespace
}  // namespace recondb::engine
