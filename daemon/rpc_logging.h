// One log line per failed call, at a level that says whose fault it is.
#ifndef RECONDB_DAEMON_RPC_LOGGING_H_
#define RECONDB_DAEMON_RPC_LOGGING_H_

#include <string_view>

#include "absl/status/status.h"
#include "spdlog/logger.h"

namespace recondb::daemon {

// True for failures that are the node's and not the caller's: INTERNAL,
// UNKNOWN, DATA_LOSS, UNAVAILABLE (storage gone), and a full disk
// (storage::IsDiskFull, though RESOURCE_EXHAUSTED).
bool IsServerFault(const absl::Status& status);

// Logs that `method` failed with `status`: at error level when
// IsServerFault(status), otherwise (bad input, missing records, stale
// revisions, cancelled calls) at debug level, so that clients cannot flood
// the log at the default level. REQUIRES: !status.ok().
void LogRpcFailure(spdlog::logger& logger, std::string_view method, const absl::Status& status);

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_RPC_LOGGING_H_
