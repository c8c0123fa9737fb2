#include "engine/quant/quant_params.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <random>

namespace shrink::engine::quant {
namespace {

TEST(QuantTypesTest, RangesAndNames) {
  struct Case {
    QuantType type;
    bool reduce;
    int32_t min, max;
  };
  const Case cases[] = {
      {QuantType::kUint8, false, 0, 255},    {QuantType::kInt8, false, -128, 127},
      {QuantType::kUint16, false, 0, 65535}, {QuantType::kInt16, false, -32768, 32767},
      {QuantType::kUint8, true, 0, 127},     {QuantType::kInt8, true, -64, 63},
      {QuantType::kUint16, true, 0, 32767},  {QuantType::kInt16, true, -16384, 16383},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(QuantTypeName(c.type)) + (c.reduce ? " reduced" : ""));
    EXPECT_EQ(QuantMin(c.type, c.reduce), c.min);
    EXPECT_EQ(QuantMax(c.type, c.reduce), c.max);
  }
  EXPECT_STREQ(QuantTypeName(QuantType::kInt16), "int16");
  EXPECT_EQ(ToDataType(QuantType::kUint8), DataType::kUint8);
  EXPECT_EQ(QuantBits(QuantType::kUint16), 16);
  EXPECT_STREQ(ActionName(NodeDecision::Action::kExcluded), "excluded");
}

TEST(ComputeParamsTest, Table) {
  struct Case {
    const char* name;
    TensorRange range;
    QuantType type;
    bool symmetric, reduce;
    double scale;
    int32_t zero_point;
  };
  const Case cases[] = {
      {"u8 asym [0,2.55]", {0, 2.55f}, QuantType::kUint8, false, false, 0.01, 0},
      // 1 / float(2 / 255) is 127.49999 in float (and in ORT's float32 numpy code).
      {"u8 asym [-1,1]", {-1, 1}, QuantType::kUint8, false, false, 2.0 / 255, 127},
      {"u8 asym [2,5] widened to 0", {2, 5}, QuantType::kUint8, false, false, 5.0 / 255, 0},
      {"u8 asym [-5,-2] widened to 0", {-5, -2}, QuantType::kUint8, false, false, 5.0 / 255, 255},
      {"s8 asym [-1,1]", {-1, 1}, QuantType::kInt8, false, false, 2.0 / 255, -1},
      {"u8 asym [-1,3]", {-1, 3}, QuantType::kUint8, false, false, 4.0 / 255, 64},
      {"s8 asym [0,1]", {0, 1}, QuantType::kInt8, false, false, 1.0 / 255, -128},
      {"s8 sym [-1,0.5]", {-1, 0.5f}, QuantType::kInt8, true, false, 1.0 / 127, 0},
      {"u8 sym [-1,2]", {-1, 2}, QuantType::kUint8, true, false, 2.0 / 127, 128},
      {"s16 sym [-3,3]", {-3, 3}, QuantType::kInt16, true, false, 3.0 / 32767, 0},
      {"u16 asym [0,65.535]", {0, 65.535f}, QuantType::kUint16, false, false, 0.001, 0},
      {"u16 sym [-1,1]", {-1, 1}, QuantType::kUint16, true, false, 1.0 / 32767, 32768},
      {"s16 asym [1,2] widened", {1, 2}, QuantType::kInt16, false, false, 2.0 / 65535, -32768},
      {"s8 sym reduced", {-1, 1}, QuantType::kInt8, true, true, 1.0 / 63, 0},
      {"u8 asym reduced", {0, 1.27f}, QuantType::kUint8, false, true, 0.01, 0},
      {"u8 sym reduced: zp 64", {-1, 1}, QuantType::kUint8, true, true, 1.0 / 63, 64},
      {"u8 asym zeros", {0, 0}, QuantType::kUint8, false, false, 1, 0},
      {"s8 asym zeros", {0, 0}, QuantType::kInt8, false, false, 1, -128},
      {"s8 sym zeros", {0, 0}, QuantType::kInt8, true, false, 1, 0},
      {"u8 sym zeros", {0, 0}, QuantType::kUint8, true, false, 1, 128},
      {"subnormal range floors at FLT_MIN",
       {0, 1e-40f},
       QuantType::kUint8,
       false,
       false,
       double(FLT_MIN),
       0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    AffineParams p = ComputeParams(c.range, c.type, c.symmetric, c.reduce);
    // The scale is one float division away from the exact quotient.
    EXPECT_NEAR(p.scale, c.scale, c.scale * FLT_EPSILON);
    EXPECT_EQ(p.zero_point, c.zero_point);
    EXPECT_GE(p.scale, FLT_MIN);
  }
}

std::vector<float> Values(const Tensor& t) {
  std::vector<float> out;
  for (int64_t i = 0; i < t.size(); ++i) out.push_back(float(t.GetAsDouble(i)));
  return out;
}

TEST(QuantizeWeightTest, PerTensorRoundsHalfToEven) {
  // max |w| = 127 makes the int8 scale exactly 1, so w / scale is exact and ties are real ties.
  Tensor w = Tensor::FromVector<float>({6}, {-127, 0.5f, 1.5f, 2.5f, -0.5f, 127});
  auto q = QuantizeWeight(w, {});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->values.dtype(), DataType::kInt8);
  EXPECT_EQ(Values(q->values), (std::vector<float>{-127, 0, 2, 2, 0, 127}));
  EXPECT_EQ(q->scale.rank(), 0);
  EXPECT_EQ(q->scale.data<float>()[0], 1.0f);
  EXPECT_EQ(q->zero_point.data<int8_t>()[0], 0);
  EXPECT_EQ(q->saturated, 0);
  EXPECT_DOUBLE_EQ(q->max_abs_error, 0.5);
}

TEST(QuantizeWeightTest, PerChannelAxis0WithZeroChannel) {
  Tensor w = Tensor::FromVector<float>({2, 3}, {1.5f, -2, 0.5f, 0, 0, 0});
  QuantizeWeightOptions options;
  options.axis = 0;
  auto q = QuantizeWeight(w, options);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_EQ(q->scale.shape(), (Shape{2}));
  EXPECT_FLOAT_EQ(q->scale.data<float>()[0], 2.0f / 127);
  EXPECT_EQ(q->scale.data<float>()[1], 1.0f);  // all-zero channel
  EXPECT_EQ(Values(q->values), (std::vector<float>{95, -127, 32, 0, 0, 0}));
  EXPECT_EQ(q->axis, 0);
}

TEST(QuantizeWeightTest, PerChannelAxis1) {
  // Shape [2, 2, 2]: channel c of axis 1 holds elements (o, c, i).
  Tensor w = Tensor::FromVector<float>({2, 2, 2}, {1, -1, 4, 2, 0.5f, 0.25f, -8, 1});
  QuantizeWeightOptions options;
  options.axis = 1;
  options.type = QuantType::kUint8;
  options.symmetric = false;
  auto q = QuantizeWeight(w, options);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_EQ(q->scale.shape(), (Shape{2}));
  EXPECT_FLOAT_EQ(q->scale.data<float>()[0], 2.0f / 255);   // channel 0: [-1, 1]
  EXPECT_FLOAT_EQ(q->scale.data<float>()[1], 12.0f / 255);  // channel 1: [-8, 4]
  EXPECT_EQ(q->zero_point.data<uint8_t>()[0], 127);         // 127.49999 in float
  EXPECT_EQ(q->zero_point.data<uint8_t>()[1], 170);         // round(8 / (12 / 255)) = round(170)
  EXPECT_EQ(q->zero_point.dtype(), DataType::kUint8);
}

TEST(QuantizeWeightTest, Errors) {
  EXPECT_FALSE(QuantizeWeight(Tensor::FromVector<int32_t>({2}, {1, 2}), {}).ok());
  QuantizeWeightOptions options;
  options.axis = 2;
  EXPECT_FALSE(QuantizeWeight(Tensor::FromVector<float>({2, 2}, {1, 2, 3, 4}), options).ok());
  options.axis = -2;
  EXPECT_FALSE(QuantizeWeight(Tensor::FromVector<float>({2, 2}, {1, 2, 3, 4}), options).ok());
}

// |w - dequant(q(w))| <= scale / 2 for every element, plus the float rounding of w / scale and
// of q * scale (each within half an ulp: (2|w| + scale) * FLT_EPSILON bounds both).
TEST(QuantizeWeightTest, PropertyErrorWithinHalfStep) {
  std::mt19937 rng(1234);
  const Shape shape = {6, 4, 3, 3};
  const QuantType types[] = {QuantType::kUint8, QuantType::kInt8, QuantType::kUint16,
                             QuantType::kInt16};
  for (int trial = 0; trial < 4; ++trial) {
    std::normal_distribution<float> normal(trial * 0.5f, 1.0f + trial);
    Tensor w(DataType::kFloat32, shape);
    for (int64_t i = 0; i < w.size(); ++i) w.data<float>()[i] = normal(rng);
    for (QuantType type : types) {
      for (int axis : {-1, 0, 1, 3}) {
        for (bool symmetric : {true, false}) {
          for (bool reduce : {false, true}) {
            SCOPED_TRACE(std::string(QuantTypeName(type)) + " axis " + std::to_string(axis) +
                         (symmetric ? " sym" : " asym") + (reduce ? " reduced" : ""));
            QuantizeWeightOptions options{type, axis, symmetric, reduce};
            auto q = QuantizeWeight(w, options);
            ASSERT_TRUE(q.ok()) << q.status().ToString();
            EXPECT_EQ(q->saturated, 0);
            int64_t inner = 1, channels = axis < 0 ? 1 : shape[size_t(axis)];
            for (size_t d = size_t(axis + 1); axis >= 0 && d < shape.size(); ++d) inner *= shape[d];
            double worst = 0;
            for (int64_t i = 0; i < w.size(); ++i) {
              int64_t c = axis < 0 ? 0 : (i / inner) % channels;
              float scale = q->scale.data<float>()[c];
              double zp = q->zero_point.GetAsDouble(c);
              float deq = float(q->values.GetAsDouble(i) - zp) * scale;
              float x = w.data<float>()[i];
              double error = std::fabs(double(x) - double(deq));
              worst = std::max(worst, error);
              ASSERT_LE(error, scale / 2.0 + (2 * std::fabs(x) + scale) * FLT_EPSILON)
                  << "element " << i << " w=" << x << " scale=" << scale;
            }
            EXPECT_DOUBLE_EQ(q->max_abs_error, worst);
          }
        }
      }
    }
  }
}

TEST(QuantizeBiasTest, PerChannelAndSaturation) {
  Tensor bias = Tensor::FromVector<float>({3}, {1.0f, -2.0f, 1e9f});
  auto q = QuantizeBias(bias, 0.5f, {0.01f, 0.02f, 1e-6f});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->values.dtype(), DataType::kInt32);
  EXPECT_EQ(q->values.data<int32_t>()[0], 200);
  EXPECT_EQ(q->values.data<int32_t>()[1], -200);
  EXPECT_EQ(q->values.data<int32_t>()[2], std::numeric_limits<int32_t>::max());
  EXPECT_EQ(q->saturated, 1);
  ASSERT_EQ(q->scale.shape(), (Shape{3}));
  EXPECT_EQ(q->scale.data<float>()[1], 0.5f * 0.02f);
  EXPECT_EQ(q->zero_point.dtype(), DataType::kInt32);
  EXPECT_EQ(q->axis, 0);
}

TEST(QuantizeBiasTest, PerTensorAndErrors) {
  Tensor bias = Tensor::FromVector<float>({2}, {0.3f, -0.3f});
  auto q = QuantizeBias(bias, 0.1f, {0.1f});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->scale.rank(), 0);
  EXPECT_EQ(q->values.data<int32_t>()[0], 30);
  EXPECT_EQ(q->values.data<int32_t>()[1], -30);
  EXPECT_EQ(q->saturated, 0);
  // Half a bias step bounds the rounding error.
  EXPECT_LE(q->max_abs_error, 0.5 * 0.1 * 0.1 * (1 + FLT_EPSILON));
  EXPECT_FALSE(QuantizeBias(bias, 0.1f, {0.1f, 0.2f, 0.3f}).ok());
  EXPECT_FALSE(QuantizeBias(bias, 0.1f, {}).ok());
  // A subnormal product is floored to the smallest normal scale.
  auto tiny = QuantizeBias(bias, 1e-30f, {1e-30f});
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(tiny->scale.data<float>()[0], FLT_MIN);
}

}  // namespace
}  // namespace shrink::engine::quant
