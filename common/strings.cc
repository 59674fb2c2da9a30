#include "common/strings.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace recondb {

std::string QuoteInput(std::string_view input, size_t max_bytes) {
  if (input.size() <= max_bytes) return absl::StrCat("\"", absl::CHexEscape(Sv(input)), "\"");
  return absl::StrCat("\"", absl::CHexEscape(Sv(input.substr(0, max_bytes))), "...\" (",
                      input.size(), " bytes)");
}

}  // namespace recondb
