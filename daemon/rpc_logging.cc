#include "daemon/rpc_logging.h"

#include <string>

#include "storage/disk_full.h"

namespace recondb::daemon {

bool IsServerFault(const absl::Status& status) {
  if (storage::IsDiskFull(status)) return true;
  switch (status.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnavailable:
      return true;
    default:
      return false;
  }
}

void LogRpcFailure(spdlog::logger& logger, std::string_view method, const absl::Status& status) {
  const spdlog::level::level_enum level =
      IsServerFault(status) ? spdlog::level::err : spdlog::level::debug;
  logger.log(level, "{} failed: {}: {}", method, absl::StatusCodeToString(status.code()),
             std::string(status.message()));
}

}  // namespace recondb::daemon
