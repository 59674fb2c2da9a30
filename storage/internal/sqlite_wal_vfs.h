// A SQLite VFS that gathers the writes of a commit into its WAL file and
// hands them to the operating system as one write (one per 64 KiB), at the
// commit's sync.
//
// SQLite writes each WAL frame as two write() calls (the 24-byte frame
// header, then the page), so a commit of 7 pages costs 15 system calls
// before its fsync. This VFS wraps the default one ("unix") and keeps the
// writes to a WAL file that extend its pending run in memory: consecutive
// appends become one write() at the next sync, or earlier whenever anything
// else touches the file (a read, the size, a truncation, a write elsewhere,
// a file control, closing) or the pending run reaches kMaxPendingBytes.
// Every other file (the database, temporary files) and every other
// operation goes straight to the default VFS.
//
// Why this is safe only for connections with synchronous=FULL: other
// connections read a WAL frame only once the writer has published it in the
// shared wal-index, and with synchronous=FULL SQLite syncs the WAL, which
// writes the pending run, before it publishes a commit. A failed write is
// then reported by that sync and fails the commit, as a failed write()
// would have. With synchronous=NORMAL no sync precedes publication, so such
// connections must not use this VFS. (As a second line, the database file's
// shared-memory barrier and locks also write the pending run first; a
// failure there is kept and returned by every later operation on the WAL.)
//
// Crash behaviour is the default VFS's: bytes not yet synced may be lost,
// and a commit is acknowledged only after its sync.
#ifndef RECONDB_STORAGE_INTERNAL_SQLITE_WAL_VFS_H_
#define RECONDB_STORAGE_INTERNAL_SQLITE_WAL_VFS_H_

#include <cstdint>

namespace recondb::storage::internal {

// Pending WAL bytes that force a write even before the sync: a large
// transaction is written in runs of this size (each in writes of at most
// 64 KiB). A commit of the engine is ~30 KiB.
inline constexpr int64_t kMaxPendingBytes = 256 * 1024;

// The name of the VFS to pass to sqlite3_open_v2. Registers it (not as the
// default) over the default VFS on the first call. Thread-safe. nullptr if
// SQLite has no default VFS (then open with the default).
const char* WalWriteGatheringVfsName();

// Process-wide counts, for tests: WAL writes SQLite asked for, and write()
// calls this VFS made for them.
struct WalWriteCounts {
  int64_t requested = 0;
  int64_t issued = 0;
};
WalWriteCounts WalWriteCountsForTesting();

}  // namespace recondb::storage::internal

#endif  // RECONDB_STORAGE_INTERNAL_SQLITE_WAL_VFS_H_
