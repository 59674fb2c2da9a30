// QuoteInput: user input echoed in messages and logs is short and inert
// (issue 14 point 6: a 10 kB address turned NOT_FOUND into
// RESOURCE_EXHAUSTED; a node id with a newline and terminal escapes was
// logged raw).
#include "common/strings.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recondb {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(QuoteInputTest, ShortPrintableInputIsQuotedAsIs) {
  EXPECT_EQ(QuoteInput("node-b.example:7470"), "\"node-b.example:7470\"");
  EXPECT_EQ(QuoteInput(""), "\"\"");
}

TEST(QuoteInputTest, ControlCharactersAndQuotesAreEscaped) {
  const std::string quoted = QuoteInput("id\n\x1b[31mred\"\\");
  EXPECT_EQ(quoted, "\"id\\n\\x1b[31mred\\\"\\\\\"");
  EXPECT_THAT(quoted, Not(HasSubstr("\n")));
  EXPECT_THAT(quoted, Not(HasSubstr("\x1b")));
}

TEST(QuoteInputTest, LongInputIsCutAndItsLengthGiven) {
  const std::string huge(10000, 'a');
  const std::string quoted = QuoteInput(huge);
  EXPECT_LT(quoted.size(), kMaxQuotedBytes + 32);
  EXPECT_EQ(quoted, "\"" + std::string(kMaxQuotedBytes, 'a') + "...\" (10000 bytes)");
  // Escaping expands at most 4x, still bounded.
  EXPECT_LT(QuoteInput(std::string(10000, '\x01')).size(), 4 * kMaxQuotedBytes + 32);
  EXPECT_EQ(QuoteInput(std::string(kMaxQuotedBytes, 'b')),
            "\"" + std::string(kMaxQuotedBytes, 'b') + "\"");
}

}  // namespace
}  // namespace recondb
