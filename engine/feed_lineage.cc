#include "engine/feed_lineage.h"

#include <algorithm>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/strings.h"
#include "openssl/rand.h"

namespace recondb::engine {
bool IsIncarnationId(std::string_view id) {
  return id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string NewIncarnationId() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // OpenSSL's generator cannot fail once seeded; if it ever does, a
    // random_device id is still unique enough to tell two openings apart.
    std::random_device rd;
    for (unsigned char& b : bytes) b = static_cast<unsigned char>(rd());
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 0xf];
  }
  return out;
}

std::string FormatLineage(const FeedLineage& lineage) {
  std::string out;
  for (const Incarnation& inc : lineage) absl::StrAppend(&out, inc.start_seq, " ", inc.id, "\n");
  return out;
}

absl::StatusOr<FeedLineage> ParseLineage(std::string_view text) {
  FeedLineage lineage;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(Sv(text), '\n', absl::SkipEmpty())) {
    ++line_number;
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
    Incarnation inc;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &inc.start_seq) || inc.start_seq < 1 ||
        !IsIncarnationId(std::string_view(parts[1].data(), parts[1].size())) ||
        (!lineage.empty() && inc.start_seq < lineage.back().start_seq)) {
      return absl::DataLossError(
          absl::StrCat("the store's incarnation list is damaged at line ", line_number));
    }
    inc.id = std::string(parts[1]);
    lineage.push_back(std::move(inc));
  }
  return lineage;
}

FeedLineage PruneLineage(FeedLineage lineage, size_t max_entries, size_t keep_recent) {
  if (lineage.size() <= max_entries) return lineage;
  size_t excess = lineage.size() - max_entries;
  const size_t prunable_end = lineage.size() > keep_recent ? lineage.size() - keep_recent : 0;
  FeedLineage out;
  out.reserve(lineage.size());
  for (size_t i = 0; i < lineage.size(); ++i) {
    const bool empty = i + 1 < lineage.size() && lineage[i].start_seq == lineage[i + 1].start_seq;
    if (excess > 0 && i < prunable_end && empty) {
      --excess;
      continue;
    }
    out.push_back(std::move(lineage[i]));
  }
  return out;
}

int64_t VerifiedResumePoint(const FeedLineage& lineage, int64_t last_seq,
                            std::string_view incarnation, int64_t seq) {
  if (seq <= 0 || incarnation.empty()) return 0;
  for (size_t i = 0; i < lineage.size(); ++i) {
    if (lineage[i].id != incarnation) continue;
    const bool running = i + 1 == lineage.size();
    if (running) return seq <= last_seq ? seq : 0;
    return std::min(seq, lineage[i + 1].start_seq - 1);
  }
  return 0;
}

}  // namespace recondb::engine
