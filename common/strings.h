// Debian 12's abseil is built without std::string_view aliasing, so
// absl::StrCat and friends do not accept std::string_view. Wrap with Sv().
#ifndef RECONDB_COMMON_STRINGS_H_
#define RECONDB_COMMON_STRINGS_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace recondb {

inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace recondb

#endif  // RECONDB_COMMON_STRINGS_H_
