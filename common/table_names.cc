#include "common/table_names.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace recondb {

bool IsIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

absl::Status ValidateTableName(std::string_view name) {
  if (!IsIdentifier(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "table name ", QuoteInput(name), " is invalid: it must match ", Sv(kIdentifierPattern)));
  }
  if (absl::EndsWith(Sv(name), "_history")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "table name ", QuoteInput(name), " is invalid: names ending in _history are reserved"));
  }
  if (absl::StartsWith(Sv(name), "sqlite_")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "table name ", QuoteInput(name), " is invalid: names starting with sqlite_ are reserved"));
  }
  return absl::OkStatus();
}

}  // namespace recondb
