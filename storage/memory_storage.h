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

#include "storage/storage.h"

namespace recondb::storage {

std::unique_ptr<Storage> NewMemoryStorage();

}  // namespace recondb::storage

#endif  // RECONDB_STORAGE_MEMORY_STORAGE_H_
