// Sha256 against FIPS 180-2's vectors, in one piece and in many.
#include "common/sha256.h"

#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace recondb {
namespace {

constexpr char kAbc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr char kEmpty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(Sha256Test, KnownVectorsWholeAndInPieces) {
  Sha256 whole;
  whole.Update("abc");
  EXPECT_EQ(whole.HexDigest(), kAbc);
  Sha256 pieces;
  pieces.Update("a");
  pieces.Update("");
  pieces.Update("bc");
  EXPECT_EQ(pieces.HexDigest(), kAbc);
  EXPECT_EQ(Sha256().HexDigest(), kEmpty);
}

TEST(Sha256Test, OfFileHashesTheBytesAndMissingFileIsUnavailable) {
  testing::TempDir dir;
  { std::ofstream(dir.File("f"), std::ios::binary) << "abc"; }
  absl::StatusOr<std::string> digest = Sha256OfFile(dir.File("f"));
  ASSERT_TRUE(digest.ok()) << digest.status();
  EXPECT_EQ(*digest, kAbc);
  EXPECT_EQ(Sha256OfFile(dir.File("missing")).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace recondb
