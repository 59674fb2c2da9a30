#include "engine/internal/winner.h"

#include <algorithm>
#include <string_view>

namespace recondb::engine::internal {
namespace {

std::string_view Hash(const std::string& revision) {
  const size_t dash = revision.find('-');
  return dash == std::string::npos ? std::string_view(revision)
                                   : std::string_view(revision).substr(dash + 1);
}

}  // namespace

bool Beats(const storage::StoredRevision& a, const storage::StoredRevision& b) {
  if (a.deleted != b.deleted) return !a.deleted;
  if (a.generation != b.generation) return a.generation > b.generation;
  return Hash(a.revision) > Hash(b.revision);
}

void SortByPrecedence(std::vector<storage::StoredRevision>& leaves) {
  std::sort(leaves.begin(), leaves.end(), Beats);
}

}  // namespace recondb::engine::internal
