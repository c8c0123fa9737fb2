#include "engine/ir/dtype.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace shrink::engine {
namespace {

TEST(DataTypeTest, SizesAndNames) {
  EXPECT_EQ(DataTypeSize(DataType::kFloat32), 4u);
  EXPECT_EQ(DataTypeSize(DataType::kBFloat16), 2u);
  EXPECT_EQ(DataTypeSize(DataType::kString), 0u);
  EXPECT_STREQ(DataTypeName(DataType::kInt8), "int8");
  EXPECT_TRUE(IsKnownDataType(16));
  EXPECT_FALSE(IsKnownDataType(17));
  EXPECT_FALSE(IsKnownDataType(0));
}

// Every finite half value survives half -> float -> half exactly.
TEST(DataTypeTest, HalfRoundTripIsExactForEveryValue) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    float value = HalfToFloat(uint16_t(bits));
    if (std::isnan(value)) {
      EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(value))));
      continue;
    }
    ASSERT_EQ(FloatToHalf(value), bits) << "half bits " << bits;
  }
}

// Halfway points between neighbouring halves round to the even neighbour; just above rounds up.
TEST(DataTypeTest, HalfRoundsToNearestEven) {
  for (uint32_t bits = 0; bits < 0x7bff; ++bits) {
    double low = HalfToFloat(uint16_t(bits)), high = HalfToFloat(uint16_t(bits + 1));
    float middle = float((low + high) / 2);  // exact in float: halves have 11 significant bits
    uint16_t even = (bits & 1) == 0 ? uint16_t(bits) : uint16_t(bits + 1);
    ASSERT_EQ(FloatToHalf(middle), even) << "between " << low << " and " << high;
    ASSERT_EQ(FloatToHalf(std::nextafter(middle, 1e9f)), bits + 1);
  }
  EXPECT_EQ(FloatToHalf(65520.0f), 0x7c00);  // rounds past the largest half to infinity
  EXPECT_EQ(FloatToHalf(65519.0f), 0x7bff);
  EXPECT_EQ(FloatToHalf(-std::numeric_limits<float>::infinity()), 0xfc00);
  EXPECT_EQ(FloatToHalf(1e-9f), 0);
}

TEST(DataTypeTest, BFloat16RoundsToNearestEven) {
  EXPECT_EQ(FloatToBFloat16(1.0f), 0x3f80);
  EXPECT_EQ(BFloat16ToFloat(0x3f80), 1.0f);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1.0).
  EXPECT_EQ(FloatToBFloat16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  EXPECT_EQ(FloatToBFloat16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  EXPECT_TRUE(std::isnan(BFloat16ToFloat(FloatToBFloat16(std::nanf("")))));
}

}  // namespace
}  // namespace shrink::engine
