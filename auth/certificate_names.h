// The names in the other side's verified TLS certificate, as gRPC reports
// them in a call's AuthContext: on the server, the client certificate of an
// mTLS caller (grpc::ServerContextBase::auth_context()); on the client, the
// server certificate of a dialed peer (grpc::ClientContext::auth_context(),
// once the call has started). These are what a principal's
// certificate_names are matched against: one rule for the Authorizer (the
// caller of a call), the accepted and the dialed side of replication.
#ifndef RECONDB_AUTH_CERTIFICATE_NAMES_H_
#define RECONDB_AUTH_CERTIFICATE_NAMES_H_

#include <string>
#include <vector>

#include "grpcpp/security/auth_context.h"

namespace recondb::auth {

// The subject alternative names (DNS, URI, IP and e-mail entries, as gRPC
// prints them: "node-a", "spiffe://x/y", "127.0.0.1") in certificate order,
// then the subject common name, without duplicates. Empty when the peer is
// not authenticated by a certificate (plaintext, or TLS without a client
// certificate).
std::vector<std::string> PeerCertificateNames(const grpc::AuthContext& context);

}  // namespace recondb::auth

#endif  // RECONDB_AUTH_CERTIFICATE_NAMES_H_
