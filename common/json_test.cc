#include "common/json.h"

#include <gtest/gtest.h>

namespace shrink {
namespace {

TEST(JsonTest, QuotesAndEscapes) {
  EXPECT_EQ(JsonQuote("plain"), "\"plain\"");
  EXPECT_EQ(JsonQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonQuote(std::string("x\n\x01", 3)), "\"x\\u000a\\u0001\"");
  EXPECT_EQ(JsonQuote("scores/final:0 é"), "\"scores/final:0 é\"");
}

}  // namespace
}  // namespace shrink
