#include "daemon/restore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "daemon/data_dir.h"
#include "daemon/data_dir_lock.h"
#include "storage/sqlite_inspect.h"

namespace recondb::daemon {
namespace {

namespace fs = std::filesystem;

absl::Status ErrnoError(std::string_view what, const std::string& path, int error) {
  return absl::UnavailableError(absl::StrCat(Sv(what), " ", path, ": ", std::strerror(error)));
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

absl::Status SyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open", path, errno);
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) return ErrnoError("cannot sync", path, error);
  return absl::OkStatus();
}

// Copies `from` to the new file `to` and syncs it. Removes `to` on failure.
absl::Status CopyDurably(const std::string& from, const std::string& to) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return ErrnoError("cannot read", from, errno);
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (out < 0) {
    const int error = errno;
    ::close(in);
    return ErrnoError("cannot create", to, error);
  }
  absl::Status status;
  std::vector<char> buffer(1 << 20);
  while (status.ok()) {
    const ssize_t got = ::read(in, buffer.data(), buffer.size());
    if (got == 0) break;
    if (got < 0) {
      if (errno == EINTR) continue;
      status = ErrnoError("cannot read", from, errno);
      break;
    }
    for (ssize_t done = 0; done < got && status.ok();) {
      const ssize_t put = ::write(out, buffer.data() + done, static_cast<size_t>(got - done));
      if (put < 0 && errno == EINTR) continue;
      if (put < 0) status = ErrnoError("cannot write", to, errno);
      if (put > 0) done += put;
    }
  }
  if (status.ok() && ::fsync(out) != 0) status = ErrnoError("cannot sync", to, errno);
  if (::close(out) != 0 && status.ok()) status = ErrnoError("cannot write", to, errno);
  ::close(in);
  if (!status.ok()) ::unlink(to.c_str());
  return status;
}

// The first free "recondb-before-restore-<time>[-N].sqlite3" in `dir`
// whose -wal and -shm names are free too.
std::string AsideName(const fs::path& dir, absl::Time now) {
  const std::string stamp = absl::FormatTime("%Y%m%dT%H%M%SZ", now, absl::UTCTimeZone());
  for (int n = 0;; ++n) {
    const std::string base =
        absl::StrCat((dir / absl::StrCat("recondb-before-restore-", stamp)).string(),
                     n == 0 ? "" : "-", n == 0 ? "" : absl::StrCat(n), ".sqlite3");
    if (!Exists(base) && !Exists(base + "-wal") && !Exists(base + "-shm")) return base;
  }
}

// A file moved aside: from, to.
using Move = std::pair<std::string, std::string>;

void MoveBack(const std::vector<Move>& moves) {
  for (auto it = moves.rbegin(); it != moves.rend(); ++it) {
    ::rename(it->second.c_str(), it->first.c_str());
  }
}

// Moves the store at `store` (and its -wal and -shm) aside. A failure half
// way moves back what was moved.
absl::StatusOr<std::vector<Move>> MoveAside(const std::string& store, const fs::path& dir,
                                            absl::Time now) {
  std::vector<Move> moves;
  if (!Exists(store)) return moves;
  const std::string aside = AsideName(dir, now);
  // The store first: a WAL without its store is never opened by mistake.
  for (const char* suffix : {"", "-wal", "-shm"}) {
    Move move(store + suffix, aside + suffix);
    if (!Exists(move.first)) continue;
    if (::rename(move.first.c_str(), move.second.c_str()) != 0) {
      const absl::Status error =
          ErrnoError(absl::StrCat("cannot move aside ", move.first, " to"), move.second, errno);
      MoveBack(moves);
      return error;
    }
    moves.push_back(std::move(move));
  }
  return moves;
}

}  // namespace

absl::StatusOr<RestoreResult> RestoreBackup(const RestoreOptions& options) {
  if (options.backup.empty()) return absl::InvalidArgumentError("no backup file given");
  if (options.data_dir.empty()) return absl::InvalidArgumentError("no data directory given");
  // Held to the end: no daemon starts on the directory meanwhile.
  ASSIGN_OR_RETURN(std::unique_ptr<DataDirLock> lock, DataDirLock::Acquire(options.data_dir));
  const fs::path dir(options.data_dir);
  RestoreResult result;
  result.store_path = (dir / kDatabaseFile).string();
  std::error_code same_error;
  if (fs::equivalent(options.backup, result.store_path, same_error)) {
    return absl::InvalidArgumentError(absl::StrCat(
        options.backup, " is the store of ", options.data_dir, " itself, not a backup of it"));
  }
  ASSIGN_OR_RETURN(const storage::SqliteStoreFile file,
                   storage::InspectSqliteStore(options.backup));
  result.bytes = file.bytes;
  absl::StatusOr<engine::BackupInfo> info = engine::BackupInfoFromMeta(file.meta);
  if (info.ok()) {
    result.backup = *std::move(info);
  } else if (!absl::IsNotFound(info.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat(options.backup, ": ", info.status().message()));
  }
  const std::string temp =
      (dir / absl::StrCat(kTempRestorePrefix, NewUuidV4(), ".sqlite3")).string();
  RETURN_IF_ERROR(CopyDurably(options.backup, temp));
  absl::StatusOr<std::vector<Move>> moves = MoveAside(result.store_path, dir, options.now);
  if (!moves.ok()) {
    ::unlink(temp.c_str());
    return moves.status();
  }
  if (::rename(temp.c_str(), result.store_path.c_str()) != 0) {
    const absl::Status error =
        ErrnoError(absl::StrCat("cannot rename ", temp, " to"), result.store_path, errno);
    MoveBack(*moves);
    ::unlink(temp.c_str());
    return error;
  }
  for (const Move& move : *moves) result.moved_aside.push_back(move.second);
  RETURN_IF_ERROR(SyncPath(dir.string(), O_RDONLY | O_DIRECTORY));
  return result;
}

}  // namespace recondb::daemon
