#include "common/ids.h"

#include <openssl/rand.h>

#include <array>
#include <cstdio>
#include <mutex>
#include <random>

namespace recondb {
namespace {

using Bytes16 = std::array<uint8_t, 16>;

void FillRandom(uint8_t* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) == 1) return;
  // OpenSSL's generator failing is not expected; fall back rather than abort.
  static thread_local std::mt19937_64 fallback{std::random_device{}()};
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(fallback());
}

std::string Format(const Bytes16& b) {
  char buf[37];
  std::snprintf(buf, sizeof buf,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
                b[11], b[12], b[13], b[14], b[15]);
  return buf;
}

}  // namespace

std::string NewUuidV7(int64_t unix_millis) {
  // Monotonic within the process: same or earlier millisecond bumps a counter.
  static std::mutex mu;
  static int64_t last_millis = -1;
  static uint16_t counter = 0;
  uint16_t seq;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (unix_millis <= last_millis) {
      if (++counter > 0x0fff) {  // Counter exhausted: borrow the next millisecond.
        ++last_millis;
        counter = 0;
      }
      unix_millis = last_millis;
    } else {
      last_millis = unix_millis;
      counter = 0;
    }
    seq = counter;
  }
  Bytes16 b;
  FillRandom(b.data(), b.size());
  const uint64_t ms = static_cast<uint64_t>(unix_millis) & 0xffffffffffffULL;
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ms >> (40 - 8 * i));
  b[6] = static_cast<uint8_t>(0x70 | ((seq >> 8) & 0x0f));
  b[7] = static_cast<uint8_t>(seq & 0xff);
  b[8] = static_cast<uint8_t>(0x80 | (b[8] & 0x3f));
  return Format(b);
}

std::string NewUuidV4() {
  Bytes16 b;
  FillRandom(b.data(), b.size());
  b[6] = static_cast<uint8_t>(0x40 | (b[6] & 0x0f));
  b[8] = static_cast<uint8_t>(0x80 | (b[8] & 0x3f));
  return Format(b);
}

}  // namespace recondb
