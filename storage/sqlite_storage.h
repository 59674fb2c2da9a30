// The SQLite backend: one database file in WAL mode, one writer connection
// and a pool of reader connections, prepared statements, one SQLite
// transaction per WriteTransaction. Layout: docs/storage-format.md.
#ifndef RECONDB_STORAGE_SQLITE_STORAGE_H_
#define RECONDB_STORAGE_SQLITE_STORAGE_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/storage.h"

namespace recondb::storage {

enum class Durability {
  // synchronous=FULL: a committed write survives a power loss.
  kFull,
  // synchronous=NORMAL: survives a crash of the process, not of the machine.
  kNormal,
};

// The page size of a new store (see SqliteOptions::page_size).
inline constexpr int kDefaultPageSize = 4096;

struct SqliteOptions {
  // The database file; created if missing. No default.
  std::string path;
  // Default: every acknowledged write survives a power loss.
  Durability durability = Durability::kFull;
  // How long a connection waits for a lock held by another process.
  int busy_timeout_ms = 5000;
  // The page size, in bytes, of a new database file: a power of two from
  // 512 to 65536. An existing file keeps the page size it was created with.
  // Every commit writes whole pages to the WAL and syncs them, so smaller
  // pages make small durable writes a little cheaper, but records larger
  // than about a quarter of a page spill into overflow pages: more space,
  // slower scans (storage/DESIGN.md, "Page size").
  int page_size = kDefaultPageSize;
  // WAL checkpoints (copying committed pages from the WAL into the database
  // file) run on a background thread with its own connection once the WAL
  // holds this many frames, instead of inside the commit that crosses
  // SQLite's threshold. At least 1 (Open: INVALID_ARGUMENT otherwise).
  int checkpoint_frames = 1000;
  // Bound on the WAL while background checkpoints are on: a commit that
  // leaves at least this many frames (the checkpointer fell behind, e.g.
  // under a long read) checkpoints in the committing thread, as SQLite would.
  int max_wal_frames = 10000;
  // The SQLite VFS (file-system layer) every connection of the store, and
  // of its backups, opens the file through, by its registered name. Empty:
  // SQLite's default. For tests that inject file-system faults
  // (storage/testing/faulty_vfs.h); the daemon never sets it.
  std::string vfs;
};

// OK if `page_size` is one SQLite accepts (SqliteOptions::page_size),
// INVALID_ARGUMENT saying why not otherwise.
absl::Status CheckPageSize(int page_size);

// Opens (creating if needed) the database at options.path. INVALID_ARGUMENT
// if an option is out of range; UNAVAILABLE if the file cannot be opened or
// is not a recondb database; FAILED_PRECONDITION if its format version is
// newer than this build understands.
absl::StatusOr<std::unique_ptr<Storage>> OpenSqliteStorage(const SqliteOptions& options);

}  // namespace recondb::storage

#endif  // RECONDB_STORAGE_SQLITE_STORAGE_H_
