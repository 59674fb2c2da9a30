// The one status every backend answers when its disk is full, and how the
// daemon recognises it (to log it as the node's fault).
#ifndef RECONDB_STORAGE_DISK_FULL_H_
#define RECONDB_STORAGE_DISK_FULL_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace recondb::storage {

// The message of the RESOURCE_EXHAUSTED a write answers when the disk is
// full: a problem to fix on the node, not a limit of recondb's, said without
// SQLite's terms since it reaches users as it is.
inline constexpr char kDiskFullMessage[] =
    "the disk holding the database is full: the write was not kept; free space on it and retry";

// Whether `status` is a full disk, or wraps one keeping its message: the
// node's fault, though its code is the RESOURCE_EXHAUSTED of a caller's
// over-limit request.
inline bool IsDiskFull(const absl::Status& status) {
  return absl::IsResourceExhausted(status) &&
         status.message().find(kDiskFullMessage) != absl::string_view::npos;
}

}  // namespace recondb::storage

#endif  // RECONDB_STORAGE_DISK_FULL_H_
