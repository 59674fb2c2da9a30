#include "storage/testing/faulty_vfs.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>

namespace recondb::storage::testing {
namespace {

// A file of this VFS: its own header, then the real VFS's file right after
// it (szOsFile is the sum of both).
struct FaultyFile {
  sqlite3_file base;
  FaultyVfs* owner;
  int kind;
  sqlite3_file* real;
};

sqlite3_vfs* RealVfs(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }
FaultyFile* Faulty(sqlite3_file* file) { return reinterpret_cast<FaultyFile*>(file); }
sqlite3_file* Real(sqlite3_file* file) { return Faulty(file)->real; }

// ---- io methods: forward, failing where asked ----

int Close(sqlite3_file* file) { return Real(file)->pMethods->xClose(Real(file)); }

int Read(sqlite3_file* file, void* data, int amount, sqlite3_int64 offset) {
  FaultyFile* f = Faulty(file);
  if (f->owner->NextCallFails(FaultyOp::kRead, f->kind)) return SQLITE_IOERR_READ;
  return f->real->pMethods->xRead(f->real, data, amount, offset);
}

int Write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  FaultyFile* f = Faulty(file);
  if (f->owner->NextCallFails(FaultyOp::kWrite, f->kind)) return SQLITE_IOERR_WRITE;
  return f->owner->WriteWithinSpace(f->real, data, amount, offset);
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  return Faulty(file)->owner->TruncateGivingSpaceBack(Real(file), size);
}

int Sync(sqlite3_file* file, int flags) {
  FaultyFile* f = Faulty(file);
  if (f->owner->NextCallFails(FaultyOp::kSync, f->kind)) return SQLITE_IOERR_FSYNC;
  return f->real->pMethods->xSync(f->real, flags);
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  return Real(file)->pMethods->xFileSize(Real(file), size);
}
int Lock(sqlite3_file* file, int level) { return Real(file)->pMethods->xLock(Real(file), level); }
int Unlock(sqlite3_file* file, int level) {
  return Real(file)->pMethods->xUnlock(Real(file), level);
}
int CheckReservedLock(sqlite3_file* file, int* out) {
  return Real(file)->pMethods->xCheckReservedLock(Real(file), out);
}
int FileControl(sqlite3_file* file, int op, void* arg) {
  return Real(file)->pMethods->xFileControl(Real(file), op, arg);
}
int SectorSize(sqlite3_file* file) { return Real(file)->pMethods->xSectorSize(Real(file)); }
int DeviceCharacteristics(sqlite3_file* file) {
  return Real(file)->pMethods->xDeviceCharacteristics(Real(file));
}
int ShmMap(sqlite3_file* file, int page, int page_size, int extend, void volatile** out) {
  return Real(file)->pMethods->xShmMap(Real(file), page, page_size, extend, out);
}
int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  return Real(file)->pMethods->xShmLock(Real(file), offset, n, flags);
}
void ShmBarrier(sqlite3_file* file) { Real(file)->pMethods->xShmBarrier(Real(file)); }
int ShmUnmap(sqlite3_file* file, int delete_flag) {
  return Real(file)->pMethods->xShmUnmap(Real(file), delete_flag);
}

// Version 2: no xFetch/xUnfetch, so SQLite never memory-maps the database
// and every read goes through Read (recondb does not use mmap anyway).
const sqlite3_io_methods kIoMethods = {
    2,           Close,      Read,       Write,       Truncate,
    Sync,        FileSize,   Lock,       Unlock,      CheckReservedLock,
    FileControl, SectorSize, DeviceCharacteristics,   ShmMap,
    ShmLock,     ShmBarrier, ShmUnmap,   nullptr,     nullptr,
};

// ---- vfs methods: forward ----

int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  FaultyFile* f = Faulty(file);
  f->base.pMethods = nullptr;
  f->owner = &FaultyVfs::Get();
  f->kind = (flags & SQLITE_OPEN_MAIN_DB) ? kMainDbFile
            : (flags & SQLITE_OPEN_WAL)   ? kWalFile
                                          : kOtherFile;
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  const int rc = RealVfs(vfs)->xOpen(RealVfs(vfs), name, f->real, flags, out_flags);
  // SQLite closes a file whose pMethods is set, even after a failed open.
  if (f->real->pMethods != nullptr) f->base.pMethods = &kIoMethods;
  return rc;
}

int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  struct stat st;
  const bool known = ::stat(name, &st) == 0;
  const int rc = RealVfs(vfs)->xDelete(RealVfs(vfs), name, sync_dir);
  if (rc == SQLITE_OK && known) FaultyVfs::Get().OnDeleted(st.st_size);
  return rc;
}
int Access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return RealVfs(vfs)->xAccess(RealVfs(vfs), name, flags, out);
}
int FullPathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return RealVfs(vfs)->xFullPathname(RealVfs(vfs), name, n, out);
}
void* DlOpen(sqlite3_vfs* vfs, const char* name) {
  return RealVfs(vfs)->xDlOpen(RealVfs(vfs), name);
}
void DlError(sqlite3_vfs* vfs, int n, char* out) { RealVfs(vfs)->xDlError(RealVfs(vfs), n, out); }
void (*DlSym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return RealVfs(vfs)->xDlSym(RealVfs(vfs), handle, symbol);
}
void DlClose(sqlite3_vfs* vfs, void* handle) { RealVfs(vfs)->xDlClose(RealVfs(vfs), handle); }
int Randomness(sqlite3_vfs* vfs, int n, char* out) {
  return RealVfs(vfs)->xRandomness(RealVfs(vfs), n, out);
}
int Sleep(sqlite3_vfs* vfs, int micros) { return RealVfs(vfs)->xSleep(RealVfs(vfs), micros); }
int CurrentTime(sqlite3_vfs* vfs, double* out) {
  return RealVfs(vfs)->xCurrentTime(RealVfs(vfs), out);
}
int GetLastError(sqlite3_vfs* vfs, int n, char* out) {
  return RealVfs(vfs)->xGetLastError(RealVfs(vfs), n, out);
}
int CurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return RealVfs(vfs)->xCurrentTimeInt64(RealVfs(vfs), out);
}

sqlite3_vfs* MakeVfs() {
  sqlite3_initialize();
  sqlite3_vfs* real = sqlite3_vfs_find(nullptr);
  auto* vfs = new sqlite3_vfs;
  std::memset(vfs, 0, sizeof(*vfs));
  // Version 2: the optional system-call hooks (version 3) are not forwarded.
  vfs->iVersion = 2;
  vfs->szOsFile = static_cast<int>(sizeof(FaultyFile)) + real->szOsFile;
  vfs->mxPathname = real->mxPathname;
  vfs->zName = kFaultyVfsName;
  vfs->pAppData = real;
  vfs->xOpen = Open;
  vfs->xDelete = Delete;
  vfs->xAccess = Access;
  vfs->xFullPathname = FullPathname;
  vfs->xDlOpen = DlOpen;
  vfs->xDlError = DlError;
  vfs->xDlSym = DlSym;
  vfs->xDlClose = DlClose;
  vfs->xRandomness = Randomness;
  vfs->xSleep = Sleep;
  vfs->xCurrentTime = CurrentTime;
  vfs->xGetLastError = GetLastError;
  vfs->xCurrentTimeInt64 = CurrentTimeInt64;
  sqlite3_vfs_register(vfs, /*makeDflt=*/0);
  return vfs;
}

}  // namespace

FaultyVfs& FaultyVfs::Get() {
  // Leaked on purpose: SQLite keeps the registered VFS until exit.
  static FaultyVfs* const instance = [] {
    auto* faulty = new FaultyVfs;
    MakeVfs();
    return faulty;
  }();
  return *instance;
}

void FaultyVfs::FailNth(FaultyOp op, int64_t n, bool and_after) {
  absl::MutexLock lock(&mu_);
  OpFault& fault = ops_[static_cast<int>(op)];
  fault.countdown = std::max<int64_t>(n, 1);
  fault.and_after = and_after;
  fault.failing = false;
}

void FaultyVfs::RestrictTo(int file_kinds) {
  absl::MutexLock lock(&mu_);
  file_kinds_ = file_kinds;
}

void FaultyVfs::SetFreeSpace(int64_t bytes) {
  absl::MutexLock lock(&mu_);
  free_space_ = std::max<int64_t>(bytes, 0);
}

void FaultyVfs::AddFreeSpace(int64_t bytes) {
  absl::MutexLock lock(&mu_);
  if (free_space_ >= 0) free_space_ += bytes;
}

void FaultyVfs::UnlimitedSpace() {
  absl::MutexLock lock(&mu_);
  free_space_ = -1;
}

int64_t FaultyVfs::free_space() const {
  absl::MutexLock lock(&mu_);
  return free_space_;
}

void FaultyVfs::Heal() {
  absl::MutexLock lock(&mu_);
  for (OpFault& fault : ops_) {
    fault.countdown = 0;
    fault.and_after = false;
    fault.failing = false;
  }
  free_space_ = -1;
}

void FaultyVfs::Reset() {
  Heal();
  absl::MutexLock lock(&mu_);
  for (OpFault& fault : ops_) fault.counts = FaultyOpCounts();
  file_kinds_ = kAnyFile;
  full_failures_ = 0;
}

FaultyOpCounts FaultyVfs::counts(FaultyOp op) const {
  absl::MutexLock lock(&mu_);
  return ops_[static_cast<int>(op)].counts;
}

int64_t FaultyVfs::full_failures() const {
  absl::MutexLock lock(&mu_);
  return full_failures_;
}

bool FaultyVfs::NextCallFails(FaultyOp op, int kind) {
  absl::MutexLock lock(&mu_);
  OpFault& fault = ops_[static_cast<int>(op)];
  ++fault.counts.calls;
  if ((kind & file_kinds_) == 0) return false;
  bool fails = fault.failing;
  if (!fails && fault.countdown > 0 && --fault.countdown == 0) {
    fails = true;
    fault.failing = fault.and_after;
  }
  if (fails) ++fault.counts.failures;
  return fails;
}

int FaultyVfs::WriteWithinSpace(sqlite3_file* file, const void* data, int amount,
                                int64_t offset) {
  absl::MutexLock space_lock(&space_mu_);
  int64_t free = free_space();
  if (free < 0) return file->pMethods->xWrite(file, data, amount, offset);
  sqlite3_int64 size = 0;
  if (const int rc = file->pMethods->xFileSize(file, &size); rc != SQLITE_OK) return rc;
  const int64_t end = offset + amount;
  const int64_t growth = std::max<int64_t>(end - size, 0);
  if (growth <= free) {
    const int rc = file->pMethods->xWrite(file, data, amount, offset);
    if (rc == SQLITE_OK) AddFreeSpace(-growth);
    return rc;
  }
  // What fits is written, the rest is not: a short write, as write(2) does
  // on a full disk.
  const int64_t fits = std::clamp<int64_t>(size + free - offset, 0, amount);
  if (fits > 0 && file->pMethods->xWrite(file, data, static_cast<int>(fits), offset) == SQLITE_OK) {
    AddFreeSpace(-std::max<int64_t>(offset + fits - size, 0));
  }
  absl::MutexLock lock(&mu_);
  ++full_failures_;
  return SQLITE_FULL;
}

int FaultyVfs::TruncateGivingSpaceBack(sqlite3_file* file, int64_t size) {
  absl::MutexLock space_lock(&space_mu_);
  sqlite3_int64 before = 0;
  const bool known = file->pMethods->xFileSize(file, &before) == SQLITE_OK;
  const int rc = file->pMethods->xTruncate(file, size);
  if (rc == SQLITE_OK && known) AddFreeSpace(before - size);
  return rc;
}

void FaultyVfs::OnDeleted(int64_t bytes) { AddFreeSpace(bytes); }

}  // namespace recondb::storage::testing
