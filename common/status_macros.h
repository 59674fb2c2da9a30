// Status propagation helpers. Debian 12's abseil (2022-06) predates
// absl's own RETURN_IF_ERROR / ASSIGN_OR_RETURN, hence these.
#ifndef RECONDB_COMMON_STATUS_MACROS_H_
#define RECONDB_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define RECONDB_CONCAT_INNER_(a, b) a##b
#define RECONDB_CONCAT_(a, b) RECONDB_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::absl::Status recondb_status_ = (expr);           \
    if (!recondb_status_.ok()) return recondb_status_; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, F());` assigns the value of a StatusOr or
// returns its status from the enclosing function.
#define ASSIGN_OR_RETURN(lhs, expr) \
  RECONDB_ASSIGN_OR_RETURN_IMPL_(RECONDB_CONCAT_(recondb_statusor_, __LINE__), lhs, expr)

#define RECONDB_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                   \
  if (!statusor.ok()) return std::move(statusor).status();  \
  lhs = std::move(statusor).value()

#endif  // RECONDB_COMMON_STATUS_MACROS_H_
