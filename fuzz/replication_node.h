// The node the replication session fuzzer runs against, and the one the
// corpus generator syncs with to record real message sequences: a memory
// node with testing::NotesTable() and a few records, one of them deleted.
#ifndef RECONDB_FUZZ_REPLICATION_NODE_H_
#define RECONDB_FUZZ_REPLICATION_NODE_H_

#include "reconciler/testing.h"

namespace recondb::fuzz {

reconciler::testing::Node ReplicationNode();

}  // namespace recondb::fuzz

#endif  // RECONDB_FUZZ_REPLICATION_NODE_H_
