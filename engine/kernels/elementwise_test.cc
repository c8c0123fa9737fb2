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

// Distance in units in the last place between two finite floats of the same sign.
int64_t UlpDistance(float a, float b) {
  int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  if (ia < 0) ia = INT32_MIN - ia;
  if (ib < 0) ib = INT32_MIN - ib;
  return std::llabs(int64_t(ia) - int64_t(ib));
}

TEST(ElementwiseFastMath, ExpWithinTwoUlp) {
  int64_t worst = 0;
  for (float x = -103.0f; x < 88.7f; x += 0.00731f) {
    float exact = float(std::exp(double(x)));
    worst = std::max(worst, UlpDistance(elementwise::FastExp(x), exact));
  }
  EXPECT_LE(worst, 1);
  EXPECT_EQ(elementwise::FastExp(89.0f), kInf);
  EXPECT_EQ(elementwise::FastExp(1000.0f), kInf);
  EXPECT_EQ(elementwise::FastExp(-kInf), 0.0f);
  EXPECT_EQ(elementwise::FastExp(kInf), kInf);
  EXPECT_TRUE(std::isnan(elementwise::FastExp(kNaN)));
  EXPECT_EQ(elementwise::FastExp(0.0f), 1.0f);
}

TEST(ElementwiseFastMath, TanhAndSigmoidRelativeError) {
  // Relative error bounds: a few float ulp (eps = 1.19e-7).
  double worst_tanh = 0, worst_sigmoid = 0;
  for (float x = -20.0f; x < 20.0f; x += 0.000913f) {
    double tanh_exact = std::tanh(double(x));
    double sigmoid_exact = 1.0 / (1.0 + std::exp(-double(x)));
    if (tanh_exact != 0) {
      worst_tanh = std::max(worst_tanh,
                            std::fabs(elementwise::FastTanh(x) - tanh_exact) / std::fabs(tanh_exact));
    }
    worst_sigmoid = std::max(
        worst_sigmoid, std::fabs(elementwise::FastSigmoid(x) - sigmoid_exact) / sigmoid_exact);
  }
  EXPECT_LT(worst_tanh, 5e-7);
  EXPECT_LT(worst_sigmoid, 4e-7);
  EXPECT_EQ(elementwise::FastTanh(kInf), elementwise::FastTanh(100.0f));
  EXPECT_TRUE(std::isnan(elementwise::FastTanh(kNaN)));
  EXPECT_TRUE(std::isnan(elementwise::FastSigmoid(kNaN)));
  EXPECT_EQ(elementwise::FastSigmoid(-kInf), 0.0f);
  EXPECT_EQ(elementwise::FastSigmoid(kInf), 1.0f);
}

}  // namespace
}  // namespace shrink::engine
