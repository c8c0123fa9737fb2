// Integer matmuls (MatMulInteger, QLinearMatMul, MatMulIntegerToFloat, DynamicQuantizeMatMul)
// and convolutions (ConvInteger, QLinearConv): hand-computed cases, the fast path against the
// reference path and an independent naive sum, and the requantizing ops against the float
// composition dequantize -> matmul/conv -> quantize.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/kernels/conv_geometry.h"
#include "engine/kernels/kernel_util.h"
#include "engine/kernels/quantized_internal.h"
#include "engine/kernels/quantized_test_util.h"

namespace shrink::engine::testing {
namespace {

template <typename T>
Tensor Q(Shape shape, std::vector<T> v) {
  return Tensor::FromVector<T>(std::move(shape), v);
}
template <typename T>
Tensor S(T v) {
  return Tensor::Scalar<T>(v);
}
Tensor F(Shape shape, std::vector<float> v) {
  return Tensor::FromVector<float>(std::move(shape), v);
}

int64_t Code(const Tensor& t, int64_t i) { return t.GetAsInt64(i); }

// Runs the reference and every fast path this machine supports (portable int16, AVX2 int16,
// AVX512-VNNI), with 1 and 3 threads and weights constant or not; all must agree bit for bit.
// Returns the reference outputs.
std::vector<Tensor> RunAllPaths(KernelRun run, int weight_input) {
  run.reference = true;
  std::vector<Tensor> expected = MustRun(run);
  run.reference = false;
  for (quant::GemmIsa isa :
       {quant::GemmIsa::kPortable, quant::GemmIsa::kAvx2, quant::GemmIsa::kVnni}) {
    if (!quant::IsaSupported(isa)) continue;
    quant::SetGemmIsaForTesting(isa);
    for (int threads : {1, 3}) {
      for (bool constant : {false, true}) {
        run.threads = threads;
        run.constant_inputs = constant ? std::vector<int>{weight_input} : std::vector<int>{};
        std::vector<Tensor> got = MustRun(run);
        for (size_t i = 0; i < got.size(); ++i) {
          EXPECT_TRUE(got[i].BitwiseEquals(expected[i]))
              << "isa " << int(isa) << " threads " << threads << " constant " << constant;
        }
      }
    }
  }
  quant::SetGemmIsaForTesting(quant::GemmIsa::kAuto);
  return expected;
}

// --- Naive matmul over broadcast batches, zero points per tensor / row / column -------------

struct MatMulCase {
  Shape a, b;
  int zp_mode;  // 0 none, 1 per tensor, 2 per row of A / column of B
};

// sum_k (A[.., m, k] - azp[m]) * (B[.., k, n] - bzp[n]) in int64, for 2-D or broadcast batches.
std::vector<int64_t> NaiveMatMul(const Tensor& a, const Tensor& b, const std::vector<int>& azp,
                                 const std::vector<int>& bzp, Shape* out_shape) {
  Shape as = a.rank() == 1 ? Shape{1, a.dim(0)} : a.shape();
  Shape bs = b.rank() == 1 ? Shape{b.dim(0), 1} : b.shape();
  int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  Shape ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  Shape batch = *BroadcastShapes({ab, bb});
  std::vector<int64_t> sa = BroadcastStrides(ab, batch), sb = BroadcastStrides(bb, batch);
  int64_t batches = 1;
  for (int64_t d : batch) batches *= d;
  std::vector<int64_t> out;
  for (int64_t t = 0; t < batches; ++t) {
    int64_t ia = 0, ib = 0, rest = t;
    for (int d = int(batch.size()) - 1; d >= 0; --d) {
      int64_t idx = rest % batch[size_t(d)];
      rest /= batch[size_t(d)];
      ia += idx * sa[size_t(d)];
      ib += idx * sb[size_t(d)];
    }
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        int64_t sum = 0;
        for (int64_t p = 0; p < k; ++p) {
          sum += (Code(a, (ia * m + i) * k + p) - azp[size_t(i)]) *
                 (Code(b, (ib * k + p) * n + j) - bzp[size_t(j)]);
        }
        out.push_back(sum);
      }
    }
  }
  *out_shape = batch;
  if (a.rank() > 1) out_shape->push_back(m);
  if (b.rank() > 1) out_shape->push_back(n);
  return out;
}

template <typename TA, typename TB>
void CheckMatMulInteger(std::mt19937& rng, const MatMulCase& c) {
  Tensor a = RandomCodes<TA>(rng, c.a), b = RandomCodes<TB>(rng, c.b);
  int64_t m = c.a.size() == 1 ? 1 : c.a[c.a.size() - 2], n = c.b.size() == 1 ? 1 : c.b.back();
  std::vector<int> azp(size_t(m), 0), bzp(size_t(n), 0);
  Tensor azp_t, bzp_t;
  if (c.zp_mode == 1) {
    azp.assign(azp.size(), RandomCode<TA>(rng));
    bzp.assign(bzp.size(), RandomCode<TB>(rng));
    azp_t = S<TA>(TA(azp[0]));
    bzp_t = Q<TB>({1}, {TB(bzp[0])});
  } else if (c.zp_mode == 2) {
    std::vector<TA> av;
    std::vector<TB> bv;
    for (int& z : azp) av.push_back(TA(z = RandomCode<TA>(rng)));
    for (int& z : bzp) bv.push_back(TB(z = RandomCode<TB>(rng)));
    azp_t = Q<TA>({m}, av);
    bzp_t = Q<TB>({n}, bv);
  }
  KernelRun run;
  run.op = OpType::kMatMulInteger;
  run.inputs = {a, b, azp_t, bzp_t};
  std::vector<Tensor> y = RunAllPaths(run, 1);
  Shape shape;
  std::vector<int64_t> expect = NaiveMatMul(a, b, azp, bzp, &shape);
  ASSERT_EQ(y[0].shape(), shape) << ShapeToString(c.a) << " x " << ShapeToString(c.b);
  for (size_t i = 0; i < expect.size(); ++i) {
    ASSERT_EQ(y[0].data<int32_t>()[i], expect[i]) << i;
  }
}

TEST(MatMulInteger, OnnxExample) {
  KernelRun run;
  run.op = OpType::kMatMulInteger;
  run.inputs = {Q<uint8_t>({4, 3}, {11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0}),
                Q<uint8_t>({3, 2}, {1, 4, 2, 5, 3, 6}), S<uint8_t>(12), S<uint8_t>(0)};
  auto y = RunAllPaths(run, 1);
  EXPECT_EQ(Values<int32_t>(y[0]),
            (std::vector<int32_t>{-38, -83, -44, -98, -50, -113, -56, -128}));
}

TEST(MatMulInteger, EveryTypeCombinationAndShape) {
  std::mt19937 rng(3);
  const std::vector<MatMulCase> cases = {{{1, 1}, {1, 1}, 0},       {{3, 5}, {5, 7}, 1},
                                         {{7, 33}, {33, 9}, 2},     {{40, 70}, {70, 21}, 2},
                                         {{5}, {5, 3}, 1},          {{2, 5}, {5}, 1},
                                         {{2, 3, 4, 6}, {6, 5}, 2}, {{2, 1, 3, 4}, {3, 4, 2}, 1},
                                         {{4, 8}, {2, 8, 3}, 0},    {{1, 300}, {300, 130}, 2},
                                         {{0, 4}, {4, 3}, 0},       {{3, 0}, {0, 2}, 0}};
  for (const MatMulCase& c : cases) {
    CheckMatMulInteger<uint8_t, uint8_t>(rng, c);
    CheckMatMulInteger<uint8_t, int8_t>(rng, c);
    CheckMatMulInteger<int8_t, uint8_t>(rng, c);
    CheckMatMulInteger<int8_t, int8_t>(rng, c);
  }
}

TEST(MatMulInteger, Errors) {
  KernelRun run;
  run.op = OpType::kMatMulInteger;
  run.inputs = {Q<uint8_t>({2, 3}, {1, 2, 3, 4, 5, 6}), Q<uint8_t>({2, 2}, {1, 2, 3, 4})};
  EXPECT_NE(MustFail(run).find("inner dimensions"), std::string::npos);
  run.inputs = {Q<uint8_t>({2, 2}, {1, 2, 3, 4}), Q<uint8_t>({2, 2}, {1, 2, 3, 4}), S<int8_t>(1)};
  std::string message = MustFail(run);
  EXPECT_NE(message.find("a_zero_point has dtype int8"), std::string::npos) << message;
  EXPECT_NE(message.find("input A has dtype uint8"), std::string::npos) << message;
  run.inputs[2] = Q<uint8_t>({3}, {1, 2, 3});  // neither per tensor nor per row
  EXPECT_NE(MustFail(run).find("does not fit"), std::string::npos);
  run.inputs = {Q<float>({1, 1}, {1}), Q<uint8_t>({1, 1}, {1})};
  EXPECT_NE(MustFail(run).find("float32"), std::string::npos);
}

// --- QLinearMatMul ----------------------------------------------------------------------

TEST(QLinearMatMul, OnnxExample) {
  KernelRun run;
  run.op = OpType::kQLinearMatMul;
  run.inputs = {Q<uint8_t>({2, 4}, {208, 236, 0, 238, 3, 214, 255, 29}),
                S(0.0066f),
                S<uint8_t>(113),
                Q<uint8_t>({4, 3}, {152, 51, 244, 60, 26, 255, 0, 127, 246, 127, 254, 247}),
                S(0.00705f),
                S<uint8_t>(114),
                S(0.0107f),
                S<uint8_t>(118)};
  auto y = RunAllPaths(run, 3);
  EXPECT_EQ(Values<uint8_t>(y[0]), (std::vector<uint8_t>{168, 115, 255, 1, 66, 151}));
}

// The kernel scales the exact integer sum by one float multiplier (a_scale * b_scale / y_scale
// rounded to float) and rounds once; the composition dequantizes, sums in double and divides.
// Both are within a few ulps of the same real value, so they can only disagree when that value
// is within those ulps of a .5 boundary: at most one quantization step.
template <typename TA, typename TB, typename TY>
void CheckQLinearMatMul(std::mt19937& rng, const Shape& as, const Shape& bs, bool per_column) {
  Tensor a = RandomCodes<TA>(rng, as), b = RandomCodes<TB>(rng, bs);
  const int64_t k = as.back(), n = bs.back();
  const TA azp = RandomCode<TA>(rng);
  std::vector<float> b_scale(per_column ? size_t(n) : 1);
  std::vector<TB> bzp(b_scale.size());
  std::uniform_real_distribution<float> scale_dist(0.001f, 0.02f);
  for (size_t j = 0; j < b_scale.size(); ++j) {
    b_scale[j] = scale_dist(rng);
    bzp[j] = RandomCode<TB>(rng);
  }
  const float a_scale = 0.013f, y_scale = 0.05f * std::sqrt(float(k));
  const TY yzp = TY(std::is_signed_v<TY> ? 3 : 130);
  Shape scale_shape = per_column ? Shape{n} : Shape{};
  KernelRun run;
  run.op = OpType::kQLinearMatMul;
  run.inputs = {a,
                S(a_scale),
                S<TA>(azp),
                b,
                Tensor::FromVector<float>(scale_shape, b_scale),
                Tensor::FromVector<TB>(scale_shape, bzp),
                S(y_scale),
                S<TY>(yzp)};
  std::vector<Tensor> y = RunAllPaths(run, 3);
  std::vector<TY> expect;
  const int64_t rows = a.size() / k;
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      const size_t c = per_column ? size_t(j) : 0;
      double sum = 0;
      for (int64_t p = 0; p < k; ++p) {
        sum += double(a_scale) * (Code(a, i * k + p) - azp) * double(b_scale[c]) *
               (Code(b, p * n + j) - bzp[c]);
      }
      expect.push_back(QuantizeRef<TY>(sum, y_scale, yzp));
    }
  }
  EXPECT_LE(MaxCodeDiff(Values<TY>(y[0]), expect), 1) << ShapeToString(as) << ShapeToString(bs);
}

TEST(QLinearMatMul, MatchesFloatCompositionWithinOneStep) {
  std::mt19937 rng(17);
  const std::vector<std::pair<Shape, Shape>> shapes = {{{1, 1}, {1, 1}},
                                                       {{4, 9}, {9, 5}},
                                                       {{33, 64}, {64, 19}},
                                                       {{2, 3, 40}, {40, 7}},
                                                       {{1, 512}, {512, 70}}};
  for (const auto& [as, bs] : shapes) {
    for (bool per_column : {false, true}) {
      CheckQLinearMatMul<uint8_t, uint8_t, uint8_t>(rng, as, bs, per_column);
      CheckQLinearMatMul<uint8_t, int8_t, uint8_t>(rng, as, bs, per_column);
      CheckQLinearMatMul<int8_t, int8_t, int8_t>(rng, as, bs, per_column);
      CheckQLinearMatMul<int8_t, uint8_t, uint8_t>(rng, as, bs, per_column);
    }
  }
}

TEST(QLinearMatMul, PerRowScalesOfA) {
  // a per row: row 0 scale 1, row 1 scale 2 (zero points 0 and 1). b = identity, y scale 1.
  KernelRun run;
  run.op = OpType::kQLinearMatMul;
  run.inputs = {Q<uint8_t>({2, 2}, {3, 4, 5, 6}),
                F({2}, {1.0f, 2.0f}),
                Q<uint8_t>({2}, {0, 1}),
                Q<int8_t>({2, 2}, {1, 0, 0, 1}),
                S(1.0f),
                S<int8_t>(0),
                S(1.0f),
                S<uint8_t>(0)};
  auto y = RunAllPaths(run, 3);
  EXPECT_EQ(Values<uint8_t>(y[0]), (std::vector<uint8_t>{3, 4, 8, 10}));
}

// --- MatMulIntegerToFloat / DynamicQuantizeMatMul -----------------------------------------

TEST(MatMulIntegerToFloat, HandComputed) {
  // (A - 1) = {{0, 1}, {2, 3}}; B = {{1, -1}, {2, 0}}: sums {{2, 0}, {8, -2}}.
  // y = sum * 0.5 * b_scale[col] + bias[col], b_scale {1, 2}, bias {0.25, -1}.
  KernelRun run;
  run.op = OpType::kMsMatMulIntegerToFloat;
  run.opset = 1;
  run.inputs = {Q<uint8_t>({2, 2}, {1, 2, 3, 4}),
                Q<int8_t>({2, 2}, {1, -1, 2, 0}),
                S(0.5f),
                F({2}, {1.0f, 2.0f}),
                S<uint8_t>(1),
                Tensor(),
                F({2}, {0.25f, -1.0f})};
  auto y = RunAllPaths(run, 1);
  EXPECT_EQ(Values<float>(y[0]), (std::vector<float>{1.25f, -1.0f, 4.25f, -3.0f}));
}

TEST(DynamicQuantizeMatMul, CloseToFloatMatMul) {
  std::mt19937 rng(23);
  const int64_t m = 5, k = 48, n = 11;
  Tensor a = RandomFloats(rng, {m, k}, -2.0f, 1.0f);
  Tensor b = RandomCodes<int8_t>(rng, {k, n});
  Tensor bias = RandomFloats(rng, {n}, -1.0f, 1.0f);
  const float b_scale = 0.01f;
  KernelRun run;
  run.op = OpType::kMsDynamicQuantizeMatMul;
  run.opset = 1;
  run.inputs = {a, b, S(b_scale), S<int8_t>(0), bias};
  auto y = RunAllPaths(run, 1);
  // A is quantized with scale (max - min) / 255 = 3 / 255: each element is off by at most half
  // a step, so each output by at most that times sum_k |b|, plus float rounding.
  const double a_step = 3.0 / 255;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double exact = bias.data<float>()[j], bound = 1e-4;
      for (int64_t p = 0; p < k; ++p) {
        double bv = b_scale * Code(b, p * n + j);
        exact += a.data<float>()[i * k + p] * bv;
        bound += 0.5 * a_step * std::abs(bv);
      }
      EXPECT_NEAR(y[0].data<float>()[i * n + j], exact, bound);
    }
  }
}

// --- ConvInteger / QLinearConv ----------------------------------------------------------

TEST(ConvInteger, OnnxExamples) {
  KernelRun run;
  run.op = OpType::kConvInteger;
  run.inputs = {Q<uint8_t>({1, 1, 3, 3}, {2, 3, 4, 5, 6, 7, 8, 9, 10}),
                Q<uint8_t>({1, 1, 2, 2}, {1, 1, 1, 1}), S<uint8_t>(1)};
  auto y = RunAllPaths(run, 1);
  EXPECT_EQ(Values<int32_t>(y[0]), (std::vector<int32_t>{12, 16, 24, 28}));
  run.attributes = {IntsAttr("pads", {1, 1, 1, 1})};
  y = RunAllPaths(run, 1);
  EXPECT_EQ(y[0].shape(), (Shape{1, 1, 4, 4}));
  EXPECT_EQ(Values<int32_t>(y[0]),
            (std::vector<int32_t>{1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9}));
}

struct ConvCase {
  Shape x, w;
  std::vector<Attribute> attributes;
};

std::vector<ConvCase> ConvCases() {
  return {
      {{1, 3, 5, 5}, {4, 3, 3, 3}, {}},
      {{2, 4, 7, 6}, {6, 2, 3, 2}, {IntAttr("group", 2), IntsAttr("pads", {1, 0, 2, 1})}},
      {{1, 8, 9, 9}, {8, 1, 3, 3}, {IntAttr("group", 8), IntsAttr("pads", {1, 1, 1, 1})}},
      {{1, 6, 10, 11},
       {6, 1, 3, 3},
       {IntAttr("group", 6), IntsAttr("strides", {2, 2}), StringAttr("auto_pad", "SAME_UPPER")}},
      {{1, 4, 8, 8},
       {8, 2, 3, 3},
       {IntAttr("group", 2), IntsAttr("dilations", {2, 1}), IntsAttr("strides", {1, 3})}},
      {{2, 16, 6, 6}, {20, 16, 1, 1}, {}},
      {{1, 3, 17}, {5, 3, 4}, {IntsAttr("strides", {2}), IntsAttr("pads", {3, 1})}},
      {{1, 2, 9}, {2, 1, 3}, {IntAttr("group", 2)}},
      {{1, 2, 4, 5, 6}, {3, 2, 2, 3, 2}, {IntsAttr("pads", {1, 0, 1, 0, 1, 1})}},
      {{1, 64, 14, 14}, {40, 64, 3, 3}, {IntsAttr("pads", {1, 1, 1, 1})}},
      {{2, 5, 13, 17},
       {5, 1, 3, 2},
       {IntAttr("group", 5), IntsAttr("dilations", {2, 3}), IntsAttr("strides", {3, 2}),
        IntsAttr("pads", {2, 1, 0, 3})}},
      {{1, 3, 11, 40}, {3, 1, 2, 2}, {IntAttr("group", 3), IntsAttr("strides", {1, 9})}},
      {{1, 4, 3, 4, 5}, {4, 1, 2, 2, 2}, {IntAttr("group", 4)}},
      {{1, 1, 1, 1}, {1, 1, 1, 1}, {}},
  };
}

// Independent naive convolution (int64), returns the sums in NC... order.
std::vector<int64_t> NaiveConv(const Tensor& x, const Tensor& w, int xzp,
                               const std::vector<int>& wzp, const ConvGeometry& g) {
  const int rank = g.spatial_rank;
  const int64_t n_count = x.dim(0), c_count = x.dim(1), m_count = w.dim(0), cg = w.dim(1);
  const int64_t mg = m_count / g.group;
  int64_t out_image = 1, in_image = 1, ks = 1;
  for (int d = 0; d < rank; ++d) {
    out_image *= g.output_spatial[size_t(d)];
    in_image *= g.input_spatial[size_t(d)];
    ks *= g.kernel[size_t(d)];
  }
  std::vector<int64_t> out;
  for (int64_t n = 0; n < n_count; ++n) {
    for (int64_t m = 0; m < m_count; ++m) {
      for (int64_t o = 0; o < out_image; ++o) {
        int64_t sum = 0;
        for (int64_t c = 0; c < cg; ++c) {
          for (int64_t q = 0; q < ks; ++q) {
            int64_t orest = o, qrest = q, index = 0, scale = 1;
            bool inside = true;
            for (int d = rank - 1; d >= 0; --d) {
              size_t a = size_t(d);
              int64_t od = orest % g.output_spatial[a], kd = qrest % g.kernel[a];
              orest /= g.output_spatial[a];
              qrest /= g.kernel[a];
              int64_t coord = od * g.strides[a] - g.pads_begin[a] + kd * g.dilations[a];
              inside = inside && coord >= 0 && coord < g.input_spatial[a];
              index += coord * scale;
              scale *= g.input_spatial[a];
            }
            int64_t channel = (m / mg) * cg + c;
            int64_t xv = inside ? Code(x, (n * c_count + channel) * in_image + index) : xzp;
            sum += (xv - xzp) * (Code(w, (m * cg + c) * ks + q) - wzp[size_t(m)]);
          }
        }
        out.push_back(sum);
      }
    }
  }
  return out;
}

ConvGeometry Geometry(const ConvCase& c) {
  Node node;
  node.op_type = "Conv";
  node.attributes = c.attributes;
  auto g = ResolveConvGeometry(node, c.x, Shape(c.w.begin() + 2, c.w.end()), {});
  EXPECT_TRUE(g.ok());
  return *g;
}

template <typename TX, typename TW>
void CheckConvInteger(std::mt19937& rng, const ConvCase& c, bool per_channel) {
  Tensor x = RandomCodes<TX>(rng, c.x), w = RandomCodes<TW>(rng, c.w);
  const int xzp = RandomCode<TX>(rng);
  std::vector<int> wzp(static_cast<size_t>(c.w[0]), RandomCode<TW>(rng));
  std::vector<TW> wzp_codes;
  for (int& z : wzp) {
    if (per_channel) z = RandomCode<TW>(rng);
    wzp_codes.push_back(TW(z));
  }
  KernelRun run;
  run.op = OpType::kConvInteger;
  run.attributes = c.attributes;
  run.inputs = {x, w, S<TX>(TX(xzp)), per_channel ? Q<TW>({c.w[0]}, wzp_codes) : S<TW>(TW(wzp[0]))};
  auto y = RunAllPaths(run, 1);
  std::vector<int64_t> expect = NaiveConv(x, w, xzp, wzp, Geometry(c));
  ASSERT_EQ(y[0].size(), int64_t(expect.size())) << ShapeToString(c.x);
  for (size_t i = 0; i < expect.size(); ++i) {
    ASSERT_EQ(y[0].data<int32_t>()[i], expect[i]) << ShapeToString(c.x) << " at " << i;
  }
}

TEST(ConvInteger, FastEqualsReferenceEqualsNaive) {
  std::mt19937 rng(29);
  for (const ConvCase& c : ConvCases()) {
    CheckConvInteger<uint8_t, uint8_t>(rng, c, false);
    CheckConvInteger<uint8_t, int8_t>(rng, c, true);
    CheckConvInteger<int8_t, uint8_t>(rng, c, true);
    CheckConvInteger<int8_t, int8_t>(rng, c, false);
  }
}

TEST(QLinearConv, HandComputedWithTiesAndBias) {
  // (x - 10) * 2 = {0, 20, 40, 60}; multiplier 0.5 * 0.25 / 1 = 0.125: {0, 2.5, 5, 7.5}
  // -> {0, 2, 5, 8}. With bias 4: {0.5, 3, 5.5, 8} -> {0, 3, 6, 8}.
  KernelRun run;
  run.op = OpType::kQLinearConv;
  run.inputs = {Q<uint8_t>({1, 1, 2, 2}, {10, 20, 30, 40}),
                S(0.5f),
                S<uint8_t>(10),
                Q<int8_t>({1, 1, 1, 1}, {2}),
                S(0.25f),
                S<int8_t>(0),
                S(1.0f),
                S<uint8_t>(0)};
  EXPECT_EQ(Values<uint8_t>(RunAllPaths(run, 3)[0]), (std::vector<uint8_t>{0, 2, 5, 8}));
  run.inputs.push_back(Q<int32_t>({1}, {4}));
  EXPECT_EQ(Values<uint8_t>(RunAllPaths(run, 3)[0]), (std::vector<uint8_t>{0, 3, 6, 8}));
}

// Same one-step argument as for QLinearMatMul: one rounding of the exact sum times a float
// multiplier against a double-precision composition.
template <typename TX, typename TW>
void CheckQLinearConv(std::mt19937& rng, const ConvCase& c, bool per_channel) {
  Tensor x = RandomCodes<TX>(rng, c.x), w = RandomCodes<TW>(rng, c.w);
  const int64_t m = c.w[0];
  const int xzp = RandomCode<TX>(rng);
  // Per channel: scales and zero points differ per output channel; else one of each.
  std::vector<int> wzp(static_cast<size_t>(m), per_channel ? 0 : RandomCode<TW>(rng));
  std::vector<TW> wzp_codes(static_cast<size_t>(m));
  std::vector<float> w_scale(static_cast<size_t>(m));
  std::vector<int32_t> bias(static_cast<size_t>(m));
  std::uniform_real_distribution<float> scale_dist(0.002f, 0.02f);
  std::uniform_int_distribution<int32_t> bias_dist(-5000, 5000);
  for (int64_t j = 0; j < m; ++j) {
    w_scale[size_t(j)] = per_channel ? scale_dist(rng) : 0.01f;
    if (per_channel) wzp[size_t(j)] = RandomCode<TW>(rng);
    wzp_codes[size_t(j)] = TW(wzp[size_t(j)]);
    bias[size_t(j)] = bias_dist(rng);
  }
  int64_t fan_in = 1;
  for (size_t d = 1; d < c.w.size(); ++d) fan_in *= c.w[d];
  const float x_scale = 0.02f, y_scale = 0.03f * std::sqrt(float(fan_in));
  const TX yzp = TX(std::is_signed_v<TX> ? -7 : 120);
  KernelRun run;
  run.op = OpType::kQLinearConv;
  run.attributes = c.attributes;
  Tensor w_zp = per_channel ? Q<TW>({m}, wzp_codes) : S<TW>(wzp_codes[0]);
  Tensor w_scales = per_channel ? F({m}, w_scale) : S(w_scale[0]);
  run.inputs = {x,          S(x_scale), S<TX>(TX(xzp)),       w, w_scales, w_zp,
                S(y_scale), S<TX>(yzp), Q<int32_t>({m}, bias)};
  auto y = RunAllPaths(run, 3);
  std::vector<int64_t> sums = NaiveConv(x, w, xzp, wzp, Geometry(c));
  const int64_t image = int64_t(sums.size()) / (c.x[0] * m);
  std::vector<TX> expect;
  for (size_t i = 0; i < sums.size(); ++i) {
    const size_t channel = size_t((int64_t(i) / image) % m);
    double real = double(x_scale) * w_scale[channel] * double(sums[i] + bias[channel]);
    expect.push_back(QuantizeRef<TX>(real, y_scale, yzp));
  }
  EXPECT_LE(MaxCodeDiff(Values<TX>(y[0]), expect), 1) << ShapeToString(c.x);
}

TEST(QLinearConv, MatchesFloatCompositionWithinOneStep) {
  std::mt19937 rng(31);
  for (const ConvCase& c : ConvCases()) {
    CheckQLinearConv<uint8_t, int8_t>(rng, c, true);
    CheckQLinearConv<uint8_t, uint8_t>(rng, c, false);
    CheckQLinearConv<int8_t, int8_t>(rng, c, true);
    CheckQLinearConv<int8_t, uint8_t>(rng, c, false);
  }
}

TEST(QLinearConv, Errors) {
  KernelRun run;
  run.op = OpType::kQLinearConv;
  run.inputs = {Q<uint8_t>({1, 4, 3, 3}, std::vector<uint8_t>(36, 1)),
                S(1.0f),
                S<uint8_t>(0),
                Q<int8_t>({2, 2, 1, 1}, {1, 1, 1, 1}),
                F({3}, {1, 1, 1}),
                S<int8_t>(0),
                S(1.0f),
                S<uint8_t>(0)};
  EXPECT_NE(MustFail(run).find("group 1 does not fit"), std::string::npos);
  run.attributes = {IntAttr("group", 2)};
  EXPECT_NE(MustFail(run).find("w_scale has 3 values"), std::string::npos);
  run.inputs[4] = S(1.0f);
  run.inputs[5] = S<uint8_t>(0);
  std::string message = MustFail(run);
  EXPECT_NE(message.find("w_zero_point has dtype uint8"), std::string::npos) << message;
  EXPECT_NE(message.find("input w has dtype int8"), std::string::npos) << message;
  run.inputs[5] = S<int8_t>(0);
  run.inputs.push_back(Q<int32_t>({3}, {1, 2, 3}));
  EXPECT_NE(MustFail(run).find("bias B has shape [3]"), std::string::npos);
  run.inputs.pop_back();
  run.inputs[0] = Q<uint8_t>({4, 3, 3}, std::vector<uint8_t>(36, 1));
  EXPECT_NE(MustFail(run).find("rank"), std::string::npos);
}

// Hostile inputs: each must fail with a message naming the node, never crash.
TEST(QuantizedKernels, BadInputsFailCleanly) {
  auto u8 = [](Shape shape) { return Tensor(DataType::kUint8, std::move(shape)); };
  auto i8 = [](Shape shape) { return Tensor(DataType::kInt8, std::move(shape)); };
  std::vector<KernelRun> runs;
  auto add = [&](OpType op, std::vector<Tensor> inputs, std::vector<Attribute> attrs = {}) {
    KernelRun run;
    run.op = op;
    run.opset = GetOpInfo(op).domain[0] ? 1 : 13;
    run.inputs = std::move(inputs);
    run.attributes = std::move(attrs);
    runs.push_back(run);
  };
  add(OpType::kMatMulInteger, {u8({}), u8({2})});               // rank 0
  add(OpType::kMatMulInteger, {u8({2, 3, 4}), u8({5, 4, 2})});  // batch mismatch
  add(OpType::kMatMulInteger, {u8({2, 3}), Tensor()});          // missing B
  add(OpType::kQLinearMatMul, {u8({2, 3}), S(1.0f), S<uint8_t>(0), u8({3, 2}), Tensor(),
                               S<uint8_t>(0), S(1.0f), S<uint8_t>(0)});  // missing b_scale
  add(OpType::kQLinearMatMul, {u8({2, 3}), F({2}, {1, 1}), S<uint8_t>(0), u8({3, 2}), S(1.0f),
                               S<uint8_t>(0), F({2}, {1, 1}), S<uint8_t>(0)});  // y_scale 1-D
  add(OpType::kMsMatMulIntegerToFloat, {u8({2, 3}), i8({3, 2}), S(1.0f), S(1.0f), Tensor(),
                                        Tensor(), F({3}, {1, 2, 3})});       // bias length
  add(OpType::kMsDynamicQuantizeMatMul, {u8({2, 3}), i8({3, 2}), S(1.0f)});  // A not float
  add(OpType::kConvInteger, {u8({1, 1, 2, 2}), u8({1, 1, 3, 3})});           // kernel > input
  add(OpType::kConvInteger, {u8({1, 2, 4, 4}), u8({1, 2, 3})});              // weight rank
  add(OpType::kConvInteger,
      {u8({1, 2, 4, 4}), u8({3, 2, 1, 1}), S<uint8_t>(0), Q<uint8_t>({2}, {0, 0})});  // w_zp length
  add(OpType::kConvInteger, {u8({1, 2, 4, 4}), u8({2, 2, 1, 1}), Q<uint8_t>({2}, {0, 0})});
  add(OpType::kConvInteger, {u8({1, 2, 4, 4}), u8({2, 2, 1, 1})},
      {IntsAttr("strides", {0, 1})});  // bad stride
  add(OpType::kMsQLinearConcat, {S(1.0f), S<uint8_t>(0)}, {IntAttr("axis", 0)});
  add(OpType::kMsQLinearConcat, {S(1.0f), S<uint8_t>(0), u8({2}), S(1.0f), S<uint8_t>(0)},
      {IntAttr("axis", 1)});  // axis range
  add(OpType::kMsQLinearAveragePool, {u8({1, 1, 4, 4}), S(1.0f), Tensor(), S(1.0f)});
  add(OpType::kMsQLinearAveragePool, {u8({4, 4}), S(1.0f), Tensor(), S(1.0f)},
      {IntsAttr("kernel_shape", {2})});
  add(OpType::kMsQLinearGlobalAveragePool, {u8({4, 4}), S(1.0f), Tensor(), S(1.0f)});
  add(OpType::kMsQLinearSigmoid, {u8({4}), S(1.0f), Tensor(), Tensor()});  // no Y_scale
  add(OpType::kMsQLinearAdd,
      {u8({2}), F({2}, {1, 2}), Tensor(), u8({2}), S(1.0f), Tensor(), S(1.0f)});  // A_scale 1-D
  add(OpType::kDequantizeLinear, {u8({}), F({2}, {1, 2}), Q<uint8_t>({2}, {0, 0})});
  add(OpType::kQuantizeLinear, {F({2}, {1, 2}), F({1, 2}, {1, 2})});  // 2-D scale
  for (const KernelRun& run : runs) {
    std::string message = MustFail(run);
    EXPECT_NE(message.find("under_test"), std::string::npos)
        << OpTypeName(run.op) << ": " << message;
  }
}

TEST(QuantizedKernels, EmptyTensors) {
  KernelRun run;
  run.op = OpType::kQuantizeLinear;
  run.inputs = {Tensor(DataType::kFloat32, {0, 3}), S(1.0f), S<int8_t>(0)};
  EXPECT_EQ(MustRun(run)[0].shape(), (Shape{0, 3}));
  run.op = OpType::kDynamicQuantizeLinear;
  run.inputs = {Tensor(DataType::kFloat32, {0})};
  run.num_outputs = 3;
  EXPECT_EQ(MustRun(run)[2].data<uint8_t>()[0], 0);
  run = KernelRun();
  run.op = OpType::kQLinearConv;
  run.inputs = {Tensor(DataType::kUint8, {0, 2, 3, 3}),
                S(1.0f),
                S<uint8_t>(0),
                Tensor(DataType::kInt8, {4, 2, 1, 1}),
                S(1.0f),
                S<int8_t>(0),
                S(1.0f),
                S<uint8_t>(0)};
  EXPECT_EQ(RunAllPaths(run, 3)[0].shape(), (Shape{0, 4, 3, 3}));
  run = KernelRun();
  run.op = OpType::kMsQLinearAdd;
  run.opset = 1;
  run.inputs = {Tensor(DataType::kUint8, {0, 4}),
                S(1.0f),
                Tensor(),
                Tensor(DataType::kUint8, {4}),
                S(1.0f),
                Tensor(),
                S(1.0f)};
  EXPECT_EQ(MustRun(run)[0].shape(), (Shape{0, 4}));
}

}  // namespace
}  // namespace shrink::engine::testing
