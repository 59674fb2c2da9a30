// What a replicating peer may do (reconciler::PeerAccess), from the auth
// module: the accepting side authenticates the Replicate call, the dialing
// side maps the dialed node's verified server certificate to a principal
// (docs/replication-protocol.md, "Version 3: grants"; daemon/DESIGN.md,
// "Replication").
#ifndef RECONDB_DAEMON_REPLICATION_ACCESS_H_
#define RECONDB_DAEMON_REPLICATION_ACCESS_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "auth/authorizer.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/server_context.h"
#include "reconciler/peer_access.h"

namespace recondb::daemon {

// The access of `principal` as `authorizer` judges it: may pull / may push
// from its grants (Authorizer::Allows), claim_node_id from
// Authorizer::ClaimNodeId. `authorizer` is not owned and must outlive the
// result. With auth off (or a null authorizer): everything, as before
// authentication existed.
reconciler::PeerAccess PeerAccessFor(auth::Authorizer* authorizer,
                                     std::shared_ptr<const auth::Principal> principal);

// OK if `principal` has PULL or PUSH on at least one table pattern (or the
// admin role); else PERMISSION_DENIED "principal P has no pull or push
// grant (needed for Replicate)".
absl::Status CheckMayReplicate(const auth::Principal& principal);

// The accepting side of a Replicate call: the caller's principal
// (Authorizer::Authenticate: UNAUTHENTICATED without valid credentials),
// CheckMayReplicate, then PeerAccessFor. A null authorizer: everything.
absl::StatusOr<reconciler::PeerAccess> AcceptedPeerAccess(auth::Authorizer* authorizer,
                                                          const grpc::ServerContextBase& context);

// The dialing side: the principal the dialed node's verified server
// certificate maps to (Authorizer::PrincipalForCertificateNames), then
// PeerAccessFor. With auth on, PERMISSION_DENIED "the dialed peer's
// certificate (names ...) maps to no principal" when none does (so a node
// reached without TLS is neither sent nor accepted anything). A null
// authorizer or auth off: everything. `context` may be null (no
// connection): as no certificate.
absl::StatusOr<reconciler::PeerAccess> DialedPeerAccess(auth::Authorizer* authorizer,
                                                        const grpc::AuthContext* context);

// The key under which a caller's streams are counted
// (--max_streams_per_principal): its principal's name; with auth off every
// caller is "anonymous", so the caller's host is added ("anonymous@HOST",
// from grpc::ServerContextBase::peer(), e.g. "ipv4:10.0.0.5:41234" gives
// HOST "ipv4:10.0.0.5"), else one busy host would hold the limit of all.
std::string StreamLimitKey(std::string_view principal, bool auth_enabled, std::string_view peer);

// The key of the caller of `context` (StreamLimitKey of its principal):
// Authenticate's UNAUTHENTICATED with auth on and no valid credentials. A
// null authorizer is auth off.
absl::StatusOr<std::string> CallerStreamKey(const auth::Authorizer* authorizer,
                                            const grpc::ServerContextBase& context);

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_REPLICATION_ACCESS_H_
