// Debian 12's abseil is built without std::string_view aliasing, so
// absl::StrCat and friends do not accept std::string_view. Wrap with Sv().
#ifndef RECONDB_COMMON_STRINGS_H_
#define RECONDB_COMMON_STRINGS_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace recondb {

inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }
// The other way: an absl::string_view (what absl::StrSplit, StripAsciiWhitespace
// ... return) as the std::string_view our APIs take. The one home of both
// adapters; don't write `absl::string_view(s.data(), s.size())` inline.
inline std::string_view StdSv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// The longest prefix of user input that QuoteInput echoes.
inline constexpr size_t kMaxQuotedBytes = 100;

// `input` (anything a client or peer sent: an address, a node id) made safe
// to echo in an error message or a log line: double-quoted, C-escaped
// (control characters, quotes, backslashes and bytes over 0x7f as \n, \",
// \xNN ...), so never more than one inert line; and cut to its first
// `max_bytes` bytes, then marked `..." (N bytes)`, so input of any length
// gives a message of bounded size. The one home of that rule.
std::string QuoteInput(std::string_view input, size_t max_bytes = kMaxQuotedBytes);

}  // namespace recondb

#endif  // RECONDB_COMMON_STRINGS_H_
