#include "engine/internal/node_identity.h"

#include <optional>

#include "common/ids.h"
#include "common/status_macros.h"
#include "engine/internal/meta_keys.h"

namespace recondb::engine::internal {
namespace {

// The value of `key`, or nullopt-like empty with `found` false.
absl::StatusOr<std::optional<std::string>> ReadMeta(storage::ReadTransaction& txn,
                                                    std::string_view key) {
  auto value = txn.GetMeta(key);
  if (absl::IsNotFound(value.status())) return std::optional<std::string>();
  RETURN_IF_ERROR(value.status());
  return std::optional<std::string>(*std::move(value));
}

}  // namespace

absl::StatusOr<NodeIdentity> OpenNodeIdentity(storage::Storage& storage, spdlog::logger& logger) {
  ASSIGN_OR_RETURN(auto txn, storage.BeginWrite());
  ASSIGN_OR_RETURN(std::optional<std::string> node_id, ReadMeta(*txn, kNodeIdKey));
  ASSIGN_OR_RETURN(std::optional<std::string> anchor, ReadMeta(*txn, kStoreAnchorKey));
  ASSIGN_OR_RETURN(std::optional<std::string> incarnations, ReadMeta(*txn, kIncarnationsKey));
  const std::string identity = storage.Identity();

  NodeIdentity out;
  if (!node_id.has_value()) {
    out.node_id = NewUuidV4();
  } else if (anchor.has_value() &&
             (*anchor == kCopyAnchor ||
              (!identity.empty() && !anchor->empty() && *anchor != identity))) {
    // Not the store this node id was made in or last opened from: a copy.
    // The original may still be running, so this one must not be the same
    // node to anyone.
    out.node_id = NewUuidV4();
    out.copied_from = *node_id;
    RETURN_IF_ERROR(txn->SetMeta(kCopyOfKey, out.copied_from));
  } else {
    out.node_id = *node_id;
  }
  RETURN_IF_ERROR(txn->SetMeta(kNodeIdKey, out.node_id));
  // An empty identity (a backend that cannot tell) is kept too, so that a
  // "copy" mark is acted on once.
  if (anchor != identity) RETURN_IF_ERROR(txn->SetMeta(kStoreAnchorKey, identity));

  if (incarnations.has_value()) {
    ASSIGN_OR_RETURN(out.lineage, ParseLineage(*incarnations));
  }
  ASSIGN_OR_RETURN(out.last_seq, txn->LastSeq());
  out.lineage.push_back(Incarnation{NewIncarnationId(), out.last_seq + 1});
  RETURN_IF_ERROR(txn->SetMeta(kIncarnationsKey, FormatLineage(out.lineage)));
  RETURN_IF_ERROR(txn->Commit());
  if (!out.copied_from.empty()) {
    logger.warn(
        "this store is a copy of node {} (a restored backup or a copied data directory: its "
        "database file is not the one that node wrote); it is now node {}, so that both can run. "
        "Peers re-read its feed from the start and miss nothing",
        out.copied_from, out.node_id);
  }
  return out;
}

}  // namespace recondb::engine::internal
