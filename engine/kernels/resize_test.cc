// Resize and Upsample: hand-computed cases per mode and coordinate transformation, opset
// variants, bad input, and the float32 bilinear fast path against the separable reference.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/kernels/tensor_test_helpers.h"

namespace shrink::engine::testing {
namespace {

struct ResizeCase {
  std::string name;
  OpType op = OpType::kResize;
  int64_t opset = 13;
  std::vector<Attribute> attributes;
  std::vector<Tensor> inputs;
  Tensor expected;
  double tolerance = 0;  // absolute; 0 = bit for bit
};
std::ostream& operator<<(std::ostream& out, const ResizeCase& c) { return out << c.name; }

const Tensor kNone;  // an omitted optional input

Tensor Scales(std::vector<float> values) { return F({int64_t(values.size())}, values); }

std::vector<ResizeCase> Cases() {
  Tensor x12 = F({2}, {1, 2});
  Tensor x1234 = F({4}, {1, 2, 3, 4});
  Attribute linear = StringAttr("mode", "linear");
  Attribute cubic = StringAttr("mode", "cubic");
  auto coord = [](const char* mode) { return StringAttr("coordinate_transformation_mode", mode); };
  auto nearest = [](const char* mode) { return StringAttr("nearest_mode", mode); };
  return {
      {"NearestHalfPixel",
       OpType::kResize,
       13,
       {},
       {x12, kNone, Scales({2})},
       F({4}, {1, 1, 2, 2})},
      {"LinearHalfPixel",
       OpType::kResize,
       13,
       {linear},
       {x12, kNone, Scales({2})},
       F({4}, {1, 1.25f, 1.75f, 2})},
      {"LinearAlignCornersSizes",
       OpType::kResize,
       13,
       {linear, coord("align_corners")},
       {x12, kNone, kNone, L({3})},
       F({3}, {1, 1.5f, 2})},
      {"LinearAsymmetric",
       OpType::kResize,
       13,
       {linear, coord("asymmetric")},
       {x12, kNone, Scales({2})},
       F({4}, {1, 1.5f, 2, 2})},
      {"LinearPytorchHalfPixelToOne",
       OpType::kResize,
       13,
       {linear, coord("pytorch_half_pixel")},
       {F({3}, {1, 2, 3}), kNone, kNone, L({1})},
       F({1}, {1})},
      {"LinearHalfPixelToOne",
       OpType::kResize,
       13,
       {linear},
       {F({3}, {1, 2, 3}), kNone, kNone, L({1})},
       F({1}, {2})},
      {"Bilinear2D",
       OpType::kResize,
       13,
       {linear},
       {F({1, 1, 2, 2}, {1, 2, 3, 4}), kNone, Scales({1, 1, 2, 2})},
       F({1, 1, 4, 4}, {1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3,
                        3.25f, 3.75f, 4})},
      {"NearestRoundPreferCeilAsymmetric",
       OpType::kResize,
       13,
       {coord("asymmetric"), nearest("round_prefer_ceil")},
       {F({3}, {1, 2, 3}), kNone, kNone, L({6})},
       F({6}, {1, 2, 2, 3, 3, 3})},
      {"NearestFloorAsymmetric",
       OpType::kResize,
       13,
       {coord("asymmetric"), nearest("floor")},
       {F({3}, {1, 2, 3}), kNone, kNone, L({6})},
       F({6}, {1, 1, 2, 2, 3, 3})},
      {"NearestCeilHalfPixel",
       OpType::kResize,
       13,
       {nearest("ceil")},
       {F({3}, {1, 2, 3}), kNone, kNone, L({6})},
       F({6}, {1, 2, 2, 3, 3, 3})},
      {"NearestOpset10Downsample",
       OpType::kResize,
       10,
       {},
       {x1234, Scales({0.6f})},
       F({2}, {1, 3})},
      {"NearestOpset11EmptyScales",
       OpType::kResize,
       11,
       {},
       {x12, F({0}, {}), F({0}, {}), L({4})},
       F({4}, {1, 1, 2, 2})},
      {"CubicAlignCorners",
       OpType::kResize,
       13,
       {cubic, coord("align_corners")},
       {x1234, kNone, kNone, L({7})},
       F({7}, {1, 1.40625f, 2, 2.5f, 3, 3.59375f, 4})},
      {"CubicExcludeOutside",
       OpType::kResize,
       13,
       {cubic, coord("align_corners"), IntAttr("exclude_outside", 1)},
       {x1234, kNone, kNone, L({7})},
       F({7}, {1, 1.5f / 1.09375f, 2, 2.5f, 3, 3.96875f / 1.09375f, 4}),
       1e-6},
      {"TfCropAndResize",
       OpType::kResize,
       13,
       {linear, coord("tf_crop_and_resize")},
       {F({5}, {1, 2, 3, 4, 5}), Scales({0.25f, 0.75f}), kNone, L({3})},
       F({3}, {2, 3, 4})},
      {"TfCropAndResizeExtrapolates",
       OpType::kResize,
       13,
       {linear, coord("tf_crop_and_resize"), FloatAttr("extrapolation_value", 10)},
       {F({5}, {1, 2, 3, 4, 5}), Scales({0.5f, 1.5f}), kNone, L({3})},
       F({3}, {3, 5, 10})},
      {"AntialiasLinear18",
       OpType::kResize,
       18,
       {linear, IntAttr("antialias", 1)},
       {x1234, kNone, Scales({0.5f})},
       F({2}, {1.625f, 3.375f})},
      {"LinearUint8Truncates",
       OpType::kResize,
       13,
       {linear},
       {U8({2}, {0, 255}), kNone, Scales({2})},
       U8({4}, {0, 63, 191, 255})},
      {"NearestInt64Exact",
       OpType::kResize,
       13,
       {},
       {L({int64_t(1) << 60, 3}), kNone, Scales({2})},
       L({int64_t(1) << 60, int64_t(1) << 60, 3, 3})},
      {"KeepAspectNotLarger",
       OpType::kResize,
       18,
       {StringAttr("keep_aspect_ratio_policy", "not_larger")},
       {Iota({2, 4}), kNone, kNone, L({4, 4})},
       Iota({2, 4})},
      {"KeepAspectNotSmaller",
       OpType::kResize,
       18,
       {StringAttr("keep_aspect_ratio_policy", "not_smaller")},
       {Iota({1, 2}), kNone, kNone, L({2, 2})},
       F({2, 4}, {0, 0, 1, 1, 0, 0, 1, 1})},
      {"Axes18",
       OpType::kResize,
       18,
       {IntsAttr("axes", {1})},
       {Iota({2, 4}), kNone, Scales({0.5f})},
       F({2, 2}, {0, 2, 4, 6})},
      {"UpsampleAttr7",
       OpType::kUpsample,
       7,
       {FloatsAttr("scales", {1, 2})},
       {F({1, 2}, {1, 2})},
       F({1, 4}, {1, 1, 2, 2})},
      {"UpsampleLinear9",
       OpType::kUpsample,
       9,
       {linear},
       {F({1, 2}, {1, 2}), Scales({1, 2})},
       F({1, 4}, {1, 1.5f, 2, 2})},
  };
}

class ResizeCaseTest : public ::testing::TestWithParam<ResizeCase> {};

TEST_P(ResizeCaseTest, Matches) {
  const ResizeCase& c = GetParam();
  for (bool reference : {false, true}) {
    KernelRun run;
    run.op = c.op;
    run.opset = c.opset;
    run.attributes = c.attributes;
    run.inputs = c.inputs;
    run.reference = reference;
    auto out = RunKernel(run);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    const Tensor& y = (*out)[0];
    if (c.tolerance == 0) {
      EXPECT_TRUE(y.BitwiseEquals(c.expected))
          << "reference=" << reference << "\n  actual:   " << Describe(y)
          << "\n  expected: " << Describe(c.expected);
      continue;
    }
    ASSERT_EQ(y.shape(), c.expected.shape());
    for (int64_t i = 0; i < y.size(); ++i) {
      EXPECT_NEAR(y.GetAsDouble(i), c.expected.GetAsDouble(i), c.tolerance) << "element " << i;
    }
  }
}
INSTANTIATE_TEST_SUITE_P(Resize, ResizeCaseTest, ::testing::ValuesIn(Cases()),
                         CaseName<ResizeCase>);

std::vector<ErrorCase> ErrorCases() {
  Tensor x = Iota({2, 2});
  return {
      {"ScalesAndSizes",
       OpType::kResize,
       13,
       {},
       {x, kNone, Scales({1, 2}), L({2, 4})},
       "only one of scales and sizes"},
      {"NeitherScalesNorSizes", OpType::kResize, 13, {}, {x}, "needs scales or sizes"},
      {"ScalesLength", OpType::kResize, 13, {}, {x, kNone, Scales({2})}, "must have 2 entries"},
      {"NegativeScale", OpType::kResize, 13, {}, {x, kNone, Scales({1, -1})}, "is invalid"},
      {"NegativeSize", OpType::kResize, 13, {}, {x, kNone, kNone, L({2, -1})}, "negative"},
      {"UnknownMode",
       OpType::kResize,
       13,
       {StringAttr("mode", "area")},
       {x, kNone, Scales({1, 2})},
       "unsupported mode"},
      {"CubicBeforeOpset11",
       OpType::kResize,
       10,
       {StringAttr("mode", "cubic")},
       {x, Scales({1, 2})},
       "unsupported mode"},
      {"UnknownCoordinateMode",
       OpType::kResize,
       13,
       {StringAttr("coordinate_transformation_mode", "corner")},
       {x, kNone, Scales({1, 2})},
       "coordinate_transformation_mode"},
      {"UnknownNearestMode",
       OpType::kResize,
       13,
       {StringAttr("nearest_mode", "up")},
       {x, kNone, Scales({1, 2})},
       "nearest_mode"},
      {"CropWithoutRoi",
       OpType::kResize,
       13,
       {StringAttr("coordinate_transformation_mode", "tf_crop_and_resize")},
       {x, kNone, Scales({1, 2})},
       "needs roi"},
      {"UpsampleWithoutScales", OpType::kUpsample, 7, {}, {x}, "scales is required"},
      {"ResizeEmptyInputToNonEmpty",
       OpType::kResize,
       13,
       {},
       {Iota({0, 2}), kNone, kNone, L({2, 2})},
       "empty input"},
  };
}

class ResizeErrorTest : public ::testing::TestWithParam<ErrorCase> {};
TEST_P(ResizeErrorTest, Fails) { CheckError(GetParam()); }
INSTANTIATE_TEST_SUITE_P(BadInput, ResizeErrorTest, ::testing::ValuesIn(ErrorCases()),
                         CaseName<ErrorCase>);

// The bilinear kernel and the separable reference do the same float operations when the width
// pass comes first; the reference may order passes differently when the axes scale differently,
// so allow a few ulps of the data range: |error| <= 4 * eps * max|x|.
TEST(ResizeFastPath, BilinearMatchesReference) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> value(-1, 1);
  struct Shape4 {
    Shape in;
    std::vector<float> scales;
    std::vector<int64_t> sizes;
    const char* coord;
  };
  const std::vector<Shape4> configs = {
      {{1, 3, 16, 16}, {1, 1, 2, 2}, {}, "half_pixel"},
      {{2, 4, 15, 17}, {1, 1, 2, 2}, {}, "asymmetric"},
      {{1, 2, 40, 33}, {1, 1, 0.5f, 0.75f}, {}, "half_pixel"},
      {{1, 2, 9, 13}, {}, {1, 2, 31, 7}, "align_corners"},
      {{1, 1, 7, 9}, {}, {1, 1, 20, 3}, "pytorch_half_pixel"},
      {{3, 5, 8}, {1, 4, 3}, {}, "half_pixel"},
  };
  for (const Shape4& config : configs) {
    Tensor x(DataType::kFloat32, config.in);
    for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] = value(rng);
    std::vector<Tensor> outputs;
    for (bool reference : {false, true}) {
      KernelRun run;
      run.op = OpType::kResize;
      run.opset = 13;
      run.attributes = {StringAttr("mode", "linear"),
                        StringAttr("coordinate_transformation_mode", config.coord)};
      run.inputs = {x, kNone, config.sizes.empty() ? Scales(config.scales) : kNone,
                    config.sizes.empty() ? kNone : L(config.sizes)};
      run.reference = reference;
      auto out = RunKernel(run);
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      outputs.push_back((*out)[0]);
    }
    ASSERT_EQ(outputs[0].shape(), outputs[1].shape()) << ShapeToString(config.in);
    double bound = 4 * 1.2e-7;
    for (int64_t i = 0; i < outputs[0].size(); ++i) {
      ASSERT_NEAR(outputs[0].data<float>()[i], outputs[1].data<float>()[i], bound)
          << ShapeToString(config.in) << " element " << i;
    }
  }
}

}  // namespace
}  // namespace shrink::engine::testing
