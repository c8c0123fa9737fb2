#include "engine/ir/tensor.h"

#include <gtest/gtest.h>

#include <cstring>

#include "engine/ir/op_types.h"

namespace shrink::engine {
namespace {

TEST(TensorTest, AllocatesZeroedAlignedStorage) {
  Tensor t(DataType::kFloat32, {2, 3});
  EXPECT_EQ(t.size(), 6);
  EXPECT_EQ(t.nbytes(), 24u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % 64, 0u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(t.data<float>()[i], 0.0f);
  Tensor scalar = Tensor::Scalar<int64_t>(7);
  EXPECT_EQ(scalar.rank(), 0);
  EXPECT_EQ(scalar.size(), 1);
  EXPECT_EQ(scalar.GetAsInt64(0), 7);
}

TEST(TensorTest, RejectsAbsurdShapes) {
  EXPECT_EQ(Tensor::Allocate(DataType::kFloat32, {-1, 2}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Tensor::Allocate(DataType::kFloat32, {int64_t(1) << 40, int64_t(1) << 40})
                .status().code(),
            StatusCode::kInvalidArgument);  // overflows int64
  EXPECT_EQ(Tensor::Allocate(DataType::kFloat32, {int64_t(1) << 33}).status().code(),
            StatusCode::kResourceExhausted);  // 32 GiB
}

TEST(TensorTest, ReshapeSharesAndCloneCopies) {
  Tensor t = Tensor::FromVector<float>({2, 2}, {1, 2, 3, 4});
  auto view = t.Reshaped({4});
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->raw_data(), t.raw_data());
  EXPECT_FALSE(t.Reshaped({3}).ok());
  Tensor copy = t.Clone();
  EXPECT_NE(copy.raw_data(), t.raw_data());
  EXPECT_TRUE(copy.BitwiseEquals(t));
  copy.data<float>()[0] = 9;
  EXPECT_FALSE(copy.BitwiseEquals(t));
}

TEST(TensorTest, StringsAndConversions) {
  Tensor s = Tensor::FromVector<std::string>({2}, {"a", "bc"});
  EXPECT_EQ(s.strings()[1], "bc");
  EXPECT_EQ(s.nbytes(), 0u);
  Tensor h(DataType::kFloat16, {1});
  h.data<uint16_t>()[0] = FloatToHalf(1.5f);
  EXPECT_EQ(h.GetAsDouble(0), 1.5);
  Tensor i = Tensor::FromVector<int32_t>({3}, {4, -5, 6});
  EXPECT_EQ(i.ToInt64Vector(), (std::vector<int64_t>{4, -5, 6}));
}

TEST(OpTypesTest, LookupByDomainAndName) {
  EXPECT_EQ(LookupOpType("", "Conv"), OpType::kConv);
  EXPECT_EQ(LookupOpType("ai.onnx", "Conv"), OpType::kConv);
  EXPECT_EQ(LookupOpType("com.microsoft", "QuantizeLinear"), OpType::kMsQuantizeLinear);
  EXPECT_EQ(LookupOpType("com.example", "Conv"), OpType::kUnknown);
  EXPECT_EQ(LookupOpType("", "NoSuchOp"), OpType::kUnknown);
  EXPECT_TRUE(HasFlag(OpType::kConv, kHeavy));
  EXPECT_TRUE(HasFlag(OpType::kIf, kHasSubgraph));
  EXPECT_FALSE(HasFlag(OpType::kRelu, kHeavy));
  EXPECT_STREQ(OpTypeName(OpType::kMatMulInteger), "MatMulInteger");
}

}  // namespace
}  // namespace shrink::engine

#include "engine/ir/buffer_cache.h"

namespace shrink::engine {
namespace {

TEST(BufferCacheTest, ReusesLargeBuffersAndZeroesTensors) {
  TrimBufferCache();
  size_t capacity = 0;
  void* first = AcquireBuffer(3 << 20, &capacity);
  ASSERT_NE(first, nullptr);
  EXPECT_GE(capacity, size_t(3) << 20);
  EXPECT_LE(capacity, (size_t(3) << 20) * 9 / 8);  // size classes waste at most 12.5%
  ReleaseBuffer(first, capacity);
  size_t again = 0;
  EXPECT_EQ(AcquireBuffer(3 << 20, &again), first);  // same class: the cached buffer
  EXPECT_EQ(again, capacity);
  std::memset(first, 0xff, capacity);
  ReleaseBuffer(first, again);
  Tensor reused(DataType::kUint8, {3 << 20});  // gets the dirty buffer back, zeroed
  EXPECT_EQ(reused.raw_data(), first);
  for (int64_t i = 0; i < reused.size(); i += 4093) ASSERT_EQ(reused.data<uint8_t>()[i], 0);
  TrimBufferCache();
}

}  // namespace
}  // namespace shrink::engine
