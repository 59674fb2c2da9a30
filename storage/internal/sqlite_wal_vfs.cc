#include "storage/internal/sqlite_wal_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <new>
#include <string>

namespace recondb::storage::internal {
namespace {

constexpr char kVfsName[] = "recondb-wal-gather";
constexpr int64_t kMaxWriteBytes = 64 * 1024;

std::atomic<int64_t> requested_writes{0};
std::atomic<int64_t> issued_writes{0};

// An open file of this VFS: ours, then the default VFS's file right after
// it (szOsFile covers both). SQLite allocates the memory; xOpen constructs
// the object in it and xClose destroys it.
struct GatherFile {
  sqlite3_file base;  // First: SQLite sees a GatherFile as its sqlite3_file.
  sqlite3_file* real = nullptr;

  // A WAL file of a connection, and that connection's database file: each
  // points at the other while both are open.
  bool is_wal = false;
  GatherFile* wal = nullptr;  // Of a database file.
  GatherFile* db = nullptr;   // Of a WAL file.

  // WAL only: bytes written by SQLite but not yet handed to the real file,
  // which belong at pending_offset.
  std::string pending;
  sqlite3_int64 pending_offset = 0;
  // WAL only: the error of a write made where it could not be reported
  // (the shared-memory barrier); every later operation returns it.
  int failed_rc = SQLITE_OK;
};

GatherFile* Cast(sqlite3_file* file) { return reinterpret_cast<GatherFile*>(file); }
sqlite3_vfs* RealVfs(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }

// Hands the pending bytes of `f` (a WAL file) to the real file, in writes
// of at most kMaxWriteBytes: the unix VFS takes no more than 128 KiB at once
// (SQLite itself never writes more than a page and a frame header).
int WritePending(GatherFile* f) {
  if (f->failed_rc != SQLITE_OK) return f->failed_rc;
  int rc = SQLITE_OK;
  for (size_t done = 0; done < f->pending.size() && rc == SQLITE_OK;) {
    const size_t size = std::min(f->pending.size() - done, static_cast<size_t>(kMaxWriteBytes));
    issued_writes.fetch_add(1, std::memory_order_relaxed);
    rc = f->real->pMethods->xWrite(f->real, f->pending.data() + done, static_cast<int>(size),
                                   f->pending_offset + static_cast<sqlite3_int64>(done));
    done += size;
  }
  f->pending.clear();
  return rc;
}

// Pending bytes first, for every operation that reads or depends on the
// file's content or size.
int Settle(GatherFile* f) { return f->is_wal ? WritePending(f) : SQLITE_OK; }

int Close(sqlite3_file* file) {
  GatherFile* f = Cast(file);
  const int settled = Settle(f);
  if (f->is_wal && f->db != nullptr && f->db->wal == f) f->db->wal = nullptr;
  if (!f->is_wal && f->wal != nullptr && f->wal->db == f) f->wal->db = nullptr;
  const int closed = f->real->pMethods->xClose(f->real);
  f->~GatherFile();
  return settled != SQLITE_OK ? settled : closed;
}

int Read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  GatherFile* f = Cast(file);
  if (const int rc = Settle(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xRead(f->real, out, amount, offset);
}

int Write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  GatherFile* f = Cast(file);
  if (!f->is_wal) return f->real->pMethods->xWrite(f->real, data, amount, offset);
  requested_writes.fetch_add(1, std::memory_order_relaxed);
  if (f->failed_rc != SQLITE_OK) return f->failed_rc;
  // Only an append to the pending run joins it: a write anywhere else
  // (SQLite rewriting a frame) goes after the run, in order.
  if (!f->pending.empty() &&
      offset != f->pending_offset + static_cast<sqlite3_int64>(f->pending.size())) {
    if (const int rc = WritePending(f); rc != SQLITE_OK) return rc;
  }
  if (f->pending.empty()) f->pending_offset = offset;
  f->pending.append(static_cast<const char*>(data), static_cast<size_t>(amount));
  if (static_cast<int64_t>(f->pending.size()) >= kMaxPendingBytes) return WritePending(f);
  return SQLITE_OK;
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  GatherFile* f = Cast(file);
  if (const int rc = Settle(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xTruncate(f->real, size);
}

int Sync(sqlite3_file* file, int flags) {
  GatherFile* f = Cast(file);
  if (const int rc = Settle(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xSync(f->real, flags);
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  GatherFile* f = Cast(file);
  if (const int rc = Settle(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFileSize(f->real, size);
}

int Lock(sqlite3_file* file, int level) {
  GatherFile* f = Cast(file);
  return f->real->pMethods->xLock(f->real, level);
}

int Unlock(sqlite3_file* file, int level) {
  GatherFile* f = Cast(file);
  return f->real->pMethods->xUnlock(f->real, level);
}

int CheckReservedLock(sqlite3_file* file, int* out) {
  GatherFile* f = Cast(file);
  return f->real->pMethods->xCheckReservedLock(f->real, out);
}

int FileControl(sqlite3_file* file, int op, void* arg) {
  GatherFile* f = Cast(file);
  if (const int rc = Settle(f); rc != SQLITE_OK) return rc;
  const int rc = f->real->pMethods->xFileControl(f->real, op, arg);
  // The convention for shims: the VFS name reads "outer/inner".
  if (op == SQLITE_FCNTL_VFSNAME && rc == SQLITE_OK) {
    char** name = static_cast<char**>(arg);
    *name = sqlite3_mprintf("%s/%z", kVfsName, *name);
  }
  return rc;
}

int SectorSize(sqlite3_file* file) {
  GatherFile* f = Cast(file);
  return f->real->pMethods->xSectorSize(f->real);
}

int DeviceCharacteristics(sqlite3_file* file) {
  GatherFile* f = Cast(file);
  return f->real->pMethods->xDeviceCharacteristics(f->real);
}

// The shared-memory methods are called on the database file. The writer
// publishes frames through them (barrier, then the wal-index header; locks
// around it), so its WAL's pending bytes are written first.
int ShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  GatherFile* f = Cast(file);
  return f->real->pMethods->xShmMap(f->real, region, size, extend, out);
}

int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  GatherFile* f = Cast(file);
  if (f->wal != nullptr) {
    if (const int rc = WritePending(f->wal); rc != SQLITE_OK) return rc;
  }
  return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

void ShmBarrier(sqlite3_file* file) {
  GatherFile* f = Cast(file);
  if (f->wal != nullptr && f->wal->failed_rc == SQLITE_OK) {
    f->wal->failed_rc = WritePending(f->wal);
  }
  f->real->pMethods->xShmBarrier(f->real);
}

int ShmUnmap(sqlite3_file* file, int delete_flag) {
  GatherFile* f = Cast(file);
  return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

int Fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  GatherFile* f = Cast(file);
  if (const int rc = Settle(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFetch(f->real, offset, amount, out);
}

int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  GatherFile* f = Cast(file);
  return f->real->pMethods->xUnfetch(f->real, offset, page);
}

// One method table per io-methods version, so that a file offers exactly
// the methods its real file has.
const sqlite3_io_methods kMethods[3] = {
    {1, Close, Read, Write, Truncate, Sync, FileSize, Lock, Unlock, CheckReservedLock, FileControl,
     SectorSize, DeviceCharacteristics, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr},
    {2, Close, Read, Write, Truncate, Sync, FileSize, Lock, Unlock, CheckReservedLock, FileControl,
     SectorSize, DeviceCharacteristics, ShmMap, ShmLock, ShmBarrier, ShmUnmap, nullptr, nullptr},
    {3, Close, Read, Write, Truncate, Sync, FileSize, Lock, Unlock, CheckReservedLock, FileControl,
     SectorSize, DeviceCharacteristics, ShmMap, ShmLock, ShmBarrier, ShmUnmap, Fetch, Unfetch},
};

// sizeof(GatherFile) rounded up, so the real file that follows is aligned.
constexpr int kGatherFileSize =
    static_cast<int>((sizeof(GatherFile) + alignof(std::max_align_t) - 1) /
                     alignof(std::max_align_t) * alignof(std::max_align_t));

int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  sqlite3_vfs* real_vfs = RealVfs(vfs);
  GatherFile* f = new (file) GatherFile();
  f->base.pMethods = nullptr;  // Until the real file is open: no xClose.
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kGatherFileSize);
  std::memset(f->real, 0, static_cast<size_t>(real_vfs->szOsFile));
  const int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
  if (f->real->pMethods == nullptr) {
    f->~GatherFile();
    return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
  }
  f->base.pMethods = &kMethods[f->real->pMethods->iVersion >= 3   ? 2
                               : f->real->pMethods->iVersion == 2 ? 1
                                                                  : 0];
  // A failed open whose real file needs closing: SQLite calls xClose.
  if (rc != SQLITE_OK) return rc;
  if ((flags & SQLITE_OPEN_WAL) != 0) {
    f->is_wal = true;
    // The pager opens the WAL by the name it derived from its database, so
    // SQLite can hand us that database file: ours too, same connection.
    f->db = Cast(sqlite3_database_file_object(name));
    if (f->db != nullptr) f->db->wal = f;
  }
  return SQLITE_OK;
}

int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return RealVfs(vfs)->xDelete(RealVfs(vfs), name, sync_dir);
}
int Access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return RealVfs(vfs)->xAccess(RealVfs(vfs), name, flags, out);
}
int FullPathname(sqlite3_vfs* vfs, const char* name, int size, char* out) {
  return RealVfs(vfs)->xFullPathname(RealVfs(vfs), name, size, out);
}
void* DlOpen(sqlite3_vfs* vfs, const char* name) {
  return RealVfs(vfs)->xDlOpen(RealVfs(vfs), name);
}
void DlError(sqlite3_vfs* vfs, int size, char* out) {
  RealVfs(vfs)->xDlError(RealVfs(vfs), size, out);
}
void (*DlSym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return RealVfs(vfs)->xDlSym(RealVfs(vfs), handle, symbol);
}
void DlClose(sqlite3_vfs* vfs, void* handle) { RealVfs(vfs)->xDlClose(RealVfs(vfs), handle); }
int Randomness(sqlite3_vfs* vfs, int size, char* out) {
  return RealVfs(vfs)->xRandomness(RealVfs(vfs), size, out);
}
int Sleep(sqlite3_vfs* vfs, int micros) { return RealVfs(vfs)->xSleep(RealVfs(vfs), micros); }
int CurrentTime(sqlite3_vfs* vfs, double* out) {
  return RealVfs(vfs)->xCurrentTime(RealVfs(vfs), out);
}
int GetLastError(sqlite3_vfs* vfs, int size, char* out) {
  return RealVfs(vfs)->xGetLastError(RealVfs(vfs), size, out);
}
int CurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return RealVfs(vfs)->xCurrentTimeInt64(RealVfs(vfs), out);
}

sqlite3_vfs* RegisterVfs() {
  sqlite3_vfs* real = sqlite3_vfs_find(nullptr);
  if (real == nullptr) return nullptr;
  static sqlite3_vfs vfs;
  vfs.iVersion = real->iVersion >= 2 ? 2 : 1;
  vfs.szOsFile = kGatherFileSize + real->szOsFile;
  vfs.mxPathname = real->mxPathname;
  vfs.zName = kVfsName;
  vfs.pAppData = real;
  vfs.xOpen = Open;
  vfs.xDelete = Delete;
  vfs.xAccess = Access;
  vfs.xFullPathname = FullPathname;
  vfs.xDlOpen = DlOpen;
  vfs.xDlError = DlError;
  vfs.xDlSym = DlSym;
  vfs.xDlClose = DlClose;
  vfs.xRandomness = Randomness;
  vfs.xSleep = Sleep;
  vfs.xCurrentTime = CurrentTime;
  vfs.xGetLastError = GetLastError;
  vfs.xCurrentTimeInt64 = real->iVersion >= 2 ? CurrentTimeInt64 : nullptr;
  if (sqlite3_vfs_register(&vfs, /*makeDflt=*/0) != SQLITE_OK) return nullptr;
  return &vfs;
}

}  // namespace

const char* WalWriteGatheringVfsName() {
  static sqlite3_vfs* const vfs = RegisterVfs();  // Thread-safe initialization.
  return vfs == nullptr ? nullptr : vfs->zName;
}

WalWriteCounts WalWriteCountsForTesting() {
  WalWriteCounts counts;
  counts.requested = requested_writes.load(std::memory_order_relaxed);
  counts.issued = issued_writes.load(std::memory_order_relaxed);
  return counts;
}

}  // namespace recondb::storage::internal
