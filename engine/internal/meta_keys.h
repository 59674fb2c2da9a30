// The engine's own node-metadata keys.
#ifndef RECONDB_ENGINE_INTERNAL_META_KEYS_H_
#define RECONDB_ENGINE_INTERNAL_META_KEYS_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "engine/checkpoint.h"

namespace recondb::engine::internal {

inline constexpr std::string_view kNodeIdKey = "node_id";
// Storage::Identity() of the store the node id belongs to; the value
// kCopyAnchor marks a store made as a copy (a backup file).
inline constexpr std::string_view kStoreAnchorKey = "store_anchor";
inline constexpr std::string_view kCopyAnchor = "copy";
// The node id this store had before it was found to be a copy.
inline constexpr std::string_view kCopyOfKey = "copy_of";
// The feed's incarnations (engine/feed_lineage.h, FormatLineage).
inline constexpr std::string_view kIncarnationsKey = "incarnations";
inline constexpr std::string_view kCheckpointPrefix = "checkpoint/";

// Written in a backup copy only (next to store_anchor = kCopyAnchor, which
// Engine::Backup sets so that a copy, however it is restored, is never taken
// for the original), never in a live store (Engine::Backup,
// engine/backup.h): when the backup began (RFC 3339 UTC), the id of the
// node backed up, and the copy's last seq.
inline constexpr std::string_view kBackupPrefix = "backup/";
inline constexpr std::string_view kBackupTakenAtKey = "backup/taken_at";
inline constexpr std::string_view kBackupNodeIdKey = "backup/node_id";
inline constexpr std::string_view kBackupLastSeqKey = "backup/last_seq";

inline std::string CheckpointMetaKey(std::string_view key) {
  return absl::StrCat(Sv(kCheckpointPrefix), Sv(key));
}

// A checkpoint's stored value: "<seq>" (before incarnations) or
// "<seq> <source incarnation>".
inline std::string FormatCheckpoint(const Checkpoint& checkpoint) {
  if (checkpoint.source_incarnation.empty()) return absl::StrCat(checkpoint.seq);
  return absl::StrCat(checkpoint.seq, " ", checkpoint.source_incarnation);
}
// DATA_LOSS naming the key if `value` is not what FormatCheckpoint writes.
inline absl::StatusOr<Checkpoint> ParseCheckpoint(std::string_view key, std::string_view value) {
  Checkpoint out{std::string(key), 0, ""};
  const size_t space = value.find(' ');
  const std::string_view seq = value.substr(0, space);
  if (space != std::string_view::npos) out.source_incarnation = std::string(value.substr(space + 1));
  if (!absl::SimpleAtoi(Sv(seq), &out.seq) || out.seq < 0 ||
      out.source_incarnation.find(' ') != std::string::npos) {
    return absl::DataLossError(absl::StrCat("checkpoint \"", Sv(key), "\" is damaged"));
  }
  return out;
}

// Keys other modules may not set through Engine::SetNodeMeta.
inline bool IsEngineMetaKey(std::string_view key) {
  return key == kNodeIdKey || key == kStoreAnchorKey || key == kCopyOfKey ||
         key == kIncarnationsKey || absl::StartsWith(Sv(key), Sv(kCheckpointPrefix)) ||
         absl::StartsWith(Sv(key), Sv(kBackupPrefix));
}

}  // namespace recondb::engine::internal

#endif  // RECONDB_ENGINE_INTERNAL_META_KEYS_H_
