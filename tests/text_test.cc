// The shared exact parsers of src/core/text.h.
#include "core/text.h"

#include <gtest/gtest.h>

namespace errand::text {
namespace {

TEST(Text, ParseNumberTakesTheWholeInputOrNothing) {
  EXPECT_EQ(parse_number<int>("42"), 42);
  EXPECT_EQ(parse_number<int>("-7"), -7);
  EXPECT_EQ(parse_number<int>(""), std::nullopt);
  EXPECT_EQ(parse_number<int>("42x"), std::nullopt);
  EXPECT_EQ(parse_number<int>(" 42"), std::nullopt);
  EXPECT_EQ(parse_number<int>("99999999999"), std::nullopt);  // out of range
  EXPECT_EQ(parse_number<unsigned>("-1"), std::nullopt);
  EXPECT_EQ(parse_number<double>("2.5"), 2.5);
}

TEST(Text, PercentDecodeRefusesShortAndNonHexEscapes) {
  EXPECT_EQ(percent_decode("p%40ss%3Aw0rd"), "p@ss:w0rd");
  EXPECT_EQ(percent_decode("plain"), "plain");
  EXPECT_EQ(percent_decode("%00"), std::string(1, '\0'));
  EXPECT_EQ(percent_decode("%4"), std::nullopt);
  EXPECT_EQ(percent_decode("%"), std::nullopt);
  EXPECT_EQ(percent_decode("%zz"), std::nullopt);
  EXPECT_EQ(percent_decode("%-1"), std::nullopt);
}

}  // namespace
}  // namespace errand::text
