#include "daemon/backup_files.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/ids.h"

namespace recondb::daemon {

std::string NewTempBackupPath(std::string_view dir) {
  return (std::filesystem::path(dir) / absl::StrCat(kTempBackupPrefix, NewUuidV4(), ".sqlite3"))
      .string();
}

std::vector<std::string> RemoveStaleTempBackups(std::string_view dir) {
  std::vector<std::string> removed;
  std::error_code error;
  std::filesystem::directory_iterator it(dir, error);
  for (; !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (!absl::StartsWith(name, kTempBackupPrefix)) continue;
    std::error_code remove_error;
    if (std::filesystem::remove(it->path(), remove_error)) removed.push_back(name);
  }
  return removed;
}

TempBackupFile::~TempBackupFile() {
  // Storage::Backup leaves no companion file (-wal, -shm) once it has
  // returned, whatever it returned: the file alone is left to remove.
  ::unlink(path_.c_str());
}

}  // namespace recondb::daemon
