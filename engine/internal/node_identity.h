// Who this node is when its store opens: the node id (kept, or new when
// the store turns out to be a copy) and a new incarnation of its feed.
// docs/replication-protocol.md, "Identity and verified checkpoints".
#ifndef RECONDB_ENGINE_INTERNAL_NODE_IDENTITY_H_
#define RECONDB_ENGINE_INTERNAL_NODE_IDENTITY_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/feed_lineage.h"
#include "spdlog/logger.h"
#include "storage/storage.h"

namespace recondb::engine::internal {

struct NodeIdentity {
  std::string node_id;
  // The node id the store had before this open found it to be a copy;
  // empty if it is not one (or was found to be one at an earlier open).
  std::string copied_from;
  // Every incarnation of the feed, this open's last.
  FeedLineage lineage;
  int64_t last_seq = 0;
};

// In one write transaction: makes the node id of a new store; gives a
// store whose kept Storage::Identity() differs from the store's own (a
// copy: a restored backup, a cloned directory) a new node id, logged as a
// warning on `logger`; records the store's identity; and appends a new
// incarnation starting after the last seq. A store that kept no identity
// (made by an older build) adopts its own. Storage errors as is; a damaged
// incarnation list is DATA_LOSS.
absl::StatusOr<NodeIdentity> OpenNodeIdentity(storage::Storage& storage, spdlog::logger& logger);

}  // namespace recondb::engine::internal

#endif  // RECONDB_ENGINE_INTERNAL_NODE_IDENTITY_H_
