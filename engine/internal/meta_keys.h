// The engine's own node-metadata keys.
#ifndef RECONDB_ENGINE_INTERNAL_META_KEYS_H_
#define RECONDB_ENGINE_INTERNAL_META_KEYS_H_

#include <string>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace recondb::engine::internal {

inline constexpr std::string_view kNodeIdKey = "node_id";
inline constexpr std::string_view kCheckpointPrefix = "checkpoint/";

// The identity of the database file a store was last opened from, which
// the engine compares with the file it opens: a store whose anchor differs
// (a copy, a restore) is not the original and takes a new node id.
inline constexpr std::string_view kStoreAnchorKey = "store_anchor";
// The anchor of every backup (Engine::Backup): a copy by construction, so
// that however it is restored it is never taken for the original.
inline constexpr std::string_view kStoreAnchorCopy = "copy";

// Written in a backup copy only, never in a live store (Engine::Backup,
// engine/backup.h): when the backup began (RFC 3339 UTC), the id of the
// node backed up, and the copy's last seq.
inline constexpr std::string_view kBackupPrefix = "backup/";
inline constexpr std::string_view kBackupTakenAtKey = "backup/taken_at";
inline constexpr std::string_view kBackupNodeIdKey = "backup/node_id";
inline constexpr std::string_view kBackupLastSeqKey = "backup/last_seq";

inline std::string CheckpointMetaKey(std::string_view key) {
  return absl::StrCat(Sv(kCheckpointPrefix), Sv(key));
}

// Keys other modules may not set through Engine::SetNodeMeta.
inline bool IsEngineMetaKey(std::string_view key) {
  return key == kNodeIdKey || key == kStoreAnchorKey ||
         absl::StartsWith(Sv(key), Sv(kCheckpointPrefix)) ||
         absl::StartsWith(Sv(key), Sv(kBackupPrefix));
}

}  // namespace recondb::engine::internal

#endif  // RECONDB_ENGINE_INTERNAL_META_KEYS_H_
