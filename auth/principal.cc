#include "auth/principal.h"

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "common/table_names.h"

namespace recondb::auth {
namespace {

bool IsLowerOrDigit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

std::string_view PermissionName(Permission permission) {
  switch (permission) {
    case Permission::kRead:
      return "read";
    case Permission::kWrite:
      return "write";
    case Permission::kPull:
      return "pull";
    case Permission::kPush:
      return "push";
  }
  return "?";
}

absl::StatusOr<Permission> FromProto(v1::Permission permission, std::string_view field) {
  switch (permission) {
    case v1::PERMISSION_READ:
      return Permission::kRead;
    case v1::PERMISSION_WRITE:
      return Permission::kWrite;
    case v1::PERMISSION_PULL:
      return Permission::kPull;
    case v1::PERMISSION_PUSH:
      return Permission::kPush;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(Sv(field), ": permission ", static_cast<int>(permission),
                       " is not one of PERMISSION_READ, _WRITE, _PULL, _PUSH"));
  }
}

v1::Permission ToProto(Permission permission) {
  switch (permission) {
    case Permission::kRead:
      return v1::PERMISSION_READ;
    case Permission::kWrite:
      return v1::PERMISSION_WRITE;
    case Permission::kPull:
      return v1::PERMISSION_PULL;
    case Permission::kPush:
      return v1::PERMISSION_PUSH;
  }
  return v1::PERMISSION_UNSPECIFIED;
}

bool Principal::Allows(Permission permission, std::string_view table) const {
  if (admin) return true;
  for (const Grant& grant : grants) {
    if (grant.Has(permission) && PatternMatches(grant.table_pattern, table)) return true;
  }
  return false;
}

bool Principal::AllowsAny(std::string_view table) const {
  if (admin) return true;
  for (const Grant& grant : grants) {
    if (grant.permissions != 0 && PatternMatches(grant.table_pattern, table)) return true;
  }
  return false;
}

absl::Status ValidatePrincipalName(std::string_view name, std::string_view field) {
  bool ok = !name.empty() && name.size() <= 63 && IsLowerOrDigit(name[0]);
  for (size_t i = 1; ok && i < name.size(); ++i) {
    const char c = name[i];
    ok = IsLowerOrDigit(c) || c == '.' || c == '_' || c == '-';
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(Sv(field), ": principal name \"", Sv(name),
                                                 "\" must match [a-z0-9][a-z0-9._-]{0,62}"));
}

absl::Status ValidateTablePattern(std::string_view pattern, std::string_view field) {
  std::string_view stem = pattern;
  const bool wildcard = !stem.empty() && stem.back() == '*';
  if (wildcard) stem.remove_suffix(1);
  // A prefix of a table name has the shape of one (common/table_names.h).
  if ((wildcard && stem.empty()) || IsIdentifier(stem)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(Sv(field), ": table pattern \"", Sv(pattern),
                   "\" must be a table name, a prefix of one followed by \"*\", or \"*\""));
}

bool PatternMatches(std::string_view pattern, std::string_view table) {
  if (!pattern.empty() && pattern.back() == '*') {
    pattern.remove_suffix(1);
    return table.substr(0, pattern.size()) == pattern;
  }
  return pattern == table;
}

absl::Status ValidateCertificateName(std::string_view name, std::string_view field) {
  bool ok = !name.empty() && name.size() <= 255;
  for (size_t i = 0; ok && i < name.size(); ++i) ok = name[i] >= ' ' && name[i] <= '~';
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(Sv(field), ": certificate name \"", Sv(name),
                                                 "\" must be 1-255 printable ASCII characters"));
}

}  // namespace recondb::auth
