#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "engine/kernels/elementwise_internal.h"
#include "engine/kernels/kernel_test_util.h"

namespace shrink::engine {
namespace {

using testing::FloatAttr;
using testing::IntAttr;
using testing::KernelRun;
using testing::RunKernel;
using testing::StringAttr;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

template <typename T>
Tensor T1(std::vector<T> values) {
  Shape shape{int64_t(values.size())};
  return Tensor::FromVector<T>(shape, values);
}
template <typename T>
Tensor TS(Shape shape, std::vector<T> values) {
  return Tensor::FromVector<T>(std::move(shape), values);
}

StatusOr<Tensor> RunOp(OpType op, std::vector<Tensor> inputs, std::vector<Attribute> attrs = {},
                     int64_t opset = 17, bool reference = false) {
  KernelRun run;
  run.op = op;
  run.inputs = std::move(inputs);
  run.attributes = std::move(attrs);
  run.opset = opset;
  run.reference = reference;
  ASSIGN_OR_RETURN(std::vector<Tensor> outputs, RunKernel(run));
  return outputs[0];
}

template <typename T>
std::vector<T> Values(const Tensor& tensor) {
  const T* data = tensor.data<T>();
  return std::vector<T>(data, data + tensor.size());
}

// |a - b| <= atol + rtol * |b|, NaN matching NaN.
void ExpectClose(const std::vector<float>& actual, const std::vector<float>& expected,
                 float rtol, float atol, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t i = 0; i < actual.size(); ++i) {
    if (std::isnan(expected[i])) {
      EXPECT_TRUE(std::isnan(actual[i])) << what << " [" << i << "]";
    } else if (std::isinf(expected[i])) {
      EXPECT_EQ(actual[i], expected[i]) << what << " [" << i << "]";
    } else {
      EXPECT_NEAR(actual[i], expected[i], atol + rtol * std::fabs(expected[i]))
          << what << " [" << i << "]";
    }
  }
}

// ---- Unary ops: hand-computed values ----------------------------------------------------------

struct UnaryCase {
  OpType op;
  std::vector<Attribute> attributes;
  std::vector<float> input;
  std::vector<float> expected;
};

TEST(ElementwiseUnary, HandComputedFloat) {
  const float e = std::exp(1.0f);
  const std::vector<UnaryCase> cases = {
      {OpType::kAbs, {}, {-2, 0, 3.5f}, {2, 0, 3.5f}},
      {OpType::kNeg, {}, {-2, 0, 3.5f}, {2, 0, -3.5f}},
      {OpType::kReciprocal, {}, {-2, 4, 0.5f}, {-0.5f, 0.25f, 2}},
      {OpType::kSqrt, {}, {4, 0, 2.25f, -1}, {2, 0, 1.5f, kNaN}},
      {OpType::kExp, {}, {0, 1, -1, 100, -200, kNaN}, {1, e, 1 / e, kInf, 0, kNaN}},
      {OpType::kLog, {}, {1, e, 0, -1}, {0, 1, -kInf, kNaN}},
      {OpType::kErf, {}, {0, 1, -1}, {0, 0.8427007929f, -0.8427007929f}},
      {OpType::kCeil, {}, {-1.5f, 1.2f, 2}, {-1, 2, 2}},
      {OpType::kFloor, {}, {-1.5f, 1.2f, 2}, {-2, 1, 2}},
      {OpType::kRound, {}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.6f}, {0, 2, 2, -0, -2, 3}},
      {OpType::kSign, {}, {-3, 0, 2, kNaN}, {-1, 0, 1, kNaN}},
      {OpType::kSin, {}, {0, float(M_PI / 2)}, {0, 1}},
      {OpType::kCos, {}, {0, float(M_PI)}, {1, -1}},
      {OpType::kTan, {}, {0, float(M_PI / 4)}, {0, 1}},
      {OpType::kAsin, {}, {0, 1}, {0, float(M_PI / 2)}},
      {OpType::kAcos, {}, {1, 0}, {0, float(M_PI / 2)}},
      {OpType::kAtan, {}, {0, 1}, {0, float(M_PI / 4)}},
      {OpType::kSinh, {}, {0, 1}, {0, 1.1752011936f}},
      {OpType::kCosh, {}, {0, 1}, {1, 1.5430806348f}},
      {OpType::kAsinh, {}, {0, 1.1752011936f}, {0, 1}},
      {OpType::kAcosh, {}, {1, 1.5430806348f}, {0, 1}},
      {OpType::kAtanh, {}, {0, 0.5f}, {0, 0.5493061443f}},
      {OpType::kRelu, {}, {-1, 0, 2, kNaN}, {0, 0, 2, kNaN}},
      {OpType::kLeakyRelu, {FloatAttr("alpha", 0.1f)}, {-2, 3}, {-0.2f, 3}},
      {OpType::kLeakyRelu, {}, {-2, 3}, {-0.02f, 3}},
      {OpType::kSigmoid, {}, {0, 2, -2, 100, -100}, {0.5f, 0.880797078f, 0.119202922f, 1,
                                                     3.720076e-44f}},
      {OpType::kHardSigmoid, {}, {-3, 0, 1, 3}, {0, 0.5f, 0.7f, 1}},
      {OpType::kHardSigmoid, {FloatAttr("alpha", 0.5f), FloatAttr("beta", 0.6f)}, {-2, 0.5f},
       {0, 0.85f}},
      {OpType::kHardSwish, {}, {-4, -1, 0, 1, 4}, {0, -1.0f / 3, 0, 2.0f / 3, 4}},
      {OpType::kTanh, {}, {0, 1, -1, 20, 1e-5f}, {0, 0.761594156f, -0.761594156f, 1, 1e-5f}},
      {OpType::kElu, {}, {-1, 2}, {1 / e - 1, 2}},
      {OpType::kElu, {FloatAttr("alpha", 2)}, {-1, 2}, {2 * (1 / e - 1), 2}},
      {OpType::kSelu, {}, {-1, 2}, {-1.1113307f, 2.1014020f}},
      {OpType::kCelu, {FloatAttr("alpha", 2)}, {-2, 3}, {2 * (1 / e - 1), 3}},
      {OpType::kSoftplus, {}, {0, 1, -1, 100, -100}, {0.693147181f, 1.31326169f, 0.313261687f,
                                                       100, 3.720076e-44f}},
      {OpType::kSoftsign, {}, {-1, 3}, {-0.5f, 0.75f}},
      {OpType::kThresholdedRelu, {}, {0.5f, 1, 2}, {0, 0, 2}},
      {OpType::kThresholdedRelu, {FloatAttr("alpha", 0.2f)}, {0.1f, 0.5f}, {0, 0.5f}},
      {OpType::kShrink, {}, {-1, -0.5f, 0, 0.5f, 1}, {-1, 0, 0, 0, 1}},
      {OpType::kShrink, {FloatAttr("bias", 1.5f), FloatAttr("lambd", 1.5f)}, {-2, -1, 1, 2},
       {-0.5f, 0, 0, 0.5f}},
      {OpType::kMish, {}, {0, 1, -1}, {0, 0.865098388f, -0.303401608f}},
  };
  for (const UnaryCase& c : cases) {
    for (bool reference : {false, true}) {
      auto out = RunOp(c.op, {T1(c.input)}, c.attributes, 18, reference);
      std::string what = std::string(OpTypeName(c.op)) + (reference ? " (reference)" : "");
      ASSERT_TRUE(out.ok()) << what << ": " << out.status().ToString();
      EXPECT_EQ(out->dtype(), DataType::kFloat32) << what;
      ExpectClose(Values<float>(*out), c.expected, 2e-6f, 1e-7f, what);
    }
  }
}

TEST(ElementwiseUnary, DoubleAndIntegerTypes) {
  auto out = RunOp(OpType::kExp, {T1<double>({0, 1})});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<double>(*out), (std::vector<double>{1, std::exp(1.0)}));

  out = RunOp(OpType::kAbs, {T1<int8_t>({-128, -3, 5})});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<int8_t>(*out), (std::vector<int8_t>{-128, 3, 5}));  // wraps at the minimum
  out = RunOp(OpType::kNeg, {T1<int32_t>({-7, 0, 9})});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<int32_t>(*out), (std::vector<int32_t>{7, 0, -9}));
  out = RunOp(OpType::kSign, {T1<int64_t>({-7, 0, 9})});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<int64_t>(*out), (std::vector<int64_t>{-1, 0, 1}));
  out = RunOp(OpType::kRelu, {T1<int8_t>({-7, 0, 9})});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<int8_t>(*out), (std::vector<int8_t>{0, 0, 9}));
  out = RunOp(OpType::kShrink, {T1<int32_t>({-3, 0, 3})},
            {FloatAttr("bias", 1), FloatAttr("lambd", 1)});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<int32_t>(*out), (std::vector<int32_t>{-2, 0, 2}));
  out = RunOp(OpType::kNot, {T1<bool>({true, false})});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<bool>(*out), (std::vector<bool>{false, true}));

  // Neg on unsigned, Sqrt on int, Not on float are not ONNX type combinations.
  EXPECT_EQ(RunOp(OpType::kNeg, {T1<uint8_t>({1})}).status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(RunOp(OpType::kSqrt, {T1<int32_t>({1})}).status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(RunOp(OpType::kNot, {T1<float>({1})}).status().code(), StatusCode::kUnimplemented);
}

TEST(ElementwiseUnary, Predicates) {
  auto out = RunOp(OpType::kIsNaN, {T1<float>({1, kNaN, kInf})});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->dtype(), DataType::kBool);
  EXPECT_EQ(Values<bool>(*out), (std::vector<bool>{false, true, false}));
  Tensor x = T1<float>({1, kNaN, kInf, -kInf});
  out = RunOp(OpType::kIsInf, {x});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<bool>(*out), (std::vector<bool>{false, false, true, true}));
  out = RunOp(OpType::kIsInf, {x}, {IntAttr("detect_negative", 0)});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<bool>(*out), (std::vector<bool>{false, false, true, false}));
  out = RunOp(OpType::kIsInf, {x}, {IntAttr("detect_positive", 0)});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<bool>(*out), (std::vector<bool>{false, false, false, true}));
}

TEST(ElementwiseUnary, HalfTypesComputeInFloat) {
  Tensor half(DataType::kFloat16, {3});
  uint16_t* bits = static_cast<uint16_t*>(half.raw_data());
  bits[0] = FloatToHalf(-1.5f);
  bits[1] = FloatToHalf(0.25f);
  bits[2] = FloatToHalf(4);
  auto out = RunOp(OpType::kRelu, {half});
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->dtype(), DataType::kFloat16);
  const uint16_t* result = static_cast<const uint16_t*>(out->raw_data());
  EXPECT_EQ(HalfToFloat(result[0]), 0);
  EXPECT_EQ(HalfToFloat(result[1]), 0.25f);
  EXPECT_EQ(HalfToFloat(result[2]), 4);

  Tensor bf(DataType::kBFloat16, {2});
  uint16_t* bf_bits = static_cast<uint16_t*>(bf.raw_data());
  bf_bits[0] = FloatToBFloat16(4);
  bf_bits[1] = FloatToBFloat16(9);
  out = RunOp(OpType::kSqrt, {bf});
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->dtype(), DataType::kBFloat16);
  const uint16_t* bf_result = static_cast<const uint16_t*>(out->raw_data());
  EXPECT_EQ(BFloat16ToFloat(bf_result[0]), 2);
  EXPECT_EQ(BFloat16ToFloat(bf_result[1]), 3);
}

// ---- Fast float math accuracy ---------------------------------------------------------------

// Evaluates fn over xs in a default-target loop and, when the CPU has it, in an AVX2+FMA clone
// (where gcc vectorizes 8-wide and contracts into FMA); both must meet the bounds.
template <typename Fn>
void ApplyDefault(const std::vector<float>& xs, std::vector<float>* ys, Fn fn) {
  for (size_t i = 0; i < xs.size(); ++i) (*ys)[i] = fn(xs[i]);
}
template <typename Fn>
SHRINK_AVX2 void ApplyAvx2(const std::vector<float>& xs, std::vector<float>* ys, Fn fn) {
  for (size_t i = 0; i < xs.size(); ++i) (*ys)[i] = fn(xs[i]);
}

struct FastCase {
  const char* name;
  float (*approx)(const std::vector<float>&, std::vector<float>*, bool avx2);
  double (*exact)(double);
  float low, high;
  double max_relative;  // bound on |approx - exact| / |exact|
};

#define SHRINK_FAST_FN(Name)                                                          \
  float Name##Sweep(const std::vector<float>& xs, std::vector<float>* ys, bool avx2) { \
    auto fn = [](float x) { return elementwise::Name(x); };                           \
    if (avx2) {                                                                       \
      ApplyAvx2(xs, ys, fn);                                                          \
    } else {                                                                          \
      ApplyDefault(xs, ys, fn);                                                       \
    }                                                                                 \
    return 0;                                                                         \
  }
SHRINK_FAST_FN(FastExp)
SHRINK_FAST_FN(FastTanh)
SHRINK_FAST_FN(FastSigmoid)
SHRINK_FAST_FN(FastSoftplus)
SHRINK_FAST_FN(FastErf)
SHRINK_FAST_FN(FastLogNormal)
#undef SHRINK_FAST_FN

TEST(ElementwiseFastMath, RelativeErrorWithinBounds) {
  // Bounds from exhaustive sweeps over all floats: exp 1 ulp, sigmoid 2, softplus 3, tanh 7,
  // erf 8 (ulp = 2^-23 relative at most, i.e. 1.19e-7).
  const std::vector<FastCase> cases = {
      {"exp", &FastExpSweep, [](double x) { return std::exp(x); }, -87, 88.7f, 1.2e-7},
      {"tanh", &FastTanhSweep, [](double x) { return std::tanh(x); }, -12, 12, 4.5e-7},
      {"sigmoid", &FastSigmoidSweep, [](double x) { return 1 / (1 + std::exp(-x)); }, -80, 30,
       2.4e-7},
      {"softplus", &FastSoftplusSweep,
       [](double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); },
       -80, 80, 3.6e-7},
      {"erf", &FastErfSweep, [](double x) { return std::erf(x); }, -5, 5, 6e-7},
      {"log", &FastLogNormalSweep, [](double x) { return std::log(x); }, 1, 2, 1.2e-7},
  };
  for (const FastCase& c : cases) {
    std::vector<float> xs;
    for (float x = c.low; x < c.high; x += (c.high - c.low) / 200003) {
      if (x != 0) xs.push_back(x);
    }
    for (float tiny : {1e-3f, -1e-5f, 3e-8f, 1e-30f}) {
      if (tiny > c.low && tiny < c.high) xs.push_back(tiny);
    }
    std::vector<float> ys(xs.size());
    for (bool avx2 : {false, true}) {
      if (avx2 && !elementwise::UseAvx2()) continue;
      c.approx(xs, &ys, avx2);
      double worst = 0;
      float worst_x = 0;
      for (size_t i = 0; i < xs.size(); ++i) {
        double exact = c.exact(xs[i]);
        double relative = std::fabs(ys[i] - exact) / std::fabs(exact);
        if (relative > worst) worst = relative, worst_x = xs[i];
      }
      EXPECT_LE(worst, c.max_relative) << c.name << (avx2 ? " (avx2)" : "") << " at " << worst_x;
    }
  }
}

TEST(ElementwiseFastMath, SpecialValues) {
  using elementwise::FastErf;
  using elementwise::FastExp;
  using elementwise::FastSigmoid;
  using elementwise::FastSoftplus;
  using elementwise::FastTanh;
  EXPECT_EQ(FastExp(0.0f), 1.0f);
  EXPECT_EQ(FastExp(89.0f), kInf);
  EXPECT_EQ(FastExp(1000.0f), kInf);
  EXPECT_EQ(FastExp(kInf), kInf);
  EXPECT_EQ(FastExp(-kInf), 0.0f);
  EXPECT_GT(FastExp(-100.0f), 0.0f);  // subnormal, not flushed
  EXPECT_NEAR(FastExp(-100.0f), std::exp(-100.0f), 2e-45f);
  EXPECT_EQ(FastTanh(kInf), FastTanh(100.0f));
  EXPECT_LE(FastTanh(100.0f), 1.0f);
  EXPECT_EQ(FastTanh(-1e-6f), -1e-6f);
  EXPECT_EQ(FastSigmoid(-kInf), 0.0f);
  EXPECT_EQ(FastSigmoid(kInf), 1.0f);
  EXPECT_EQ(FastSoftplus(100.0f), 100.0f);
  EXPECT_EQ(FastSoftplus(kInf), kInf);
  EXPECT_EQ(FastSoftplus(-kInf), 0.0f);
  EXPECT_EQ(FastErf(10.0f), 1.0f);
  EXPECT_EQ(FastErf(-kInf), -1.0f);
  for (float (*fn)(float) : {+[](float x) { return FastExp(x); },
                             +[](float x) { return FastTanh(x); },
                             +[](float x) { return FastSigmoid(x); },
                             +[](float x) { return FastSoftplus(x); },
                             +[](float x) { return FastErf(x); }}) {
    EXPECT_TRUE(std::isnan(fn(kNaN)));
  }
}

// ---- Binary ops ------------------------------------------------------------------------------

TEST(ElementwiseBinary, ArithmeticFloatWithBroadcast) {
  Tensor a = TS<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor row = TS<float>({3}, {10, 20, 30});
  Tensor col = TS<float>({2, 1}, {2, 4});
  struct Case {
    OpType op;
    Tensor b;
    std::vector<float> expected;
  };
  const std::vector<Case> cases = {
      {OpType::kAdd, row, {11, 22, 33, 14, 25, 36}},
      {OpType::kSub, col, {-1, 0, 1, 0, 1, 2}},
      {OpType::kMul, Tensor::Scalar<float>(3), {3, 6, 9, 12, 15, 18}},
      {OpType::kDiv, col, {0.5f, 1, 1.5f, 1, 1.25f, 1.5f}},
      {OpType::kPow, col, {1, 4, 9, 256, 625, 1296}},
      {OpType::kPRelu, row, {1, 2, 3, 4, 5, 6}},
  };
  for (const Case& c : cases) {
    for (bool reference : {false, true}) {
      auto out = RunOp(c.op, {a, c.b}, {}, 17, reference);
      ASSERT_TRUE(out.ok()) << OpTypeName(c.op) << ": " << out.status().ToString();
      EXPECT_EQ(out->shape(), (Shape{2, 3}));
      ExpectClose(Values<float>(*out), c.expected, 1e-6f, 0, OpTypeName(c.op));
    }
  }
  // Both inputs broadcast: [2,1] op [3] -> [2,3].
  auto out = RunOp(OpType::kAdd, {col, row});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->shape(), (Shape{2, 3}));
  EXPECT_EQ(Values<float>(*out), (std::vector<float>{12, 22, 32, 14, 24, 34}));
}

TEST(ElementwiseBinary, IntegerSemantics) {
  Tensor a = T1<int32_t>({7, -7, 7, -7, 5, INT32_MIN});
  Tensor b = T1<int32_t>({2, 2, -2, -2, 0, -1});
  auto out = RunOp(OpType::kDiv, {a, b});
  ASSERT_TRUE(out.ok());
  // C truncation; x / 0 gives 0 instead of trapping; INT_MIN / -1 wraps.
  EXPECT_EQ(Values<int32_t>(*out), (std::vector<int32_t>{3, -3, -3, 3, 0, INT32_MIN}));
  out = RunOp(OpType::kMod, {a, b});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<int32_t>(*out), (std::vector<int32_t>{1, 1, -1, -1, 0, 0}));  // divisor sign
  out = RunOp(OpType::kMod, {a, b}, {IntAttr("fmod", 1)});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<int32_t>(*out), (std::vector<int32_t>{1, -1, 1, -1, 0, 0}));  // dividend sign

  out = RunOp(OpType::kAdd, {T1<uint8_t>({250, 3}), T1<uint8_t>({10, 4})});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<uint8_t>(*out), (std::vector<uint8_t>{4, 7}));  // wraps
  out = RunOp(OpType::kMul, {T1<int64_t>({INT64_MAX, -3}), T1<int64_t>({2, 5})});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<int64_t>(*out), (std::vector<int64_t>{-2, -15}));
  out = RunOp(OpType::kSub, {T1<uint16_t>({1}), T1<uint16_t>({2})});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<uint16_t>(*out), (std::vector<uint16_t>{65535}));

  out = RunOp(OpType::kBitShift, {T1<uint8_t>({1, 255, 8}), T1<uint8_t>({3, 1, 9})},
              {StringAttr("direction", "LEFT")});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<uint8_t>(*out), (std::vector<uint8_t>{8, 254, 0}));
  out = RunOp(OpType::kBitShift, {T1<uint32_t>({16, 1}), T1<uint32_t>({2, 40})},
              {StringAttr("direction", "RIGHT")});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<uint32_t>(*out), (std::vector<uint32_t>{4, 0}));
  EXPECT_FALSE(RunOp(OpType::kBitShift, {T1<uint8_t>({1}), T1<uint8_t>({1})}).ok());
  EXPECT_FALSE(RunOp(OpType::kBitShift, {T1<int8_t>({1}), T1<int8_t>({1})}).ok());
}

TEST(ElementwiseBinary, FloatModAndPowTypes) {
  auto out = RunOp(OpType::kMod, {T1<float>({5.5f, -5.5f}), T1<float>({2, 2})},
                   {IntAttr("fmod", 1)});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<float>(*out), (std::vector<float>{1.5f, -1.5f}));

  // Mixed base/exponent dtypes; the output has the base dtype.
  out = RunOp(OpType::kPow, {T1<float>({2, 3, 4}), T1<int64_t>({3, -1, 0})});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->dtype(), DataType::kFloat32);
  EXPECT_EQ(Values<float>(*out), (std::vector<float>{8, 1.0f / 3, 1}));
  out = RunOp(OpType::kPow, {T1<int32_t>({2, 3, -2, 2}), T1<int32_t>({10, 3, 3, -1})});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<int32_t>(*out), (std::vector<int32_t>{1024, 27, -8, 0}));
  out = RunOp(OpType::kPow, {T1<int64_t>({2, 9}), T1<float>({0.5f, 0.5f})});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<int64_t>(*out), (std::vector<int64_t>{1, 3}));  // truncated
  // Shortcut exponents agree with the general path.
  for (float e : {2.0f, 0.5f, 1.0f, 3.0f}) {
    Tensor base = T1<float>({0.5f, 1.5f, 2.25f, 7});
    auto fast = RunOp(OpType::kPow, {base, Tensor::Scalar<float>(e)});
    auto ref = RunOp(OpType::kPow, {base, Tensor::Scalar<float>(e)}, {}, 17, true);
    ASSERT_TRUE(fast.ok() && ref.ok());
    EXPECT_EQ(Values<float>(*fast), Values<float>(*ref)) << "exponent " << e;
  }
}

TEST(ElementwiseBinary, ComparisonsAndLogic) {
  Tensor a = T1<float>({1, 2, 3, kNaN});
  Tensor b = Tensor::Scalar<float>(2);
  struct Case {
    OpType op;
    std::vector<bool> expected;
  };
  for (const Case& c : std::vector<Case>{{OpType::kEqual, {false, true, false, false}},
                                         {OpType::kLess, {true, false, false, false}},
                                         {OpType::kLessOrEqual, {true, true, false, false}},
                                         {OpType::kGreater, {false, false, true, false}},
                                         {OpType::kGreaterOrEqual, {false, true, true, false}}}) {
    auto out = RunOp(c.op, {a, b});
    ASSERT_TRUE(out.ok()) << OpTypeName(c.op);
    EXPECT_EQ(out->dtype(), DataType::kBool);
    EXPECT_EQ(Values<bool>(*out), c.expected) << OpTypeName(c.op);
  }
  auto out = RunOp(OpType::kEqual, {T1<int64_t>({1, 5}), T1<int64_t>({1, 6})});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<bool>(*out), (std::vector<bool>{true, false}));

  Tensor p = T1<bool>({false, false, true, true});
  Tensor q = T1<bool>({false, true, false, true});
  for (const Case& c : std::vector<Case>{{OpType::kAnd, {false, false, false, true}},
                                         {OpType::kOr, {false, true, true, true}},
                                         {OpType::kXor, {false, true, true, false}},
                                         {OpType::kEqual, {true, false, false, true}}}) {
    out = RunOp(c.op, {p, q});
    ASSERT_TRUE(out.ok()) << OpTypeName(c.op);
    EXPECT_EQ(Values<bool>(*out), c.expected) << OpTypeName(c.op);
  }
  EXPECT_EQ(RunOp(OpType::kAnd, {a, a}).status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(RunOp(OpType::kAdd, {p, q}).status().code(), StatusCode::kUnimplemented);
}

TEST(ElementwiseBinary, Float16ComputesInFloat) {
  auto half = [](std::vector<float> values) {
    Tensor t(DataType::kFloat16, {int64_t(values.size())});
    for (size_t i = 0; i < values.size(); ++i) {
      static_cast<uint16_t*>(t.raw_data())[i] = FloatToHalf(values[i]);
    }
    return t;
  };
  auto out = RunOp(OpType::kAdd, {half({1, 2048}), half({0.5f, 1})});
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->dtype(), DataType::kFloat16);
  const uint16_t* bits = static_cast<const uint16_t*>(out->raw_data());
  EXPECT_EQ(HalfToFloat(bits[0]), 1.5f);
  EXPECT_EQ(HalfToFloat(bits[1]), 2048);  // 2049 rounds to even in float16
  out = RunOp(OpType::kLess, {half({1, 3}), half({2, 2})});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<bool>(*out), (std::vector<bool>{true, false}));
}

// ---- Variadic ops ----------------------------------------------------------------------------

TEST(ElementwiseVariadic, MaxMinSumMean) {
  Tensor a = TS<float>({2, 2}, {1, 6, 3, kNaN});
  Tensor b = TS<float>({2}, {4, 2});
  Tensor c = Tensor::Scalar<float>(5);
  struct Case {
    OpType op;
    std::vector<Tensor> inputs;
    std::vector<float> expected;
  };
  const std::vector<Case> cases = {
      {OpType::kMax, {a, b, c}, {5, 6, 5, kNaN}},
      {OpType::kMin, {a, b, c}, {1, 2, 3, kNaN}},
      {OpType::kSum, {a, b, c}, {10, 13, 12, kNaN}},
      {OpType::kMean, {a, b, c}, {10.0f / 3, 13.0f / 3, 4, kNaN}},
      {OpType::kSum, {a}, {1, 6, 3, kNaN}},
      {OpType::kMean, {a, a}, {1, 6, 3, kNaN}},
      {OpType::kMax, {b, a, b, b}, {4, 6, 4, kNaN}},
  };
  for (const Case& t : cases) {
    for (bool reference : {false, true}) {
      auto out = RunOp(t.op, t.inputs, {}, 13, reference);
      ASSERT_TRUE(out.ok()) << OpTypeName(t.op) << ": " << out.status().ToString();
      EXPECT_EQ(out->shape(), (Shape{2, 2}));
      ExpectClose(Values<float>(*out), t.expected, 1e-6f, 0, OpTypeName(t.op));
    }
  }
  auto out = RunOp(OpType::kMax, {T1<uint8_t>({1, 200}), T1<uint8_t>({100, 3})});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<uint8_t>(*out), (std::vector<uint8_t>{100, 200}));
  // A single input is copied, not aliased.
  out = RunOp(OpType::kMin, {a});
  ASSERT_TRUE(out.ok());
  EXPECT_NE(out->raw_data(), a.raw_data());
}

// ---- Where, Clip -----------------------------------------------------------------------------

TEST(ElementwiseWhere, ThreeWayBroadcastAndStrings) {
  Tensor cond = TS<bool>({2, 1}, {true, false});
  Tensor x = TS<float>({3}, {1, 2, 3});
  Tensor y = Tensor::Scalar<float>(-1);
  for (bool reference : {false, true}) {
    auto out = RunOp(OpType::kWhere, {cond, x, y}, {}, 16, reference);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(out->shape(), (Shape{2, 3}));
    EXPECT_EQ(Values<float>(*out), (std::vector<float>{1, 2, 3, -1, -1, -1}));
  }
  auto out = RunOp(OpType::kWhere, {T1<bool>({true, false}), T1<std::string>({"a", "b"}),
                                    T1<std::string>({"c", "d"})});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->strings(), (std::vector<std::string>{"a", "d"}));
  out = RunOp(OpType::kWhere, {T1<bool>({true, false}), T1<int64_t>({1, 2}), T1<int64_t>({3, 4})});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<int64_t>(*out), (std::vector<int64_t>{1, 4}));
  EXPECT_FALSE(RunOp(OpType::kWhere, {T1<float>({1}), x, x}).ok());  // condition must be bool
  EXPECT_FALSE(RunOp(OpType::kWhere, {cond, x, T1<double>({1})}).ok());
}

TEST(ElementwiseClip, AttributeAndInputForms) {
  Tensor x = T1<float>({-3, -1, 0, 2, 5, kNaN});
  auto out = RunOp(OpType::kClip, {x}, {FloatAttr("min", -1), FloatAttr("max", 2)}, 6);
  ASSERT_TRUE(out.ok());
  ExpectClose(Values<float>(*out), {-1, -1, 0, 2, 2, kNaN}, 0, 0, "Clip-6");
  out = RunOp(OpType::kClip, {x, Tensor::Scalar<float>(-1), Tensor::Scalar<float>(2)}, {}, 13);
  ASSERT_TRUE(out.ok());
  ExpectClose(Values<float>(*out), {-1, -1, 0, 2, 2, kNaN}, 0, 0, "Clip-13");
  out = RunOp(OpType::kClip, {x, Tensor(), Tensor::Scalar<float>(0)}, {}, 13);  // max only
  ASSERT_TRUE(out.ok());
  ExpectClose(Values<float>(*out), {-3, -1, 0, 0, 0, kNaN}, 0, 0, "Clip max only");
  out = RunOp(OpType::kClip, {x, Tensor::Scalar<float>(3), Tensor::Scalar<float>(1)}, {}, 13);
  ASSERT_TRUE(out.ok());
  ExpectClose(Values<float>(*out), {1, 1, 1, 1, 1, kNaN}, 0, 0, "Clip min > max");
  out = RunOp(OpType::kClip, {T1<int8_t>({-128, 0, 127}), Tensor::Scalar<int8_t>(-5)}, {}, 12);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<int8_t>(*out), (std::vector<int8_t>{-5, 0, 127}));
  EXPECT_FALSE(RunOp(OpType::kClip, {x, T1<float>({1, 2})}, {}, 13).ok());  // not a scalar
  EXPECT_FALSE(RunOp(OpType::kClip, {x, Tensor::Scalar<double>(1)}, {}, 13).ok());
}

// ---- Cast ------------------------------------------------------------------------------------

Attribute To(DataType type) { return IntAttr("to", int64_t(type)); }

TEST(ElementwiseCast, NumericPairs) {
  auto out = RunOp(OpType::kCast, {T1<float>({1.9f, -1.9f, 300, kNaN})}, {To(DataType::kInt32)});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<int32_t>(*out), (std::vector<int32_t>{1, -1, 300, 0}));
  out = RunOp(OpType::kCast, {T1<float>({300, -1})}, {To(DataType::kUint8)});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<uint8_t>(*out), (std::vector<uint8_t>{44, 255}));  // wraps like x86
  out = RunOp(OpType::kCast, {T1<int64_t>({-1, 0, 7})}, {To(DataType::kBool)});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<bool>(*out), (std::vector<bool>{true, false, true}));
  out = RunOp(OpType::kCast, {T1<bool>({true, false})}, {To(DataType::kFloat64)});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<double>(*out), (std::vector<double>{1, 0}));
  out = RunOp(OpType::kCast, {T1<int64_t>({(int64_t(1) << 53) + 1})}, {To(DataType::kUint64)});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<uint64_t>(*out), (std::vector<uint64_t>{(uint64_t(1) << 53) + 1}));

  // float64 -> float16 rounds once: 1 + 2^-11 + 2^-40 is just above a tie and rounds up.
  out = RunOp(OpType::kCast, {T1<double>({1 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40)})},
              {To(DataType::kFloat16)});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(HalfToFloat(static_cast<const uint16_t*>(out->raw_data())[0]), 1 + std::ldexp(1.0f, -10));
  out = RunOp(OpType::kCast, {*out}, {To(DataType::kFloat32)});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<float>(*out)[0], 1 + std::ldexp(1.0f, -10));

  out = RunOp(OpType::kCastLike, {T1<int32_t>({3}), T1<double>({0})});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->dtype(), DataType::kFloat64);
  EXPECT_EQ(Values<double>(*out), (std::vector<double>{3}));
  EXPECT_FALSE(RunOp(OpType::kCast, {T1<float>({1})}).ok());  // missing 'to'
  EXPECT_FALSE(RunOp(OpType::kCast, {T1<float>({1})}, {IntAttr("to", 14)}).ok());  // complex
}

TEST(ElementwiseCast, EveryNumericPair) {
  const std::vector<DataType> types = {
      DataType::kFloat32, DataType::kFloat64, DataType::kFloat16, DataType::kBFloat16,
      DataType::kInt8,    DataType::kUint8,   DataType::kInt16,   DataType::kUint16,
      DataType::kInt32,   DataType::kUint32,  DataType::kInt64,   DataType::kUint64,
      DataType::kBool};
  // Values every type represents exactly (bool: 0 and 1 only), and their string forms.
  const std::vector<double> values = {0, 1, 2, 100};
  for (DataType from : types) {
    const size_t count = from == DataType::kBool ? 2 : values.size();
    auto source = RunOp(OpType::kCast,
                        {T1<double>(std::vector<double>(values.begin(), values.begin() + count))},
                        {To(from)});
    ASSERT_TRUE(source.ok()) << DataTypeName(from);
    for (DataType to : types) {
      auto out = RunOp(OpType::kCast, {*source}, {To(to)});
      ASSERT_TRUE(out.ok()) << DataTypeName(from) << " -> " << DataTypeName(to);
      ASSERT_EQ(out->dtype(), to);
      for (size_t i = 0; i < count; ++i) {
        double expected = to == DataType::kBool ? double(values[i] != 0) : values[i];
        EXPECT_EQ(out->GetAsDouble(int64_t(i)), expected)
            << DataTypeName(from) << " -> " << DataTypeName(to) << " [" << i << "]";
      }
      if (from == to) {
        EXPECT_NE(out->raw_data(), source->raw_data());  // a copy, not an alias
      }
    }
    auto text = RunOp(OpType::kCast, {*source}, {To(DataType::kString)});
    ASSERT_TRUE(text.ok()) << DataTypeName(from);
    auto back = RunOp(OpType::kCast, {*text}, {To(from)});
    ASSERT_TRUE(back.ok()) << DataTypeName(from) << ": " << back.status().ToString();
    EXPECT_TRUE(back->BitwiseEquals(*source)) << DataTypeName(from) << " via string";
  }
}

TEST(ElementwiseCast, Strings) {
  auto out = RunOp(OpType::kCast,
                   {T1<float>({0.1f, 1, -2.5f, 1e-5f, 1e20f, 123456789.0f, 0.0001f, kNaN, -kInf,
                               -0.0f, 0.3f})},
                   {To(DataType::kString)});
  ASSERT_TRUE(out.ok());
  // As numpy prints float32: float32(0.0001) is just below 1e-4, hence scientific.
  EXPECT_EQ(out->strings(),
            (std::vector<std::string>{"0.1", "1.0", "-2.5", "1e-05", "1e+20", "123456790.0",
                                      "1e-04", "nan", "-inf", "-0.0", "0.3"}));
  out = RunOp(OpType::kCast, {T1<int64_t>({-12, 0})}, {To(DataType::kString)});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->strings(), (std::vector<std::string>{"-12", "0"}));
  out = RunOp(OpType::kCast, {T1<double>({0.1, 1.0 / 3})}, {To(DataType::kString)});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->strings(), (std::vector<std::string>{"0.1", "0.3333333333333333"}));

  Tensor half(DataType::kFloat16, {3});
  static_cast<uint16_t*>(half.raw_data())[0] = FloatToHalf(0.1f);
  static_cast<uint16_t*>(half.raw_data())[1] = FloatToHalf(65504);
  static_cast<uint16_t*>(half.raw_data())[2] = FloatToHalf(-3.140625f);
  out = RunOp(OpType::kCast, {half}, {To(DataType::kString)});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->strings(), (std::vector<std::string>{"0.1", "65500.0", "-3.14"}));  // shortest

  Tensor text = T1<std::string>({"1.5", " -2 ", "inf", "NaN", "1e3"});
  out = RunOp(OpType::kCast, {text}, {To(DataType::kFloat32)});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectClose(Values<float>(*out), {1.5f, -2, kInf, kNaN, 1000}, 0, 0, "string to float");
  out = RunOp(OpType::kCast, {T1<std::string>({"42", "-7", "2.9"})}, {To(DataType::kInt64)});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<int64_t>(*out), (std::vector<int64_t>{42, -7, 2}));
  out = RunOp(OpType::kCast, {T1<std::string>({"True", "false", "0", "3"})},
              {To(DataType::kBool)});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<bool>(*out), (std::vector<bool>{true, false, false, true}));
  auto bad = RunOp(OpType::kCast, {T1<std::string>({"abc"})}, {To(DataType::kFloat32)});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'abc'"), std::string::npos);
}

// ---- Bad input -------------------------------------------------------------------------------

TEST(ElementwiseErrors, BadInputsReturnStatus) {
  Tensor a = TS<float>({2, 3}, std::vector<float>(6, 1));
  Tensor b = TS<float>({4}, std::vector<float>(4, 1));
  for (OpType op : {OpType::kAdd, OpType::kEqual, OpType::kMax, OpType::kPow}) {
    auto out = RunOp(op, {a, b});
    ASSERT_FALSE(out.ok()) << OpTypeName(op);
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
    const std::string& message = out.status().message();
    EXPECT_NE(message.find("[2,3]"), std::string::npos) << message;
    EXPECT_NE(message.find("[4]"), std::string::npos) << message;
    EXPECT_NE(message.find("under_test"), std::string::npos) << message;
  }
  auto where = RunOp(OpType::kWhere, {TS<bool>({5}, std::vector<bool>(5)), a, a});
  ASSERT_FALSE(where.ok());
  EXPECT_NE(where.status().message().find("[5]"), std::string::npos);
  // PRelu broadcasts the slope to X only.
  auto prelu = RunOp(OpType::kPRelu, {T1<float>({1, 2, 3}), TS<float>({2, 3}, std::vector<float>(6))});
  ASSERT_FALSE(prelu.ok());
  EXPECT_NE(prelu.status().message().find("[2,3]"), std::string::npos);
  // Mismatched dtypes, missing inputs, too many inputs.
  auto mixed = RunOp(OpType::kAdd, {a, TS<double>({2, 3}, std::vector<double>(6))});
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.status().message().find("float64"), std::string::npos);
  EXPECT_FALSE(RunOp(OpType::kAdd, {a}).ok());
  EXPECT_FALSE(RunOp(OpType::kAdd, {a, Tensor()}).ok());
  EXPECT_FALSE(RunOp(OpType::kRelu, {a, a}).ok());
  EXPECT_FALSE(RunOp(OpType::kSum, {a, Tensor(), a}).ok());
  EXPECT_FALSE(RunOp(OpType::kRelu, {T1<std::string>({"x"})}).ok());
  EXPECT_FALSE(RunOp(OpType::kAdd, {T1<std::string>({"x"}), T1<std::string>({"y"})}).ok());
}

TEST(ElementwiseErrors, EmptyTensors) {
  Tensor empty = TS<float>({0, 3}, {});
  auto out = RunOp(OpType::kAdd, {empty, T1<float>({1, 2, 3})});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->shape(), (Shape{0, 3}));
  out = RunOp(OpType::kSigmoid, {empty});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->shape(), (Shape{0, 3}));
  out = RunOp(OpType::kWhere, {TS<bool>({0, 1}, {}), empty, Tensor::Scalar<float>(1)});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->shape(), (Shape{0, 3}));
}

// ---- Fast paths against the reference loops -------------------------------------------------

// Two shapes that broadcast together: a random output shape, each input dropping leading dims
// and setting random dims to 1.
std::pair<Shape, Shape> RandomBroadcastPair(std::mt19937& rng) {
  std::uniform_int_distribution<int> rank_dist(0, 5), dim_dist(1, 7), coin(0, 3);
  Shape out(size_t(rank_dist(rng)));
  for (int64_t& d : out) d = dim_dist(rng);
  auto derive = [&]() {
    Shape s(out.begin() + std::uniform_int_distribution<size_t>(0, out.size())(rng), out.end());
    for (int64_t& d : s) {
      if (coin(rng) == 0) d = 1;
    }
    return s;
  };
  return {derive(), derive()};
}

template <typename T>
Tensor RandomTensor(const Shape& shape, std::mt19937& rng) {
  Tensor t(DataTypeOf<T>::value, shape);
  std::uniform_int_distribution<int> dist(-50, 50);
  for (int64_t i = 0; i < t.size(); ++i) {
    if constexpr (std::is_same_v<T, bool>) {
      t.data<bool>()[i] = dist(rng) > 0;
    } else if constexpr (std::is_floating_point_v<T>) {
      t.data<T>()[i] = T(dist(rng)) / 8;
    } else {
      t.data<T>()[i] = T(dist(rng));
    }
  }
  return t;
}

template <typename T>
void CheckFastMatchesReference(OpType op, std::mt19937& rng, int trials) {
  for (int trial = 0; trial < trials; ++trial) {
    auto [sa, sb] = RandomBroadcastPair(rng);
    std::vector<Tensor> inputs = {RandomTensor<T>(sa, rng), RandomTensor<T>(sb, rng)};
    if (op == OpType::kWhere) inputs.insert(inputs.begin(), RandomTensor<bool>(sb, rng));
    auto fast = RunOp(op, inputs, {}, 17, false);
    auto ref = RunOp(op, inputs, {}, 17, true);
    ASSERT_TRUE(fast.ok() && ref.ok()) << OpTypeName(op) << " " << ShapeToString(sa) << " "
                                       << ShapeToString(sb) << ": " << fast.status().ToString();
    EXPECT_TRUE(fast->BitwiseEquals(*ref))
        << OpTypeName(op) << " " << ShapeToString(sa) << " " << ShapeToString(sb);
  }
}

TEST(ElementwiseFastPath, MatchesReferenceOverRandomBroadcasts) {
  std::mt19937 rng(1234);
  for (OpType op : {OpType::kAdd, OpType::kSub, OpType::kMul, OpType::kDiv, OpType::kMax,
                    OpType::kMin, OpType::kGreater, OpType::kEqual, OpType::kPow, OpType::kMean,
                    OpType::kWhere}) {
    CheckFastMatchesReference<float>(op, rng, 60);
  }
  for (OpType op : {OpType::kAdd, OpType::kMul, OpType::kDiv, OpType::kMod, OpType::kLess,
                    OpType::kSum, OpType::kWhere}) {
    CheckFastMatchesReference<int32_t>(op, rng, 40);
  }
  CheckFastMatchesReference<double>(OpType::kSub, rng, 40);
  CheckFastMatchesReference<uint8_t>(OpType::kMax, rng, 40);
  CheckFastMatchesReference<bool>(OpType::kXor, rng, 40);
}

TEST(ElementwiseFastPath, LargeTensorsSplitAcrossThreads) {
  // Over the parallel threshold, with per-channel, scalar and row broadcasts (conv-net shapes).
  std::mt19937 rng(99);
  const Shape feature = {2, 16, 48, 48};
  Tensor x = RandomTensor<float>(feature, rng);
  for (const Shape& other : std::vector<Shape>{feature, {1, 16, 1, 1}, {}, {48}, {2, 1, 48, 1}}) {
    Tensor y = RandomTensor<float>(other, rng);
    for (OpType op : {OpType::kAdd, OpType::kMul, OpType::kDiv, OpType::kMax, OpType::kPRelu}) {
      auto fast = RunOp(op, {x, y});
      auto ref = RunOp(op, {x, y}, {}, 17, true);
      ASSERT_TRUE(fast.ok() && ref.ok()) << OpTypeName(op);
      EXPECT_TRUE(fast->BitwiseEquals(*ref)) << OpTypeName(op) << " " << ShapeToString(other);
    }
  }
  for (OpType op : {OpType::kSigmoid, OpType::kTanh, OpType::kExp}) {
    auto fast = RunOp(op, {x});
    auto ref = RunOp(op, {x}, {}, 17, true);
    ASSERT_TRUE(fast.ok() && ref.ok()) << OpTypeName(op);
    ExpectClose(Values<float>(*fast), Values<float>(*ref), 5e-7f, 1e-30f, OpTypeName(op));
  }
  for (OpType op : {OpType::kRelu, OpType::kHardSigmoid, OpType::kLeakyRelu, OpType::kClip}) {
    auto fast = RunOp(op, {x});
    auto ref = RunOp(op, {x}, {}, 17, true);
    ASSERT_TRUE(fast.ok() && ref.ok()) << OpTypeName(op);
    EXPECT_TRUE(fast->BitwiseEquals(*ref)) << OpTypeName(op);
  }
}

}  // namespace
}  // namespace shrink::engine
