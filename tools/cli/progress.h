// Progress of `recondb export` / `import` on stderr: a bar redrawn in place
// on a terminal, plain lines (one per `every` records) otherwise, so that logs
// and tests get stable, line-oriented output.
#ifndef RECONDB_TOOLS_CLI_PROGRESS_H_
#define RECONDB_TOOLS_CLI_PROGRESS_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace recondb::cli {

class Progress {
 public:
  enum class Mode { kBar, kPlain, kNone };

  // --progress: "auto" (a bar if `is_tty`, else plain), "bar", "plain",
  // "none". INVALID_ARGUMENT otherwise.
  static absl::StatusOr<Mode> ParseMode(std::string_view flag, bool is_tty);

  // `label` starts each line ("import todos"); `total_bytes` <= 0 means the
  // size is unknown (no percentage). `err` is borrowed.
  Progress(std::ostream* err, Mode mode, std::string label, int64_t total_bytes, int64_t every);

  // Called after each record with the running totals.
  void Update(int64_t records, int64_t bytes);
  // Ends the bar and prints "<label>: done, <records> records<summary>".
  void Finish(int64_t records, std::string_view summary);

 private:
  std::string Percent(int64_t bytes) const;

  std::ostream* err_;
  Mode mode_;
  std::string label_;
  int64_t total_bytes_;
  int64_t every_;
  int64_t next_line_;
  absl::Time start_ = absl::Now();
  absl::Time last_draw_ = absl::InfinitePast();
  bool drawn_ = false;
};

}  // namespace recondb::cli

#endif  // RECONDB_TOOLS_CLI_PROGRESS_H_
