#include "fuzz/frames.h"

#include <cstdio>
#include <cstdlib>

namespace recondb::fuzz {

void InvariantFailed(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, what.c_str());
  std::abort();
}

}  // namespace recondb::fuzz
