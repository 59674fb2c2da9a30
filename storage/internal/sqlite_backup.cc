#include "storage/internal/sqlite_backup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace recondb::storage::internal {
namespace {

absl::Status ErrnoError(std::string_view what, const std::string& path, int error) {
  return absl::UnavailableError(
      absl::StrCat("cannot ", Sv(what), " ", path, ": ", std::strerror(error)));
}

absl::Status SyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open", path, errno);
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) return ErrnoError("sync", path, error);
  return absl::OkStatus();
}

}  // namespace

absl::Status VacuumInto(Connection& source, const std::string& path) {
  // Bound, not quoted into the text: any file name works. Not cached: a
  // backup runs once on its connection.
  ASSIGN_OR_RETURN(Statement stmt, source.Prepare("VACUUM INTO ?", StatementCache::kQuery));
  stmt.BindText(1, path);
  return stmt.Run();
}

absl::Status SyncFileAndDirectory(const std::string& path) {
  RETURN_IF_ERROR(SyncPath(path, O_RDONLY));
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  return SyncPath(dir.string(), O_RDONLY | O_DIRECTORY);
}

void RemoveDatabaseFiles(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    ::unlink(absl::StrCat(path, suffix).c_str());
  }
}

absl::StatusOr<int64_t> FileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoError("stat", path, errno);
  return static_cast<int64_t>(st.st_size);
}

}  // namespace recondb::storage::internal
