// An in-memory backend: for tests and ephemeral nodes. Nothing survives the
// object. Read transactions share a lock that the writer takes exclusively,
// so readers wait while a write transaction is open. A waiting writer holds
// back new readers (it cannot be starved), so a thread must not begin a read
// transaction while it holds one either. Transactions may end on another
// thread than the one that began them. Backup is refused
// (FAILED_PRECONDITION): there is no file to copy.
#ifndef RECONDB_STORAGE_MEMORY_STORAGE_H_
#define RECONDB_STORAGE_MEMORY_STORAGE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "storage/storage.h"

namespace recondb::storage {

std::unique_ptr<Storage> NewMemoryStorage();

// A copy of memory store `storage` as it is now (what a backup restored
// elsewhere would hold), with an Identity() of its own, or with the
// original's if `keep_identity` (what a block-level disk image keeps).
// INVALID_ARGUMENT if `storage` is not a memory store. For tests of
// restored and cloned nodes. REQUIRES: no write transaction of `storage`
// is open on the calling thread.
absl::StatusOr<std::unique_ptr<Storage>> CopyMemoryStorage(Storage& storage, bool keep_identity);

}  // namespace recondb::storage

#endif  // RECONDB_STORAGE_MEMORY_STORAGE_H_
