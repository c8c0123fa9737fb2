// Tests of the nn kernel group: Conv / ConvTranspose fast paths against the direct reference
// over many random shapes (fixed seed), hand-computed cases, pooling edge cases,
// normalization, and errors on bad input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "engine/kernels/kernel_test_util.h"
#include "engine/kernels/nn_internal.h"

namespace shrink::engine {
namespace {

using testing::FloatAttr;
using testing::FloatsAttr;
using ::testing::HasSubstr;
using testing::IntAttr;
using testing::IntsAttr;
using testing::KernelRun;
using testing::RunKernel;
using testing::StringAttr;

Tensor Random(Shape shape, std::mt19937* rng) {
  Tensor t(DataType::kFloat32, std::move(shape));
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int64_t i = 0; i < t.size(); ++i) t.data<float>()[i] = dist(*rng);
  return t;
}

Tensor Abs(const Tensor& t) {
  Tensor out = t.Clone();
  for (int64_t i = 0; i < out.size(); ++i) out.data<float>()[i] = std::fabs(out.data<float>()[i]);
  return out;
}

Tensor Floats(Shape shape, std::vector<float> values) {
  return Tensor::FromVector<float>(std::move(shape), values);
}

std::vector<float> Values(const Tensor& t) {
  std::vector<float> v(size_t(t.size()));
  for (int64_t i = 0; i < t.size(); ++i) v[size_t(i)] = float(t.GetAsDouble(i));
  return v;
}

// Runs `run` on the fast path (1 and 2 threads, weights constant or not) and on the reference,
// and compares each output element with the float accumulation bound
// 2 * terms * eps * sum|w * x| (sum|w * x| is the reference run on absolute values).
void ExpectFastMatchesReference(KernelRun run, int64_t terms, const std::string& what) {
  run.reference = true;
  auto expected = RunKernel(run);
  ASSERT_TRUE(expected.ok()) << what << ": " << expected.status().ToString();
  KernelRun abs_run = run;
  for (Tensor& t : abs_run.inputs) {
    if (t.defined()) t = Abs(t);
  }
  auto bound = RunKernel(abs_run);
  ASSERT_TRUE(bound.ok()) << what;
  const double eps = std::numeric_limits<float>::epsilon();
  for (int variant = 0; variant < 3; ++variant) {
    KernelRun fast = run;
    fast.reference = false;
    fast.threads = variant == 0 ? 1 : 2;
    if (variant == 2) fast.constant_inputs = {1, 2};
    auto got = RunKernel(fast);
    ASSERT_TRUE(got.ok()) << what << ": " << got.status().ToString();
    const Tensor& y = (*got)[0];
    const Tensor& want = (*expected)[0];
    ASSERT_EQ(y.shape(), want.shape()) << what;
    for (int64_t i = 0; i < y.size(); ++i) {
      const double tolerance =
          2.0 * double(terms + 1) * eps * bound->at(0).data<float>()[i] + 1e-30;
      ASSERT_NEAR(y.data<float>()[i], want.data<float>()[i], tolerance)
          << what << " (variant " << variant << ") at element " << i;
    }
  }
}

// A random convolution description; Build() makes the kernel run.
struct ConvCase {
  int rank = 2;
  int64_t batch = 1, in_channels = 4, out_channels = 4, group = 1;
  std::vector<int64_t> input, kernel, strides, dilations, pads, output_padding, output_shape;
  std::string auto_pad;
  bool bias = true;
  bool transposed = false;

  std::string Describe() const {
    std::string s = transposed ? "ConvTranspose" : "Conv";
    s += " N" + std::to_string(batch) + " C" + std::to_string(in_channels) + " M" +
         std::to_string(out_channels) + " g" + std::to_string(group) + " in" +
         ShapeToString(input) + " k" + ShapeToString(kernel) + " s" + ShapeToString(strides) +
         " d" + ShapeToString(dilations) + " p" + ShapeToString(pads) + " " + auto_pad +
         (bias ? " bias" : "");
    if (!output_padding.empty()) s += " op" + ShapeToString(output_padding);
    if (!output_shape.empty()) s += " os" + ShapeToString(output_shape);
    return s;
  }

  KernelRun Build(std::mt19937* rng) const {
    KernelRun run;
    run.op = transposed ? OpType::kConvTranspose : OpType::kConv;
    Shape x = {batch, in_channels};
    x.insert(x.end(), input.begin(), input.end());
    Shape w = transposed ? Shape{in_channels, out_channels / group}
                         : Shape{out_channels, in_channels / group};
    w.insert(w.end(), kernel.begin(), kernel.end());
    run.inputs = {Random(x, rng), Random(w, rng)};
    if (bias) run.inputs.push_back(Random({out_channels}, rng));
    run.attributes.push_back(IntAttr("group", group));
    if (!strides.empty()) run.attributes.push_back(IntsAttr("strides", strides));
    if (!dilations.empty()) run.attributes.push_back(IntsAttr("dilations", dilations));
    if (!pads.empty()) run.attributes.push_back(IntsAttr("pads", pads));
    if (!auto_pad.empty()) run.attributes.push_back(StringAttr("auto_pad", auto_pad));
    if (!output_padding.empty())
      run.attributes.push_back(IntsAttr("output_padding", output_padding));
    if (!output_shape.empty()) run.attributes.push_back(IntsAttr("output_shape", output_shape));
    return run;
  }

  int64_t Terms() const {
    int64_t taps = 1;
    for (int64_t k : kernel) taps *= k;
    return (transposed ? in_channels / group : in_channels / group) * taps;
  }
};

int64_t Pick(std::mt19937* rng, std::vector<int64_t> choices) {
  return choices[std::uniform_int_distribution<size_t>(0, choices.size() - 1)(*rng)];
}

// Random Conv over the paths: pointwise, depthwise (with multiplier), shifted GEMM, im2col,
// thin GEMM, any rank; the kernel always fits the padded input.
ConvCase RandomConv(std::mt19937* rng) {
  ConvCase c;
  c.rank = int(Pick(rng, {1, 2, 2, 2, 2, 3}));
  c.batch = Pick(rng, {1, 1, 2});
  const int64_t kind = Pick(rng, {0, 1, 2, 3, 4});  // dense, depthwise, grouped, pointwise, wide
  const int64_t channels = Pick(rng, {1, 3, 8, 16, 20});
  c.group = 1;
  c.in_channels = channels;
  c.out_channels = Pick(rng, {1, 4, 6, 17});
  if (kind == 1) {
    c.group = c.in_channels = Pick(rng, {2, 5, 16});
    c.out_channels = c.group * Pick(rng, {1, 1, 2});
  } else if (kind == 2) {
    c.group = Pick(rng, {2, 3});
    c.in_channels = c.group * Pick(rng, {1, 2, 9});
    c.out_channels = c.group * Pick(rng, {1, 3});
  } else if (kind == 4) {
    c.in_channels = Pick(rng, {40, 72});
  }
  c.bias = Pick(rng, {0, 1, 1}) == 1;
  const bool pointwise = kind == 3;
  for (int a = 0; a < c.rank; ++a) {
    const int64_t extent =
        c.rank == 3 ? Pick(rng, {3, 5, 6}) : Pick(rng, {1, 4, 7, 12, 19, 33, 70});
    int64_t k = pointwise ? 1 : Pick(rng, {1, 2, 3, 3, 5});
    int64_t s = pointwise ? 1 : Pick(rng, {1, 1, 2, 3});
    int64_t d = pointwise ? 1 : Pick(rng, {1, 1, 1, 2});
    int64_t pb = pointwise ? 0 : Pick(rng, {0, 1, 2}), pe = pointwise ? 0 : Pick(rng, {0, 1, 2});
    // Keep the (dilated) kernel inside the padded input.
    while (d * (k - 1) + 1 > extent + pb + pe) {
      if (d > 1) {
        d = 1;
      } else {
        --k;
      }
    }
    c.input.push_back(extent);
    c.kernel.push_back(k);
    c.strides.push_back(s);
    c.dilations.push_back(d);
    c.pads.push_back(pb);
    c.pads.push_back(pe);
  }
  // pads lists all begins, then all ends.
  std::vector<int64_t> pads(size_t(2 * c.rank));
  for (int a = 0; a < c.rank; ++a) {
    pads[size_t(a)] = c.pads[size_t(2 * a)];
    pads[size_t(c.rank + a)] = c.pads[size_t(2 * a + 1)];
  }
  c.pads = pads;
  const int64_t auto_pad = Pick(rng, {0, 0, 0, 0, 1, 2, 3});
  if (auto_pad > 0) {
    c.pads.clear();
    c.auto_pad = auto_pad == 1 ? "SAME_UPPER" : (auto_pad == 2 ? "SAME_LOWER" : "VALID");
    if (auto_pad == 3) {
      for (int a = 0; a < c.rank; ++a) {
        while (c.dilations[size_t(a)] * (c.kernel[size_t(a)] - 1) + 1 > c.input[size_t(a)]) {
          c.dilations[size_t(a)] = 1;
          c.kernel[size_t(a)] = std::min(c.kernel[size_t(a)], c.input[size_t(a)]);
        }
      }
    }
  }
  return c;
}

TEST(ConvTest, FastMatchesReferenceOnRandomShapes) {
  std::mt19937 rng(20240611);
  for (int i = 0; i < 300; ++i) {
    const ConvCase c = RandomConv(&rng);
    ExpectFastMatchesReference(c.Build(&rng), c.Terms(),
                               "case " + std::to_string(i) + ": " + c.Describe());
  }
}

// Every fast path and kernel variant on shapes from the target models.
void CheckModelShapes() {
  std::mt19937 rng(7);
  struct Shape2D {
    int64_t c, m, h, w, k, s, p, g;
  };
  const Shape2D shapes[] = {
      {3, 16, 40, 40, 3, 2, 1, 1},   {16, 16, 33, 70, 3, 1, 1, 16}, {16, 16, 40, 37, 3, 2, 1, 16},
      {24, 24, 20, 20, 5, 1, 2, 24}, {24, 24, 21, 21, 5, 2, 2, 24}, {24, 24, 8, 8, 3, 1, 1, 24},
      {16, 32, 20, 20, 1, 1, 0, 1},  {96, 24, 20, 20, 3, 1, 1, 1},  {24, 24, 18, 16, 3, 1, 0, 1},
      {3, 24, 32, 32, 5, 2, 1, 1},   {28, 28, 16, 16, 3, 2, 0, 28}, {8, 8, 13, 9, 3, 1, 1, 8},
      {64, 64, 4, 4, 1, 1, 0, 1},    {96, 96, 8, 8, 1, 1, 0, 1},    {70, 12, 9, 9, 1, 1, 0, 1},
      {12, 20, 3, 5, 3, 1, 1, 1},    {40, 40, 5, 70, 3, 1, 1, 40},  {10, 10, 2, 2, 3, 1, 1, 10},
  };
  for (const Shape2D& s : shapes) {
    ConvCase c;
    c.in_channels = s.c;
    c.out_channels = s.m;
    c.group = s.g;
    c.input = {s.h, s.w};
    c.kernel = {s.k, s.k};
    c.strides = {s.s, s.s};
    c.pads = {s.p, s.p, s.p, s.p};
    ExpectFastMatchesReference(c.Build(&rng), c.Terms(), c.Describe());
  }
  // Kx1 and 1xK kernels as in the audio model (Kx1 unpadded runs in place).
  for (int64_t vertical = 0; vertical < 2; ++vertical) {
    ConvCase c;
    c.in_channels = c.out_channels = 24;
    c.input = {14, 6};
    c.kernel = vertical ? std::vector<int64_t>{3, 1} : std::vector<int64_t>{1, 3};
    c.pads = vertical ? std::vector<int64_t>{0, 0, 0, 0} : std::vector<int64_t>{0, 1, 0, 1};
    ExpectFastMatchesReference(c.Build(&rng), c.Terms(), c.Describe());
  }
}

TEST(ConvTest, FastMatchesReferenceOnModelShapes) { CheckModelShapes(); }

// The SIMD kernels exist for AVX-512, AVX2 and plain C++; each one the CPU can run is checked,
// so a machine with AVX-512 still tests the AVX2 and portable code.
TEST(ConvTest, FastMatchesReferenceOnEverySimdIsa) {
  int checked = 0;
  for (ConvSimdIsa isa : {ConvSimdIsa::kAvx512, ConvSimdIsa::kAvx2, ConvSimdIsa::kPortable}) {
    if (!SetConvSimdIsaForTesting(isa)) continue;
    ++checked;
    SCOPED_TRACE("isa " + std::to_string(int(isa)));
    CheckModelShapes();
    std::mt19937 rng(99);
    for (int i = 0; i < 60; ++i) {
      const ConvCase c = RandomConv(&rng);
      ExpectFastMatchesReference(c.Build(&rng), c.Terms(), c.Describe());
    }
  }
  EXPECT_TRUE(SetConvSimdIsaForTesting(ConvSimdIsa::kAuto));
  EXPECT_GE(checked, 1);  // the portable kernels always run
}

TEST(ConvTest, FastPathSelection) {
  Node node;
  node.op = OpType::kConv;
  auto shape = [&](Shape x, Shape w, std::vector<int64_t> strides) {
    node.attributes = {IntsAttr("strides", strides), IntAttr("group", x[1] / w[1])};
    return ResolveConvShape(node, x, w, nullptr, false).value();
  };
  EXPECT_EQ(SelectConvPath(shape({1, 8, 5, 5}, {4, 8, 1, 1}, {1, 1})), ConvPath::kPointwise);
  EXPECT_EQ(SelectConvPath(shape({1, 8, 5, 5}, {8, 1, 3, 3}, {2, 2})), ConvPath::kDepthwise);
  EXPECT_EQ(SelectConvPath(shape({1, 8, 9, 9}, {8, 8, 3, 3}, {1, 1})), ConvPath::kShifted);
  EXPECT_EQ(SelectConvPath(shape({1, 8, 5, 5}, {8, 8, 3, 3}, {2, 2})), ConvPath::kIm2col);
  EXPECT_EQ(SelectConvPath(shape({1, 3, 5, 5}, {8, 3, 3, 3}, {1, 1})), ConvPath::kIm2col);
  EXPECT_EQ(SelectConvPath(shape({1, 8, 5, 9}, {8, 1, 3, 3}, {1, 3})), ConvPath::kIm2col);
}

// A random ConvTranspose: strides, dilations, pads, output_padding or output_shape, groups.
ConvCase RandomConvTranspose(std::mt19937* rng) {
  ConvCase c;
  c.transposed = true;
  c.rank = int(Pick(rng, {1, 2, 2, 2, 3}));
  c.batch = Pick(rng, {1, 2});
  c.group = Pick(rng, {1, 1, 2});
  c.in_channels = c.group * Pick(rng, {1, 3, 8, 40});
  c.out_channels = c.group * Pick(rng, {1, 2, 5});
  c.bias = Pick(rng, {0, 1}) == 1;
  const int64_t mode = Pick(rng, {0, 0, 1, 2, 3});  // pads, output_padding, output_shape, SAME
  std::vector<int64_t> begins, ends;
  for (int a = 0; a < c.rank; ++a) {
    const int64_t extent = c.rank == 3 ? Pick(rng, {2, 4}) : Pick(rng, {1, 3, 6, 17, 40});
    const int64_t k = Pick(rng, {1, 2, 3, 4}), s = Pick(rng, {1, 2, 3}), d = Pick(rng, {1, 1, 2});
    c.input.push_back(extent);
    c.kernel.push_back(k);
    c.strides.push_back(s);
    c.dilations.push_back(d);
    const int64_t full = s * (extent - 1) + d * (k - 1) + 1;
    const int64_t pb = std::min<int64_t>(Pick(rng, {0, 0, 1}), (full - 1) / 2);
    const int64_t pe = std::min<int64_t>(Pick(rng, {0, 1}), (full - 1) / 2);
    begins.push_back(pb);
    ends.push_back(pe);
    if (mode == 1) c.output_padding.push_back(std::min<int64_t>(Pick(rng, {0, 1}), s - 1));
    if (mode == 2) c.output_shape.push_back(full + Pick(rng, {-1, 0, 0}) * (full > 1 ? 1 : 0));
  }
  if (mode == 0 || mode == 1) {
    c.pads = begins;
    c.pads.insert(c.pads.end(), ends.begin(), ends.end());
  }
  if (mode == 3) c.auto_pad = Pick(rng, {0, 1}) ? "SAME_UPPER" : "SAME_LOWER";
  return c;
}

TEST(ConvTransposeTest, FastMatchesReferenceOnRandomShapes) {
  std::mt19937 rng(99);
  for (int i = 0; i < 200; ++i) {
    const ConvCase c = RandomConvTranspose(&rng);
    // Each output sums at most in_per_group * taps products.
    ExpectFastMatchesReference(c.Build(&rng), c.Terms(),
                               "case " + std::to_string(i) + ": " + c.Describe());
  }
}

TEST(ConvTransposeTest, FastMatchesReferenceOnUpsampling) {
  std::mt19937 rng(5);
  for (int64_t m : {1, 24}) {  // the OCR model's 2x2 / stride 2 heads
    ConvCase c;
    c.transposed = true;
    c.in_channels = 24;
    c.out_channels = m;
    c.input = {20, 20};
    c.kernel = {2, 2};
    c.strides = {2, 2};
    ExpectFastMatchesReference(c.Build(&rng), c.Terms(), c.Describe());
  }
}

// --- hand-computed cases ----------------------------------------------------------------------

TEST(ConvTest, HandComputed2x2OnPaddedInput) {
  // x = [[1, 2], [3, 4]], w = [[1, 0], [0, -1]], pads 1 on every side, bias 10.
  KernelRun run;
  run.op = OpType::kConv;
  run.inputs = {Floats({1, 1, 2, 2}, {1, 2, 3, 4}), Floats({1, 1, 2, 2}, {1, 0, 0, -1}),
                Floats({1}, {10})};
  run.attributes = {IntsAttr("pads", {1, 1, 1, 1})};
  for (bool reference : {false, true}) {
    run.reference = reference;
    auto y = RunKernel(run);
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    EXPECT_EQ((*y)[0].shape(), (Shape{1, 1, 3, 3}));
    // y[i][j] = xp[i][j] - xp[i+1][j+1] + 10 with xp the zero-padded input.
    EXPECT_THAT(Values((*y)[0]), ::testing::ElementsAre(9, 8, 10, 7, 7, 12, 10, 13, 14));
  }
}

TEST(ConvTest, HandComputedGroupedStrided1D) {
  // Two groups of one channel, kernel [1, 1], stride 2: y[g][i] = x[g][2i] + x[g][2i + 1].
  KernelRun run;
  run.op = OpType::kConv;
  run.inputs = {Floats({1, 2, 5}, {1, 2, 3, 4, 5, 10, 20, 30, 40, 50}),
                Floats({2, 1, 2}, {1, 1, 1, 1})};
  run.attributes = {IntAttr("group", 2), IntsAttr("strides", {2})};
  auto y = RunKernel(run);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ((*y)[0].shape(), (Shape{1, 2, 2}));
  EXPECT_THAT(Values((*y)[0]), ::testing::ElementsAre(3, 7, 30, 70));
}

TEST(ConvTransposeTest, HandComputedStride2) {
  // x = [1, 2], w = [1, 10, 100], stride 2: y = [1, 10, 100 + 2, 20, 200].
  KernelRun run;
  run.op = OpType::kConvTranspose;
  run.inputs = {Floats({1, 1, 2}, {1, 2}), Floats({1, 1, 3}, {1, 10, 100})};
  run.attributes = {IntsAttr("strides", {2})};
  for (bool reference : {false, true}) {
    run.reference = reference;
    auto y = RunKernel(run);
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    EXPECT_THAT(Values((*y)[0]), ::testing::ElementsAre(1, 10, 102, 20, 200));
  }
  // output_padding adds a trailing output that only gets the bias.
  run.attributes.push_back(IntsAttr("output_padding", {1}));
  run.inputs.push_back(Floats({1}, {0.5f}));
  run.reference = false;
  auto y = RunKernel(run);
  ASSERT_TRUE(y.ok());
  EXPECT_THAT(Values((*y)[0]), ::testing::ElementsAre(1.5, 10.5, 102.5, 20.5, 200.5, 0.5));
}

TEST(ConvTest, Float16MatchesFloat) {
  std::mt19937 rng(3);
  ConvCase c;
  c.in_channels = 8;
  c.out_channels = 4;
  c.input = {6, 6};
  c.kernel = {3, 3};
  c.pads = {1, 1, 1, 1};
  KernelRun run = c.Build(&rng);
  KernelRun half = run;
  for (size_t j = 0; j < run.inputs.size(); ++j) {
    // Round the float inputs to float16 so both runs see the same values.
    Tensor rounded = run.inputs[j].Clone();
    Tensor h(DataType::kFloat16, rounded.shape());
    for (int64_t i = 0; i < rounded.size(); ++i) {
      h.data<Float16>()[i].bits = FloatToHalf(rounded.data<float>()[i]);
      rounded.data<float>()[i] = HalfToFloat(h.data<Float16>()[i].bits);
    }
    run.inputs[j] = rounded;
    half.inputs[j] = h;
  }
  auto want = RunKernel(run);
  auto got = RunKernel(half);
  ASSERT_TRUE(want.ok() && got.ok());
  ASSERT_EQ((*got)[0].dtype(), DataType::kFloat16);
  for (int64_t i = 0; i < (*want)[0].size(); ++i) {
    const float w = (*want)[0].data<float>()[i];
    // One float16 rounding of the float result.
    EXPECT_NEAR(HalfToFloat((*got)[0].data<Float16>()[i].bits), w, std::fabs(w) * 1e-3 + 1e-4);
  }
}

// --- bad input ----------------------------------------------------------------------------------

TEST(ConvTest, ChannelMismatchNamesBothShapes) {
  KernelRun run;
  run.op = OpType::kConv;
  run.inputs = {Tensor(DataType::kFloat32, {1, 3, 5, 5}), Tensor(DataType::kFloat32, {4, 2, 3, 3})};
  auto y = RunKernel(run);
  ASSERT_FALSE(y.ok());
  EXPECT_THAT(y.status().message(), HasSubstr("[1,3,5,5]"));
  EXPECT_THAT(y.status().message(), HasSubstr("[4,2,3,3]"));
}

TEST(ConvTest, KernelLargerThanPaddedInput) {
  KernelRun run;
  run.op = OpType::kConv;
  run.inputs = {Tensor(DataType::kFloat32, {1, 1, 2, 2}), Tensor(DataType::kFloat32, {1, 1, 4, 4})};
  run.attributes = {IntsAttr("pads", {0, 0, 1, 1})};
  auto y = RunKernel(run);
  ASSERT_FALSE(y.ok());
  EXPECT_THAT(y.status().message(), HasSubstr("larger than the padded input"));
}

TEST(ConvTest, RejectsBadShapesAndTypes) {
  auto run_conv = [](std::vector<Tensor> inputs, std::vector<Attribute> attributes = {}) {
    KernelRun run;
    run.op = OpType::kConv;
    run.inputs = std::move(inputs);
    run.attributes = std::move(attributes);
    return RunKernel(run).status();
  };
  const Tensor x(DataType::kFloat32, {1, 2, 4, 4});
  EXPECT_FALSE(run_conv({x, Tensor(DataType::kFloat32, {2, 2, 3})}).ok());  // rank
  EXPECT_FALSE(
      run_conv({x, Tensor(DataType::kFloat32, {2, 2, 3, 3}), Tensor(DataType::kFloat32, {3})})
          .ok());  // bias size
  EXPECT_FALSE(run_conv({x, Tensor(DataType::kFloat32, {3, 1, 3, 3})}, {IntAttr("group", 2)})
                   .ok());  // 3 outputs, 2 groups
  EXPECT_FALSE(
      run_conv({x, Tensor(DataType::kFloat32, {2, 2, 3, 3})}, {IntsAttr("kernel_shape", {2, 2})})
          .ok());
  EXPECT_FALSE(
      run_conv({x, Tensor(DataType::kFloat32, {2, 2, 3, 3})}, {IntsAttr("strides", {0, 1})}).ok());
  EXPECT_FALSE(
      run_conv({Tensor(DataType::kInt32, {1, 2, 4, 4}), Tensor(DataType::kInt32, {2, 2, 3, 3})})
          .ok());
  EXPECT_FALSE(run_conv({x}).ok());  // missing W
  KernelRun transposed;
  transposed.op = OpType::kConvTranspose;
  transposed.inputs = {x, Tensor(DataType::kFloat32, {3, 2, 3, 3})};
  EXPECT_THAT(RunKernel(transposed).status().message(), HasSubstr("[3,2,3,3]"));
}

// --- pooling ------------------------------------------------------------------------------------

StatusOr<std::vector<Tensor>> Pool(OpType op, Tensor x, std::vector<Attribute> attributes,
                                   int outputs = 1) {
  KernelRun run;
  run.op = op;
  run.inputs = {std::move(x)};
  run.attributes = std::move(attributes);
  run.num_outputs = outputs;
  return RunKernel(run);
}

// 4x4 input 0..15.
Tensor Ramp4x4() {
  std::vector<float> v(16);
  for (int i = 0; i < 16; ++i) v[size_t(i)] = float(i);
  return Floats({1, 1, 4, 4}, v);
}

TEST(PoolTest, MaxPoolCeilModeKeepsPartialWindows) {
  auto y = Pool(
      OpType::kMaxPool, Ramp4x4(),
      {IntsAttr("kernel_shape", {3, 3}), IntsAttr("strides", {2, 2}), IntAttr("ceil_mode", 1)});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ((*y)[0].shape(), (Shape{1, 1, 2, 2}));
  EXPECT_THAT(Values((*y)[0]), ::testing::ElementsAre(10, 11, 14, 15));
  auto floor = Pool(OpType::kMaxPool, Ramp4x4(),
                    {IntsAttr("kernel_shape", {3, 3}), IntsAttr("strides", {2, 2})});
  ASSERT_TRUE(floor.ok());
  EXPECT_EQ((*floor)[0].shape(), (Shape{1, 1, 1, 1}));
}

TEST(PoolTest, MaxPoolDilationsAndIndices) {
  // Dilation 2: window {0, 2, 8, 10} + offsets.
  auto y = Pool(OpType::kMaxPool, Ramp4x4(),
                {IntsAttr("kernel_shape", {2, 2}), IntsAttr("dilations", {2, 2})}, 2);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_THAT(Values((*y)[0]), ::testing::ElementsAre(10, 11, 14, 15));
  EXPECT_THAT(Values((*y)[1]), ::testing::ElementsAre(10, 11, 14, 15));
  // Column-major indices (storage_order = 1): (h, w) -> h + w * 4.
  auto col = Pool(
      OpType::kMaxPool, Ramp4x4(),
      {IntsAttr("kernel_shape", {2, 2}), IntsAttr("strides", {2, 2}), IntAttr("storage_order", 1)},
      2);
  ASSERT_TRUE(col.ok());
  EXPECT_THAT(Values((*col)[0]), ::testing::ElementsAre(5, 7, 13, 15));
  EXPECT_THAT(Values((*col)[1]), ::testing::ElementsAre(5, 13, 7, 15));
  // Without Indices, 2x2 / stride 2 takes the paired fast path.
  auto fast = Pool(OpType::kMaxPool, Ramp4x4(),
                   {IntsAttr("kernel_shape", {2, 2}), IntsAttr("strides", {2, 2})});
  ASSERT_TRUE(fast.ok());
  EXPECT_THAT(Values((*fast)[0]), ::testing::ElementsAre(5, 7, 13, 15));
}

TEST(PoolTest, MaxPoolIndicesCountBatchAndChannelAndPreferFirstMaximum) {
  Tensor x = Floats({2, 1, 1, 3}, {1, 1, 0, 0, 2, 2});
  auto y = Pool(OpType::kMaxPool, x, {IntsAttr("kernel_shape", {1, 3})}, 2);
  ASSERT_TRUE(y.ok());
  EXPECT_THAT(Values((*y)[0]), ::testing::ElementsAre(1, 2));
  EXPECT_THAT(Values((*y)[1]), ::testing::ElementsAre(0, 4));
}

TEST(PoolTest, MaxPoolIntegerTypes) {
  Tensor u8 = Tensor::FromVector<uint8_t>({1, 1, 2, 2}, {3, 250, 7, 1});
  auto y = Pool(OpType::kMaxPool, u8, {IntsAttr("kernel_shape", {2, 2})});
  ASSERT_TRUE(y.ok());
  EXPECT_EQ((*y)[0].dtype(), DataType::kUint8);
  EXPECT_EQ((*y)[0].data<uint8_t>()[0], 250);
  Tensor i8 = Tensor::FromVector<int8_t>({1, 1, 1, 3}, {-5, -128, -7});
  auto z = Pool(OpType::kMaxPool, i8,
                {IntsAttr("kernel_shape", {1, 2}), IntsAttr("pads", {0, 1, 0, 0})});
  ASSERT_TRUE(z.ok());
  EXPECT_THAT(Values((*z)[0]), ::testing::ElementsAre(-5, -5, -7));
}

TEST(PoolTest, AveragePoolCountIncludePad) {
  // 2x2 windows with pad 1: the corner window holds one element.
  std::vector<Attribute> attrs = {IntsAttr("kernel_shape", {2, 2}), IntsAttr("strides", {2, 2}),
                                  IntsAttr("pads", {1, 1, 1, 1})};
  auto exclude = Pool(OpType::kAveragePool, Ramp4x4(), attrs);
  ASSERT_TRUE(exclude.ok());
  EXPECT_THAT(Values((*exclude)[0]), ::testing::ElementsAre(0, 1.5, 3, 6, 7.5, 9, 12, 13.5, 15));
  attrs.push_back(IntAttr("count_include_pad", 1));
  auto include = Pool(OpType::kAveragePool, Ramp4x4(), attrs);
  ASSERT_TRUE(include.ok());
  EXPECT_THAT(Values((*include)[0]),
              ::testing::ElementsAre(0, 0.75, 0.75, 3, 7.5, 4.5, 3, 6.75, 3.75));
}

TEST(PoolTest, AveragePoolCeilModeDividesByValidElements) {
  // 3x3 / stride 2 with ceil_mode on 4x4: the right and bottom windows hold 3x2, 2x3 and 2x2.
  auto y = Pool(
      OpType::kAveragePool, Ramp4x4(),
      {IntsAttr("kernel_shape", {3, 3}), IntsAttr("strides", {2, 2}), IntAttr("ceil_mode", 1)});
  ASSERT_TRUE(y.ok());
  EXPECT_THAT(Values((*y)[0]), ::testing::ElementsAre(5, 6.5, 11, 12.5));
}

TEST(PoolTest, ThreeDimensionalAndOneDimensional) {
  std::vector<float> v(27);
  for (int i = 0; i < 27; ++i) v[size_t(i)] = float(i);
  auto y =
      Pool(OpType::kAveragePool, Floats({1, 1, 3, 3, 3}, v), {IntsAttr("kernel_shape", {2, 2, 2})});
  ASSERT_TRUE(y.ok());
  EXPECT_THAT(Values((*y)[0]), ::testing::ElementsAre(6.5, 7.5, 9.5, 10.5, 15.5, 16.5, 18.5, 19.5));
  auto m =
      Pool(OpType::kMaxPool, Floats({1, 1, 5}, {1, 5, 2, 4, 3}),
           {IntsAttr("kernel_shape", {2}), IntsAttr("strides", {2}), IntAttr("ceil_mode", 1)}, 2);
  ASSERT_TRUE(m.ok());
  EXPECT_THAT(Values((*m)[0]), ::testing::ElementsAre(5, 4, 3));
  EXPECT_THAT(Values((*m)[1]), ::testing::ElementsAre(1, 3, 4));
}

TEST(PoolTest, GlobalPools) {
  Tensor x = Floats({1, 2, 2, 2}, {1, 2, 3, 4, -1, -2, -3, -8});
  auto avg = Pool(OpType::kGlobalAveragePool, x, {});
  auto max = Pool(OpType::kGlobalMaxPool, x, {});
  ASSERT_TRUE(avg.ok() && max.ok());
  EXPECT_EQ((*avg)[0].shape(), (Shape{1, 2, 1, 1}));
  EXPECT_THAT(Values((*avg)[0]), ::testing::ElementsAre(2.5, -3.5));
  EXPECT_THAT(Values((*max)[0]), ::testing::ElementsAre(4, -1));
}

TEST(PoolTest, RejectsBadInput) {
  EXPECT_FALSE(Pool(OpType::kMaxPool, Ramp4x4(), {}).ok());  // kernel_shape missing
  EXPECT_FALSE(Pool(OpType::kMaxPool, Ramp4x4(), {IntsAttr("kernel_shape", {2})}).ok());
  auto big = Pool(OpType::kAveragePool, Ramp4x4(), {IntsAttr("kernel_shape", {5, 5})});
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(big.status().message(), HasSubstr("larger than the padded input"));
  EXPECT_FALSE(Pool(OpType::kGlobalAveragePool, Floats({2, 2}, {1, 2, 3, 4}), {}).ok());
  EXPECT_FALSE(Pool(OpType::kAveragePool, Tensor::FromVector<int32_t>({1, 1, 2, 2}, {1, 2, 3, 4}),
                    {IntsAttr("kernel_shape", {2, 2})})
                   .ok());
}

// --- normalization -----------------------------------------------------------------------------

TEST(NormalizationTest, BatchNormalizationInference) {
  KernelRun run;
  run.op = OpType::kBatchNormalization;
  run.inputs = {Floats({1, 2, 1, 2}, {1, 2, 3, 4}), Floats({2}, {1, 2}), Floats({2}, {0, 1}),
                Floats({2}, {1, 3}), Floats({2}, {4, 0.25f})};
  run.attributes = {FloatAttr("epsilon", 0)};
  auto y = RunKernel(run);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  // (x - mean) / sqrt(var) * scale + B.
  EXPECT_THAT(Values((*y)[0]), ::testing::ElementsAre(0, 0.5, 1, 5));
}

TEST(NormalizationTest, BatchNormalizationPerActivationBeforeOpset9) {
  KernelRun run;
  run.op = OpType::kBatchNormalization;
  run.opset = 7;
  run.inputs = {Floats({2, 1, 2}, {1, 2, 3, 4}), Floats({1, 2}, {1, 10}), Floats({1, 2}, {0, 1}),
                Floats({1, 2}, {0, 0}), Floats({1, 2}, {1, 1})};
  run.attributes = {IntAttr("spatial", 0), FloatAttr("epsilon", 0)};
  auto y = RunKernel(run);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_THAT(Values((*y)[0]), ::testing::ElementsAre(1, 21, 3, 41));
}

TEST(NormalizationTest, BatchNormalizationTrainingModeIsUnimplemented) {
  KernelRun run;
  run.op = OpType::kBatchNormalization;
  run.opset = 15;
  run.inputs = {Floats({1, 1, 1, 2}, {1, 2}), Floats({1}, {1}), Floats({1}, {0}), Floats({1}, {0}),
                Floats({1}, {1})};
  run.attributes = {IntAttr("training_mode", 1)};
  auto y = RunKernel(run);
  ASSERT_FALSE(y.ok());
  EXPECT_EQ(y.status().code(), StatusCode::kUnimplemented);
  EXPECT_THAT(y.status().message(), HasSubstr("training_mode"));
  run.attributes.clear();
  run.inputs[1] = Floats({2}, {1, 1});
  EXPECT_FALSE(RunKernel(run).ok());  // scale shape vs channels
}

TEST(NormalizationTest, InstanceNormalization) {
  KernelRun run;
  run.op = OpType::kInstanceNormalization;
  run.inputs = {Floats({1, 2, 2}, {1, 3, 5, 5}), Floats({2}, {2, 1}), Floats({2}, {0, 7})};
  auto y = RunKernel(run);
  ASSERT_TRUE(y.ok());
  // Channel 0: mean 2, var 1 -> [-2, 2] (epsilon 1e-5); channel 1 is constant -> B.
  using ::testing::FloatNear;
  EXPECT_THAT(Values((*y)[0]), ::testing::ElementsAre(FloatNear(-2, 1e-4), FloatNear(2, 1e-4),
                                                      FloatNear(7, 1e-3), FloatNear(7, 1e-3)));
}

TEST(NormalizationTest, LrnMatchesFormula) {
  KernelRun run;
  run.op = OpType::kLRN;
  run.inputs = {Floats({1, 3, 1, 1}, {1, 2, 3})};
  run.attributes = {IntAttr("size", 2), FloatAttr("alpha", 0.5f), FloatAttr("beta", 0.75f),
                    FloatAttr("bias", 1.0f)};
  auto y = RunKernel(run);
  ASSERT_TRUE(y.ok());
  // size 2: channel c sums squares of channels c and c + 1.
  const double sums[] = {1 + 4, 4 + 9, 9};
  const double x[] = {1, 2, 3};
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR((*y)[0].data<float>()[c], x[c] / std::pow(1 + 0.5 / 2 * sums[c], 0.75), 1e-6);
  }
  run.attributes = {};
  EXPECT_FALSE(RunKernel(run).ok());  // size is required
}

}  // namespace
}  // namespace shrink::engine
