// The structured input of the fuzz targets: a sequence of frames, each
// [tag: 1 byte][length: 2 bytes, big-endian][length bytes]. A frame cut
// short by the end of the input takes what is left, so every input is a
// valid sequence and mutations stay meaningful. fuzz/make_corpus.cc writes
// seeds in this form.
#ifndef RECONDB_FUZZ_FRAMES_H_
#define RECONDB_FUZZ_FRAMES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace recondb::fuzz {

struct Frame {
  uint8_t tag = 0;
  std::string_view bytes;
};

inline std::vector<Frame> SplitFrames(const uint8_t* data, size_t size, size_t max_frames) {
  std::vector<Frame> frames;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  while (!in.empty() && frames.size() < max_frames) {
    Frame frame;
    frame.tag = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    size_t length = 0;
    if (in.size() >= 2) {
      length = (static_cast<uint8_t>(in[0]) << 8) | static_cast<uint8_t>(in[1]);
      in.remove_prefix(2);
    } else {
      length = in.size();
    }
    if (length > in.size()) length = in.size();
    frame.bytes = in.substr(0, length);
    in.remove_prefix(length);
    frames.push_back(frame);
  }
  return frames;
}

// The inverse, for the corpus generator. REQUIRES: bytes.size() < 65536.
inline void AppendFrame(std::string& out, uint8_t tag, std::string_view bytes) {
  out.push_back(static_cast<char>(tag));
  out.push_back(static_cast<char>(bytes.size() >> 8));
  out.push_back(static_cast<char>(bytes.size() & 0xff));
  out.append(bytes.data(), bytes.size());
}

// Aborts with `what` (libFuzzer keeps the input) when an invariant fails.
[[noreturn]] void InvariantFailed(const char* file, int line, const std::string& what);

}  // namespace recondb::fuzz

#define FUZZ_CHECK(cond, what)                                                 \
  do {                                                                         \
    if (!(cond)) ::recondb::fuzz::InvariantFailed(__FILE__, __LINE__, (what)); \
  } while (0)

#endif  // RECONDB_FUZZ_FRAMES_H_
