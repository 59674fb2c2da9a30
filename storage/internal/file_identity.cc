#include "storage/internal/file_identity.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace recondb::storage::internal {

std::string FileIdentity(const std::string& path) {
  struct statx st {};
  if (statx(AT_FDCWD, path.c_str(), 0, STATX_INO | STATX_BTIME, &st) != 0) return "";
  if ((st.stx_mask & STATX_INO) == 0) return "";
  std::string out = absl::StrCat("ino=", st.stx_ino);
  if ((st.stx_mask & STATX_BTIME) != 0) {
    absl::StrAppend(&out, absl::StrFormat(" btime=%d.%09u", st.stx_btime.tv_sec,
                                          st.stx_btime.tv_nsec));
  }
  return out;
}

}  // namespace recondb::storage::internal
