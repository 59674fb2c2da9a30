// In-process nodes and syncs for reconciler tests: engines on the memory or
// SQLite backend, linked by pipe streams, no sockets.
#ifndef RECONDB_RECONCILER_TESTING_H_
#define RECONDB_RECONCILER_TESTING_H_

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "engine/engine.h"
#include "reconciler/session.h"
#include "storage/storage.h"
#include "tests/support/tables.h"
#include "tests/support/test_nodes.h"

namespace recondb::reconciler::testing {

// A store and its engine (tests/support/test_nodes.h).
using Node = ::recondb::testing::TestNode;

// A node on the memory backend.
Node MemoryNode();
// A node on an SQLite file at `path` (durability NORMAL: tests need no
// power-loss safety).
Node SqliteNode(const std::string& path);
// A node opened over a copy of memory node `node`'s store as it is now: what
// restoring a backup, or cloning a data directory, makes. With
// `keep_identity` the copy is one its engine cannot notice (a disk image, a
// file system snapshot): it keeps the node id, and only its new
// incarnation tells it apart.
Node CopyOf(const Node& node, bool keep_identity);
// A copy of memory node `node`'s store, not opened (a backup on the shelf).
std::unique_ptr<storage::Storage> Backup(const Node& node);
// A node opened over a copy of `backup` (restoring it), as CopyOf.
Node Restore(storage::Storage& backup, bool keep_identity);

struct SyncResult {
  absl::Status dialer;
  absl::Status acceptor;
  SessionProgress dialer_progress;
  SessionProgress acceptor_progress;
};

struct SyncOptions {
  std::vector<std::string> dialer_tables;
  std::vector<std::string> acceptor_tables;
  int batch_records = 1000;
  int64_t part_bytes = 1 << 20;
  int window = 4;
  int pipe_capacity = 16;
  // SessionOptions::max_protocol_version of each side (1: an old build).
  int32_t dialer_max_protocol_version = kProtocolVersion;
  int32_t acceptor_max_protocol_version = kProtocolVersion;
  // SessionOptions::access of each side: what the dialer lets the acceptor
  // do, and what the acceptor lets the dialer do. Default: everything.
  PeerAccess dialer_access;
  PeerAccess acceptor_access;
  // SessionOptions::handshake_timeout of both sides.
  absl::Duration handshake_timeout = absl::Seconds(30);
};

// The SessionOptions of one side of a Sync (ONE_SHOT).
SessionOptions SyncSessionOptions(engine::Engine& engine, bool dialer, const SyncOptions& options);

// One ONE_SHOT session between `dialer` and `acceptor`, both directions,
// run to its end.
SyncResult Sync(engine::Engine& dialer, engine::Engine& acceptor, const SyncOptions& options = {});

// The table random histories write (tests/support/tables.h).
using ::recondb::testing::NotesTable;

// One random local write on `engine` to one of `record_ids` records of
// "notes", if the node has the table yet: a create (or a recreation over a
// tombstone), an update of the winner or, sometimes, of a conflicting leaf,
// or a delete. The engine's error if the write fails.
absl::Status RandomNoteWrite(engine::Engine& engine, std::mt19937& rng, int record_ids);

// What must be equal between converged nodes, as text: every table's
// columns; per record (found through the change feed) its revision ids with
// parent and leaf flag, its winner with conflicts, deleted conflicts and
// conflicted flag, or "deleted", and the state of its latest feed entry
// (winner, deleted, conflicted; not its seq); every view row. Bodies of
// non-winning revisions are left out (stubs differ by node).
std::string Snapshot(engine::Engine& engine);

// The audit of every leaf of every record (found through the change feed),
// as text: what converged nodes agree on (docs/revision-encoding.md, "Audit
// metadata"; the audits of inner revisions may differ, see there).
std::string AuditSnapshot(engine::Engine& engine);

}  // namespace recondb::reconciler::testing

#endif  // RECONDB_RECONCILER_TESTING_H_
