// Strided copies and block copies (tensor_copy.cc, concat_split_pad.cc). Expected values are
// worked out by hand; Transpose is also checked against an element loop over many perms.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "engine/kernels/tensor_test_helpers.h"

namespace shrink::engine::testing {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

std::vector<OpCase> CopyCases() {
  Tensor x34 = Iota({3, 4});  // [[0,1,2,3],[4,5,6,7],[8,9,10,11]]
  return {
      {"TransposeDefault",
       OpType::kTranspose,
       13,
       {},
       {Iota({2, 3})},
       {F({3, 2}, {0, 3, 1, 4, 2, 5})}},
      {"TransposeNchwToNhwc",
       OpType::kTranspose,
       13,
       {IntsAttr("perm", {0, 2, 3, 1})},
       {Iota({1, 2, 2, 2})},
       {F({1, 2, 2, 2}, {0, 4, 1, 5, 2, 6, 3, 7})}},
      {"TransposeStrings",
       OpType::kTranspose,
       13,
       {},
       {S({2, 2}, {"a", "b", "c", "d"})},
       {S({2, 2}, {"a", "c", "b", "d"})}},
      {"TransposeUnitDimsIsView",
       OpType::kTranspose,
       13,
       {IntsAttr("perm", {1, 0, 2})},
       {Iota({1, 3, 2})},
       {Iota({3, 1, 2})}},
      {"DepthToSpaceDcr",
       OpType::kDepthToSpace,
       13,
       {IntAttr("blocksize", 2)},
       {Iota({1, 8, 1, 1})},
       {F({1, 2, 2, 2}, {0, 2, 4, 6, 1, 3, 5, 7})}},
      {"DepthToSpaceCrd",
       OpType::kDepthToSpace,
       13,
       {IntAttr("blocksize", 2), StringAttr("mode", "CRD")},
       {Iota({1, 8, 1, 1})},
       {Iota({1, 2, 2, 2})}},
      {"SpaceToDepth",
       OpType::kSpaceToDepth,
       13,
       {IntAttr("blocksize", 2)},
       {F({1, 2, 2, 2}, {0, 2, 4, 6, 1, 3, 5, 7})},
       {Iota({1, 8, 1, 1})}},
      {"TileRow", OpType::kTile, 13, {}, {F({2}, {1, 2}), L({3})}, {F({6}, {1, 2, 1, 2, 1, 2})}},
      {"Tile2D",
       OpType::kTile,
       13,
       {},
       {F({2, 2}, {1, 2, 3, 4}), L({2, 2})},
       {F({4, 4}, {1, 2, 1, 2, 3, 4, 3, 4, 1, 2, 1, 2, 3, 4, 3, 4})}},
      {"TileZero", OpType::kTile, 13, {}, {F({2}, {1, 2}), L({0})}, {F({0}, {})}},
      {"ExpandColumn",
       OpType::kExpand,
       13,
       {},
       {F({3, 1}, {1, 2, 3}), L({2, 1, 2})},
       {F({2, 3, 2}, {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3})}},
      {"ExpandSmallerShape",
       OpType::kExpand,
       13,
       {},
       {F({3}, {1, 2, 3}), L({1})},
       {F({3}, {1, 2, 3})}},
      {"ExpandScalarStrings",
       OpType::kExpand,
       13,
       {},
       {S({}, {"s"}), L({2})},
       {S({2}, {"s", "s"})}},
      {"SliceAttrs9",
       OpType::kSlice,
       9,
       {IntsAttr("starts", {1}), IntsAttr("ends", {3}), IntsAttr("axes", {1})},
       {x34},
       {F({3, 2}, {1, 2, 5, 6, 9, 10})}},
      {"SliceNegativeSteps",
       OpType::kSlice,
       13,
       {},
       {x34, L({2, 3}), L({0, 0}), L({0, 1}), L({-1, -2})},
       {F({2, 2}, {11, 9, 7, 5})}},
      {"SliceEndPastDim",
       OpType::kSlice,
       13,
       {},
       {x34, L({1}), L({kMax})},
       {F({2, 4}, {4, 5, 6, 7, 8, 9, 10, 11})}},
      {"SliceFullReverse",
       OpType::kSlice,
       13,
       {},
       {x34, L({-1}), L({kMin}), L({1}), L({-1})},
       {F({3, 4}, {3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8})}},
      {"SliceStartPastDim", OpType::kSlice, 13, {}, {x34, L({10}), L({20})}, {F({0, 4}, {})}},
      {"SliceInt32Indices",
       OpType::kSlice,
       13,
       {},
       {x34, I32({1}, {1}), I32({1}, {-1}), I32({1}, {-1})},
       {F({3, 2}, {1, 2, 5, 6, 9, 10})}},
      {"SliceStep3",
       OpType::kSlice,
       13,
       {},
       {Iota({10}), L({1}), L({10}), L({0}), L({3})},
       {F({3}, {1, 4, 7})}},
      {"SliceHugeStep",
       OpType::kSlice,
       13,
       {},
       {Iota({5}), L({1}), L({5}), L({0}), L({kMax})},
       {F({1}, {1})}},
      {"SliceHugeNegativeStep",
       OpType::kSlice,
       13,
       {},
       {Iota({5}), L({-1}), L({kMin}), L({0}), L({kMin})},
       {F({1}, {4})}},
  };
}

std::vector<OpCase> ConcatSplitPadCases() {
  return {
      {"ConcatAxis1",
       OpType::kConcat,
       13,
       {IntAttr("axis", 1)},
       {F({2, 2}, {1, 2, 3, 4}), F({2, 1}, {5, 6})},
       {F({2, 3}, {1, 2, 5, 3, 4, 6})}},
      {"ConcatNegativeAxis",
       OpType::kConcat,
       13,
       {IntAttr("axis", -2)},
       {F({1, 2}, {1, 2}), F({2, 2}, {3, 4, 5, 6})},
       {F({3, 2}, {1, 2, 3, 4, 5, 6})}},
      {"ConcatStringsWithEmpty",
       OpType::kConcat,
       13,
       {IntAttr("axis", 0)},
       {S({1}, {"a"}), S({0}, {}), S({2}, {"b", "c"})},
       {S({3}, {"a", "b", "c"})}},
      {"SplitEqual",
       OpType::kSplit,
       13,
       {},
       {Iota({6})},
       {F({2}, {0, 1}), F({2}, {2, 3}), F({2}, {4, 5})}},
      {"SplitAttr11",
       OpType::kSplit,
       11,
       {IntsAttr("split", {2, 4})},
       {Iota({6})},
       {F({2}, {0, 1}), F({4}, {2, 3, 4, 5})}},
      {"SplitInput13Axis1",
       OpType::kSplit,
       13,
       {IntAttr("axis", 1)},
       {Iota({2, 4}), L({1, 3})},
       {F({2, 1}, {0, 4}), F({2, 3}, {1, 2, 3, 5, 6, 7})}},
      {"SplitNumOutputs18",
       OpType::kSplit,
       18,
       {IntAttr("num_outputs", 2)},
       {Iota({5})},
       {F({3}, {0, 1, 2}), F({2}, {3, 4})}},
      {"SplitEmptyListIsEqual",
       OpType::kSplit,
       13,
       {},
       {Iota({4}), L({})},
       {F({2}, {0, 1}), F({2}, {2, 3})}},
      {"SplitZeroSize",
       OpType::kSplit,
       13,
       {},
       {Iota({2}), L({0, 2})},
       {F({0}, {}), F({2}, {0, 1})}},
      {"PadConstant11",
       OpType::kPad,
       11,
       {},
       {F({2, 2}, {1, 2, 3, 4}), L({1, 0, 0, 1}), F({}, {9})},
       {F({3, 3}, {9, 9, 9, 1, 2, 9, 3, 4, 9})}},
      {"PadAttr2",
       OpType::kPad,
       2,
       {IntsAttr("pads", {0, 1, 0, 1}), FloatAttr("value", 0.5f)},
       {F({2, 2}, {1, 2, 3, 4})},
       {F({2, 4}, {0.5f, 1, 2, 0.5f, 0.5f, 3, 4, 0.5f})}},
      {"PadReflect",
       OpType::kPad,
       13,
       {StringAttr("mode", "reflect")},
       {F({3}, {1, 2, 3}), L({2, 2})},
       {F({7}, {3, 2, 1, 2, 3, 2, 1})}},
      {"PadReflectBeyondDim",
       OpType::kPad,
       13,
       {StringAttr("mode", "reflect")},
       {F({3}, {1, 2, 3}), L({4, 0})},
       {F({7}, {1, 2, 3, 2, 1, 2, 3})}},
      {"PadEdge",
       OpType::kPad,
       13,
       {StringAttr("mode", "edge")},
       {F({3}, {1, 2, 3}), L({2, 1})},
       {F({6}, {1, 1, 1, 2, 3, 3})}},
      {"PadEdge2D",
       OpType::kPad,
       13,
       {StringAttr("mode", "edge")},
       {F({2, 2}, {1, 2, 3, 4}), L({1, 0, 0, 1})},
       {F({3, 3}, {1, 2, 2, 1, 2, 2, 3, 4, 4})}},
      {"PadWrap",
       OpType::kPad,
       19,
       {StringAttr("mode", "wrap")},
       {F({3}, {1, 2, 3}), L({2, 1})},
       {F({6}, {2, 3, 1, 2, 3, 1})}},
      {"PadNegativeCrops",
       OpType::kPad,
       13,
       {},
       {F({4}, {1, 2, 3, 4}), L({-1, 1})},
       {F({4}, {2, 3, 4, 0})}},
      {"PadAxes18",
       OpType::kPad,
       18,
       {},
       {F({2, 2}, {1, 2, 3, 4}), L({1, 1}), Tensor(), L({1})},
       {F({2, 4}, {0, 1, 2, 0, 0, 3, 4, 0})}},
      {"PadStrings",
       OpType::kPad,
       13,
       {},
       {S({1}, {"a"}), L({1, 1}), S({}, {"x"})},
       {S({3}, {"x", "a", "x"})}},
      {"PadInt64Default", OpType::kPad, 13, {}, {L({5}), L({0, 2})}, {L({5, 0, 0})}},
      {"CompressAxis0",
       OpType::kCompress,
       13,
       {IntAttr("axis", 0)},
       {Iota({3, 2}), B({3}, {false, true, true})},
       {F({2, 2}, {2, 3, 4, 5})}},
      {"CompressFlat",
       OpType::kCompress,
       13,
       {},
       {Iota({3, 2}), B({5}, {0, 1, 0, 0, 1})},
       {F({2}, {1, 4})}},
      {"CompressShortCondition",
       OpType::kCompress,
       13,
       {IntAttr("axis", -1)},
       {Iota({2, 3}), B({1}, {true})},
       {F({2, 1}, {0, 3})}},
  };
}

class TensorCopyCase : public ::testing::TestWithParam<OpCase> {};
TEST_P(TensorCopyCase, Matches) { CheckCase(GetParam()); }
INSTANTIATE_TEST_SUITE_P(Copies, TensorCopyCase, ::testing::ValuesIn(CopyCases()),
                         CaseName<OpCase>);
INSTANTIATE_TEST_SUITE_P(ConcatSplitPad, TensorCopyCase, ::testing::ValuesIn(ConcatSplitPadCases()),
                         CaseName<OpCase>);

std::vector<ErrorCase> CopyErrorCases() {
  using C = StatusCode;
  return {
      {"TransposeRepeatedPerm",
       OpType::kTranspose,
       13,
       {IntsAttr("perm", {0, 0})},
       {Iota({2, 2})},
       "not a permutation"},
      {"TransposePermOutOfRange",
       OpType::kTranspose,
       13,
       {IntsAttr("perm", {0, 2})},
       {Iota({2, 2})},
       "not a permutation"},
      {"TransposePermLength",
       OpType::kTranspose,
       13,
       {IntsAttr("perm", {0})},
       {Iota({2, 2})},
       "perm has 1 entries"},
      {"DepthToSpaceIndivisible",
       OpType::kDepthToSpace,
       13,
       {IntAttr("blocksize", 2)},
       {Iota({1, 6, 1, 1})},
       "not divisible"},
      {"DepthToSpaceRank",
       OpType::kDepthToSpace,
       13,
       {IntAttr("blocksize", 2)},
       {Iota({8, 1, 1})},
       "4-D"},
      {"DepthToSpaceHugeBlock",
       OpType::kDepthToSpace,
       13,
       {IntAttr("blocksize", int64_t(1) << 40)},
       {Iota({1, 4, 1, 1})},
       "out of range"},
      {"PadHuge", OpType::kPad, 13, {}, {Iota({2}), L({int64_t(1) << 60, 0})}, "too large"},
      {"SplitEntryRange",
       OpType::kSplit,
       13,
       {},
       {Iota({6}), L({-1, 7})},
       "out of range",
       C::kInvalidArgument,
       2},
      {"SpaceToDepthIndivisible",
       OpType::kSpaceToDepth,
       13,
       {IntAttr("blocksize", 2)},
       {Iota({1, 1, 3, 2})},
       "not divisible"},
      {"TileNegative", OpType::kTile, 13, {}, {Iota({2}), L({-1})}, "negative"},
      {"TileLength", OpType::kTile, 13, {}, {Iota({2}), L({1, 1})}, "repeats has 2 entries"},
      {"ExpandIncompatible", OpType::kExpand, 13, {}, {Iota({3}), L({2})}, "cannot be broadcast"},
      {"ExpandNegative", OpType::kExpand, 13, {}, {Iota({3}), L({-3})}, "negative"},
      {"SliceZeroStep",
       OpType::kSlice,
       13,
       {},
       {Iota({3}), L({0}), L({3}), L({0}), L({0})},
       "step must not be 0"},
      {"SliceRepeatedAxes",
       OpType::kSlice,
       13,
       {},
       {Iota({3, 3}), L({0, 0}), L({1, 1}), L({0, 0})},
       "repeated"},
      {"SliceLengthMismatch",
       OpType::kSlice,
       13,
       {},
       {Iota({3}), L({0, 0}), L({1})},
       "differ in length"},
      {"ConcatShapeMismatch",
       OpType::kConcat,
       13,
       {IntAttr("axis", 0)},
       {Iota({1, 2}), Iota({1, 3})},
       "differ outside axis"},
      {"ConcatDtypeMismatch",
       OpType::kConcat,
       13,
       {IntAttr("axis", 0)},
       {Iota({1}), L({1})},
       "dtype"},
      {"ConcatNoAxis", OpType::kConcat, 13, {}, {Iota({1})}, "axis is required"},
      {"SplitSumMismatch",
       OpType::kSplit,
       13,
       {},
       {Iota({6}), L({2, 2})},
       "sums to 4",
       C::kInvalidArgument,
       2},
      {"SplitIndivisible",
       OpType::kSplit,
       13,
       {},
       {Iota({5})},
       "equal parts",
       C::kInvalidArgument,
       2},
      {"PadPadsLength", OpType::kPad, 13, {}, {Iota({2, 2}), L({1, 1})}, "pads has 2 entries"},
      {"PadEdgeEmpty",
       OpType::kPad,
       13,
       {StringAttr("mode", "edge")},
       {Iota({0}), L({1, 1})},
       "empty axis"},
      {"PadCropTooMuch", OpType::kPad, 13, {}, {Iota({2}), L({-2, -1})}, "below zero"},
      {"PadBadMode",
       OpType::kPad,
       13,
       {StringAttr("mode", "mirror")},
       {Iota({2}), L({1, 1})},
       "unknown mode"},
      {"CompressBeyondAxis",
       OpType::kCompress,
       13,
       {IntAttr("axis", 0)},
       {Iota({2}), B({3}, {0, 0, 1})},
       "beyond the axis"},
  };
}

class TensorCopyError : public ::testing::TestWithParam<ErrorCase> {};
TEST_P(TensorCopyError, Fails) { CheckError(GetParam()); }
INSTANTIATE_TEST_SUITE_P(BadInput, TensorCopyError, ::testing::ValuesIn(CopyErrorCases()),
                         CaseName<ErrorCase>);

// out[o] = in[sum_k o_k * stride(perm[k])], element by element.
Tensor NaiveTranspose(const Tensor& in, const std::vector<int64_t>& perm) {
  Shape shape;
  for (int64_t p : perm) shape.push_back(in.dim(int(p)));
  Tensor out(in.dtype(), shape);
  std::vector<int64_t> in_strides(size_t(in.rank()), 1);
  for (int k = in.rank() - 2; k >= 0; --k)
    in_strides[size_t(k)] = in_strides[size_t(k + 1)] * in.dim(k + 1);
  for (int64_t i = 0; i < out.size(); ++i) {
    int64_t rest = i, offset = 0;
    for (int k = out.rank() - 1; k >= 0; --k) {
      offset += (rest % shape[size_t(k)]) * in_strides[size_t(perm[size_t(k)])];
      rest /= shape[size_t(k)];
    }
    out.data<float>()[i] = in.data<float>()[offset];
  }
  return out;
}

TEST(Transpose, MatchesNaiveOverShapesAndPerms) {
  const std::vector<Shape> shapes = {{5, 7},          {64, 33},       {3, 40, 50},    {2, 3, 4, 5},
                                     {1, 16, 37, 29}, {2, 35, 3, 70}, {2, 3, 1, 4, 5}};
  for (const Shape& shape : shapes) {
    Tensor x = Iota(shape);
    std::vector<int64_t> perm(shape.size());
    std::iota(perm.begin(), perm.end(), 0);
    int tried = 0;
    do {
      if (tried++ % 3 != 0 && shape.size() > 3) continue;  // a spread of perms for rank 4-5
      for (int threads : {1, 2}) {
        KernelRun run;
        run.op = OpType::kTranspose;
        run.attributes = {IntsAttr("perm", perm)};
        run.inputs = {x};
        run.threads = threads;
        auto out = RunKernel(run);
        ASSERT_TRUE(out.ok()) << out.status().ToString();
        ASSERT_TRUE((*out)[0].BitwiseEquals(NaiveTranspose(x, perm)))
            << ShapeToString(shape) << " perm " << ShapeToString(perm);
      }
    } while (std::next_permutation(perm.begin(), perm.end()));
  }
}

TEST(Transpose, HalfAndStringsAreCopiedExactly) {
  Tensor half(DataType::kFloat16, {2, 3});
  for (int i = 0; i < 6; ++i) half.data<uint16_t>()[i] = uint16_t(0x3c00 + i);
  KernelRun run;
  run.op = OpType::kTranspose;
  run.inputs = {half};
  auto out = RunKernel(run);
  ASSERT_TRUE(out.ok());
  const uint16_t* y = (*out)[0].data<uint16_t>();
  EXPECT_EQ(std::vector<uint16_t>(y, y + 6),
            (std::vector<uint16_t>{0x3c00, 0x3c03, 0x3c01, 0x3c04, 0x3c02, 0x3c05}));
}

TEST(Slice, LargeParallelSliceMatchesElementLoop) {
  Tensor x = Iota({8, 300, 40});
  KernelRun run;
  run.op = OpType::kSlice;
  run.inputs = {x, L({1, 290, -3}), L({8, 5, 2}), L({0, 1, 2}), L({2, -7, -1})};
  auto out = RunKernel(run);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const Tensor& y = (*out)[0];
  ASSERT_EQ(y.shape(), (Shape{4, 41, 35}));
  for (int64_t a = 0; a < 4; ++a) {
    for (int64_t b = 0; b < 41; ++b) {
      for (int64_t c = 0; c < 35; ++c) {
        float want = float(((1 + 2 * a) * 300 + (290 - 7 * b)) * 40 + (37 - c));
        ASSERT_EQ(y.data<float>()[(a * 41 + b) * 35 + c], want) << a << "," << b << "," << c;
      }
    }
  }
}

// Inputs large enough to split over threads: two threads must give the single-thread result,
// and Transpose must still match the element loop.
TEST(TensorCopies, LargeInputsAgreeAcrossThreadCounts) {
  Tensor x = Iota({2, 6, 150, 130});
  Tensor nhwc = NaiveTranspose(x, {0, 2, 3, 1});
  struct Run {
    OpType op;
    std::vector<Attribute> attributes;
    std::vector<Tensor> inputs;
  };
  const std::vector<Run> runs = {
      {OpType::kTranspose, {IntsAttr("perm", {0, 2, 3, 1})}, {x}},
      {OpType::kTranspose, {IntsAttr("perm", {0, 3, 1, 2})}, {nhwc}},
      {OpType::kTranspose, {IntsAttr("perm", {3, 1, 2, 0})}, {x}},
      {OpType::kConcat, {IntAttr("axis", 1)}, {x, x}},
      {OpType::kSplit, {IntAttr("axis", 2)}, {x}},
      {OpType::kGather, {IntAttr("axis", 2)}, {x, L({149, 0, -1, 7})}},
      {OpType::kPad, {StringAttr("mode", "reflect")}, {x, L({0, 1, 2, 3, 0, 2, 1, 0})}},
      {OpType::kTile, {}, {x, L({1, 2, 1, 2})}},
      {OpType::kExpand, {}, {Iota({6, 1, 130}), L({2, 6, 150, 130})}},
      {OpType::kSlice, {}, {x, L({1, -1}), L({150, 0}), L({2, 3}), L({2, -3})}},
      {OpType::kDepthToSpace, {IntAttr("blocksize", 2)}, {Iota({2, 8, 100, 90})}},
      {OpType::kResize,
       {StringAttr("mode", "linear")},
       {Iota({1, 6, 64, 48}), Tensor(), F({4}, {1, 1, 2, 2})}},
      {OpType::kResize, {}, {Iota({1, 6, 64, 48}), Tensor(), F({4}, {1, 1, 2, 2})}},
  };
  for (const Run& r : runs) {
    std::vector<std::vector<Tensor>> results;
    for (int threads : {1, 2}) {
      KernelRun run;
      run.op = r.op;
      run.attributes = r.attributes;
      run.inputs = r.inputs;
      run.threads = threads;
      run.num_outputs = r.op == OpType::kSplit ? 2 : 1;
      auto out = RunKernel(run);
      ASSERT_TRUE(out.ok()) << OpTypeName(r.op) << ": " << out.status().ToString();
      results.push_back(*out);
    }
    for (size_t i = 0; i < results[0].size(); ++i) {
      EXPECT_TRUE(results[0][i].BitwiseEquals(results[1][i]))
          << OpTypeName(r.op) << " output " << i;
    }
    if (r.op == OpType::kTranspose) {
      EXPECT_TRUE(results[1][0].BitwiseEquals(NaiveTranspose(r.inputs[0], r.attributes[0].ints)));
    }
  }
}

// Copies that select the whole input unchanged return it without copying.
TEST(TensorCopies, NoOpCopiesShareTheInput) {
  Tensor x = Iota({2, 3});
  struct Run {
    OpType op;
    std::vector<Attribute> attributes;
    std::vector<Tensor> inputs;
  };
  const std::vector<Run> runs = {
      {OpType::kTile, {}, {x, L({1, 1})}},
      {OpType::kSlice, {}, {x, L({0}), L({kMax}), L({1})}},
      {OpType::kPad, {}, {x, L({0, 0, 0, 0})}},
      {OpType::kConcat, {IntAttr("axis", 0)}, {x}},
      {OpType::kExpand, {}, {x, L({1, 3})}},
      {OpType::kTranspose, {IntsAttr("perm", {0, 1})}, {x}},
  };
  for (const Run& r : runs) {
    KernelRun run;
    run.op = r.op;
    run.attributes = r.attributes;
    run.inputs = r.inputs;
    auto out = RunKernel(run);
    ASSERT_TRUE(out.ok()) << OpTypeName(r.op) << ": " << out.status().ToString();
    EXPECT_EQ((*out)[0].raw_data(), x.raw_data()) << OpTypeName(r.op);
    EXPECT_EQ((*out)[0].shape(), x.shape()) << OpTypeName(r.op);
  }
}

// Empty tensors flow through every copy without touching memory.
TEST(TensorCopies, EmptyTensors) {
  struct Run {
    OpType op;
    std::vector<Attribute> attributes;
    std::vector<Tensor> inputs;
    Shape expected;
    int outputs = 1;
  };
  const std::vector<Run> runs = {
      {OpType::kTranspose, {}, {Iota({0, 3})}, {3, 0}},
      {OpType::kConcat, {IntAttr("axis", 0)}, {Iota({0, 2}), Iota({0, 2})}, {0, 2}},
      {OpType::kGather, {}, {Iota({3}), L({})}, {0}},
      {OpType::kGather, {}, {Iota({0, 2}), L({})}, {0, 2}},
      {OpType::kPad, {}, {Iota({0}), L({1, 1})}, {2}},
      {OpType::kTile, {}, {Iota({0, 2}), L({2, 2})}, {0, 4}},
      {OpType::kExpand, {}, {Iota({0}), L({2, 1})}, {2, 0}},
      {OpType::kSlice, {}, {Iota({0, 4}), L({1}), L({3}), L({1})}, {0, 2}},
      {OpType::kSplit, {IntAttr("axis", 1)}, {Iota({0, 4})}, {0, 2}, 2},
      {OpType::kDepthToSpace, {IntAttr("blocksize", 2)}, {Iota({0, 4, 1, 1})}, {0, 1, 2, 2}},
      {OpType::kTopK, {}, {Iota({0, 3}), L({2})}, {0, 2}, 2},
      {OpType::kCumSum, {}, {Iota({0}), I64({}, {0})}, {0}},
      {OpType::kNonZero, {}, {Iota({0, 2})}, {2, 0}},
      {OpType::kTrilu, {}, {Iota({0, 0})}, {0, 0}},
      {OpType::kGatherND, {}, {Iota({2, 2}), I64({0, 2}, {})}, {0}},
      {OpType::kResize, {}, {Iota({1, 1, 0, 2}), Tensor(), F({4}, {1, 1, 2, 2})}, {1, 1, 0, 4}},
  };
  for (const Run& r : runs) {
    KernelRun run;
    run.op = r.op;
    run.attributes = r.attributes;
    run.inputs = r.inputs;
    run.num_outputs = r.outputs;
    auto out = RunKernel(run);
    ASSERT_TRUE(out.ok()) << OpTypeName(r.op) << ": " << out.status().ToString();
    EXPECT_EQ((*out)[0].shape(), r.expected) << OpTypeName(r.op);
  }
}

}  // namespace
}  // namespace shrink::engine::testing
