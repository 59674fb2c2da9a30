// Bounds on the size of a request, checked before any storage call: beyond
// them SQLite's own limits (expression depth, bound variables) would answer
// bad input with INTERNAL. Documented in docs/api.md ("Limits").
#ifndef RECONDB_ENGINE_LIMITS_H_
#define RECONDB_ENGINE_LIMITS_H_

namespace recondb::engine {

// Conditions of one ListRecords filter.
inline constexpr int kMaxFilterConditions = 64;
// Table names of one table filter: GetChanges.tables, a peer's filter
// (AddPeer, Sync, the replication handshake).
inline constexpr int kMaxTableFilter = 1000;

}  // namespace recondb::engine

#endif  // RECONDB_ENGINE_LIMITS_H_
