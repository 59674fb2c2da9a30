// The identity of a node's change feed: which incarnations wrote it, from
// which seq. A receiver's checkpoint names the incarnation it was taken
// from, and a source resumes it only where its own feed provably agrees
// with the one the checkpoint was taken from. docs/replication-protocol.md,
// "Identity and verified checkpoints".
#ifndef RECONDB_ENGINE_FEED_LINEAGE_H_
#define RECONDB_ENGINE_FEED_LINEAGE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace recondb::engine {

// One opening of a store: a random id made when the store was opened, and
// the first seq that opening could give (the store's last seq then, plus
// one). Every seq of the feed was given by exactly one incarnation: the last
// one whose start_seq is not above it.
struct Incarnation {
  std::string id;  // 32 lowercase hex digits.
  int64_t start_seq = 1;
  bool operator==(const Incarnation& o) const { return id == o.id && start_seq == o.start_seq; }
};

// The incarnations of a store, oldest first, start_seq non-decreasing; the
// last is the running one.
using FeedLineage = std::vector<Incarnation>;

// A fresh incarnation id: 128 random bits as 32 lowercase hex digits.
std::string NewIncarnationId();
// True if `id` has the form NewIncarnationId makes.
bool IsIncarnationId(std::string_view id);

// The text kept in node metadata: one "<start_seq> <id>" line each.
std::string FormatLineage(const FeedLineage& lineage);
// DATA_LOSS naming the line if `text` is not what FormatLineage writes.
absl::StatusOr<FeedLineage> ParseLineage(std::string_view text);

// Bounds a lineage that grew past `max_entries` (a daemon restarted in a
// loop): drops incarnations that gave no seq (their start equals the next
// one's), oldest first, never one of the newest `keep_recent`, until it
// fits or none is left to drop. A receiver whose checkpoint names a dropped
// incarnation is re-read from 0: costly, never wrong. Incarnations that
// gave seqs are never dropped (their seqs would lose their author).
FeedLineage PruneLineage(FeedLineage lineage, size_t max_entries, size_t keep_recent);

// Where a source may resume a receiver whose checkpoint says "everything up
// to `seq` of the feed written by incarnation `incarnation`": the highest
// seq at which the source's feed (`lineage`, last seq `last_seq`) is known
// to hold exactly what that feed held.
//  - `incarnation` is one of ours: our feed is that incarnation's up to its
//    end here (the next incarnation's start_seq - 1, or last_seq for the
//    running one), so the answer is min(seq, that end). A store copied or
//    restored while that incarnation ran is cut there: what it wrote after
//    the copy is in no feed of ours.
//  - `incarnation` is empty (an old peer, or a checkpoint taken before
//    incarnations existed) or not ours (the checkpoint came from another
//    copy of this node): nothing is known, 0.
//  - a checkpoint beyond our running incarnation's last seq cannot be
//    honest: 0.
// 0 means "from the start": always safe, because the receiver's diff never
// asks again for a revision it has (summaries cost, bodies do not).
int64_t VerifiedResumePoint(const FeedLineage& lineage, int64_t last_seq,
                            std::string_view incarnation, int64_t seq);

}  // namespace recondb::engine

#endif  // RECONDB_ENGINE_FEED_LINEAGE_H_
