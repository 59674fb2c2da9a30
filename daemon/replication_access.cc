#include "daemon/replication_access.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "auth/certificate_names.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace recondb::daemon {

reconciler::PeerAccess PeerAccessFor(auth::Authorizer* authorizer,
                                     std::shared_ptr<const auth::Principal> principal) {
  reconciler::PeerAccess access;
  if (principal != nullptr) access.principal = principal->name;
  if (authorizer == nullptr || !authorizer->enabled() || principal == nullptr) return access;
  access.may_pull = [authorizer, principal](std::string_view table) {
    return authorizer->Allows(*principal, auth::Permission::kPull, table);
  };
  access.may_push = [authorizer, principal](std::string_view table) {
    return authorizer->Allows(*principal, auth::Permission::kPush, table);
  };
  access.claim_node_id = [authorizer, principal](std::string_view node_id) {
    return authorizer->ClaimNodeId(*principal, node_id);
  };
  return access;
}

absl::Status CheckMayReplicate(const auth::Principal& principal) {
  if (principal.admin) return absl::OkStatus();
  for (const auth::Grant& grant : principal.grants) {
    if (grant.Has(auth::Permission::kPull) || grant.Has(auth::Permission::kPush)) {
      return absl::OkStatus();
    }
  }
  return absl::PermissionDeniedError(absl::StrCat("principal ", QuoteInput(principal.name),
                                                  " has no pull or push grant (needed for Replicate)"));
}

absl::StatusOr<reconciler::PeerAccess> AcceptedPeerAccess(auth::Authorizer* authorizer,
                                                          const grpc::ServerContextBase& context) {
  if (authorizer == nullptr || !authorizer->enabled()) return reconciler::PeerAccess();
  ASSIGN_OR_RETURN(std::shared_ptr<const auth::Principal> principal,
                   authorizer->Authenticate(context));
  RETURN_IF_ERROR(CheckMayReplicate(*principal));
  return PeerAccessFor(authorizer, std::move(principal));
}

absl::StatusOr<reconciler::PeerAccess> DialedPeerAccess(auth::Authorizer* authorizer,
                                                        const grpc::AuthContext* context) {
  if (authorizer == nullptr || !authorizer->enabled()) return reconciler::PeerAccess();
  const std::vector<std::string> names =
      context == nullptr ? std::vector<std::string>{} : auth::PeerCertificateNames(*context);
  auto principal = authorizer->PrincipalForCertificateNames(names);
  if (!principal.ok()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the dialed peer's certificate ",
        names.empty() ? std::string("(none verified)")
                      : absl::StrCat("(names ", QuoteInput(absl::StrJoin(names, ",")), ")"),
        " maps to no principal: nothing is sent to it or accepted from it"));
  }
  return PeerAccessFor(authorizer, *std::move(principal));
}

std::string StreamLimitKey(std::string_view principal, bool auth_enabled, std::string_view peer) {
  if (auth_enabled) return std::string(principal);
  // "ipv4:10.0.0.5:41234" / "ipv6:[::1]:41234" / "unix:/path": the host is
  // everything before the last ':' (a Unix socket's peer has no port).
  std::string_view host = peer;
  if (!absl::StartsWith(Sv(peer), "unix:")) {
    const size_t colon = peer.rfind(':');
    if (colon != std::string_view::npos && colon > peer.find(':')) host = peer.substr(0, colon);
  }
  return absl::StrCat(Sv(principal), "@", Sv(host));
}

absl::StatusOr<std::string> CallerStreamKey(const auth::Authorizer* authorizer,
                                            const grpc::ServerContextBase& context) {
  if (authorizer == nullptr || !authorizer->enabled()) {
    return StreamLimitKey(auth::kAnonymousName, false, context.peer());
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const auth::Principal> principal,
                   authorizer->Authenticate(context));
  return StreamLimitKey(principal->name, true, context.peer());
}

}  // namespace recondb::daemon
