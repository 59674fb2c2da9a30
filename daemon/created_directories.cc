#include "daemon/created_directories.h"

#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "daemon/data_dir.h"

namespace recondb::daemon {

CreatedDirectories CreatedDirectories::Before(const std::filesystem::path& data_dir) {
  CreatedDirectories created;
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::absolute(data_dir, ec);
  if (ec) return created;  // No working directory: the start fails before creating anything.
  // "a/b/" names the same directory as "a/b".
  if (!dir.has_filename()) dir = dir.parent_path();
  while (!dir.empty() && dir != dir.root_path()) {
    const bool exists = std::filesystem::exists(dir, ec);
    // A path whose existence cannot be told (no permission to look) is not
    // recorded: it may well exist, and then is not ours to remove.
    if (ec || exists) break;
    created.missing_.push_back(dir);
    dir = dir.parent_path();
  }
  return created;
}

absl::Status CreatedDirectories::Remove() const {
  const std::string store = kDatabaseFile;
  for (const std::filesystem::path& dir : missing_) {
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) continue;
    for (const std::string& name :
         {std::string("LOCK"), store, store + "-wal", store + "-shm", store + "-journal"}) {
      std::filesystem::remove(dir / name, ec);
      if (ec) {
        return absl::UnavailableError(
            absl::StrCat("cannot remove ", (dir / name).string(), ": ", ec.message()));
      }
    }
    if (!std::filesystem::is_empty(dir, ec) || ec) return absl::OkStatus();  // Not only ours.
    std::filesystem::remove(dir, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("cannot remove directory ", dir.string(), ": ", ec.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace recondb::daemon
