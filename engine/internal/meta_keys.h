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

inline std::string CheckpointMetaKey(std::string_view key) {
  return absl::StrCat(Sv(kCheckpointPrefix), Sv(key));
}

// Keys other modules may not set through Engine::SetNodeMeta.
inline bool IsEngineMetaKey(std::string_view key) {
  return key == kNodeIdKey || absl::StartsWith(Sv(key), Sv(kCheckpointPrefix));
}

}  // namespace recondb::engine::internal

#endif  // RECONDB_ENGINE_INTERNAL_META_KEYS_H_
