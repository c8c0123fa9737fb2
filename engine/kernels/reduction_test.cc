// Tests of the reduction group: Reduce*, ArgMax/ArgMin, Softmax/LogSoftmax/Hardmax,
// LayerNormalization, LpNormalization. Hand-computed tables for every op and opset form, then
// random tensors against naive double-precision references with tolerances from the math.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "engine/kernels/kernel_test_util.h"
#include "engine/kernels/reduction_internal.h"

namespace shrink::engine {
namespace {

using testing::FloatAttr;
using testing::IntAttr;
using testing::IntsAttr;
using testing::KernelRun;
using testing::RunKernel;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kFloatEps = 1.0 / (1 << 23);  // float ulp at 1
constexpr double kHalfEps = 1.0 / (1 << 10);   // float16 ulp at 1
constexpr double kDoubleEps = 2.220446049250313e-16;

// Relative rounding error of one rounding to `type` (with slack for half types), and the
// absolute error of rounding into its subnormal range.
double Eps(DataType type) {
  return type == DataType::kFloat16   ? kHalfEps
         : type == DataType::kFloat32 ? kFloatEps
                                      : 4 * kDoubleEps;
}
double Tiny(DataType type) {
  return type == DataType::kFloat16 ? 6e-8 : type == DataType::kFloat32 ? 1.5e-45 : 5e-324;
}

Tensor F32(Shape shape, const std::vector<float>& v) { return Tensor::FromVector(shape, v); }
Tensor I64(const std::vector<int64_t>& v) {
  return Tensor::FromVector<int64_t>({int64_t(v.size())}, v);
}

// A tensor of `type` holding `values` (rounded to the type).
Tensor Make(DataType type, const Shape& shape, const std::vector<double>& values) {
  Tensor t(type, shape);
  for (size_t i = 0; i < values.size(); ++i) {
    double v = values[i];
    switch (type) {
      case DataType::kFloat32:
        t.data<float>()[i] = float(v);
        break;
      case DataType::kFloat64:
        t.data<double>()[i] = v;
        break;
      case DataType::kFloat16:
        t.data<uint16_t>()[i] = FloatToHalf(float(v));
        break;
      case DataType::kInt32:
        t.data<int32_t>()[i] = int32_t(v);
        break;
      case DataType::kInt64:
        t.data<int64_t>()[i] = int64_t(v);
        break;
      case DataType::kUint8:
        t.data<uint8_t>()[i] = uint8_t(v);
        break;
      default:
        ADD_FAILURE() << "Make: unsupported type";
    }
  }
  return t;
}

std::vector<double> Values(const Tensor& t) {
  std::vector<double> v(size_t(t.size()));
  for (int64_t i = 0; i < t.size(); ++i) v[size_t(i)] = t.GetAsDouble(i);
  return v;
}

// Random values in [lo, hi), already rounded to `type` so references see exact inputs.
std::vector<double> RandomValues(std::mt19937& rng, DataType type, int64_t n, double lo,
                                 double hi) {
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(static_cast<size_t>(n));
  for (double& x : v) x = dist(rng);
  return Values(Make(type, {n}, v));
}

int64_t Count(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

// Checks shape and values; tol[i] (or tol[0] for all) bounds |actual - expected|.
void ExpectNear(const Tensor& actual, const Shape& shape, const std::vector<double>& expected,
                const std::vector<double>& tol, const std::string& what) {
  ASSERT_EQ(ShapeToString(actual.shape()), ShapeToString(shape)) << what;
  ASSERT_EQ(size_t(actual.size()), expected.size()) << what;
  for (size_t i = 0; i < expected.size(); ++i) {
    double a = actual.GetAsDouble(int64_t(i)), e = expected[i];
    double t = tol.size() == 1 ? tol[0] : tol[i];
    if (std::isnan(e)) {
      EXPECT_TRUE(std::isnan(a)) << what << " [" << i << "]";
    } else if (std::isinf(e)) {
      EXPECT_EQ(a, e) << what << " [" << i << "]";
    } else {
      ASSERT_NEAR(a, e, t) << what << " [" << i << "]";
    }
  }
}

StatusOr<Tensor> Run1(OpType op, int64_t opset, std::vector<Tensor> inputs,
                      std::vector<Attribute> attrs) {
  KernelRun run;
  run.op = op;
  run.opset = opset;
  run.inputs = std::move(inputs);
  run.attributes = std::move(attrs);
  ASSIGN_OR_RETURN(std::vector<Tensor> out, RunKernel(run));
  return out[0];
}

// ---------------------------------------------------------------------------------------------
// Reduce*

const OpType kReduceOps[] = {
    OpType::kReduceSum,       OpType::kReduceMean,     OpType::kReduceMax, OpType::kReduceMin,
    OpType::kReduceProd,      OpType::kReduceL1,       OpType::kReduceL2,  OpType::kReduceLogSum,
    OpType::kReduceLogSumExp, OpType::kReduceSumSquare};

int64_t AxesInputOpset(OpType op) { return op == OpType::kReduceSum ? 13 : 18; }

// Runs a Reduce* node with axes in the form its opset wants (empty axes: none given).
StatusOr<Tensor> RunReduce(OpType op, int64_t opset, const Tensor& x,
                           const std::vector<int64_t>& axes, bool keepdims, bool noop = false) {
  std::vector<Tensor> inputs{x};
  std::vector<Attribute> attrs{IntAttr("keepdims", keepdims)};
  if (opset >= AxesInputOpset(op)) {
    if (!axes.empty()) inputs.push_back(I64(axes));
    if (noop) attrs.push_back(IntAttr("noop_with_empty_axes", 1));
  } else if (!axes.empty()) {
    attrs.push_back(IntsAttr("axes", axes));
  }
  return Run1(op, opset, inputs, attrs);
}

// Naive double reduction: value and sum of |terms| (the scale of accumulation error).
struct Reference {
  std::vector<double> value, magnitude;
};
Reference NaiveReduce(OpType op, const Shape& shape, const std::vector<double>& x,
                      const std::vector<bool>& reduced) {
  Shape kept;
  for (size_t d = 0; d < shape.size(); ++d) kept.push_back(reduced[d] ? 1 : shape[d]);
  std::vector<std::vector<double>> groups(size_t(Count(kept)));
  std::vector<int64_t> index(shape.size(), 0);
  for (size_t i = 0; i < x.size(); ++i) {
    int64_t o = 0;
    for (size_t d = 0; d < shape.size(); ++d) o = o * kept[d] + (reduced[d] ? 0 : index[d]);
    groups[size_t(o)].push_back(x[i]);
    for (int d = int(shape.size()) - 1; d >= 0 && ++index[size_t(d)] == shape[size_t(d)]; --d) {
      index[size_t(d)] = 0;
    }
  }
  Reference ref;
  for (const auto& g : groups) {
    double sum = 0, abs = 0, sq = 0, prod = 1, mx = -kInf, mn = kInf;
    for (double v : g) {
      sum += v, abs += std::abs(v), sq += v * v, prod *= v;
      mx = std::max(mx, v), mn = std::min(mn, v);
    }
    double lse = 0, value = 0;
    for (double v : g) lse += std::exp(v - mx);
    switch (op) {
      case OpType::kReduceSum:
        value = sum;
        break;
      case OpType::kReduceMean:
        value = sum / double(g.size());
        break;
      case OpType::kReduceMax:
        value = mx;
        break;
      case OpType::kReduceMin:
        value = mn;
        break;
      case OpType::kReduceProd:
        value = prod;
        break;
      case OpType::kReduceL1:
        value = abs;
        break;
      case OpType::kReduceL2:
        value = std::sqrt(sq);
        break;
      case OpType::kReduceLogSum:
        value = std::log(sum);
        break;
      case OpType::kReduceLogSumExp:
        value = g.empty() ? -kInf : std::log(lse) + mx;
        break;
      case OpType::kReduceSumSquare:
        value = sq;
        break;
      default:
        break;
    }
    ref.value.push_back(value);
    bool squares = op == OpType::kReduceL2 || op == OpType::kReduceSumSquare;
    ref.magnitude.push_back(op == OpType::kReduceProd ? std::abs(prod) : squares ? sq : abs);
  }
  return ref;
}

struct ReduceCase {
  OpType op;
  std::vector<float> x;  // shape [2, 2]
  std::vector<int64_t> axes;
  bool keepdims;
  Shape out_shape;
  std::vector<double> expected;
};

TEST(ReduceTest, HandComputedInBothAxesForms) {
  const std::vector<float> a{1, 2, 3, 4}, s{1, -2, 3, -4};
  const double e1 = std::log(std::exp(1.0) + std::exp(2.0));
  const ReduceCase cases[] = {
      {OpType::kReduceSum, a, {1}, true, {2, 1}, {3, 7}},
      {OpType::kReduceSum, a, {0}, false, {2}, {4, 6}},
      {OpType::kReduceSum, a, {}, true, {1, 1}, {10}},
      {OpType::kReduceSum, a, {-2, -1}, false, {}, {10}},
      {OpType::kReduceMean, a, {1}, false, {2}, {1.5, 3.5}},
      {OpType::kReduceMean, a, {}, false, {}, {2.5}},
      {OpType::kReduceMax, s, {0}, true, {1, 2}, {3, -2}},
      {OpType::kReduceMin, s, {-1}, false, {2}, {-2, -4}},
      {OpType::kReduceProd, a, {1}, true, {2, 1}, {2, 12}},
      {OpType::kReduceProd, s, {}, false, {}, {24}},
      {OpType::kReduceL1, s, {1}, false, {2}, {3, 7}},
      {OpType::kReduceL2, {3, 4, 6, 8}, {1}, false, {2}, {5, 10}},
      {OpType::kReduceL2, {3, 4, 6, 8}, {0}, true, {1, 2}, {std::sqrt(45.0), std::sqrt(80.0)}},
      {OpType::kReduceLogSum, a, {1}, false, {2}, {std::log(3.0), std::log(7.0)}},
      {OpType::kReduceLogSumExp, a, {1}, false, {2}, {e1, e1 + 2}},
      {OpType::kReduceLogSumExp,
       {1000, 1000, -1000, -1000},
       {1},
       false,
       {2},
       {1000 + std::log(2.0), -1000 + std::log(2.0)}},
      {OpType::kReduceSumSquare, s, {1}, true, {2, 1}, {5, 25}},
  };
  for (const ReduceCase& c : cases) {
    for (int64_t opset : {AxesInputOpset(c.op) - 1, AxesInputOpset(c.op)}) {
      std::string what = std::string(OpTypeName(c.op)) + " opset " + std::to_string(opset);
      auto y = RunReduce(c.op, opset, F32({2, 2}, c.x), c.axes, c.keepdims);
      ASSERT_TRUE(y.ok()) << what << ": " << y.status().ToString();
      ExpectNear(*y, c.out_shape, c.expected, {2e-6 * (1 + std::abs(c.expected[0]))}, what);
    }
  }
}

TEST(ReduceTest, OldOpsetsUseAttributes) {
  for (OpType op : kReduceOps) {
    auto y = RunReduce(op, 7, F32({2, 2}, {1, 2, 3, 4}), {0}, false);
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    EXPECT_EQ(y->shape(), Shape{2});
  }
}

TEST(ReduceTest, NoopWithEmptyAxes) {
  Tensor x = F32({2, 2}, {1, 2, 3, 4});
  for (OpType op : kReduceOps) {
    int64_t opset = AxesInputOpset(op);
    auto noop = RunReduce(op, opset, x, {}, true, /*noop=*/true);
    ASSERT_TRUE(noop.ok()) << noop.status().ToString();
    EXPECT_TRUE(noop->BitwiseEquals(x)) << OpTypeName(op);
    // An empty axes tensor is the same as no axes.
    auto empty = Run1(op, opset, {x, I64({})}, {IntAttr("noop_with_empty_axes", 1)});
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE(empty->BitwiseEquals(x)) << OpTypeName(op);
    auto all = Run1(op, opset, {x, I64({})}, {IntAttr("keepdims", 0)});
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(all->shape(), Shape{}) << OpTypeName(op);
  }
}

TEST(ReduceTest, EmptySetGivesIdentity) {
  // Follows the ONNX *_empty_set tests: [2, 0, 4] reduced over axis 1.
  const std::pair<OpType, double> cases[] = {{OpType::kReduceSum, 0},
                                             {OpType::kReduceMean, NAN},
                                             {OpType::kReduceMax, -kInf},
                                             {OpType::kReduceMin, kInf},
                                             {OpType::kReduceProd, 1},
                                             {OpType::kReduceL1, 0},
                                             {OpType::kReduceL2, 0},
                                             {OpType::kReduceLogSum, -kInf},
                                             {OpType::kReduceLogSumExp, -kInf},
                                             {OpType::kReduceSumSquare, 0}};
  Tensor x(DataType::kFloat32, {2, 0, 4});
  for (const auto& [op, identity] : cases) {
    for (int64_t opset : {13, 18}) {
      auto y = RunReduce(op, opset, x, {1}, true);
      ASSERT_TRUE(y.ok()) << y.status().ToString();
      ExpectNear(*y, {2, 1, 4}, std::vector<double>(8, identity), {0}, OpTypeName(op));
      auto none = RunReduce(op, opset, x, {2}, true);  // nothing to compute
      ASSERT_TRUE(none.ok());
      EXPECT_EQ(none->shape(), (Shape{2, 0, 1}));
    }
  }
  Tensor xi(DataType::kInt32, {3, 0});
  auto max = RunReduce(OpType::kReduceMax, 18, xi, {1}, false);
  ASSERT_TRUE(max.ok());
  ExpectNear(*max, {3}, std::vector<double>(3, std::numeric_limits<int32_t>::lowest()), {0},
             "int32 max");
}

TEST(ReduceTest, ScalarAndSizeOneDims) {
  for (OpType op : kReduceOps) {
    auto y = RunReduce(op, 18, F32({}, {4}), {}, true);
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    Reference ref = NaiveReduce(op, {}, {4}, {});
    ExpectNear(*y, {}, ref.value, {1e-6}, OpTypeName(op));
    auto z = RunReduce(op, 18, F32({1, 3, 1}, {1, 2, 3}), {0, 2}, false);
    ASSERT_TRUE(z.ok());
    ref = NaiveReduce(op, {1, 3, 1}, {1, 2, 3}, {true, false, true});
    ExpectNear(*z, {3}, ref.value, {1e-5}, OpTypeName(op));
  }
}

TEST(ReduceTest, IntegerTypes) {
  Tensor x = Make(DataType::kInt32, {2, 3}, {1, -2, 3, 4, 5, -6});
  const std::pair<OpType, std::vector<double>> cases[] = {
      {OpType::kReduceSum, {2, 3}},      {OpType::kReduceMean, {0, 1}},  // truncating division
      {OpType::kReduceMax, {3, 5}},      {OpType::kReduceMin, {-2, -6}},
      {OpType::kReduceProd, {-6, -120}}, {OpType::kReduceL1, {6, 15}},
      {OpType::kReduceL2, {3, 8}},       {OpType::kReduceSumSquare, {14, 77}}};
  for (const auto& [op, expected] : cases) {
    auto y = RunReduce(op, 18, x, {1}, false);
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    EXPECT_EQ(y->dtype(), DataType::kInt32);
    ExpectNear(*y, {2}, expected, {0}, OpTypeName(op));
  }
  auto u = RunReduce(OpType::kReduceMax, 18, Make(DataType::kUint8, {3}, {7, 250, 3}), {}, false);
  ASSERT_TRUE(u.ok());
  ExpectNear(*u, {}, {250}, {0}, "uint8 max");
}

TEST(ReduceTest, BadInput) {
  Tensor x = F32({2, 2}, {1, 2, 3, 4});
  auto out_of_range = RunReduce(OpType::kReduceMean, 13, x, {2}, true);
  ASSERT_FALSE(out_of_range.ok());
  EXPECT_NE(out_of_range.status().message().find("axis 2"), std::string::npos);
  EXPECT_NE(out_of_range.status().message().find("rank 2"), std::string::npos);
  auto negative = RunReduce(OpType::kReduceSum, 13, x, {-3}, true);
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.status().message().find("axis -3"), std::string::npos);
  EXPECT_FALSE(RunReduce(OpType::kReduceMax, 18, x, {1, -1}, true).ok());  // duplicate
  // Attribute axes where the opset wants an input, and an input where it wants attributes.
  EXPECT_FALSE(Run1(OpType::kReduceMax, 18, {x}, {IntsAttr("axes", {0})}).ok());
  EXPECT_FALSE(Run1(OpType::kReduceMax, 13, {x, I64({0})}, {}).ok());
  EXPECT_FALSE(Run1(OpType::kReduceSum, 13, {x, F32({1}, {0})}, {}).ok());  // float axes
  Tensor b = Tensor::FromVector<bool>({2}, {true, false});
  auto bad_type = RunReduce(OpType::kReduceSum, 13, b, {}, true);
  ASSERT_FALSE(bad_type.ok());
  EXPECT_NE(bad_type.status().message().find("bool"), std::string::npos);
}

// Random tensors over every axes subset of several shapes, against NaiveReduce.
TEST(ReduceTest, RandomAgainstNaive) {
  std::mt19937 rng(1234);
  const Shape shapes[] = {{7}, {3, 5}, {2, 3, 4}, {4, 1, 6, 5}, {2, 3, 2, 33}, {300, 3}, {3, 700}};
  const DataType types[] = {DataType::kFloat32, DataType::kFloat64, DataType::kFloat16};
  for (const Shape& shape : shapes) {
    const int rank = int(shape.size());
    for (DataType type : types) {
      std::vector<double> x = RandomValues(rng, type, Count(shape), 0.5, 1.5);
      Tensor xt = Make(type, shape, x);
      for (int mask = 1; mask < (1 << rank); ++mask) {
        std::vector<bool> reduced(static_cast<size_t>(rank));
        std::vector<int64_t> axes;
        for (int d = 0; d < rank; ++d) {
          reduced[size_t(d)] = (mask >> d) & 1;
          if (reduced[size_t(d)]) axes.push_back(d - (d % 2) * rank);  // mix negative axes
        }
        for (OpType op : kReduceOps) {
          Reference ref = NaiveReduce(op, shape, x, reduced);
          auto y = RunReduce(op, 18, xt, axes, false);
          ASSERT_TRUE(y.ok()) << y.status().ToString();
          // The result is rounded once to the output type; the double accumulation adds
          // ~n * eps_double * sum|terms|, negligible next to it except for float64.
          std::vector<double> tol;
          for (size_t i = 0; i < ref.value.size(); ++i) {
            tol.push_back(Eps(type) * std::abs(ref.value[i]) + Tiny(type) +
                          double(x.size()) * kDoubleEps * ref.magnitude[i]);
          }
          Shape out_shape;
          for (int d = 0; d < rank; ++d) {
            if (!reduced[size_t(d)]) out_shape.push_back(shape[size_t(d)]);
          }
          ExpectNear(*y, out_shape, ref.value, tol,
                     std::string(OpTypeName(op)) + " " + DataTypeName(type) + " " +
                         ShapeToString(shape) + " mask " + std::to_string(mask));
        }
      }
    }
  }
}

// Every axes subset of a shape large enough to be split into parallel chunks.
TEST(ReduceTest, ParallelChunksAgainstNaive) {
  std::mt19937 rng(77);
  const Shape shape = {40, 3, 64, 9};
  std::vector<double> x = RandomValues(rng, DataType::kFloat32, Count(shape), -1, 1);
  Tensor xt = Make(DataType::kFloat32, shape, x);
  for (int mask = 1; mask < 16; ++mask) {
    std::vector<bool> reduced(4);
    std::vector<int64_t> axes;
    for (int d = 0; d < 4; ++d) {
      reduced[size_t(d)] = (mask >> d) & 1;
      if (reduced[size_t(d)]) axes.push_back(d);
    }
    for (OpType op : {OpType::kReduceSum, OpType::kReduceMax, OpType::kReduceLogSumExp}) {
      Reference ref = NaiveReduce(op, shape, x, reduced);
      auto y = RunReduce(op, 18, xt, axes, true);
      ASSERT_TRUE(y.ok()) << y.status().ToString();
      std::vector<double> tol;
      for (size_t i = 0; i < ref.value.size(); ++i) {
        tol.push_back(kFloatEps * std::abs(ref.value[i]) + 1e-12 * ref.magnitude[i]);
      }
      Shape out_shape = shape;
      for (int d = 0; d < 4; ++d) {
        if (reduced[size_t(d)]) out_shape[size_t(d)] = 1;
      }
      ExpectNear(*y, out_shape, ref.value, tol,
                 std::string(OpTypeName(op)) + " mask " + std::to_string(mask));
    }
  }
}

// Shapes large enough for the parallel paths: one output split across threads, and few
// output rows over many input rows.
TEST(ReduceTest, LargeReductionsAreAccurate) {
  std::mt19937 rng(7);
  const int64_t n = 3'000'000;
  std::vector<double> x = RandomValues(rng, DataType::kFloat32, n, 0.0, 1.0);
  Tensor xt = Make(DataType::kFloat32, {n}, x);
  double sum = 0;
  for (double v : x) sum += v;
  auto mean = RunReduce(OpType::kReduceMean, 18, xt, {}, false);
  ASSERT_TRUE(mean.ok());
  EXPECT_NEAR(mean->GetAsDouble(0), sum / double(n), 1e-6 * sum / double(n));
  Tensor cols = *xt.Reshaped({n / 3, 3});
  Reference ref = NaiveReduce(OpType::kReduceSum, {n / 3, 3}, x, {true, false});
  auto y = RunReduce(OpType::kReduceSum, 13, cols, {0}, true);
  ASSERT_TRUE(y.ok());
  ExpectNear(*y, {1, 3}, ref.value, {kFloatEps * ref.value[0]}, "sum over axis 0");
  Reference lse = NaiveReduce(OpType::kReduceLogSumExp, {n / 3, 3}, x, {true, false});
  auto z = RunReduce(OpType::kReduceLogSumExp, 18, cols, {0}, false);
  ASSERT_TRUE(z.ok());
  ExpectNear(*z, {3}, lse.value, {2 * kFloatEps * lse.value[0]}, "lse over axis 0");
}

// ---------------------------------------------------------------------------------------------
// ArgMax / ArgMin

StatusOr<Tensor> RunArg(OpType op, int64_t opset, const Tensor& x, int64_t axis, bool keepdims,
                        bool last) {
  return Run1(
      op, opset, {x},
      {IntAttr("axis", axis), IntAttr("keepdims", keepdims), IntAttr("select_last_index", last)});
}

TEST(ArgTest, HandComputed) {
  Tensor x = F32({2, 3}, {2, 7, 7, 5, 1, 5});
  struct Case {
    OpType op;
    int64_t axis;
    bool keepdims, last;
    int64_t opset;
    Shape shape;
    std::vector<double> expected;
  } cases[] = {
      {OpType::kArgMax, 1, true, false, 13, {2, 1}, {1, 0}},
      {OpType::kArgMax, 1, false, true, 13, {2}, {2, 2}},
      {OpType::kArgMax, -1, false, true, 11, {2}, {1, 0}},  // select_last_index is opset 12
      {OpType::kArgMax, 0, true, false, 13, {1, 3}, {1, 0, 0}},
      {OpType::kArgMin, 0, false, false, 13, {3}, {0, 1, 1}},
      {OpType::kArgMin, -1, true, true, 12, {2, 1}, {0, 1}},
  };
  for (const Case& c : cases) {
    auto y = RunArg(c.op, c.opset, x, c.axis, c.keepdims, c.last);
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    EXPECT_EQ(y->dtype(), DataType::kInt64);
    ExpectNear(*y, c.shape, c.expected, {0}, OpTypeName(c.op));
  }
  auto i = RunArg(OpType::kArgMax, 13, Make(DataType::kInt64, {3}, {-5, 9, 9}), 0, false, false);
  ASSERT_TRUE(i.ok());
  ExpectNear(*i, {}, {1}, {0}, "int64");
}

TEST(ArgTest, RandomAgainstNaive) {
  std::mt19937 rng(99);
  const Shape shapes[] = {{5}, {4, 6}, {3, 4, 5}, {2, 9, 3, 2}};
  for (const Shape& shape : shapes) {
    // Few distinct values so ties are frequent.
    std::vector<double> x = RandomValues(rng, DataType::kFloat32, Count(shape), 0, 4);
    for (double& v : x) v = std::floor(v);
    Tensor xt = Make(DataType::kFloat16, shape, x);
    for (int axis = 0; axis < int(shape.size()); ++axis) {
      int64_t outer = 1, n = shape[size_t(axis)], inner = 1;
      for (int d = 0; d < axis; ++d) outer *= shape[size_t(d)];
      for (size_t d = size_t(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
      for (OpType op : {OpType::kArgMax, OpType::kArgMin}) {
        for (bool last : {false, true}) {
          std::vector<double> expected;
          for (int64_t o = 0; o < outer; ++o) {
            for (int64_t k = 0; k < inner; ++k) {
              int64_t best = 0;
              for (int64_t i = 1; i < n; ++i) {
                double v = x[size_t((o * n + i) * inner + k)];
                double b = x[size_t((o * n + best) * inner + k)];
                bool better = op == OpType::kArgMax ? v > b : v < b;
                if (better || (last && v == b)) best = i;
              }
              expected.push_back(double(best));
            }
          }
          Shape out = shape;
          out[size_t(axis)] = 1;
          auto y = RunArg(op, 13, xt, axis, true, last);
          ASSERT_TRUE(y.ok()) << y.status().ToString();
          ExpectNear(*y, out, expected, {0},
                     std::string(OpTypeName(op)) + " axis " + std::to_string(axis));
        }
      }
    }
  }
}

TEST(ArgTest, BadInput) {
  auto range = RunArg(OpType::kArgMax, 13, F32({2, 2}, {1, 2, 3, 4}), 2, true, false);
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.status().message().find("axis 2"), std::string::npos);
  EXPECT_NE(range.status().message().find("rank 2"), std::string::npos);
  EXPECT_FALSE(
      RunArg(OpType::kArgMin, 13, Tensor(DataType::kFloat32, {2, 0}), 1, true, false).ok());
}

// ---------------------------------------------------------------------------------------------
// Softmax, LogSoftmax, Hardmax

// Naive softmax family over [outer, n, inner] in double.
std::vector<double> NaiveSoftmax(OpType op, const std::vector<double>& x, int64_t outer, int64_t n,
                                 int64_t inner) {
  std::vector<double> y(x.size());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t k = 0; k < inner; ++k) {
      auto at = [&](int64_t i) { return size_t((o * n + i) * inner + k); };
      double mx = -kInf, sum = 0;
      int64_t arg = 0;
      for (int64_t i = 0; i < n; ++i) {
        if (x[at(i)] > mx) mx = x[at(i)], arg = i;
      }
      for (int64_t i = 0; i < n; ++i) sum += std::exp(x[at(i)] - mx);
      for (int64_t i = 0; i < n; ++i) {
        double v = x[at(i)];
        y[at(i)] = op == OpType::kSoftmax      ? std::exp(v - mx) / sum
                   : op == OpType::kLogSoftmax ? v - mx - std::log(sum)
                                               : double(i == arg);
      }
    }
  }
  return y;
}

TEST(SoftmaxTest, HandComputed) {
  Tensor x = F32({1, 3}, {1, 2, 3});
  auto s = Run1(OpType::kSoftmax, 13, {x}, {});
  ASSERT_TRUE(s.ok());
  ExpectNear(*s, {1, 3}, {0.09003057317, 0.24472847105, 0.66524095577}, {1e-7}, "softmax");
  auto l = Run1(OpType::kLogSoftmax, 13, {x}, {});
  ASSERT_TRUE(l.ok());
  ExpectNear(*l, {1, 3}, {-2.40760596444, -1.40760596444, -0.40760596444}, {1e-6}, "logsoftmax");
  auto h = Run1(OpType::kHardmax, 13, {F32({2, 3}, {3, 1, 3, 0, 2, 1})}, {});
  ASSERT_TRUE(h.ok());
  ExpectNear(*h, {2, 3}, {1, 0, 0, 0, 1, 0}, {0}, "hardmax");
  // Large inputs need the max subtracted.
  auto big = Run1(OpType::kLogSoftmax, 13, {F32({2}, {10000, 10002})}, {});
  ASSERT_TRUE(big.ok());
  double lse = std::log(1 + std::exp(-2.0));
  ExpectNear(*big, {2}, {-2 - lse, -lse}, {1e-5}, "large logsoftmax");
}

// Before opset 13 the input is flattened to 2-D at axis (default 1); from 13 one axis
// (default -1).
TEST(SoftmaxTest, OpsetAxisSemantics) {
  std::vector<double> x = {0, 1, 2, 3, 4, 5, 6, 7};
  Tensor xt = Make(DataType::kFloat32, {2, 2, 2}, x);
  for (OpType op : {OpType::kSoftmax, OpType::kLogSoftmax, OpType::kHardmax}) {
    auto old_default = Run1(op, 11, {xt}, {});
    ASSERT_TRUE(old_default.ok());
    ExpectNear(*old_default, {2, 2, 2}, NaiveSoftmax(op, x, 2, 4, 1), {1e-6}, "opset 11");
    auto old_axis0 = Run1(op, 1, {xt}, {IntAttr("axis", 0)});
    ASSERT_TRUE(old_axis0.ok());
    ExpectNear(*old_axis0, {2, 2, 2}, NaiveSoftmax(op, x, 1, 8, 1), {1e-6}, "opset 1 axis 0");
    auto new_default = Run1(op, 13, {xt}, {});
    ASSERT_TRUE(new_default.ok());
    ExpectNear(*new_default, {2, 2, 2}, NaiveSoftmax(op, x, 4, 2, 1), {1e-6}, "opset 13");
    auto new_axis1 = Run1(op, 13, {xt}, {IntAttr("axis", 1)});
    ASSERT_TRUE(new_axis1.ok());
    ExpectNear(*new_axis1, {2, 2, 2}, NaiveSoftmax(op, x, 2, 2, 2), {1e-6}, "opset 13 axis 1");
  }
}

void CheckSoftmaxAgainstNaive() {
  std::mt19937 rng(5);
  const Shape shapes[] = {{37}, {3, 100}, {2, 5, 3}, {2, 3, 17, 9}, {4, 1000}, {2, 300, 300}};
  for (const Shape& shape : shapes) {
    for (DataType type : {DataType::kFloat32, DataType::kFloat64, DataType::kFloat16}) {
      std::vector<double> x = RandomValues(rng, type, Count(shape), -20, 20);
      Tensor xt = Make(type, shape, x);
      for (int axis = 0; axis < int(shape.size()); ++axis) {
        int64_t outer = 1, inner = 1;
        for (int d = 0; d < axis; ++d) outer *= shape[size_t(d)];
        for (size_t d = size_t(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
        for (OpType op : {OpType::kSoftmax, OpType::kLogSoftmax, OpType::kHardmax}) {
          std::vector<double> ref = NaiveSoftmax(op, x, outer, shape[size_t(axis)], inner);
          auto y = Run1(op, 13, {xt}, {IntAttr("axis", axis - int(shape.size()))});
          ASSERT_TRUE(y.ok()) << y.status().ToString();
          // Rounding x - max (|x - max| <= 40) costs 40 * eps relative in exp; exp itself
          // ~2 eps, the blocked float sum ~12 eps, the scaling 1: 55 eps in all. LogSoftmax
          // errs absolutely by about as much.
          double eps = Eps(type);
          std::vector<double> tol;
          for (double r : ref) {
            tol.push_back(op == OpType::kSoftmax      ? 55 * eps * r + Tiny(type)
                          : op == OpType::kLogSoftmax ? 55 * eps * (1 + std::abs(r))
                                                      : 0);
          }
          ExpectNear(*y, shape, ref, tol,
                     std::string(OpTypeName(op)) + " " + DataTypeName(type) + " " +
                         ShapeToString(shape) + " axis " + std::to_string(axis));
        }
      }
    }
  }
}

TEST(SoftmaxTest, RandomAgainstNaive) { CheckSoftmaxAgainstNaive(); }

// The portable SSE2 build of the float fast paths, which AVX machines never pick on their own.
TEST(SoftmaxTest, BaselineIsaAgainstNaive) {
  reduction_internal::UseBaselineIsaForTesting(true);
  CheckSoftmaxAgainstNaive();
  reduction_internal::UseBaselineIsaForTesting(false);
}

TEST(SoftmaxTest, BadInput) {
  auto range = Run1(OpType::kSoftmax, 13, {F32({2, 2}, {1, 2, 3, 4})}, {IntAttr("axis", 2)});
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.status().message().find("axis 2"), std::string::npos);
  EXPECT_NE(range.status().message().find("rank 2"), std::string::npos);
  EXPECT_FALSE(Run1(OpType::kSoftmax, 11, {F32({2}, {1, 2})}, {IntAttr("axis", -3)}).ok());
  EXPECT_FALSE(Run1(OpType::kSoftmax, 13, {Make(DataType::kInt32, {2}, {1, 2})}, {}).ok());
}

// ---------------------------------------------------------------------------------------------
// LayerNormalization, LpNormalization

TEST(LayerNormTest, HandComputedWithStatistics) {
  Tensor x = F32({2, 3}, {1, 2, 3, 4, 6, 8});
  KernelRun run;
  run.op = OpType::kLayerNormalization;
  run.inputs = {x, F32({3}, {1, 2, 1}), F32({1}, {0.5f})};
  run.attributes = {FloatAttr("epsilon", 0)};
  run.num_outputs = 3;
  auto out = RunKernel(run);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const double r = std::sqrt(1.5);  // (x - mean) / stddev is (-r, 0, r) in both rows
  ExpectNear((*out)[0], {2, 3}, {0.5 - r, 0.5, 0.5 + r, 0.5 - r, 0.5, 0.5 + r}, {1e-6}, "Y");
  ExpectNear((*out)[1], {2, 1}, {2, 6}, {1e-6}, "Mean");
  ExpectNear((*out)[2], {2, 1}, {std::sqrt(1.5), std::sqrt(1.5) / 2}, {1e-6}, "InvStdDev");
  EXPECT_EQ((*out)[1].dtype(), DataType::kFloat32);
}

TEST(LayerNormTest, RandomAgainstNaive) {
  std::mt19937 rng(11);
  const Shape shape = {3, 4, 50};
  std::vector<double> x = RandomValues(rng, DataType::kFloat32, Count(shape), -3, 5);
  for (int axis = 0; axis < 3; ++axis) {
    Shape norm(shape.begin() + axis, shape.end());
    int64_t n = Count(norm), rows = Count(shape) / n;
    std::vector<double> scale = RandomValues(rng, DataType::kFloat32, n, 0.5, 2);
    std::vector<double> bias = RandomValues(rng, DataType::kFloat32, shape.back(), -1, 1);
    std::vector<double> ref;
    for (int64_t r = 0; r < rows; ++r) {
      double mean = 0, var = 0;
      for (int64_t i = 0; i < n; ++i) mean += x[size_t(r * n + i)] / double(n);
      for (int64_t i = 0; i < n; ++i) var += std::pow(x[size_t(r * n + i)] - mean, 2) / double(n);
      for (int64_t i = 0; i < n; ++i) {
        double v = (x[size_t(r * n + i)] - mean) / std::sqrt(var + 1e-5);
        ref.push_back(v * scale[size_t(i)] + bias[size_t(i % shape.back())]);
      }
    }
    // B broadcasts from its last dim only.
    auto y = Run1(OpType::kLayerNormalization, 17,
                  {Make(DataType::kFloat32, shape, x), Make(DataType::kFloat32, norm, scale),
                   Make(DataType::kFloat32, {shape.back()}, bias)},
                  {IntAttr("axis", axis - 3)});
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    // |normalized| <= sqrt(n); each float op adds ~eps relative to the magnitudes involved.
    ExpectNear(*y, shape, ref, {8 * kFloatEps * 2 * (std::sqrt(double(n)) + 1)},
               "axis " + std::to_string(axis));
  }
}

TEST(LayerNormTest, BadInput) {
  Tensor x = F32({2, 3}, {1, 2, 3, 4, 5, 6});
  auto scale = Run1(OpType::kLayerNormalization, 17, {x, F32({2}, {1, 1})}, {});
  ASSERT_FALSE(scale.ok());
  EXPECT_NE(scale.status().message().find("Scale"), std::string::npos);
  auto axis =
      Run1(OpType::kLayerNormalization, 17, {x, F32({3}, {1, 1, 1})}, {IntAttr("axis", -3)});
  ASSERT_FALSE(axis.ok());
  EXPECT_NE(axis.status().message().find("axis -3"), std::string::npos);
  EXPECT_FALSE(Run1(OpType::kLayerNormalization, 17, {x}, {}).ok());
}

TEST(LpNormTest, HandComputedAndStrided) {
  Tensor x = F32({2, 2}, {3, 4, 0, 0});
  auto l2 = Run1(OpType::kLpNormalization, 17, {x}, {});
  ASSERT_TRUE(l2.ok());
  ExpectNear(*l2, {2, 2}, {0.6, 0.8, 0, 0}, {1e-7}, "p=2");
  auto l1 = Run1(OpType::kLpNormalization, 17, {x}, {IntAttr("p", 1)});
  ASSERT_TRUE(l1.ok());
  ExpectNear(*l1, {2, 2}, {3.0 / 7, 4.0 / 7, 0, 0}, {1e-7}, "p=1");
  auto cols = Run1(OpType::kLpNormalization, 17, {x}, {IntAttr("axis", 0), IntAttr("p", 1)});
  ASSERT_TRUE(cols.ok());
  ExpectNear(*cols, {2, 2}, {1, 1, 0, 0}, {1e-7}, "axis 0");
  auto p3 = Run1(OpType::kLpNormalization, 17, {x}, {IntAttr("p", 3)});
  ASSERT_FALSE(p3.ok());
  EXPECT_NE(p3.status().message().find("p must be 1 or 2"), std::string::npos);
  EXPECT_FALSE(Run1(OpType::kLpNormalization, 17, {x}, {IntAttr("axis", 5)}).ok());
}

}  // namespace
}  // namespace shrink::engine
