// Several real recondbd processes on loopback for replication tests:
//
//   Cluster cluster;
//   ASSERT_OK_AND_ASSIGN(int c, cluster.AddNode());
//   ASSERT_OK_AND_ASSIGN(int b, cluster.AddNode({c}));   // b --peer=c
//   ASSERT_OK_AND_ASSIGN(int a, cluster.AddNode({b}));   // a --peer=b
//   DbClient db_a(cluster.node(a).NewChannel());
//   ... write on a ...
//   ASSERT_OK(cluster.WaitForChange(c, "todos", "t1", revision));
//
// Each node has its own data directory (kept across Restart) and a port
// chosen by the kernel on its first start and reused on restarts, so that
// the --peer addresses of the others stay true. Nodes are started in the
// order they are added, so a node can only name earlier ones in its
// --peer flags; links in both directions (or cycles) are made with
// Admin.AddPeer (AddPeer()). Every process is stopped by its PID when the
// cluster dies (DaemonProcess). Not thread-safe.
#ifndef RECONDB_TESTS_SUPPORT_CLUSTER_H_
#define RECONDB_TESTS_SUPPORT_CLUSTER_H_

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "recondb/v1/admin.grpc.pb.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"

namespace recondb::testing {

class Cluster {
 public:
  Cluster() = default;
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Starts a node whose --peer flags name the nodes `peers` (indexes of
  // running nodes), with `extra_flags` after them. Returns its index.
  absl::StatusOr<int> AddNode(const std::vector<int>& peers = {},
                              std::vector<std::string> extra_flags = {});

  // As AddNode, but the new node's data directory starts as a copy of the
  // files in `copy_of` (another node's, stopped, or a backup): a laptop
  // imaged from another, or a node restored elsewhere. `prepare`, if set,
  // runs on the new directory before the node starts.
  absl::StatusOr<int> AddNodeFromCopy(
      const std::filesystem::path& copy_of, const std::vector<int>& peers = {},
      std::vector<std::string> extra_flags = {},
      const std::function<void(const std::filesystem::path&)>& prepare = nullptr);

  DaemonProcess& node(int i) { return *nodes_.at(i).process; }
  // Node i's data directory (kept across Restart).
  const std::filesystem::path& data_dir(int i) const { return nodes_.at(i).data->path(); }
  const std::string& address(int i) { return nodes_.at(i).process->address(); }
  const std::string& node_id(int i) { return nodes_.at(i).process->node_id(); }
  int size() const { return static_cast<int>(nodes_.size()); }

  // SIGTERM, wait for exit code 0. The node keeps its data dir and port.
  absl::Status Stop(int i);
  // SIGKILL (kill -9).
  void Kill(int i);
  // Starts a stopped node again on the same port and data dir, with the
  // flags it was first started with, or `flags` if given.
  absl::Status Restart(int i, std::optional<std::vector<std::string>> flags = std::nullopt);

  std::unique_ptr<v1::Admin::Stub> NewAdminStub(int i);

  // Admin calls with a deadline, as absl statuses.
  absl::StatusOr<v1::Peer> AddPeer(int i, const std::string& address,
                                   const std::vector<std::string>& tables = {});
  absl::StatusOr<std::vector<v1::Peer>> ListPeers(int i);
  absl::StatusOr<v1::SyncResponse> Sync(int i, const std::string& address,
                                        absl::Duration timeout = absl::Seconds(30));
  absl::StatusOr<v1::NodeStatus> GetStatus(int i);

  // Follows node i's change feed (GetChanges follow, from seq 0) until it
  // shows record `id` of `table` at `revision` (any revision if empty).
  // DEADLINE_EXCEEDED if it does not within `timeout`. No polling: the
  // daemon pushes changes as they commit.
  absl::Status WaitForChange(int i, const std::string& table, const std::string& id,
                             const std::string& revision = "",
                             absl::Duration timeout = absl::Seconds(30));

  // Polls ListPeers on node i (bounded, every 50 ms) until `peer_address` is
  // listed as connected. Returns its state.
  absl::StatusOr<v1::Peer> WaitForConnectedPeer(int i, const std::string& peer_address,
                                                absl::Duration timeout = absl::Seconds(30));

 private:
  absl::StatusOr<int> Start(std::unique_ptr<TempDir> data, const std::vector<int>& peers,
                            std::vector<std::string> extra_flags);
  struct Node {
    std::unique_ptr<TempDir> data;
    std::vector<std::string> flags;
    std::unique_ptr<DaemonProcess> process;
  };
  std::vector<Node> nodes_;
};

// Replaces the files of directory `to` by copies of those in `from` (as `cp
// -a from/. to/` after emptying `to`): what a user does to restore a
// directory-copy backup. REQUIRES: no daemon runs on either.
absl::Status CopyDataDir(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace recondb::testing

#endif  // RECONDB_TESTS_SUPPORT_CLUSTER_H_
