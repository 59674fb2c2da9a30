#include "daemon/data_dir_lock.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace recondb::daemon {

absl::StatusOr<std::unique_ptr<DataDirLock>> DataDirLock::Acquire(std::string_view data_dir) {
  const std::string dir(data_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot create data directory ", dir, ": ", ec.message()));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<PidLockFile> file,
                   PidLockFile::Acquire((std::filesystem::path(dir) / "LOCK").string(),
                                        absl::StrCat("data directory ", dir, " is locked")));
  return std::unique_ptr<DataDirLock>(new DataDirLock(std::move(file)));
}

}  // namespace recondb::daemon
