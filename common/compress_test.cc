#include "common/compress.h"

#include <gtest/gtest.h>

namespace shrink {
namespace {

TEST(Compress, RoundTripsAndShrinksRedundantData) {
  std::string data;
  for (int i = 0; i < 10000; ++i) data += "weights " + std::to_string(i % 7) + "\n";
  auto compressed = ZstdCompress(data, DefaultZstdLevel(data.size()));
  ASSERT_TRUE(compressed.ok()) << compressed.status().ToString();
  EXPECT_LT(compressed->size(), data.size() / 10);
  auto restored = ZstdDecompress(*compressed, data.size());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(*restored, data);
}

TEST(Compress, RejectsGarbageAndOversizedFrames) {
  EXPECT_FALSE(ZstdDecompress("not zstd at all", 1000).ok());
  auto compressed = ZstdCompress(std::string(5000, 'a'), 3);
  ASSERT_TRUE(compressed.ok());
  EXPECT_FALSE(ZstdDecompress(*compressed, 4999).ok());
}

}  // namespace
}  // namespace shrink
