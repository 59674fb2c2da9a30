// `recondb backup PATH` (Admin.Backup: a consistent copy of a running node,
// streamed and written to PATH atomically and durably) and `recondb restore
// BACKUP` (offline: daemon/restore.h puts a backup in place in a data
// directory). docs/cli.md, "backup" and "restore".
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/sha256.h"
#include "common/strings.h"
#include "daemon/restore.h"
#include "grpcpp/client_context.h"
#include "tools/cli/cli.h"
#include "tools/cli/output.h"

namespace recondb::cli {
namespace {

// How long `backup` may take when --timeout is not given: the copy of a big
// store is written, then streamed.
constexpr absl::Duration kDefaultBackupTimeout = absl::Hours(1);

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::string Errno(std::string_view what, const std::string& path) {
  return absl::StrCat(Sv(what), " ", path, ": ", std::strerror(errno));
}

std::string DirectoryOf(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

std::string FormatTimestamp(const google::protobuf::Timestamp& ts) {
  const absl::Time t = absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

// The partial file to remove if SIGINT or SIGTERM ends the process (Ctrl-C
// during a backup); empty when there is none. Read by the signal handler.
char g_partial_path[PATH_MAX + 1];

void RemovePartialAndDie(int signal_number) {
  if (g_partial_path[0] != '\0') ::unlink(g_partial_path);
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

// The file being received: a temporary file beside PATH, removed unless
// Publish moved it into place (also on SIGINT and SIGTERM; only a SIGKILL
// leaves it).
class PartialFile {
 public:
  // Creates "<path>.partial-XXXXXX". Empty error() on success.
  explicit PartialFile(const std::string& path) : temp_(path + ".partial-XXXXXX") {
    // SIGINT and SIGTERM wait while the file is made and its handler set, so
    // that none can end the process between the two and leave the file.
    sigset_t stop, previous;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    ::sigprocmask(SIG_BLOCK, &stop, &previous);
    fd_ = ::mkstemp(temp_.data());
    if (fd_ < 0) {
      error_ = Errno("cannot create", temp_);
    } else if (temp_.size() <= PATH_MAX) {
      std::memcpy(g_partial_path, temp_.c_str(), temp_.size() + 1);
      ::signal(SIGINT, RemovePartialAndDie);
      ::signal(SIGTERM, RemovePartialAndDie);
    }
    ::sigprocmask(SIG_SETMASK, &previous, nullptr);
  }
  ~PartialFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!published_) ::unlink(temp_.c_str());
    g_partial_path[0] = '\0';
  }

  const std::string& error() const { return error_; }

  bool Write(const std::string& bytes) {
    for (size_t done = 0; done < bytes.size();) {
      const ssize_t put = ::write(fd_, bytes.data() + done, bytes.size() - done);
      if (put < 0 && errno == EINTR) continue;
      if (put < 0) {
        error_ = Errno("cannot write", temp_);
        return false;
      }
      done += static_cast<size_t>(put);
    }
    return true;
  }

  // Syncs the file, gives it the name `path` (replacing a file there only
  // if `replace`), and syncs the directory. False with error() set if not.
  bool Publish(const std::string& path, bool replace) {
    if (::fsync(fd_) != 0) return Fail(Errno("cannot sync", temp_));
    ::close(fd_);
    fd_ = -1;
    if (replace) {
      if (::rename(temp_.c_str(), path.c_str()) != 0) return Fail(Errno("cannot rename to", path));
    } else {
      // link() never replaces: a PATH made meanwhile is kept.
      if (::link(temp_.c_str(), path.c_str()) != 0) {
        return Fail(errno == EEXIST ? path + " exists: give --force to replace it"
                                    : Errno("cannot create", path));
      }
      ::unlink(temp_.c_str());
    }
    published_ = true;
    g_partial_path[0] = '\0';
    const std::string dir = DirectoryOf(path);
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0 || ::fsync(dir_fd) != 0) {
      if (dir_fd >= 0) ::close(dir_fd);
      return Fail(Errno("cannot sync", dir));
    }
    ::close(dir_fd);
    return true;
  }

 private:
  bool Fail(std::string error) {
    error_ = std::move(error);
    return false;
  }

  std::string temp_;
  int fd_ = -1;
  bool published_ = false;
  std::string error_;
};

int Backup(Context& ctx) {
  const std::string path = ctx.args.positional()[0];
  const bool force = ctx.args.Has("force");
  if (Exists(path) && !force) return InputError(ctx, path + " exists: give --force to replace it");
  PartialFile file(path);
  if (!file.error().empty()) return InputError(ctx, file.error());
  grpc::ClientContext rpc;
  rpc.set_deadline(absl::ToChronoTime(
      absl::Now() + (ctx.args.Has("timeout") ? ctx.timeout : kDefaultBackupTimeout)));
  std::unique_ptr<grpc::ClientReader<v1::BackupChunk>> reader =
      ctx.Admin().Backup(&rpc, v1::BackupRequest());
  v1::BackupChunk chunk;
  v1::BackupHeader header;
  bool have_header = false;
  Sha256 hash;
  int64_t received = 0;
  std::string local_error;
  while (local_error.empty() && reader->Read(&chunk)) {
    if (!have_header) {
      if (!chunk.has_header()) local_error = "the daemon sent data before the backup's header";
      header = chunk.header();
      have_header = true;
      continue;
    }
    if (chunk.part_case() != v1::BackupChunk::kData) {
      local_error = "the daemon sent a second header";
    } else if (!file.Write(chunk.data())) {
      local_error = file.error();
    } else {
      hash.Update(chunk.data());
      received += static_cast<int64_t>(chunk.data().size());
    }
  }
  if (!local_error.empty()) {
    rpc.TryCancel();
    while (reader->Read(&chunk)) {
    }
    reader->Finish().ok();  // The call was cancelled: its status is ours.
    return InputError(ctx, local_error + "; nothing written to " + path);
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) return RpcError(ctx, status, "Backup");
  if (!have_header || received != header.total_bytes()) {
    return InputError(
        ctx, absl::StrCat("the backup arrived incomplete (", received, " of ", header.total_bytes(),
                          " bytes); nothing written to ", path));
  }
  const std::string digest = hash.HexDigest();
  if (digest != header.sha256()) {
    return InputError(
        ctx, absl::StrCat("the backup arrived damaged (SHA-256 ", digest, ", the daemon sent ",
                          header.sha256(), "); nothing written to ", path));
  }
  if (!file.Publish(path, force)) return InputError(ctx, file.error());
  if (ctx.json) {
    PrintJson(*ctx.out, header);
    return kExitOk;
  }
  *ctx.out << "wrote " << path << ": " << header.total_bytes() << " bytes, a backup of node "
           << header.node_id() << " up to seq " << header.last_seq() << ", taken at "
           << FormatTimestamp(header.taken_at()) << " (sha256 " << header.sha256() << ")\n";
  return kExitOk;
}

int Restore(Context& ctx) {
  daemon::RestoreOptions options;
  options.backup = ctx.args.positional()[0];
  const char* env = std::getenv("RECONDB_DATA_DIR");
  options.data_dir = ctx.args.Get("data_dir", env != nullptr ? env : "");
  if (options.data_dir.empty()) {
    return UsageError(
        ctx, "give --data_dir DIR (or set RECONDB_DATA_DIR): the directory to restore into");
  }
  absl::StatusOr<daemon::RestoreResult> result = daemon::RestoreBackup(options);
  if (!result.ok()) {
    return InputError(ctx, absl::StrCat("restore ", options.backup, " into ", options.data_dir,
                                        ": ", result.status().message()));
  }
  std::ostream& out = *ctx.out;
  out << "restored " << options.backup << " into " << result->store_path << " (" << result->bytes
      << " bytes)";
  if (result->backup.has_value()) {
    out << ": a backup of node " << result->backup->node_id << " up to seq "
        << result->backup->last_seq << ", taken at "
        << engine::FormatBackupTime(result->backup->taken_at);
  }
  out << "\n";
  if (!result->moved_aside.empty()) {
    out << "the store that was there is kept, moved aside: "
        << absl::StrJoin(result->moved_aside, ", ") << "\n";
  }
  out << "next: start recondbd --data_dir=" << options.data_dir
      << "\nThe restored node takes a new node id; once it syncs, its peers send it every write\n"
         "they hold that the backup lacks. Writes that never left the old node after the\n"
         "backup was taken are not in it.\n";
  return kExitOk;
}

}  // namespace

std::vector<Command> BackupCommands() {
  return {
      {"backup",
       "PATH",
       "write a consistent copy of the running node's store to PATH",
       "Calls Admin/Backup: the daemon copies its store while it keeps serving writes (the\n"
       "copy holds every write acknowledged before the command started) and streams it;\n"
       "recondb checks its size and SHA-256, then writes PATH atomically (a temporary\n"
       "file beside it, synced, renamed). PATH must not exist unless --force. The copy is\n"
       "marked as a copy: a node restored from it takes a new node id. The daemon needs\n"
       "free space for one more copy of its store in its data directory while it runs.\n"
       "--timeout bounds the whole backup (default 1h). Restore with 'recondb restore'.\n"
       "Example: recondb backup /backups/office-2026-12-01.recondb",
       {{"force", "", "replace PATH if it exists"}},
       1,
       1,
       Backup},
      {"restore",
       "BACKUP",
       "put a backup in place in a data directory (offline, no daemon)",
       "Runs without a daemon, on this machine: refuses while a recondbd runs on the\n"
       "directory; checks that BACKUP is a recondb store that passes SQLite's check;\n"
       "moves the store already there (if any) aside to recondb-before-restore-<time>.sqlite3\n"
       "in the directory (never deletes it); copies BACKUP into place durably. Then start\n"
       "recondbd on the directory: the restored node takes a new node id, and its peers\n"
       "send it back what they hold that the backup lacks.\n"
       "Example: recondb restore /backups/office-2026-12-01.recondb --data_dir /var/lib/recondb",
       {{"data_dir", "DIR", "the data directory (default $RECONDB_DATA_DIR)"}},
       1,
       1,
       Restore},
  };
}

}  // namespace recondb::cli
