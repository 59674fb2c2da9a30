// Whether recondbd can listen on its --listen address, asked before the
// daemon creates anything (see daemon/DESIGN.md, "A start that fails").
#ifndef RECONDB_DAEMON_LISTEN_PROBE_H_
#define RECONDB_DAEMON_LISTEN_PROBE_H_

#include <string_view>

#include "absl/status/status.h"

namespace recondb::daemon {

// OK if a TCP `listen` address ("host:port") can be bound now: some address
// its host resolves to binds with SO_REUSEADDR, as gRPC binds it (gRPC too
// needs one). Also OK, without a probe, for port 0 (the kernel picks a free
// one), for "unix:PATH" (ClaimUnixSocketPath checks those) and for a host
// that does not resolve (gRPC's own bind then fails and says so).
// UNAVAILABLE "cannot listen on ADDR: address already in use (is another
// recondbd running?)" if every address is in use; UNAVAILABLE "cannot
// listen on ADDR: <reason>" for another bind error (e.g. an address of no
// interface, a privileged port). INVALID_ARGUMENT as ParseListenAddress.
//
// Only a probe: the port may be taken between it and gRPC's bind, which
// then fails as before, with gRPC's own log lines.
absl::Status CheckCanListen(std::string_view listen);

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_LISTEN_PROBE_H_
