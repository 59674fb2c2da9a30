#include "engine/internal/audit.h"

#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace recondb::engine::internal {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsLowerHex(char c) { return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9'); }

}  // namespace

bool IsPrincipalName(std::string_view name) {
  if (name.empty() || name.size() > 63 || !IsLowerAlnum(name[0])) return false;
  for (char c : name) {
    if (!IsLowerAlnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

bool IsNodeId(std::string_view id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? id[i] != '-' : !IsLowerHex(id[i])) return false;
  }
  return true;
}

absl::Status ValidateAudit(const storage::RevisionAudit& audit, std::string_view what) {
  const std::string prefix = absl::StrCat(Sv(what), ": audit ");
  if (!audit.known()) {
    if (!audit.author.empty() || audit.create_time_micros != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          prefix, "origin_node is required with author and create_time (all or none)"));
    }
    return absl::OkStatus();
  }
  if (!IsNodeId(audit.origin_node)) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "origin_node ", QuoteInput(audit.origin_node),
                     " is not a node id (a lowercase UUID)"));
  }
  if (!IsPrincipalName(audit.author)) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "author ", QuoteInput(audit.author),
                     " is not a principal name ([a-z0-9][a-z0-9._-]{0,62})"));
  }
  if (audit.create_time_micros <= 0 || audit.create_time_micros > kMaxAuditTimeMicros) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "create_time ", audit.create_time_micros,
                     " microseconds is out of range (after 1970-01-01, up to 9999-12-31)"));
  }
  return absl::OkStatus();
}

bool AuditPrecedes(const storage::RevisionAudit& a, const storage::RevisionAudit& b) {
  if (!a.known()) return false;
  if (!b.known()) return true;
  return std::tie(a.create_time_micros, a.origin_node, a.author) <
         std::tie(b.create_time_micros, b.origin_node, b.author);
}

}  // namespace recondb::engine::internal
