#include "tools/cli/progress.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/strings.h"

namespace recondb::cli {

absl::StatusOr<Progress::Mode> Progress::ParseMode(std::string_view flag, bool is_tty) {
  if (flag == "auto") return is_tty ? Mode::kBar : Mode::kPlain;
  if (flag == "bar") return Mode::kBar;
  if (flag == "plain") return Mode::kPlain;
  if (flag == "none") return Mode::kNone;
  return absl::InvalidArgumentError(
      absl::StrCat("bad --progress \"", Sv(flag), "\" (auto, bar, plain, none)"));
}

Progress::Progress(std::ostream* err, Mode mode, std::string label, int64_t total_bytes,
                   int64_t every)
    : err_(err),
      mode_(mode),
      label_(std::move(label)),
      total_bytes_(total_bytes),
      every_(std::max<int64_t>(every, 1)),
      next_line_(every_) {}

std::string Progress::Percent(int64_t bytes) const {
  if (total_bytes_ <= 0) return "";
  return absl::StrFormat("%3d%%",
                         static_cast<int>(std::min<int64_t>(100, bytes * 100 / total_bytes_)));
}

void Progress::Update(int64_t records, int64_t bytes) {
  if (mode_ == Mode::kPlain && records >= next_line_) {
    next_line_ = records + every_;
    *err_ << label_ << ": " << records << " records";
    if (total_bytes_ > 0) *err_ << " (" << Percent(bytes) << ")";
    *err_ << "\n" << std::flush;
  }
  if (mode_ != Mode::kBar) return;
  const absl::Time now = absl::Now();
  if (now - last_draw_ < absl::Milliseconds(100)) return;
  last_draw_ = now;
  drawn_ = true;
  const double seconds = std::max(absl::ToDoubleSeconds(now - start_), 1e-3);
  std::string line = absl::StrCat("\r", label_, " ");
  if (total_bytes_ > 0) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(std::min<int64_t>(kWidth, bytes * kWidth / total_bytes_));
    absl::StrAppend(&line, "[", std::string(filled, '#'), std::string(kWidth - filled, '.'), "] ",
                    Percent(bytes), " ");
  }
  absl::StrAppend(&line, records, " records, ",
                  absl::StrFormat("%.0f", static_cast<double>(records) / seconds), "/s   ");
  *err_ << line << std::flush;
}

void Progress::Finish(int64_t records, std::string_view summary) {
  if (mode_ == Mode::kNone) return;
  if (drawn_) *err_ << "\r\033[K";  // clear the bar's line
  *err_ << label_ << ": done, " << records << " records" << summary << "\n" << std::flush;
}

}  // namespace recondb::cli
