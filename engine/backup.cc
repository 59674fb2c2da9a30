// Engine::Backup and the backup/* metadata of a copy (engine/backup.h).
#include "engine/backup.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "engine/engine.h"
#include "engine/internal/meta_keys.h"

namespace recondb::engine {
namespace {

constexpr char kTimeFormat[] = "%Y-%m-%dT%H:%M:%E6SZ";

absl::Status Unreadable(std::string_view key, const std::string& value) {
  return absl::DataLossError(
      absl::StrCat("the backup's ", Sv(key), " \"", value, "\" cannot be read"));
}

}  // namespace

std::string FormatBackupTime(absl::Time time) {
  return absl::FormatTime(kTimeFormat, time, absl::UTCTimeZone());
}

absl::StatusOr<BackupInfo> BackupInfoFromMeta(const std::map<std::string, std::string>& meta) {
  auto node = meta.find(std::string(internal::kBackupNodeIdKey));
  auto seq = meta.find(std::string(internal::kBackupLastSeqKey));
  auto taken = meta.find(std::string(internal::kBackupTakenAtKey));
  if (node == meta.end() || seq == meta.end() || taken == meta.end()) {
    return absl::NotFoundError("the store records no backup (it is not a recondb backup copy)");
  }
  BackupInfo info;
  info.node_id = node->second;
  if (!absl::SimpleAtoi(seq->second, &info.last_seq) || info.last_seq < 0) {
    return Unreadable(internal::kBackupLastSeqKey, seq->second);
  }
  std::string error;
  if (!absl::ParseTime(kTimeFormat, taken->second, absl::UTCTimeZone(), &info.taken_at, &error)) {
    return Unreadable(internal::kBackupTakenAtKey, taken->second);
  }
  return info;
}

absl::StatusOr<BackupInfo> Engine::Backup(const std::string& path) {
  BackupInfo info;
  info.node_id = node_id_;
  // Read before the copy's snapshot is taken, so that it is a lower bound:
  // everything acknowledged before this instant is in the copy.
  info.taken_at = absl::FromUnixMicros(options_.clock->NowMicros());
  ASSIGN_OR_RETURN(info.bytes, options_.storage->Backup(path, [&](storage::WriteTransaction& copy) {
    ASSIGN_OR_RETURN(info.last_seq, copy.LastSeq());
    // Only the copy is marked: the live store keeps its own anchor.
    RETURN_IF_ERROR(copy.SetMeta(internal::kStoreAnchorKey, internal::kCopyAnchor));
    RETURN_IF_ERROR(copy.SetMeta(internal::kBackupTakenAtKey, FormatBackupTime(info.taken_at)));
    RETURN_IF_ERROR(copy.SetMeta(internal::kBackupNodeIdKey, info.node_id));
    return copy.SetMeta(internal::kBackupLastSeqKey, absl::StrCat(info.last_seq));
  }));
  return info;
}

}  // namespace recondb::engine
