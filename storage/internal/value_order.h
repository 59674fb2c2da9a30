// The order and comparison rules of view values, shared by every backend
// that evaluates queries itself (the memory backend) and by tests. They are
// the rules SQLite applies to the typed columns of docs/storage-format.md, so
// that every backend answers a ViewQuery identically:
//   string and bytes: bytewise (unsigned), a prefix before a longer value;
//   int: as int64; float: numerically (-0.0 == 0.0); bool: false < true;
//   timestamp: chronologically (seconds, then nanos).
#ifndef RECONDB_STORAGE_INTERNAL_VALUE_ORDER_H_
#define RECONDB_STORAGE_INTERNAL_VALUE_ORDER_H_

#include <string_view>

#include "recondb/v1/database.pb.h"
#include "recondb/v1/types.pb.h"

namespace recondb::storage::internal {

// True for the null value and for a Value with no kind set: both are null.
bool IsNull(const v1::Value& value);

// Three-way comparison (<0, 0, >0) of two values in the order of a
// column's type. Nulls sort after every value; two nulls are equal. Values
// of different kinds (which the engine never stores in one column) are
// ordered by kind so that the order stays total.
int CompareValues(const v1::Value& a, const v1::Value& b);

// Whether `value` (a row's value) satisfies `op operand`, with SQL's rules:
// any comparison involving a null (or values of different kinds) is false;
// IS_NULL / IS_NOT_NULL ignore `operand`. OPERATOR_UNSPECIFIED and unknown
// operators are never satisfied.
bool Satisfies(const v1::Value& value, v1::Operator op, const v1::Value& operand);

// Three-way comparison of two view positions (order value, id) in ascending
// query order: by value (nulls last), then by id bytewise. A descending
// query uses the opposite order, which puts nulls first.
int ComparePositions(const v1::Value& a_value, std::string_view a_id, const v1::Value& b_value,
                     std::string_view b_id);

}  // namespace recondb::storage::internal

#endif  // RECONDB_STORAGE_INTERNAL_VALUE_ORDER_H_
