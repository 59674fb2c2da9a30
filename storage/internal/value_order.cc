#include "storage/internal/value_order.h"

#include <cstdint>
#include <string_view>

namespace recondb::storage::internal {
namespace {

template <typename T>
int ThreeWay(const T& a, const T& b) {
  if (a < b) return -1;
  if (b < a) return 1;
  return 0;
}

// std::string_view::compare is bytewise over unsigned chars, like memcmp
// followed by a length comparison: SQLite's BINARY collation and blob order.
int CompareBytes(std::string_view a, std::string_view b) {
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// Compares two non-null values of the same kind.
int CompareSameKind(const v1::Value& a, const v1::Value& b) {
  switch (a.kind_case()) {
    case v1::Value::kString:
      return CompareBytes(a.string(), b.string());
    case v1::Value::kInt:
      return ThreeWay<int64_t>(a.int_(), b.int_());
    case v1::Value::kFloat:
      return ThreeWay<double>(a.float_(), b.float_());
    case v1::Value::kBool:
      return ThreeWay<bool>(a.bool_(), b.bool_());
    case v1::Value::kTimestamp: {
      int c = ThreeWay<int64_t>(a.timestamp().seconds(), b.timestamp().seconds());
      return c != 0 ? c : ThreeWay<int32_t>(a.timestamp().nanos(), b.timestamp().nanos());
    }
    case v1::Value::kBytes:
      return CompareBytes(a.bytes(), b.bytes());
    default:
      return 0;
  }
}

}  // namespace

bool IsNull(const v1::Value& value) {
  return value.kind_case() == v1::Value::KIND_NOT_SET || value.kind_case() == v1::Value::kNull;
}

int CompareValues(const v1::Value& a, const v1::Value& b) {
  const bool a_null = IsNull(a);
  const bool b_null = IsNull(b);
  if (a_null || b_null) return ThreeWay<bool>(a_null, b_null);
  if (a.kind_case() != b.kind_case()) {
    return ThreeWay<int>(a.kind_case(), b.kind_case());
  }
  return CompareSameKind(a, b);
}

bool Satisfies(const v1::Value& value, v1::Operator op, const v1::Value& operand) {
  if (op == v1::OPERATOR_IS_NULL) return IsNull(value);
  if (op == v1::OPERATOR_IS_NOT_NULL) return !IsNull(value);
  if (IsNull(value) || IsNull(operand) || value.kind_case() != operand.kind_case()) {
    return false;
  }
  const int c = CompareSameKind(value, operand);
  switch (op) {
    case v1::OPERATOR_EQ:
      return c == 0;
    case v1::OPERATOR_NE:
      return c != 0;
    case v1::OPERATOR_LT:
      return c < 0;
    case v1::OPERATOR_LE:
      return c <= 0;
    case v1::OPERATOR_GT:
      return c > 0;
    case v1::OPERATOR_GE:
      return c >= 0;
    default:
      return false;
  }
}

int ComparePositions(const v1::Value& a_value, std::string_view a_id, const v1::Value& b_value,
                     std::string_view b_id) {
  const int c = CompareValues(a_value, b_value);
  return c != 0 ? c : CompareBytes(a_id, b_id);
}

}  // namespace recondb::storage::internal
