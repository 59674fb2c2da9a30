// The daemon's logger: spdlog to stderr. Only main() makes it; libraries get
// it (or their own) through their Options.
#ifndef RECONDB_DAEMON_LOGGING_H_
#define RECONDB_DAEMON_LOGGING_H_

#include <memory>
#include <string>

#include "spdlog/common.h"
#include "spdlog/logger.h"

namespace recondb::daemon {

// A thread-safe logger named `name` writing to stderr (colored on a
// terminal), each line flushed at once so that a supervisor or a test reading
// stderr sees it immediately. Not registered in spdlog's global registry.
std::shared_ptr<spdlog::logger> MakeStderrLogger(const std::string& name,
                                                 spdlog::level::level_enum level);

}  // namespace recondb::daemon

#endif  // RECONDB_DAEMON_LOGGING_H_
