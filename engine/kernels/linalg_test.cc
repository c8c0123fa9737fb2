// Tests of MatMul and Gemm: hand-computed cases, fast path vs reference path and vs an
// independent double-precision loop over many shapes, integer/half dtypes, and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "engine/kernels/kernel_test_util.h"
#include "engine/kernels/kernel_util.h"

namespace shrink::engine {
namespace {

using testing::FloatAttr;
using testing::IntAttr;
using testing::KernelRun;
using testing::RunKernel;

constexpr double kEps = std::numeric_limits<float>::epsilon();

Tensor RandomTensor(const Shape& shape, std::mt19937* rng, float lo = -1, float hi = 1) {
  Tensor t(DataType::kFloat32, shape);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < t.size(); ++i) t.data<float>()[i] = dist(*rng);
  return t;
}

StatusOr<Tensor> RunOne(OpType op, std::vector<Tensor> inputs, std::vector<Attribute> attrs = {},
                        bool reference = false) {
  KernelRun run;
  run.op = op;
  run.inputs = std::move(inputs);
  run.attributes = std::move(attrs);
  run.reference = reference;
  ASSIGN_OR_RETURN(std::vector<Tensor> out, RunKernel(run));
  return out[0];
}

// Independent oracle: numpy matmul semantics written out with explicit index arithmetic.
// Returns the product and, per output element, sum |a*b| (for the rounding-error bound).
struct Expected {
  Shape shape;
  std::vector<double> value, magnitude;
  int64_t k = 0;
};

Expected NumpyMatMul(const Tensor& a, const Tensor& b) {
  Shape as = a.shape(), bs = b.shape();
  bool a1 = as.size() == 1, b1 = bs.size() == 1;
  if (a1) as.insert(as.begin(), 1);
  if (b1) bs.push_back(1);
  int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  Shape ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  Shape batch = *BroadcastShapes({ab, bb});
  std::vector<int64_t> sa = BroadcastStrides(ab, batch), sb = BroadcastStrides(bb, batch);
  int64_t count = *ElementCount(batch);
  Expected e;
  e.k = k;
  e.shape = batch;
  if (!a1) e.shape.push_back(m);
  if (!b1) e.shape.push_back(n);
  for (int64_t i = 0; i < count; ++i) {
    int64_t rem = i, ao = 0, bo = 0;
    for (int d = int(batch.size()) - 1; d >= 0; --d) {
      int64_t idx = rem % batch[size_t(d)];
      rem /= batch[size_t(d)];
      ao += idx * sa[size_t(d)];
      bo += idx * sb[size_t(d)];
    }
    for (int64_t r = 0; r < m; ++r) {
      for (int64_t c = 0; c < n; ++c) {
        double sum = 0, mag = 0;
        for (int64_t p = 0; p < k; ++p) {
          double x = a.data<float>()[ao * m * k + r * k + p];
          double y = b.data<float>()[bo * k * n + p * n + c];
          sum += x * y;
          mag += std::fabs(x * y);
        }
        e.value.push_back(sum);
        e.magnitude.push_back(mag);
      }
    }
  }
  return e;
}

// A float dot product of length k is within k * eps * sum|a*b| of the exact value (first-order
// bound of recursive summation; blocked summation is tighter). Two such results differ by at
// most twice that.
void ExpectClose(const Tensor& got, const Expected& e, double factor, const std::string& what) {
  ASSERT_EQ(got.shape(), e.shape) << what;
  ASSERT_EQ(size_t(got.size()), e.value.size()) << what;
  for (int64_t i = 0; i < got.size(); ++i) {
    double bound =
        factor * double(std::max<int64_t>(e.k, 1)) * kEps * e.magnitude[size_t(i)] + 1e-30;
    ASSERT_NEAR(got.data<float>()[i], e.value[size_t(i)], bound) << what << " element " << i;
  }
}

TEST(MatMulTest, HandComputed2x2) {
  Tensor a = Tensor::FromVector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::FromVector<float>({3, 2}, {7, 8, 9, 10, 11, 12});
  for (bool reference : {false, true}) {
    auto y = RunOne(OpType::kMatMul, {a, b}, {}, reference);
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    EXPECT_EQ(y->shape(), (Shape{2, 2}));
    std::vector<float> want = {58, 64, 139, 154};
    for (int i = 0; i < 4; ++i) EXPECT_EQ(y->data<float>()[i], want[size_t(i)]);
  }
}

TEST(MatMulTest, BroadcastShapesFastMatchesReferenceAndOracle) {
  std::mt19937 rng(1234);
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{3}, {3}},
      {{3}, {3, 4}},
      {{2, 3}, {3}},
      {{4}, {2, 4, 3}},
      {{2, 3, 4}, {4}},
      {{2, 5, 3, 4}, {4, 6}},
      {{5, 3, 4}, {2, 1, 4, 6}},
      {{1, 3, 4}, {2, 4, 5}},
      {{3, 1, 2, 7}, {1, 4, 7, 3}},
      {{64, 65}, {65, 33}},
      {{2, 128, 96}, {96, 130}},
      {{7, 1, 300}, {300, 1}},
      {{0, 3}, {3, 4}},
      {{2, 0}, {0, 3}},
      {{2, 0, 3}, {3, 2}},
      {{3, 8, 16}, {3, 16, 8}},
      {{1, 1}, {1, 1}},
      {{200, 3, 5}, {200, 5, 4}},
  };
  for (const auto& [as, bs] : cases) {
    std::string what = ShapeToString(as) + " x " + ShapeToString(bs);
    Tensor a = RandomTensor(as, &rng), b = RandomTensor(bs, &rng);
    Expected e = NumpyMatMul(a, b);
    auto fast = RunOne(OpType::kMatMul, {a, b});
    auto ref = RunOne(OpType::kMatMul, {a, b}, {}, true);
    ASSERT_TRUE(fast.ok()) << what << ": " << fast.status().ToString();
    ASSERT_TRUE(ref.ok()) << what << ": " << ref.status().ToString();
    ExpectClose(*fast, e, 1.0, "fast " + what);
    ExpectClose(*ref, e, 1.0, "reference " + what);
  }
}

TEST(MatMulTest, IntegerAndDoubleTypes) {
  Tensor a = Tensor::FromVector<int32_t>({2, 2}, {1, -2, 3, 4});
  Tensor b = Tensor::FromVector<int32_t>({2, 1, 2, 2}, {5, 6, 7, 8, 1, 0, 0, 1});
  auto y = RunOne(OpType::kMatMul, {a, b});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->shape(), (Shape{2, 1, 2, 2}));
  std::vector<int32_t> want = {-9, -10, 43, 50, 1, -2, 3, 4};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(y->data<int32_t>()[i], want[size_t(i)]);

  // int32 wraps around like the hardware does.
  Tensor big = Tensor::FromVector<int32_t>({1, 2}, {INT32_MAX, 1});
  Tensor ones = Tensor::FromVector<int32_t>({2}, {1, 1});
  auto wrapped = RunOne(OpType::kMatMul, {big, ones});
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(wrapped->data<int32_t>()[0], INT32_MIN);

  Tensor i64a = Tensor::FromVector<int64_t>({3}, {1, 2, 3});
  Tensor i64b = Tensor::FromVector<int64_t>({3}, {4, 5, 6});
  auto dot = RunOne(OpType::kMatMul, {i64a, i64b});
  ASSERT_TRUE(dot.ok());
  EXPECT_EQ(dot->shape(), Shape{});
  EXPECT_EQ(dot->data<int64_t>()[0], 32);

  Tensor da = Tensor::FromVector<double>({1, 2}, {0.1, 0.2});
  Tensor db = Tensor::FromVector<double>({2, 1}, {0.3, 0.4});
  auto d = RunOne(OpType::kMatMul, {da, db});
  ASSERT_TRUE(d.ok());
  EXPECT_DOUBLE_EQ(d->data<double>()[0], 0.1 * 0.3 + 0.2 * 0.4);
}

TEST(MatMulTest, Float16ComputesInFloat) {
  Tensor a(DataType::kFloat16, {1, 2}), b(DataType::kFloat16, {2, 1});
  a.data<uint16_t>()[0] = FloatToHalf(1.5f);
  a.data<uint16_t>()[1] = FloatToHalf(-2.0f);
  b.data<uint16_t>()[0] = FloatToHalf(4.0f);
  b.data<uint16_t>()[1] = FloatToHalf(0.25f);
  auto y = RunOne(OpType::kMatMul, {a, b});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->dtype(), DataType::kFloat16);
  EXPECT_EQ(HalfToFloat(y->data<uint16_t>()[0]), 5.5f);
}

TEST(MatMulTest, BadInputsReturnErrors) {
  Tensor a(DataType::kFloat32, {2, 3}), b(DataType::kFloat32, {4, 5});
  auto y = RunOne(OpType::kMatMul, {a, b});
  ASSERT_FALSE(y.ok());
  EXPECT_NE(y.status().message().find("[2,3]"), std::string::npos) << y.status().message();
  EXPECT_NE(y.status().message().find("[4,5]"), std::string::npos) << y.status().message();
  EXPECT_NE(y.status().message().find("MatMul"), std::string::npos);

  // A huge batch of empty matrices is an empty result, not a long loop.
  auto empty = RunOne(OpType::kMatMul, {Tensor(DataType::kFloat32, {int64_t(1) << 40, 0, 3}),
                                        Tensor(DataType::kInt32, {3, 2})});
  EXPECT_FALSE(empty.ok());  // dtype mismatch is checked first
  empty = RunOne(OpType::kMatMul, {Tensor(DataType::kFloat32, {int64_t(1) << 40, 0, 3}),
                                   Tensor(DataType::kFloat32, {3, 2})});
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->shape(), (Shape{int64_t(1) << 40, 0, 2}));

  Tensor c(DataType::kFloat32, {2, 2, 3}), d(DataType::kFloat32, {3, 3, 4});
  EXPECT_FALSE(RunOne(OpType::kMatMul, {c, d}).ok());  // batch 2 vs 3
  EXPECT_FALSE(RunOne(OpType::kMatMul, {Tensor::Scalar<float>(1), a}).ok());
  EXPECT_FALSE(RunOne(OpType::kMatMul, {a, Tensor(DataType::kFloat64, {3, 2})}).ok());
  EXPECT_FALSE(
      RunOne(OpType::kMatMul, {Tensor(DataType::kBool, {2, 3}), Tensor(DataType::kBool, {3, 2})})
          .ok());
}

// Gemm oracle: alpha * op(A) op(B) + beta * C with explicit broadcasting of C.
Expected NaiveGemm(const Tensor& a, const Tensor& b, const Tensor* c, bool ta, bool tb, float alpha,
                   float beta) {
  int64_t m = ta ? a.dim(1) : a.dim(0), k = ta ? a.dim(0) : a.dim(1);
  int64_t n = tb ? b.dim(0) : b.dim(1);
  Expected e;
  e.shape = {m, n};
  e.k = k + 1;
  std::vector<int64_t> cs = c ? BroadcastStrides(c->shape(), {m, n}) : std::vector<int64_t>{0, 0};
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0, mag = 0;
      for (int64_t p = 0; p < k; ++p) {
        double x = ta ? a.data<float>()[p * m + i] : a.data<float>()[i * k + p];
        double y = tb ? b.data<float>()[j * k + p] : b.data<float>()[p * n + j];
        sum += x * y;
        mag += std::fabs(x * y);
      }
      double bias = c ? double(beta) * c->data<float>()[i * cs[0] + j * cs[1]] : 0.0;
      e.value.push_back(alpha * sum + bias);
      e.magnitude.push_back(std::fabs(alpha) * mag + std::fabs(bias));
    }
  }
  return e;
}

TEST(GemmTest, AttributesAndBiasShapesFastMatchesReference) {
  std::mt19937 rng(99);
  const int64_t m = 7, k = 33, n = 5;
  const std::vector<Shape> c_shapes = {{}, {1}, {n}, {1, n}, {m, 1}, {m, n}};
  for (int ta = 0; ta < 2; ++ta) {
    for (int tb = 0; tb < 2; ++tb) {
      for (int ci = -1; ci < int(c_shapes.size()); ++ci) {
        Tensor a = RandomTensor(ta ? Shape{k, m} : Shape{m, k}, &rng);
        Tensor b = RandomTensor(tb ? Shape{n, k} : Shape{k, n}, &rng);
        std::vector<Tensor> inputs = {a, b};
        Tensor c;
        if (ci >= 0) {
          c = RandomTensor(c_shapes[size_t(ci)], &rng);
          inputs.push_back(c);
        }
        float alpha = 0.5f, beta = ci == 2 ? 0.0f : -1.5f;
        std::vector<Attribute> attrs = {IntAttr("transA", ta), IntAttr("transB", tb),
                                        FloatAttr("alpha", alpha), FloatAttr("beta", beta)};
        Expected e = NaiveGemm(a, b, ci >= 0 ? &c : nullptr, ta, tb, alpha, beta);
        std::string what = "transA=" + std::to_string(ta) + " transB=" + std::to_string(tb) +
                           " C=" + (ci >= 0 ? ShapeToString(c.shape()) : "none");
        for (bool reference : {false, true}) {
          auto y = RunOne(OpType::kGemm, inputs, attrs, reference);
          ASSERT_TRUE(y.ok()) << what << ": " << y.status().ToString();
          ExpectClose(*y, e, 1.0, what + (reference ? " reference" : " fast"));
        }
      }
    }
  }
}

TEST(GemmTest, DefaultsAndDoubleAndInt) {
  Tensor a = Tensor::FromVector<double>({1, 2}, {1, 2});
  Tensor b = Tensor::FromVector<double>({2, 2}, {3, 4, 5, 6});
  Tensor c = Tensor::FromVector<double>({2}, {10, 20});
  auto y = RunOne(OpType::kGemm, {a, b, c});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->data<double>()[0], 23);
  EXPECT_EQ(y->data<double>()[1], 36);

  Tensor ia = Tensor::FromVector<int64_t>({2, 1}, {2, 3});
  Tensor ib = Tensor::FromVector<int64_t>({2, 1}, {5, 7});
  auto iy = RunOne(OpType::kGemm, {ia, ib}, {IntAttr("transB", 1)});
  ASSERT_TRUE(iy.ok()) << iy.status().ToString();
  std::vector<int64_t> want = {10, 14, 15, 21};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(iy->data<int64_t>()[i], want[size_t(i)]);
}

TEST(GemmTest, BadInputsReturnErrors) {
  Tensor a(DataType::kFloat32, {2, 3}), b(DataType::kFloat32, {4, 5});
  auto y = RunOne(OpType::kGemm, {a, b});
  ASSERT_FALSE(y.ok());
  EXPECT_NE(y.status().message().find("[2,3]"), std::string::npos) << y.status().message();
  EXPECT_NE(y.status().message().find("[4,5]"), std::string::npos) << y.status().message();
  Tensor b2(DataType::kFloat32, {3, 5});
  EXPECT_TRUE(RunOne(OpType::kGemm, {a, b2}).ok());
  EXPECT_FALSE(RunOne(OpType::kGemm, {a, b2, Tensor(DataType::kFloat32, {3})}).ok());
  EXPECT_FALSE(RunOne(OpType::kGemm, {a, b2, Tensor(DataType::kFloat32, {2, 5, 1})}).ok());
  EXPECT_FALSE(RunOne(OpType::kGemm, {Tensor(DataType::kFloat32, {2, 3, 1}), b2}).ok());
  EXPECT_FALSE(RunOne(OpType::kGemm, {a}).ok());
}

// ---- Einsum ----

Tensor Abs(const Tensor& t) {
  Tensor out(DataType::kFloat32, t.shape());
  for (int64_t i = 0; i < t.size(); ++i) out.data<float>()[i] = std::fabs(t.data<float>()[i]);
  return out;
}

struct EinsumCase {
  std::string equation;
  std::vector<Shape> shapes;
  Shape out;
  int64_t terms;  // products summed into one output element
};

TEST(EinsumTest, FastMatchesReferenceOverEquations) {
  std::mt19937 rng(31);
  const std::vector<EinsumCase> cases = {
      {"ij,jk->ik", {{3, 4}, {4, 5}}, {3, 5}, 4},
      {"ij,jk", {{3, 4}, {4, 5}}, {3, 5}, 4},
      {"bij,bjk->bik", {{2, 3, 4}, {2, 4, 5}}, {2, 3, 5}, 4},
      {"ii->i", {{4, 4}}, {4}, 1},
      {"ii", {{4, 4}}, {}, 4},
      {"ij->", {{3, 4}}, {}, 12},
      {"ij->ji", {{3, 4}}, {4, 3}, 1},
      {"...ij,...jk->...ik", {{2, 1, 3, 4}, {5, 4, 2}}, {2, 5, 3, 2}, 4},
      {"i,i->", {{7}, {7}}, {}, 7},
      {"i,j->ij", {{3}, {4}}, {3, 4}, 1},
      {"ij,ij->ij", {{3, 4}, {3, 4}}, {3, 4}, 1},
      {"bii->bi", {{2, 3, 3}}, {2, 3}, 1},
      {"ijk,jil->kl", {{2, 3, 4}, {3, 2, 5}}, {4, 5}, 6},
      {"ab,bc,cd->ad", {{2, 3}, {3, 4}, {4, 5}}, {2, 5}, 12},
      {"iij,jk->ik", {{3, 3, 4}, {4, 2}}, {3, 2}, 4},
      {"i,j,k->ijk", {{2}, {3}, {4}}, {2, 3, 4}, 1},
      {"ba,ca->bc", {{3, 6}, {4, 6}}, {3, 4}, 6},
      {"...,...->...", {{2, 3}, {3}}, {2, 3}, 1},
      {"AbC,bCd->Ad", {{2, 3, 4}, {3, 4, 5}}, {2, 5}, 12},
      {"ij,j->i", {{3, 4}, {1}}, {3}, 4},
      {"bhqd,bhkd->bhqk", {{2, 3, 16, 8}, {2, 3, 12, 8}}, {2, 3, 16, 12}, 8},
      {"ij,kl->", {{2, 3}, {4, 5}}, {}, 120},
      {"i...->...", {{3, 2, 2}}, {2, 2}, 3},
  };
  for (const EinsumCase& c : cases) {
    std::vector<Tensor> inputs, magnitudes;
    for (const Shape& shape : c.shapes) {
      inputs.push_back(RandomTensor(shape, &rng));
      magnitudes.push_back(Abs(inputs.back()));
    }
    std::vector<Attribute> attrs = {testing::StringAttr("equation", c.equation)};
    auto fast = RunOne(OpType::kEinsum, inputs, attrs);
    auto ref = RunOne(OpType::kEinsum, inputs, attrs, true);
    auto mag = RunOne(OpType::kEinsum, magnitudes, attrs, true);  // sum |products|
    ASSERT_TRUE(fast.ok()) << c.equation << ": " << fast.status().ToString();
    ASSERT_TRUE(ref.ok()) << c.equation << ": " << ref.status().ToString();
    ASSERT_TRUE(mag.ok());
    ASSERT_EQ(fast->shape(), c.out) << c.equation;
    ASSERT_EQ(ref->shape(), c.out) << c.equation;
    for (int64_t i = 0; i < fast->size(); ++i) {
      // Float sums of `terms` products (plus the reference's final rounding).
      double bound = (double(c.terms) + 1) * kEps * mag->data<float>()[i] + 1e-30;
      ASSERT_NEAR(fast->data<float>()[i], ref->data<float>()[i], bound) << c.equation << " " << i;
    }
  }
}

TEST(EinsumTest, HandComputedAndOtherTypes) {
  Tensor a = Tensor::FromVector<int32_t>({2, 2}, {1, 2, 3, 4});
  auto trace = RunOne(OpType::kEinsum, {a}, {testing::StringAttr("equation", "ii")});
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->shape(), Shape{});
  EXPECT_EQ(trace->data<int32_t>()[0], 5);
  auto transposed = RunOne(OpType::kEinsum, {a}, {testing::StringAttr("equation", "ij->ji")});
  ASSERT_TRUE(transposed.ok());
  std::vector<int32_t> want = {1, 3, 2, 4};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(transposed->data<int32_t>()[i], want[size_t(i)]);

  Tensor x = Tensor::FromVector<double>({3}, {1, 2, 3});
  Tensor y = Tensor::FromVector<double>({3}, {4, 5, 6});
  auto dot = RunOne(OpType::kEinsum, {x, y}, {testing::StringAttr("equation", "i,i")});
  ASSERT_TRUE(dot.ok());
  EXPECT_EQ(dot->data<double>()[0], 32);

  Tensor h(DataType::kFloat16, {2});
  h.data<uint16_t>()[0] = FloatToHalf(1.5f);
  h.data<uint16_t>()[1] = FloatToHalf(2.0f);
  for (bool reference : {false, true}) {
    auto sum = RunOne(OpType::kEinsum, {h}, {testing::StringAttr("equation", "i->")}, reference);
    ASSERT_TRUE(sum.ok()) << sum.status().ToString();
    EXPECT_EQ(HalfToFloat(sum->data<uint16_t>()[0]), 3.5f);
  }
}

TEST(EinsumTest, BadEquationsReturnErrors) {
  Tensor m(DataType::kFloat32, {2, 3}), v(DataType::kFloat32, {4});
  auto error = [&](const std::string& equation, std::vector<Tensor> inputs) {
    auto y = RunOne(OpType::kEinsum, inputs, {testing::StringAttr("equation", equation)});
    return y.ok() ? std::string() : y.status().message();
  };
  EXPECT_NE(error("ij,jk->ik", {m}).find("input terms"), std::string::npos);
  EXPECT_NE(error("ijk->i", {m}).find("does not match input 0"), std::string::npos);
  EXPECT_NE(error("ij,j->i", {m, v}).find("does not match"), std::string::npos);
  EXPECT_NE(error("ij->k", {m}).find("not in any input"), std::string::npos);
  EXPECT_NE(error("ij->ii", {m}).find("repeated"), std::string::npos);
  EXPECT_NE(error("i$->i", {m}).find("invalid character"), std::string::npos);
  EXPECT_NE(error("...j->j", {Tensor(DataType::kFloat32, {2, 2, 3})}).find("'...'"),
            std::string::npos);
  EXPECT_NE(error("i..j->ij", {m}).find("ellipsis"), std::string::npos);
  EXPECT_NE(error("ij,ij->ij", {m, Tensor(DataType::kFloat64, {2, 3})}).find("dtype"),
            std::string::npos);
}

}  // namespace
}  // namespace shrink::engine
