// gMock matchers for absl::Status and absl::StatusOr.
//   EXPECT_THAT(engine->GetTable("x"), StatusIs(absl::StatusCode::kNotFound));
//   EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("title")));
//   ASSERT_OK(status);  ASSERT_OK_AND_ASSIGN(auto v, StatusOrReturningCall());
#ifndef RECONDB_TESTS_SUPPORT_STATUS_MATCHERS_H_
#define RECONDB_TESTS_SUPPORT_STATUS_MATCHERS_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recondb::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s;
  return s.ok();
}

MATCHER_P(StatusIs, code, "has status code " + ::testing::PrintToString(code)) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code;
}

// A StatusOr that is OK and whose value matches `matcher`.
MATCHER_P(IsOkAndHolds, matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(matcher, *arg, result_listener);
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has status code " + ::testing::PrintToString(code)) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code &&
         ::testing::ExplainMatchResult(message_matcher, std::string(s.message()),
                                       result_listener);
}

}  // namespace recondb::testing

#define RECONDB_TEST_CONCAT_INNER_(a, b) a##b
#define RECONDB_TEST_CONCAT_(a, b) RECONDB_TEST_CONCAT_INNER_(a, b)

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::recondb::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::recondb::testing::IsOk())

#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  RECONDB_ASSERT_OK_AND_ASSIGN_IMPL_(RECONDB_TEST_CONCAT_(statusor_, __LINE__), lhs, expr)
#define RECONDB_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                        \
  ASSERT_THAT(statusor, ::recondb::testing::IsOk());             \
  lhs = std::move(statusor).value()

#endif  // RECONDB_TESTS_SUPPORT_STATUS_MATCHERS_H_
