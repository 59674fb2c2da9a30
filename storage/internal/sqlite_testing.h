// Test-only access to the SQLite backend's internals.
#ifndef RECONDB_STORAGE_INTERNAL_SQLITE_TESTING_H_
#define RECONDB_STORAGE_INTERNAL_SQLITE_TESTING_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "storage/storage.h"

namespace recondb::storage::internal {

// The value of `PRAGMA <pragma>` on the writer connection of `storage` (made
// by OpenSqliteStorage), e.g. "synchronous" -> "2" (FULL) or "1" (NORMAL).
// Waits for the writer like BeginWrite. INVALID_ARGUMENT for another backend.
absl::StatusOr<std::string> SqliteWriterPragmaForTesting(Storage& storage, std::string_view pragma);

// How many WAL checkpoints a SQLite store has run since it was opened.
struct CheckpointCounts {
  // By the background checkpointer (SqliteOptions::checkpoint_frames).
  int64_t background = 0;
  // By a committing thread, past SqliteOptions::max_wal_frames.
  int64_t in_commit = 0;
};

// The checkpoints of `storage` (made by OpenSqliteStorage) so far.
// INVALID_ARGUMENT for another backend.
absl::StatusOr<CheckpointCounts> SqliteCheckpointsForTesting(Storage& storage);

// Runs `hook` once in the middle of the next Storage::Backup of a SQLite
// store (in this process), on the backing-up thread, while the copy is
// being read from its snapshot: a sync point for tests of what a backup
// lets happen meanwhile. An empty hook clears it.
void SetSqliteBackupHookForTesting(std::function<void()> hook);

}  // namespace recondb::storage::internal

#endif  // RECONDB_STORAGE_INTERNAL_SQLITE_TESTING_H_
