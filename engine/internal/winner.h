// The deterministic winner rule of DESIGN.md, independent of arrival order.
#ifndef RECONDB_ENGINE_INTERNAL_WINNER_H_
#define RECONDB_ENGINE_INTERNAL_WINNER_H_

#include <vector>

#include "storage/storage.h"

namespace recondb::engine::internal {

// True if leaf `a` beats leaf `b`: a live leaf beats a deleted one, then the
// higher generation wins, then the greater hash (hex string comparison).
bool Beats(const storage::StoredRevision& a, const storage::StoredRevision& b);

// Sorts `leaves` best first: [0] is the winner; the other live leaves are
// the record's conflicts, in the same order.
void SortByPrecedence(std::vector<storage::StoredRevision>& leaves);

}  // namespace recondb::engine::internal

#endif  // RECONDB_ENGINE_INTERNAL_WINNER_H_
