// What a backup copy of a store says about itself. Engine::Backup writes it
// into the copy's node metadata (the `backup/*` keys, next to a store
// anchor of "copy": engine/internal/meta_keys.h); a restore reads it back
// with BackupInfoFromMeta. docs/storage-format.md, "Backups".
#ifndef RECONDB_ENGINE_BACKUP_H_
#define RECONDB_ENGINE_BACKUP_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace recondb::engine {

struct BackupInfo {
  // The id of the node that was backed up.
  std::string node_id;
  // The copy's last seq: the copy holds the node's feed up to it.
  int64_t last_seq = 0;
  // When the backup began: every write acknowledged before it is in the copy.
  absl::Time taken_at;
  // The size of the copy in bytes (Engine::Backup only; 0 when read back).
  int64_t bytes = 0;
};

// Time as written in backup/taken_at: RFC 3339 UTC, microseconds
// ("2026-12-01T19:37:31.123456Z").
std::string FormatBackupTime(absl::Time time);

// The BackupInfo recorded in a store's node metadata (key -> value, e.g.
// every row of a SQLite store's `_meta`). NOT_FOUND if the store records
// no backup (it is not a backup copy); DATA_LOSS naming the key if a value
// cannot be read.
absl::StatusOr<BackupInfo> BackupInfoFromMeta(const std::map<std::string, std::string>& meta);

}  // namespace recondb::engine

#endif  // RECONDB_ENGINE_BACKUP_H_
