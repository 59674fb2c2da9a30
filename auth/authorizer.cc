#include "auth/authorizer.h"

#include <fcntl.h>
#include <grpcpp/server_context.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "auth/certificate_names.h"
#include "auth/token.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "google/protobuf/util/time_util.h"

namespace recondb::auth {
namespace {

constexpr std::string_view kBootstrapAdmin = "admin";

google::protobuf::Timestamp Now() {
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(absl::Now()));
}

std::shared_ptr<const Principal> MakePrincipal(const internal::StoredPrincipal& stored,
                                               const std::string& source_file) {
  auto p = std::make_shared<Principal>();
  p->name = stored.name();
  p->admin = stored.admin();
  for (const v1::TableGrant& g : stored.grants()) {
    auth::Grant grant;
    grant.table_pattern = g.table_pattern();
    for (int permission : g.permissions()) {
      absl::StatusOr<Permission> parsed = FromProto(static_cast<v1::Permission>(permission), "");
      if (parsed.ok()) grant.permissions |= static_cast<uint8_t>(*parsed);
    }
    p->grants.push_back(std::move(grant));
  }
  p->certificate_names.assign(stored.certificate_names().begin(), stored.certificate_names().end());
  p->source_file = source_file;
  return p;
}

absl::Status Unauthenticated(std::string_view why) { return absl::UnauthenticatedError(Sv(why)); }

// The value after "Bearer " (the scheme is case-insensitive), or nullopt.
std::optional<std::string_view> BearerValue(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() < kScheme.size() ||
      !absl::EqualsIgnoreCase(Sv(authorization.substr(0, kScheme.size())), Sv(kScheme))) {
    return std::nullopt;
  }
  const absl::string_view value =
      absl::StripAsciiWhitespace(Sv(authorization.substr(kScheme.size())));
  return StdSv(value);
}

internal::StoredPrincipal* FindOwn(internal::AuthStore& store, std::string_view name) {
  for (internal::StoredPrincipal& p : *store.mutable_principals()) {
    if (p.name() == name) return &p;
  }
  return nullptr;
}

const internal::StoredPrincipal* FindIn(const internal::AuthStore& store, std::string_view name) {
  for (const internal::StoredPrincipal& p : store.principals()) {
    if (p.name() == name) return &p;
  }
  return nullptr;
}

v1::PrincipalInfo Info(const internal::StoredPrincipal& stored, const std::string& source_file,
                       const std::vector<std::string>& node_ids) {
  v1::PrincipalInfo info;
  info.set_name(stored.name());
  info.set_admin(stored.admin());
  *info.mutable_grants() = stored.grants();
  *info.mutable_certificate_names() = stored.certificate_names();
  for (const internal::StoredToken& token : stored.tokens()) {
    v1::TokenInfo* t = info.add_tokens();
    t->set_id(token.id());
    if (token.has_create_time()) *t->mutable_create_time() = token.create_time();
  }
  for (const std::string& id : node_ids) info.add_node_ids(id);
  if (stored.has_create_time()) *info.mutable_create_time() = stored.create_time();
  info.set_source_file(source_file);
  return info;
}

// The permissions of `request` as bits; INVALID_ARGUMENT naming the field.
template <typename Request>
absl::StatusOr<uint8_t> RequestedPermissions(const Request& request) {
  uint8_t bits = 0;
  for (int permission : request.permissions()) {
    ASSIGN_OR_RETURN(Permission p,
                     FromProto(static_cast<v1::Permission>(permission), "permissions"));
    bits |= static_cast<uint8_t>(p);
  }
  if (bits == 0 && !request.admin()) {
    return absl::InvalidArgumentError("permissions: give at least one permission, or admin");
  }
  if (bits != 0) RETURN_IF_ERROR(ValidateTablePattern(request.table_pattern(), "table_pattern"));
  return bits;
}

void SetBits(v1::TableGrant& grant, uint8_t bits) {
  grant.clear_permissions();
  for (Permission p :
       {Permission::kRead, Permission::kWrite, Permission::kPull, Permission::kPush}) {
    if (bits & static_cast<uint8_t>(p)) grant.add_permissions(ToProto(p));
  }
}

uint8_t BitsOf(const v1::TableGrant& grant) {
  uint8_t bits = 0;
  for (int permission : grant.permissions()) {
    absl::StatusOr<Permission> p = FromProto(static_cast<v1::Permission>(permission), "");
    if (p.ok()) bits |= static_cast<uint8_t>(*p);
  }
  return bits;
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::UnavailableError(
        absl::StrCat("cannot read --admin_token_file ", path, ": ", std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  const std::string token(absl::StripAsciiWhitespace(text.str()));
  if (!ParseTokenId(token).ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--admin_token_file ", path,
        " does not hold a well-formed token (rdb_<16 lowercase hex digits>_<43 base64url "
        "characters>; recondb auth new-token makes one)"));
  }
  return token;
}

absl::Status WriteNewTokenFile(const std::string& path, std::string_view token) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot create --admin_token_file ", path, ": ", std::strerror(errno)));
  }
  const std::string text = absl::StrCat(Sv(token), "\n");
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  const int error = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return absl::UnavailableError(
        absl::StrCat("cannot write --admin_token_file ", path, ": ", std::strerror(error)));
  }
  return absl::OkStatus();
}

}  // namespace

std::shared_ptr<const Principal> Authorizer::Anonymous() {
  static const std::shared_ptr<const Principal> anonymous = [] {
    auto p = std::make_shared<Principal>();
    p->name = std::string(kAnonymousName);
    p->admin = true;
    p->grants.push_back(auth::Grant{"*", kAllPermissions});
    return p;
  }();
  return anonymous;
}

absl::StatusOr<std::unique_ptr<Authorizer>> Authorizer::Open(AuthorizerOptions options) {
  std::unique_ptr<Authorizer> authorizer(new Authorizer(std::move(options)));
  absl::MutexLock lock(&authorizer->mu_);
  if (authorizer->options_.enabled) {
    ASSIGN_OR_RETURN(authorizer->store_, PrincipalStore::Open(authorizer->options_.store_path,
                                                              authorizer->options_.auth_file));
  } else {
    ASSIGN_OR_RETURN(authorizer->store_, PrincipalStore::Open("", ""));
  }
  authorizer->Rebuild();
  return authorizer;
}

void Authorizer::Rebuild() {
  auto next = std::make_shared<Snapshot>();
  std::map<std::string, std::vector<std::string>> node_ids;
  for (const internal::NodeBinding& b : store_->own().node_bindings()) {
    next->node_owners[b.node_id()] = b.principal();
    node_ids[b.principal()].push_back(b.node_id());
  }
  const auto add = [&](const internal::AuthStore& store, const std::string& source) {
    for (const internal::StoredPrincipal& stored : store.principals()) {
      auto p = std::const_pointer_cast<Principal>(MakePrincipal(stored, source));
      p->node_ids = node_ids[stored.name()];
      next->principals[stored.name()] = std::move(p);
      for (const internal::StoredToken& t : stored.tokens()) {
        next->tokens[t.id()] = TokenEntry{stored.name(), t.sha256()};
      }
      for (const std::string& name : stored.certificate_names()) {
        next->certificate_names[name] = stored.name();
      }
    }
  };
  add(store_->file(), store_->auth_file());
  add(store_->own(), "");
  snapshot_ = std::move(next);
}

std::shared_ptr<const Authorizer::Snapshot> Authorizer::snapshot() const {
  absl::ReaderMutexLock lock(&mu_);
  return snapshot_;
}

absl::Status Authorizer::RequireEnabled() const {
  if (options_.enabled) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "authentication is off on this node (--auth=off): there are no principals to manage");
}

absl::StatusOr<std::shared_ptr<const Principal>> Authorizer::Authenticate(
    const grpc::ServerContextBase& context) const {
  if (!options_.enabled) return Anonymous();
  Credentials credentials;
  const auto& metadata = context.client_metadata();
  const auto it = metadata.find("authorization");
  if (it != metadata.end()) {
    credentials.authorization = std::string(it->second.data(), it->second.size());
  }
  if (credentials.authorization.has_value()) return Authenticate(credentials);
  const std::shared_ptr<const grpc::AuthContext> auth_context = context.auth_context();
  if (auth_context != nullptr) credentials.certificate_names = PeerCertificateNames(*auth_context);
  return Authenticate(credentials);
}

absl::StatusOr<std::shared_ptr<const Principal>> Authorizer::Authenticate(
    const Credentials& credentials) const {
  if (!options_.enabled) return Anonymous();
  const std::shared_ptr<const Snapshot> snap = snapshot();
  if (credentials.authorization.has_value()) {
    const std::optional<std::string_view> token = BearerValue(*credentials.authorization);
    if (!token.has_value()) {
      return Unauthenticated("malformed authorization metadata: expected \"Bearer <token>\"");
    }
    const absl::StatusOr<std::string> id = ParseTokenId(*token);
    if (!id.ok())
      return Unauthenticated(absl::StrCat("invalid bearer token: ", id.status().message()));
    const auto entry = snap->tokens.find(*id);
    // Hash either way, so that an unknown id costs what a wrong secret does.
    const std::string hash = HashToken(*token);
    if (entry == snap->tokens.end() || !ConstantTimeEquals(hash, entry->second.sha256)) {
      return Unauthenticated("invalid bearer token: unknown or revoked");
    }
    const auto principal = snap->principals.find(entry->second.principal);
    if (principal == snap->principals.end()) {
      return Unauthenticated("invalid bearer token: unknown or revoked");
    }
    return principal->second;
  }
  if (!credentials.certificate_names.empty()) {
    absl::StatusOr<std::shared_ptr<const Principal>> p =
        PrincipalForCertificateNames(credentials.certificate_names);
    if (!p.ok()) {
      return Unauthenticated(absl::StrCat("the client certificate (",
                                          absl::StrJoin(credentials.certificate_names, ", "),
                                          ") maps to no principal"));
    }
    return p;
  }
  return Unauthenticated(
      "missing credentials: send \"authorization: Bearer <token>\" metadata or a client "
      "certificate");
}

absl::Status Authorizer::Check(const Principal& principal, Permission permission,
                               std::string_view table) const {
  if (principal.Allows(permission, table)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat("principal ", principal.name, " may not ",
                                                  Sv(PermissionName(permission)), " table ",
                                                  Sv(table)));
}

absl::Status Authorizer::CheckAny(const Principal& principal, std::string_view table) const {
  if (principal.AllowsAny(table)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("principal ", principal.name, " has no permission on table ", Sv(table)));
}

absl::Status Authorizer::CheckAdmin(const Principal& principal, std::string_view what) const {
  if (principal.admin) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("principal ", principal.name, " does not have the admin role",
                   what.empty() ? "" : absl::StrCat(" (needed for ", Sv(what), ")")));
}

absl::Status Authorizer::ClaimNodeId(const Principal& principal, std::string_view node_id) {
  if (!options_.enabled) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  if (snapshot_->principals.find(principal.name) == snapshot_->principals.end()) {
    return absl::PermissionDeniedError(
        absl::StrCat("principal ", principal.name, " no longer exists"));
  }
  const auto owner = snapshot_->node_owners.find(node_id);
  if (owner != snapshot_->node_owners.end()) {
    if (owner->second == principal.name) return absl::OkStatus();
    return absl::PermissionDeniedError(absl::StrCat("node id ", Sv(node_id),
                                                    " belongs to another principal; principal ",
                                                    principal.name, " may not present it"));
  }
  RETURN_IF_ERROR(store_->Mutate([&](internal::AuthStore& store) {
    internal::NodeBinding* binding = store.add_node_bindings();
    binding->set_node_id(std::string(node_id));
    binding->set_principal(principal.name);
    return absl::OkStatus();
  }));
  Rebuild();
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Principal>> Authorizer::PrincipalForCertificateNames(
    const std::vector<std::string>& names) const {
  if (!options_.enabled) return Anonymous();
  const std::shared_ptr<const Snapshot> snap = snapshot();
  for (const std::string& name : names) {
    const auto it = snap->certificate_names.find(name);
    if (it == snap->certificate_names.end()) continue;
    const auto p = snap->principals.find(it->second);
    if (p != snap->principals.end()) return p->second;
  }
  return absl::NotFoundError(
      absl::StrCat("no principal has any of the certificate names ", absl::StrJoin(names, ", ")));
}

absl::StatusOr<BootstrapResult> Authorizer::BootstrapAdmin(const std::string& token_file) {
  RETURN_IF_ERROR(RequireEnabled());
  absl::MutexLock lock(&mu_);
  BootstrapResult result;
  for (const auto& [name, p] : snapshot_->principals) {
    if (p->admin) return result;
  }
  if (snapshot_->principals.count(kBootstrapAdmin) > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no principal has the admin role, and the name \"", Sv(kBootstrapAdmin),
        "\" that the bootstrap would give one is taken: give a principal the admin role in ",
        store_->auth_file().empty() ? "an --auth_file" : store_->auth_file()));
  }
  std::string token;
  if (::access(token_file.c_str(), F_OK) == 0) {
    ASSIGN_OR_RETURN(token, ReadTokenFile(token_file));
  } else {
    ASSIGN_OR_RETURN(NewToken fresh, GenerateToken());
    RETURN_IF_ERROR(WriteNewTokenFile(token_file, fresh.token));
    token = std::move(fresh.token);
    result.wrote_token_file = true;
  }
  ASSIGN_OR_RETURN(std::string id, ParseTokenId(token));
  RETURN_IF_ERROR(store_->Mutate([&](internal::AuthStore& store) {
    internal::StoredPrincipal* admin = store.add_principals();
    admin->set_name(std::string(kBootstrapAdmin));
    admin->set_admin(true);
    *admin->mutable_create_time() = Now();
    internal::StoredToken* stored = admin->add_tokens();
    stored->set_id(id);
    stored->set_sha256(HashToken(token));
    *stored->mutable_create_time() = Now();
    return absl::OkStatus();
  }));
  Rebuild();
  result.created_admin = true;
  return result;
}

v1::PrincipalInfo Authorizer::DescribeLocked(std::string_view name) const {
  const auto p = snapshot_->principals.find(name);
  const std::vector<std::string> no_ids;
  const std::vector<std::string>& ids =
      p == snapshot_->principals.end() ? no_ids : p->second->node_ids;
  if (const internal::StoredPrincipal* own = FindIn(store_->own(), name))
    return Info(*own, "", ids);
  if (const internal::StoredPrincipal* file = FindIn(store_->file(), name)) {
    return Info(*file, store_->auth_file(), ids);
  }
  v1::PrincipalInfo info;
  info.set_name(std::string(name));
  return info;
}

v1::PrincipalInfo Authorizer::Describe(const Principal& principal) const {
  absl::ReaderMutexLock lock(&mu_);
  if (snapshot_->principals.count(principal.name) > 0) return DescribeLocked(principal.name);
  v1::PrincipalInfo info;
  info.set_name(principal.name);
  info.set_admin(principal.admin);
  for (const auth::Grant& grant : principal.grants) {
    v1::TableGrant* g = info.add_grants();
    g->set_table_pattern(grant.table_pattern);
    SetBits(*g, grant.permissions);
  }
  return info;
}

absl::Status Authorizer::CheckNotLastAdmin(std::string_view name) const {
  const auto self = snapshot_->principals.find(name);
  if (self == snapshot_->principals.end() || !self->second->admin) return absl::OkStatus();
  for (const auto& [other, p] : snapshot_->principals) {
    if (other != name && p->admin) return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("principal ", Sv(name),
                   " is the last one with the admin role: give another principal the role first"));
}

absl::StatusOr<v1::PrincipalInfo> Authorizer::MutatePrincipal(
    std::string_view name, std::string_view field,
    const std::function<absl::Status(internal::StoredPrincipal&)>& change) {
  RETURN_IF_ERROR(RequireEnabled());
  RETURN_IF_ERROR(ValidatePrincipalName(name, field));
  absl::MutexLock lock(&mu_);
  if (FindIn(store_->file(), name) != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("principal ", Sv(name), " comes from --auth_file ", store_->auth_file(),
                     " and is read-only here: edit that file and restart the node"));
  }
  RETURN_IF_ERROR(store_->Mutate([&](internal::AuthStore& store) {
    internal::StoredPrincipal* p = FindOwn(store, name);
    if (p == nullptr)
      return absl::NotFoundError(absl::StrCat("principal ", Sv(name), " does not exist"));
    return change(*p);
  }));
  Rebuild();
  return DescribeLocked(name);
}

absl::StatusOr<v1::PrincipalInfo> Authorizer::CreatePrincipal(
    const v1::CreatePrincipalRequest& request) {
  RETURN_IF_ERROR(RequireEnabled());
  RETURN_IF_ERROR(ValidatePrincipalName(request.name(), "name"));
  for (const std::string& name : request.certificate_names()) {
    RETURN_IF_ERROR(ValidateCertificateName(name, "certificate_names"));
  }
  absl::MutexLock lock(&mu_);
  if (snapshot_->principals.count(request.name()) > 0) {
    return absl::AlreadyExistsError(absl::StrCat("principal ", request.name(), " already exists"));
  }
  for (const std::string& name : request.certificate_names()) {
    const auto it = snapshot_->certificate_names.find(name);
    if (it != snapshot_->certificate_names.end()) {
      return absl::AlreadyExistsError(
          absl::StrCat("certificate_names: \"", name, "\" already maps to principal ", it->second));
    }
  }
  RETURN_IF_ERROR(store_->Mutate([&](internal::AuthStore& store) {
    internal::StoredPrincipal* p = store.add_principals();
    p->set_name(request.name());
    p->set_admin(request.admin());
    *p->mutable_certificate_names() = request.certificate_names();
    *p->mutable_create_time() = Now();
    return absl::OkStatus();
  }));
  Rebuild();
  return DescribeLocked(request.name());
}

absl::Status Authorizer::DeletePrincipal(std::string_view name) {
  RETURN_IF_ERROR(RequireEnabled());
  RETURN_IF_ERROR(ValidatePrincipalName(name, "name"));
  absl::MutexLock lock(&mu_);
  if (FindIn(store_->file(), name) != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("principal ", Sv(name), " comes from --auth_file ", store_->auth_file(),
                     " and is read-only here: edit that file and restart the node"));
  }
  RETURN_IF_ERROR(CheckNotLastAdmin(name));
  RETURN_IF_ERROR(store_->Mutate([&](internal::AuthStore& store) {
    auto* principals = store.mutable_principals();
    const auto it =
        std::find_if(principals->begin(), principals->end(),
                     [&](const internal::StoredPrincipal& p) { return p.name() == name; });
    if (it == principals->end()) {
      return absl::NotFoundError(absl::StrCat("principal ", Sv(name), " does not exist"));
    }
    principals->erase(it);
    auto* bindings = store.mutable_node_bindings();
    bindings->erase(
        std::remove_if(bindings->begin(), bindings->end(),
                       [&](const internal::NodeBinding& b) { return b.principal() == name; }),
        bindings->end());
    return absl::OkStatus();
  }));
  Rebuild();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::PrincipalInfo>> Authorizer::ListPrincipals() const {
  RETURN_IF_ERROR(RequireEnabled());
  absl::ReaderMutexLock lock(&mu_);
  std::vector<v1::PrincipalInfo> result;
  for (const auto& [name, p] : snapshot_->principals) result.push_back(DescribeLocked(name));
  return result;
}

absl::StatusOr<v1::IssueTokenResponse> Authorizer::IssueToken(std::string_view principal) {
  ASSIGN_OR_RETURN(NewToken fresh, GenerateToken());
  v1::IssueTokenResponse response;
  response.mutable_info()->set_id(fresh.id);
  *response.mutable_info()->mutable_create_time() = Now();
  RETURN_IF_ERROR(MutatePrincipal(principal, "principal", [&](internal::StoredPrincipal& p) {
                    internal::StoredToken* token = p.add_tokens();
                    token->set_id(fresh.id);
                    token->set_sha256(fresh.sha256);
                    *token->mutable_create_time() = response.info().create_time();
                    return absl::OkStatus();
                  }).status());
  response.set_token(std::move(fresh.token));
  return response;
}

absl::Status Authorizer::RevokeToken(std::string_view principal, std::string_view token_id) {
  if (!IsLowerHex(token_id, kTokenIdLength)) {
    return absl::InvalidArgumentError(
        absl::StrCat("token_id: \"", Sv(token_id),
                     "\" is not a token id (16 lowercase hex digits; list them with "
                     "recondb auth principals list)"));
  }
  return MutatePrincipal(principal, "principal",
                         [&](internal::StoredPrincipal& p) {
                           auto* tokens = p.mutable_tokens();
                           const auto it = std::find_if(
                               tokens->begin(), tokens->end(),
                               [&](const internal::StoredToken& t) { return t.id() == token_id; });
                           if (it == tokens->end()) {
                             return absl::NotFoundError(absl::StrCat(
                                 "principal ", p.name(), " has no token ", Sv(token_id)));
                           }
                           tokens->erase(it);
                           return absl::OkStatus();
                         })
      .status();
}

absl::StatusOr<v1::PrincipalInfo> Authorizer::Grant(const v1::GrantRequest& request) {
  ASSIGN_OR_RETURN(const uint8_t bits, RequestedPermissions(request));
  return MutatePrincipal(request.principal(), "principal", [&](internal::StoredPrincipal& p) {
    if (request.admin()) p.set_admin(true);
    if (bits == 0) return absl::OkStatus();
    for (v1::TableGrant& grant : *p.mutable_grants()) {
      if (grant.table_pattern() == request.table_pattern()) {
        SetBits(grant, BitsOf(grant) | bits);
        return absl::OkStatus();
      }
    }
    v1::TableGrant* grant = p.add_grants();
    grant->set_table_pattern(request.table_pattern());
    SetBits(*grant, bits);
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::PrincipalInfo> Authorizer::Revoke(const v1::RevokeRequest& request) {
  ASSIGN_OR_RETURN(const uint8_t bits, RequestedPermissions(request));
  return MutatePrincipal(request.principal(), "principal", [&](internal::StoredPrincipal& p) {
    // Runs under mu_ (MutatePrincipal holds it), so the check and the change
    // are one step.
    if (request.admin()) {
      mu_.AssertHeld();
      RETURN_IF_ERROR(CheckNotLastAdmin(p.name()));
      p.set_admin(false);
    }
    if (bits == 0) return absl::OkStatus();
    auto* grants = p.mutable_grants();
    for (auto it = grants->begin(); it != grants->end(); ++it) {
      if (it->table_pattern() != request.table_pattern()) continue;
      const uint8_t left = BitsOf(*it) & ~bits;
      if (left == 0) {
        grants->erase(it);
      } else {
        SetBits(*it, left);
      }
      return absl::OkStatus();
    }
    return absl::NotFoundError(
        absl::StrCat("principal ", p.name(), " has no grant on ", request.table_pattern()));
  });
}

absl::StatusOr<v1::PrincipalInfo> Authorizer::SetCertificateNames(
    const v1::SetCertificateNamesRequest& request) {
  for (const std::string& name : request.certificate_names()) {
    RETURN_IF_ERROR(ValidateCertificateName(name, "certificate_names"));
  }
  return MutatePrincipal(request.principal(), "principal", [&](internal::StoredPrincipal& p) {
    *p.mutable_certificate_names() = request.certificate_names();
    return absl::OkStatus();
  });
}

}  // namespace recondb::auth
