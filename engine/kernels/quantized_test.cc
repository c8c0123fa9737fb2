// QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear and the com.microsoft QLinear
// elementwise and pooling kernels. Integer matmul and convolution: quantized_gemm_test.cc.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "engine/kernels/kernel_util.h"
#include "engine/kernels/quantized_test_util.h"

namespace shrink::engine::testing {
namespace {

Tensor F(Shape shape, std::vector<float> v) {
  return Tensor::FromVector<float>(std::move(shape), v);
}
template <typename T>
Tensor Q(Shape shape, std::vector<T> v) {
  return Tensor::FromVector<T>(std::move(shape), v);
}
template <typename T>
Tensor S(T v) {
  return Tensor::Scalar<T>(v);
}

KernelRun Quantize(Tensor x, Tensor scale, Tensor zp = Tensor(), int64_t opset = 13) {
  KernelRun run;
  run.op = OpType::kQuantizeLinear;
  run.inputs = {std::move(x), std::move(scale), std::move(zp)};
  run.opset = opset;
  return run;
}

KernelRun Dequantize(Tensor x, Tensor scale, Tensor zp = Tensor(), int64_t opset = 13) {
  KernelRun run;
  run.op = OpType::kDequantizeLinear;
  run.inputs = {std::move(x), std::move(scale), std::move(zp)};
  run.opset = opset;
  return run;
}

// --- QuantizeLinear ---------------------------------------------------------------------

TEST(QuantizeLinear, RoundsHalfToEven) {
  Tensor x = F({6}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f});
  auto y = MustRun(Quantize(x, S(1.0f), S<int8_t>(0)));
  EXPECT_EQ(Values<int8_t>(y[0]), (std::vector<int8_t>{0, 2, 2, 0, -2, -2}));
  // With a zero point the tie is decided before the shift: 0.5 + 10 -> 10, 1.5 + 10 -> 12.
  y = MustRun(Quantize(x, S(1.0f), S<uint8_t>(10)));
  EXPECT_EQ(Values<uint8_t>(y[0]), (std::vector<uint8_t>{10, 12, 12, 10, 8, 8}));
  // Ties after the division: 0.25 / 0.5 = 0.5 -> 0, 0.75 / 0.5 = 1.5 -> 2.
  y = MustRun(Quantize(F({2}, {0.25f, 0.75f}), S(0.5f), S<uint8_t>(0)));
  EXPECT_EQ(Values<uint8_t>(y[0]), (std::vector<uint8_t>{0, 2}));
}

TEST(QuantizeLinear, Saturates) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor x = F({7}, {-10.0f, 300.0f, 1e9f, -1e9f, inf, -inf, nan});
  auto y = MustRun(Quantize(x, S(1.0f), S<uint8_t>(0)));
  EXPECT_EQ(Values<uint8_t>(y[0]), (std::vector<uint8_t>{0, 255, 255, 0, 255, 0, 0}));
  y = MustRun(Quantize(x, S(1.0f), S<int8_t>(-5)));
  EXPECT_EQ(Values<int8_t>(y[0]), (std::vector<int8_t>{-15, 127, 127, -128, 127, -128, -128}));
  y = MustRun(Quantize(F({3}, {126.6f, 127.4f, -200.0f}), S(1.0f), S<int8_t>(1)));
  EXPECT_EQ(Values<int8_t>(y[0]), (std::vector<int8_t>{127, 127, -128}));
}

TEST(QuantizeLinear, MissingZeroPointMeansUint8) {
  auto y = MustRun(Quantize(F({3}, {-1.0f, 2.0f, 1000.0f}), S(2.0f)));
  EXPECT_EQ(Values<uint8_t>(y[0]), (std::vector<uint8_t>{0, 1, 255}));
}

TEST(QuantizeLinear, PerAxisWithNegativeAxis) {
  // x [2, 3, 2], axis -2 (= 1): one scale and zero point per middle index.
  std::vector<float> xs = {0, 1, 2, 3, 4, 5, -6, -7, 8, 9, 10, 11};
  KernelRun run =
      Quantize(F({2, 3, 2}, xs), F({3}, {1.0f, 2.0f, 4.0f}), Q<int8_t>({3}, {0, 10, -10}));
  run.attributes = {IntAttr("axis", -2)};
  auto y = MustRun(run);
  // channel 0: x / 1 + 0; channel 1: x / 2 + 10; channel 2: x / 4 - 10 (ties to even).
  EXPECT_EQ(Values<int8_t>(y[0]),
            (std::vector<int8_t>{0, 1, 11, 12, -9, -9, -6, -7, 14, 14, -8, -7}));
}

TEST(QuantizeLinear, PerAxisErrors) {
  KernelRun run = Quantize(F({2, 3}, {0, 1, 2, 3, 4, 5}), F({2}, {1, 1}), Q<uint8_t>({2}, {0, 0}));
  run.attributes = {IntAttr("axis", 1)};
  std::string message = MustFail(run);
  EXPECT_NE(message.find("2 values"), std::string::npos) << message;
  EXPECT_NE(message.find("has 3"), std::string::npos) << message;
  // Opset 10 has no per-axis form.
  run.attributes = {IntAttr("axis", 0)};
  run.opset = 10;
  EXPECT_NE(MustFail(run).find("opset 13"), std::string::npos);
  // Zero points must match the scales.
  run.opset = 13;
  run.inputs[2] = Q<uint8_t>({3}, {0, 0, 0});
  EXPECT_NE(MustFail(run).find("y_zero_point has 3 values"), std::string::npos);
  // Out-of-range axis.
  run.inputs[2] = Tensor();
  run.attributes = {IntAttr("axis", 2)};
  EXPECT_NE(MustFail(run).find("axis 2 is out of range"), std::string::npos);
}

TEST(QuantizeLinear, SixteenBitAndMsDomain) {
  Tensor x = F({4}, {-40000.0f, 0.5f, 1.5f, 70000.0f});
  KernelRun run = Quantize(x, S(1.0f), S<int16_t>(0));
  auto y = MustRun(run);
  EXPECT_EQ(Values<int16_t>(y[0]), (std::vector<int16_t>{-32768, 0, 2, 32767}));
  run.op = OpType::kMsQuantizeLinear;
  run.opset = 1;
  run.inputs[2] = S<uint16_t>(100);
  y = MustRun(run);
  EXPECT_EQ(Values<uint16_t>(y[0]), (std::vector<uint16_t>{0, 100, 102, 65535}));
  // The ms domain takes per-axis parameters whatever the default-domain opset.
  run.inputs = {F({2, 2}, {1, 2, 3, 4}), F({2}, {1, 2}), Q<uint16_t>({2}, {1, 2})};
  y = MustRun(run);
  EXPECT_EQ(Values<uint16_t>(y[0]), (std::vector<uint16_t>{2, 3, 4, 4}));
}

TEST(QuantizeLinear, Int32AndFloat16Inputs) {
  auto y = MustRun(Quantize(Q<int32_t>({3}, {-3, 5, 1000}), S(2.0f), S<int8_t>(0)));
  EXPECT_EQ(Values<int8_t>(y[0]), (std::vector<int8_t>{-2, 2, 127}));
  Tensor half(DataType::kFloat16, {2});
  half.data<Float16>()[0].bits = FloatToHalf(2.5f);
  half.data<Float16>()[1].bits = FloatToHalf(-3.5f);
  Tensor half_scale(DataType::kFloat16, {});
  half_scale.data<Float16>()[0].bits = FloatToHalf(1.0f);
  y = MustRun(Quantize(half, half_scale, S<int8_t>(0), 19));
  EXPECT_EQ(Values<int8_t>(y[0]), (std::vector<int8_t>{2, -4}));
}

// --- DequantizeLinear -------------------------------------------------------------------

TEST(DequantizeLinear, EveryInputType) {
  auto y = MustRun(Dequantize(Q<uint8_t>({3}, {0, 128, 255}), S(0.5f), S<uint8_t>(128)));
  EXPECT_EQ(Values<float>(y[0]), (std::vector<float>{-64.0f, 0.0f, 63.5f}));
  y = MustRun(Dequantize(Q<int8_t>({3}, {-128, 0, 127}), S(2.0f), S<int8_t>(-1)));
  EXPECT_EQ(Values<float>(y[0]), (std::vector<float>{-254.0f, 2.0f, 256.0f}));
  y = MustRun(Dequantize(Q<int16_t>({2}, {-32768, 32767}), S(1.0f), S<int16_t>(-32768)));
  EXPECT_EQ(Values<float>(y[0]), (std::vector<float>{0.0f, 65535.0f}));
  y = MustRun(Dequantize(Q<uint16_t>({2}, {0, 65535}), S(0.25f), S<uint16_t>(1)));
  EXPECT_EQ(Values<float>(y[0]), (std::vector<float>{-0.25f, 16383.5f}));
  y = MustRun(Dequantize(Q<int32_t>({2}, {-1000000, 7}), S(0.5f)));
  EXPECT_EQ(Values<float>(y[0]), (std::vector<float>{-500000.0f, 3.5f}));
  y = MustRun(Dequantize(Q<uint8_t>({2}, {3, 4}), S(0.5f)));  // no zero point: 0
  EXPECT_EQ(Values<float>(y[0]), (std::vector<float>{1.5f, 2.0f}));
}

TEST(DequantizeLinear, PerAxisAndHalfScale) {
  KernelRun run =
      Dequantize(Q<int8_t>({2, 2}, {1, 2, 3, 4}), F({2}, {1.0f, 10.0f}), Q<int8_t>({2}, {1, 0}));
  run.attributes = {IntAttr("axis", -1)};
  auto y = MustRun(run);
  EXPECT_EQ(Values<float>(y[0]), (std::vector<float>{0.0f, 20.0f, 2.0f, 40.0f}));
  Tensor half_scale(DataType::kFloat16, {});
  half_scale.data<Float16>()[0].bits = FloatToHalf(0.5f);
  y = MustRun(Dequantize(Q<uint8_t>({1}, {7}), half_scale, Tensor(), 19));
  ASSERT_EQ(y[0].dtype(), DataType::kFloat16);
  EXPECT_EQ(HalfToFloat(y[0].data<Float16>()[0].bits), 3.5f);
}

TEST(DequantizeLinear, ZeroPointTypeMustMatchInput) {
  std::string message = MustFail(Dequantize(Q<int8_t>({2}, {1, 2}), S(1.0f), S<uint8_t>(0)));
  EXPECT_NE(message.find("x_zero_point has dtype uint8"), std::string::npos) << message;
  EXPECT_NE(message.find("input x has dtype int8"), std::string::npos) << message;
  message = MustFail(Dequantize(Q<float>({1}, {1}), S(1.0f)));
  EXPECT_NE(message.find("float32"), std::string::npos) << message;
}

TEST(QuantizeDequantize, RoundTripWithinHalfStep) {
  std::mt19937 rng(7);
  Tensor x = RandomFloats(rng, {4, 5, 6}, -3.0f, 3.0f);
  const float scale = 0.0173f;
  KernelRun run =
      Quantize(x, F({5}, {scale, scale, scale, scale, scale}), Q<int8_t>({5}, {0, 3, -3, 17, -40}));
  run.attributes = {IntAttr("axis", 1)};
  auto q = MustRun(run);
  KernelRun back = Dequantize(q[0], run.inputs[1], run.inputs[2]);
  back.attributes = run.attributes;
  auto y = MustRun(back);
  const int zps[5] = {0, 3, -3, 17, -40};
  for (int64_t i = 0; i < x.size(); ++i) {
    int c = int((i / 6) % 5);
    float lo = (-128 - zps[c]) * scale, hi = (127 - zps[c]) * scale;
    float clamped = std::min(std::max(x.data<float>()[i], lo), hi);
    // Quantization rounds to the nearest step: the error is at most half a step (plus float
    // rounding of the division and the product, far below that).
    EXPECT_NEAR(y[0].data<float>()[i], clamped, scale * 0.5f * 1.0001f) << i;
  }
}

// Every build of the span loops (portable, AVX2, AVX512) must give the same bits, including
// the loop tails (sizes not a multiple of any vector width) and NaN / out-of-range inputs.
TEST(QuantizeDequantize, EveryInstructionSetAgrees) {
  std::mt19937 rng(13);
  Tensor x = RandomFloats(rng, {3, 1031}, -300.0f, 300.0f);
  x.data<float>()[5] = std::numeric_limits<float>::quiet_NaN();
  x.data<float>()[6] = std::numeric_limits<float>::infinity();
  for (int64_t i = 7; i < 200; ++i) x.data<float>()[i] = float(i - 100) * 0.5f;  // ties
  MustRunEveryIsa(Quantize(x, S(0.5f), S<uint8_t>(3)));
  MustRunEveryIsa(Quantize(x, S(0.5f), S<int8_t>(-3)));
  MustRunEveryIsa(Quantize(x, S(0.01f), S<int16_t>(7)));
  MustRunEveryIsa(Quantize(x, S(0.01f), S<uint16_t>(700)));
  MustRunEveryIsa(Dequantize(RandomCodes<uint8_t>(rng, {2, 1031}), S(0.37f), S<uint8_t>(9)));
  MustRunEveryIsa(Dequantize(RandomCodes<int16_t>(rng, {2, 1031}), S(0.37f), S<int16_t>(9)));
  MustRunEveryIsa(Dequantize(RandomCodes<int32_t>(rng, {2, 1031}), S(0.37f)));
}

// --- DynamicQuantizeLinear --------------------------------------------------------------

KernelRun Dynamic(Tensor x) {
  KernelRun run;
  run.op = OpType::kDynamicQuantizeLinear;
  run.inputs = {std::move(x)};
  run.num_outputs = 3;
  return run;
}

TEST(DynamicQuantizeLinear, MatchesOnnxExamples) {
  auto out = MustRun(Dynamic(F({6}, {0.0f, 2.0f, -3.0f, -2.5f, 1.34f, 0.5f})));
  EXPECT_FLOAT_EQ(out[1].data<float>()[0], 5.0f / 255.0f);
  EXPECT_EQ(out[2].data<uint8_t>()[0], 153);
  EXPECT_EQ(Values<uint8_t>(out[0]), (std::vector<uint8_t>{153, 255, 0, 26, 221, 179}));
  // All negative: the range is widened to include 0, zero point saturates at 255.
  out = MustRun(Dynamic(F({6}, {-1.0f, -2.1f, -1.3f, -2.5f, -3.34f, -4.0f})));
  EXPECT_EQ(out[2].data<uint8_t>()[0], 255);
  EXPECT_EQ(Values<uint8_t>(out[0]), (std::vector<uint8_t>{191, 121, 172, 96, 42, 0}));
  // All positive: zero point 0.
  out = MustRun(Dynamic(F({2, 3}, {1.0f, 2.1f, 1.3f, 2.5f, 3.34f, 4.0f})));
  EXPECT_EQ(out[2].data<uint8_t>()[0], 0);
  EXPECT_EQ(Values<uint8_t>(out[0]), (std::vector<uint8_t>{64, 134, 83, 159, 213, 255}));
}

TEST(DynamicQuantizeLinear, AllZeroInput) {
  // ONNX reference: y_scale = (max == min ? 1 : max - min) / 255, zero point 0, y all 0.
  auto out = MustRun(Dynamic(F({3}, {0.0f, 0.0f, -0.0f})));
  EXPECT_EQ(out[1].data<float>()[0], 1.0f / 255.0f);
  EXPECT_EQ(out[2].data<uint8_t>()[0], 0);
  EXPECT_EQ(Values<uint8_t>(out[0]), (std::vector<uint8_t>{0, 0, 0}));
}

// --- QLinearAdd / QLinearMul --------------------------------------------------------------

KernelRun Binary(OpType op, Tensor a, float as, Tensor az, Tensor b, float bs, Tensor bz, float cs,
                 Tensor cz) {
  KernelRun run;
  run.op = op;
  run.opset = 1;
  run.inputs = {std::move(a), S(as),         std::move(az), std::move(b),
                S(bs),        std::move(bz), S(cs),         std::move(cz)};
  return run;
}

TEST(QLinearAdd, HandComputedWithTies) {
  // a: scale 0.5, zp 10 -> {0, 0.5, 1, 2}; b: scale 0.25, zp 0 -> {0, 0.5, 0.25, 1}.
  // sum {0, 1, 1.25, 3} / 0.5 = {0, 2, 2.5, 6}. Like ORT, QLinearAdd adds the output zero point
  // before rounding: 2.5 + 5 = 7.5 -> 8 (QuantizeLinear would give 2 + 5 = 7).
  auto y =
      MustRun(Binary(OpType::kMsQLinearAdd, Q<uint8_t>({4}, {10, 11, 12, 14}), 0.5f, S<uint8_t>(10),
                     Q<uint8_t>({4}, {0, 2, 1, 4}), 0.25f, S<uint8_t>(0), 0.5f, S<uint8_t>(5)));
  EXPECT_EQ(Values<uint8_t>(y[0]), (std::vector<uint8_t>{5, 7, 8, 11}));
  // Saturation at both ends (int8).
  y = MustRun(Binary(OpType::kMsQLinearAdd, Q<int8_t>({2}, {127, -128}), 1.0f, S<int8_t>(0),
                     Q<int8_t>({2}, {127, -128}), 1.0f, S<int8_t>(0), 1.0f, S<int8_t>(0)));
  EXPECT_EQ(Values<int8_t>(y[0]), (std::vector<int8_t>{127, -128}));
}

TEST(QLinearMul, HandComputedWithTies) {
  // (a - 2) * (b - 1) * (0.5 * 0.5) / 1: {1*3, 2*2, 3*1, -1*5} * 0.25 = {0.75, 1, 0.75, -1.25}
  // -> {1, 1, 1, -1}; + zp 3.
  auto y = MustRun(Binary(OpType::kMsQLinearMul, Q<int8_t>({4}, {3, 4, 5, 1}), 0.5f, S<int8_t>(2),
                          Q<int8_t>({4}, {4, 3, 2, 6}), 0.5f, S<int8_t>(1), 1.0f, S<int8_t>(3)));
  EXPECT_EQ(Values<int8_t>(y[0]), (std::vector<int8_t>{4, 4, 4, 2}));
  // 2.5 * 1 -> 2 and 3.5 -> 4 (ties to even).
  y = MustRun(Binary(OpType::kMsQLinearMul, Q<uint8_t>({2}, {5, 7}), 0.5f, S<uint8_t>(0),
                     Q<uint8_t>({1}, {1}), 1.0f, S<uint8_t>(0), 1.0f, S<uint8_t>(0)));
  EXPECT_EQ(Values<uint8_t>(y[0]), (std::vector<uint8_t>{2, 4}));
}

// Against dequantize -> float op -> quantize for random broadcasting shapes. The kernels fold
// the scales into ratios rounded to float, the composition does not, so a value within a few
// ulps of a .5 boundary may round the other way: at most one quantization step apart.
TEST(QLinearBinary, MatchesFloatCompositionWithinOneStep) {
  std::mt19937 rng(11);
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{2, 3, 4}, {2, 3, 4}},   {{2, 3, 4}, {4}}, {{1}, {2, 5}},     {{3, 1, 5}, {1, 4, 1}},
      {{2, 16, 9}, {2, 16, 1}}, {{}, {7}},        {{40000}, {40000}}};
  for (OpType op : {OpType::kMsQLinearAdd, OpType::kMsQLinearMul}) {
    for (const auto& [sa, sb] : shapes) {
      Tensor a = RandomCodes<uint8_t>(rng, sa), b = RandomCodes<uint8_t>(rng, sb);
      const float as = 0.031f, bs = 0.017f, cs = op == OpType::kMsQLinearAdd ? 0.04f : 0.09f;
      const uint8_t az = 120, bz = 133, cz = 128;
      auto y = MustRunEveryIsa(Binary(op, a, as, S(az), b, bs, S(bz), cs, S(cz)));
      auto shape = BroadcastShapes({sa, sb});
      ASSERT_TRUE(shape.ok());
      ASSERT_EQ(y[0].shape(), *shape);
      std::vector<int64_t> stra = BroadcastStrides(sa, *shape), strb = BroadcastStrides(sb, *shape);
      std::vector<uint8_t> expect(static_cast<size_t>(y[0].size()));
      for (int64_t i = 0; i < y[0].size(); ++i) {
        int64_t ia = 0, ib = 0, rest = i;
        for (int d = int(shape->size()) - 1; d >= 0; --d) {
          int64_t idx = rest % (*shape)[size_t(d)];
          rest /= (*shape)[size_t(d)];
          ia += idx * stra[size_t(d)];
          ib += idx * strb[size_t(d)];
        }
        double va = double(as) * (a.data<uint8_t>()[ia] - az);
        double vb = double(bs) * (b.data<uint8_t>()[ib] - bz);
        expect[size_t(i)] =
            QuantizeRef<uint8_t>(op == OpType::kMsQLinearAdd ? va + vb : va * vb, cs, cz);
      }
      EXPECT_LE(MaxCodeDiff(Values<uint8_t>(y[0]), expect), 1)
          << ShapeToString(sa) << ShapeToString(sb);
    }
  }
}

TEST(QLinearAdd, Uint16AndErrors) {
  auto y =
      MustRun(Binary(OpType::kMsQLinearAdd, Q<uint16_t>({2}, {1000, 0}), 1.0f, S<uint16_t>(0),
                     Q<uint16_t>({2}, {65535, 0}), 1.0f, S<uint16_t>(0), 2.0f, S<uint16_t>(7)));
  // (1000 + 65535) / 2 + 7 = 33274.5 -> 33274.
  EXPECT_EQ(Values<uint16_t>(y[0]), (std::vector<uint16_t>{33274, 7}));
  std::string message =
      MustFail(Binary(OpType::kMsQLinearAdd, Q<uint8_t>({2}, {1, 2}), 1.0f, S<int8_t>(0),
                      Q<uint8_t>({2}, {1, 2}), 1.0f, S<uint8_t>(0), 1.0f, S<uint8_t>(0)));
  EXPECT_NE(message.find("A_zero_point has dtype int8"), std::string::npos) << message;
  EXPECT_NE(message.find("input A has dtype uint8"), std::string::npos) << message;
  message = MustFail(Binary(OpType::kMsQLinearMul, Q<uint8_t>({2}, {1, 2}), 1.0f, Tensor(),
                            Q<uint8_t>({3}, {1, 2, 3}), 1.0f, Tensor(), 1.0f, Tensor()));
  EXPECT_NE(message.find("cannot be broadcast"), std::string::npos) << message;
}

// --- Lookup-table ops -------------------------------------------------------------------

KernelRun Lookup(OpType op, Tensor x, float xs, Tensor xz, float ys, Tensor yz) {
  KernelRun run;
  run.op = op;
  run.opset = 1;
  run.inputs = {std::move(x), S(xs), std::move(xz), S(ys), std::move(yz)};
  return run;
}

TEST(QLinearLeakyRelu, HandComputed) {
  // alpha 0.25: {-4, -1, 0, 3} -> {-1, -0.25, 0, 3} / 0.5 = {-2, -0.5, 0, 6} -> {-2, 0, 0, 6}.
  KernelRun run = Lookup(OpType::kMsQLinearLeakyRelu, Q<int8_t>({4}, {-4, -1, 0, 3}), 1.0f,
                         S<int8_t>(0), 0.5f, S<int8_t>(0));
  run.attributes = {FloatAttr("alpha", 0.25f)};
  EXPECT_EQ(Values<int8_t>(MustRun(run)[0]), (std::vector<int8_t>{-2, 0, 0, 6}));
}

TEST(QLinearSigmoid, EveryCodeMatchesFloatComposition) {
  Tensor x(DataType::kUint8, {256});
  for (int i = 0; i < 256; ++i) x.data<uint8_t>()[i] = uint8_t(i);
  auto y = MustRun(
      Lookup(OpType::kMsQLinearSigmoid, x, 0.05f, S<uint8_t>(128), 1.0f / 256, S<uint8_t>(0)));
  std::vector<uint8_t> expect(256);
  for (int i = 0; i < 256; ++i) {
    double v = 0.05 * (i - 128);
    expect[size_t(i)] = QuantizeRef<uint8_t>(1.0 / (1.0 + std::exp(-v)), 1.0 / 256, 0);
  }
  // Exact except where float rounding of the dequantized input meets a .5 boundary.
  EXPECT_LE(MaxCodeDiff(Values<uint8_t>(y[0]), expect), 1);
  EXPECT_EQ(y[0].data<uint8_t>()[128], 128);  // sigmoid(0) = 0.5 exactly
}

// --- QLinearConcat ----------------------------------------------------------------------

TEST(QLinearConcat, CopiesOrRequantizesEachInput) {
  KernelRun run;
  run.op = OpType::kMsQLinearConcat;
  run.opset = 1;
  run.attributes = {IntAttr("axis", -1)};
  // Input 0 shares the output parameters (copied); input 1 is requantized:
  // (code - 4) * 0.25 / 0.5: {4, 5, 7, 9} -> {0, 0.5, 1.5, 2.5} -> {0, 0, 2, 2}, + 1.
  run.inputs = {S(0.5f),  S<uint8_t>(1), Q<uint8_t>({2, 1}, {200, 3}),
                S(0.5f),  S<uint8_t>(1), Q<uint8_t>({2, 2}, {4, 5, 7, 9}),
                S(0.25f), S<uint8_t>(4)};
  auto y = MustRun(run);
  EXPECT_EQ(y[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(Values<uint8_t>(y[0]), (std::vector<uint8_t>{200, 1, 1, 3, 3, 3}));
  run.inputs[7] = S<int8_t>(4);
  std::string message = MustFail(run);
  EXPECT_NE(message.find("X_zero_point has dtype int8"), std::string::npos) << message;
  run.inputs[7] = S<uint8_t>(4);
  run.inputs[5] = Q<uint8_t>({3, 2}, {1, 2, 3, 4, 5, 6});
  EXPECT_NE(MustFail(run).find("differ outside axis"), std::string::npos);
}

// --- Pools ------------------------------------------------------------------------------

TEST(QLinearGlobalAveragePool, NchwAndChannelsLast) {
  // Channel 0 {1, 2, 3, 4}: mean 2.5 -> 2 (tie to even); channel 1 {5, 6, 7, 9}: 6.75 -> 7.
  KernelRun run = Lookup(OpType::kMsQLinearGlobalAveragePool,
                         Q<uint8_t>({1, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 9}), 1.0f, S<uint8_t>(0),
                         1.0f, S<uint8_t>(0));
  auto y = MustRun(run);
  EXPECT_EQ(y[0].shape(), (Shape{1, 2, 1, 1}));
  EXPECT_EQ(Values<uint8_t>(y[0]), (std::vector<uint8_t>{2, 7}));
  run.inputs[0] = Q<uint8_t>({1, 2, 2, 2}, {1, 5, 2, 6, 3, 7, 4, 9});
  run.attributes = {IntAttr("channels_last", 1)};
  y = MustRun(run);
  EXPECT_EQ(y[0].shape(), (Shape{1, 1, 1, 2}));
  EXPECT_EQ(Values<uint8_t>(y[0]), (std::vector<uint8_t>{2, 7}));
  // Zero points and scales: ((x - 3) * 0.5 mean) / 0.25 + 10 for x {3, 5, 7, 9}: 1.5 / 0.25 = 6.
  run = Lookup(OpType::kMsQLinearGlobalAveragePool, Q<int8_t>({1, 1, 4}, {3, 5, 7, 9}), 0.5f,
               S<int8_t>(3), 0.25f, S<int8_t>(10));
  EXPECT_EQ(Values<int8_t>(MustRun(run)[0]), (std::vector<int8_t>{16}));
}

TEST(QLinearAveragePool, PadsCountAndLayouts) {
  // 3x3 image 1..9, kernel 2x2, stride 1, pads 1 at the start only.
  std::vector<uint8_t> image = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  KernelRun run = Lookup(OpType::kMsQLinearAveragePool, Q<uint8_t>({1, 1, 3, 3}, image), 1.0f,
                         S<uint8_t>(0), 1.0f, S<uint8_t>(0));
  run.attributes = {IntsAttr("kernel_shape", {2, 2}), IntsAttr("pads", {1, 1, 0, 0})};
  auto y = MustRun(run);
  EXPECT_EQ(y[0].shape(), (Shape{1, 1, 3, 3}));
  // Without the pad in the count: {1, 1.5, 2.5, 2.5, 3, 4, 5.5, 6, 7} -> ties to even.
  EXPECT_EQ(Values<uint8_t>(y[0]), (std::vector<uint8_t>{1, 2, 2, 2, 3, 4, 6, 6, 7}));
  run.attributes.push_back(IntAttr("count_include_pad", 1));
  y = MustRun(run);
  // Sums {1, 3, 5, 5, 12, 16, 11, 24, 28} / 4.
  EXPECT_EQ(Values<uint8_t>(y[0]), (std::vector<uint8_t>{0, 1, 1, 1, 3, 4, 3, 6, 7}));
  // The same image twice as channels_last channels gives the same values, interleaved.
  std::vector<uint8_t> nhwc;
  for (uint8_t v : image) nhwc.insert(nhwc.end(), {v, v});
  run.inputs[0] = Q<uint8_t>({1, 3, 3, 2}, nhwc);
  run.attributes.push_back(IntAttr("channels_last", 1));
  auto z = MustRun(run);
  EXPECT_EQ(z[0].shape(), (Shape{1, 3, 3, 2}));
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(z[0].data<uint8_t>()[2 * i], y[0].data<uint8_t>()[i]);
    EXPECT_EQ(z[0].data<uint8_t>()[2 * i + 1], y[0].data<uint8_t>()[i]);
  }
}

TEST(QLinearAveragePool, StridedThreeDimensional) {
  // 1-D and 3-D share the code path; check a 3-D pool against a direct computation.
  std::mt19937 rng(5);
  Tensor x = RandomCodes<int8_t>(rng, {2, 3, 5, 6, 7});
  KernelRun run =
      Lookup(OpType::kMsQLinearAveragePool, x, 0.1f, S<int8_t>(-3), 0.07f, S<int8_t>(2));
  run.attributes = {IntsAttr("kernel_shape", {2, 3, 2}), IntsAttr("strides", {2, 2, 3})};
  auto y = MustRun(run);
  ASSERT_EQ(y[0].shape(), (Shape{2, 3, 2, 2, 2}));
  for (int64_t i = 0; i < y[0].size(); ++i) {
    int64_t ow = i % 2, oh = (i / 2) % 2, od = (i / 4) % 2, plane = i / 8;
    double sum = 0;
    for (int a = 0; a < 2; ++a) {
      for (int b = 0; b < 3; ++b) {
        for (int c = 0; c < 2; ++c) {
          int64_t idx = ((plane * 5 + od * 2 + a) * 6 + oh * 2 + b) * 7 + ow * 3 + c;
          sum += 0.1 * (x.data<int8_t>()[idx] + 3);
        }
      }
    }
    EXPECT_LE(std::abs(y[0].data<int8_t>()[i] - QuantizeRef<int8_t>(sum / 12, 0.07, 2)), 1) << i;
  }
}

}  // namespace
}  // namespace shrink::engine::testing
