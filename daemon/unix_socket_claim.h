// Claims a Unix socket path before gRPC binds it. gRPC 1.51 unlinks any
// socket file at the path before binding, so a second server given the same
// path would silently take the address of a running one (and leave it
// unreachable). Claiming first makes that an error, as a TCP port in use is.
#ifndef RECONDB_DAEMON_UNIX_SOCKET_CLAIM_H_
#define RECONDB_DAEMON_UNIX_SOCKET_CLAIM_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "daemon/pid_lock_file.h"

namespace recondb::daemon {

// Locks <socket_path>.lock (a PidLockFile, held while the server runs), then
// looks at what is at `socket_path`:
// - nothing, or a socket nobody accepts on (left by a daemon that died): OK,
//   gRPC replaces it;
// - a socket some other program accepts on (or queues on, its backlog
//   full): FAILED_PRECONDITION "unix socket PATH is in use by another
//   process";
// - a socket that cannot be probed (say no permission to connect):
//   FAILED_PRECONDITION "cannot tell whether unix socket PATH is in use";
// - anything else (a file, a directory): FAILED_PRECONDITION "PATH exists
//   and is not a socket".
// Another recondbd holding the path: FAILED_PRECONDITION "unix socket PATH
// is in use by another recondbd (pid N)". UNAVAILABLE if the lock file
// cannot be created (say the directory does not exist).
absl::StatusOr<std::unique_ptr<PidLockFile>> ClaimUnixSocketPath(const std::string& socket_path);

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_UNIX_SOCKET_CLAIM_H_
