// Index-driven kernels (gather_scatter.cc) and axis walks (topk_cumsum.cc), hand-computed cases.
#include <gtest/gtest.h>

#include <random>

#include "engine/kernels/tensor_test_helpers.h"

namespace shrink::engine::testing {
namespace {

std::vector<OpCase> GatherCases() {
  Tensor d32 = F({3, 2}, {1, 2, 3, 4, 5, 6});
  return {
      {"GatherAxis0", OpType::kGather, 13, {}, {d32, L({2, 0})}, {F({2, 2}, {5, 6, 1, 2})}},
      {"GatherNegativeIndex",
       OpType::kGather,
       13,
       {IntAttr("axis", 1)},
       {d32, L({-1})},
       {F({3, 1}, {2, 4, 6})}},
      {"GatherScalarIndex", OpType::kGather, 13, {}, {d32, I64({}, {1})}, {F({2}, {3, 4})}},
      {"Gather2DIndicesInt32",
       OpType::kGather,
       13,
       {IntAttr("axis", 1)},
       {d32, I32({2, 2}, {1, 0, 0, 0})},
       {F({3, 2, 2}, {2, 1, 1, 1, 4, 3, 3, 3, 6, 5, 5, 5})}},
      {"GatherStrings",
       OpType::kGather,
       13,
       {},
       {S({3}, {"a", "b", "c"}), L({2, 2, 0})},
       {S({3}, {"c", "c", "a"})}},
      {"GatherElementsAxis1",
       OpType::kGatherElements,
       13,
       {IntAttr("axis", 1)},
       {F({2, 2}, {1, 2, 3, 4}), I64({2, 2}, {0, 0, 1, 0})},
       {F({2, 2}, {1, 1, 4, 3})}},
      {"GatherElementsAxis0Negative",
       OpType::kGatherElements,
       13,
       {},
       {F({2, 2}, {1, 2, 3, 4}), I64({2, 2}, {1, 0, 0, -1})},
       {F({2, 2}, {3, 2, 1, 4})}},
      {"GatherElementsSmallerIndices",
       OpType::kGatherElements,
       13,
       {IntAttr("axis", 1)},
       {F({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}), I64({2, 1}, {2, 0})},
       {F({2, 1}, {3, 4})}},
      {"GatherNDElements",
       OpType::kGatherND,
       13,
       {},
       {F({2, 2}, {0, 1, 2, 3}), I64({2, 2}, {0, 0, 1, 1})},
       {F({2}, {0, 3})}},
      {"GatherNDSlices",
       OpType::kGatherND,
       13,
       {},
       {F({2, 2}, {0, 1, 2, 3}), I64({2, 1}, {1, 0})},
       {F({2, 2}, {2, 3, 0, 1})}},
      {"GatherNDBatchDims",
       OpType::kGatherND,
       13,
       {IntAttr("batch_dims", 1)},
       {Iota({2, 2, 2}), I64({2, 1}, {1, 0})},
       {F({2, 2}, {2, 3, 4, 5})}},
      {"GatherNDNegative",
       OpType::kGatherND,
       13,
       {},
       {F({3}, {7, 8, 9}), I64({1, 1}, {-1})},
       {F({1}, {9})}},
  };
}

std::vector<OpCase> ScatterCases() {
  Tensor row = F({1, 5}, {1, 2, 3, 4, 5});
  return {
      {"ScatterElementsAxis1",
       OpType::kScatterElements,
       13,
       {IntAttr("axis", 1)},
       {row, I64({1, 2}, {1, 3}), F({1, 2}, {1.5f, 2.5f})},
       {F({1, 5}, {1, 1.5f, 3, 2.5f, 5})}},
      {"ScatterElementsNegative",
       OpType::kScatterElements,
       13,
       {IntAttr("axis", 1)},
       {row, I64({1, 1}, {-1}), F({1, 1}, {9})},
       {F({1, 5}, {1, 2, 3, 4, 9})}},
      {"ScatterElementsAxis0",
       OpType::kScatterElements,
       13,
       {},
       {F({2, 2}, {0, 0, 0, 0}), I64({1, 2}, {1, 0}), F({1, 2}, {7, 8})},
       {F({2, 2}, {0, 8, 7, 0})}},
      {"ScatterElementsAdd",
       OpType::kScatterElements,
       16,
       {IntAttr("axis", 1), StringAttr("reduction", "add")},
       {row, I64({1, 2}, {1, 1}), F({1, 2}, {1, 2})},
       {F({1, 5}, {1, 5, 3, 4, 5})}},
      {"ScatterElementsMul",
       OpType::kScatterElements,
       16,
       {IntAttr("axis", 1), StringAttr("reduction", "mul")},
       {row, I64({1, 2}, {1, 1}), F({1, 2}, {2, 3})},
       {F({1, 5}, {1, 12, 3, 4, 5})}},
      {"ScatterElementsMax",
       OpType::kScatterElements,
       18,
       {IntAttr("axis", 1), StringAttr("reduction", "max")},
       {row, I64({1, 2}, {0, 4}), F({1, 2}, {7, 0})},
       {F({1, 5}, {7, 2, 3, 4, 5})}},
      {"ScatterElementsStrings",
       OpType::kScatterElements,
       13,
       {},
       {S({2}, {"a", "b"}), I64({1}, {1}), S({1}, {"z"})},
       {S({2}, {"a", "z"})}},
      {"ScatterND",
       OpType::kScatterND,
       13,
       {},
       {F({8}, {1, 2, 3, 4, 5, 6, 7, 8}), I64({4, 1}, {4, 3, 1, 7}), F({4}, {9, 10, 11, 12})},
       {F({8}, {1, 11, 3, 10, 9, 6, 7, 12})}},
      {"ScatterNDSlices",
       OpType::kScatterND,
       13,
       {},
       {Iota({2, 2}), I64({1, 1}, {1}), F({1, 2}, {8, 9})},
       {F({2, 2}, {0, 1, 8, 9})}},
      {"ScatterNDAdd",
       OpType::kScatterND,
       16,
       {StringAttr("reduction", "add")},
       {F({2}, {1, 2}), I64({2, 1}, {0, 0}), F({2}, {5, 6})},
       {F({2}, {12, 2})}},
      {"ScatterNDMulInt",
       OpType::kScatterND,
       16,
       {StringAttr("reduction", "mul")},
       {L({2, 3}), I64({2, 1}, {1, 1}), L({4, 5})},
       {L({2, 60})}},
  };
}

std::vector<OpCase> MiscCases() {
  Tensor m = F({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  return {
      {"NonZero",
       OpType::kNonZero,
       13,
       {},
       {F({2, 2}, {1, 0, 1, 1})},
       {I64({2, 3}, {0, 1, 1, 0, 0, 1})}},
      {"NonZeroBool", OpType::kNonZero, 13, {}, {B({3}, {false, true, false})}, {I64({1, 1}, {1})}},
      {"NonZeroScalar", OpType::kNonZero, 13, {}, {F({}, {5})}, {I64({1, 1}, {0})}},
      {"NonZeroNone", OpType::kNonZero, 13, {}, {L({0, 0})}, {I64({1, 0}, {})}},
      {"OneHotLastAxis",
       OpType::kOneHot,
       11,
       {},
       {L({0, 2, -1}), F({}, {3}), F({2}, {0, 1})},
       {F({3, 3}, {1, 0, 0, 0, 0, 1, 0, 0, 1})}},
      {"OneHotAxis0",
       OpType::kOneHot,
       11,
       {IntAttr("axis", 0)},
       {L({0, 2, 2}), I64({1}, {3}), L({5, 7})},
       {I64({3, 3}, {7, 5, 5, 5, 5, 5, 5, 7, 7})}},
      {"OneHotOutOfRangeIsOff",
       OpType::kOneHot,
       11,
       {},
       {F({2}, {5, 1.7f}), F({}, {2}), F({2}, {0, 1})},
       {F({2, 2}, {0, 0, 0, 1})}},
      {"OneHotOpset9NegativeIsOff",
       OpType::kOneHot,
       9,
       {},
       {L({-1, 1}), F({}, {2}), F({2}, {0, 1})},
       {F({2, 2}, {0, 0, 0, 1})}},
      {"TopKLargest",
       OpType::kTopK,
       11,
       {},
       {F({4}, {1, 3, 2, 3}), L({2})},
       {F({2}, {3, 3}), L({1, 3})}},
      {"TopKSmallest",
       OpType::kTopK,
       11,
       {IntAttr("largest", 0)},
       {F({4}, {1, 3, 2, 3}), L({2})},
       {F({2}, {1, 2}), L({0, 2})}},
      {"TopKAxis0",
       OpType::kTopK,
       11,
       {IntAttr("axis", 0)},
       {F({3, 2}, {1, 6, 5, 2, 3, 4}), L({1})},
       {F({1, 2}, {5, 6}), I64({1, 2}, {1, 0})}},
      {"TopKAttr9",
       OpType::kTopK,
       9,
       {IntAttr("k", 1)},
       {F({2, 3}, {1, 9, 3, 7, 5, 8})},
       {F({2, 1}, {9, 8}), I64({2, 1}, {1, 2})}},
      {"TopKZero", OpType::kTopK, 11, {}, {F({3}, {1, 2, 3}), L({0})}, {F({0}, {}), L({})}},
      {"TopKInt",
       OpType::kTopK,
       11,
       {},
       {I32({3}, {-5, 4, 4}), L({3})},
       {I32({3}, {4, 4, -5}), L({1, 2, 0})}},
      {"CumSum", OpType::kCumSum, 14, {}, {F({3}, {1, 2, 3}), I32({}, {0})}, {F({3}, {1, 3, 6})}},
      {"CumSumExclusive",
       OpType::kCumSum,
       14,
       {IntAttr("exclusive", 1)},
       {F({3}, {1, 2, 3}), I64({}, {0})},
       {F({3}, {0, 1, 3})}},
      {"CumSumReverse",
       OpType::kCumSum,
       14,
       {IntAttr("reverse", 1)},
       {F({3}, {1, 2, 3}), I64({}, {0})},
       {F({3}, {6, 5, 3})}},
      {"CumSumReverseExclusive",
       OpType::kCumSum,
       14,
       {IntAttr("reverse", 1), IntAttr("exclusive", 1)},
       {L({1, 2, 3}), I64({1}, {-1})},
       {L({5, 3, 0})}},
      {"CumSumAxis0",
       OpType::kCumSum,
       14,
       {},
       {F({2, 2}, {1, 2, 3, 4}), I64({}, {0})},
       {F({2, 2}, {1, 2, 4, 6})}},
      {"TriluUpper", OpType::kTrilu, 14, {}, {m}, {F({3, 3}, {1, 2, 3, 0, 5, 6, 0, 0, 9})}},
      {"TriluLowerMinus1",
       OpType::kTrilu,
       14,
       {IntAttr("upper", 0)},
       {m, I64({}, {-1})},
       {F({3, 3}, {0, 0, 0, 4, 0, 0, 7, 8, 0})}},
      {"TriluUpperPlus1",
       OpType::kTrilu,
       14,
       {},
       {m, I64({}, {1})},
       {F({3, 3}, {0, 2, 3, 0, 0, 6, 0, 0, 0})}},
      {"TriluBatchedWide",
       OpType::kTrilu,
       14,
       {IntAttr("upper", 0)},
       {Iota({2, 2, 3}), I64({}, {1})},
       {F({2, 2, 3}, {0, 1, 0, 3, 4, 5, 6, 7, 0, 9, 10, 11})}},
      {"TriluHugeK",
       OpType::kTrilu,
       14,
       {},
       {m, I64({}, {int64_t(1) << 62})},
       {F({3, 3}, {0, 0, 0, 0, 0, 0, 0, 0, 0})}},
  };
}

class TensorIndexCase : public ::testing::TestWithParam<OpCase> {};
TEST_P(TensorIndexCase, Matches) { CheckCase(GetParam()); }
INSTANTIATE_TEST_SUITE_P(Gather, TensorIndexCase, ::testing::ValuesIn(GatherCases()),
                         CaseName<OpCase>);
INSTANTIATE_TEST_SUITE_P(Scatter, TensorIndexCase, ::testing::ValuesIn(ScatterCases()),
                         CaseName<OpCase>);
INSTANTIATE_TEST_SUITE_P(Misc, TensorIndexCase, ::testing::ValuesIn(MiscCases()), CaseName<OpCase>);

std::vector<ErrorCase> IndexErrorCases() {
  Tensor d = F({3, 2}, {1, 2, 3, 4, 5, 6});
  return {
      {"GatherIndexTooLarge", OpType::kGather, 13, {}, {d, L({0, 3})}, "index 3"},
      {"GatherIndexTooNegative", OpType::kGather, 13, {}, {d, L({-4})}, "index -4"},
      {"GatherAxisRange", OpType::kGather, 13, {IntAttr("axis", 2)}, {d, L({0})}, "out of range"},
      {"GatherFloatIndices",
       OpType::kGather,
       13,
       {},
       {d, F({1}, {0})},
       "indices",
       StatusCode::kUnimplemented},
      {"GatherElementsIndex", OpType::kGatherElements, 13, {}, {d, I64({1, 2}, {0, 3})}, "index 3"},
      {"GatherElementsRank", OpType::kGatherElements, 13, {}, {d, L({0})}, "rank"},
      {"GatherElementsShape",
       OpType::kGatherElements,
       13,
       {},
       {d, I64({1, 3}, {0, 0, 0})},
       "exceeds data shape"},
      {"GatherNDIndex", OpType::kGatherND, 13, {}, {d, I64({1, 2}, {0, 2})}, "index 2"},
      {"GatherNDTupleTooLong",
       OpType::kGatherND,
       13,
       {},
       {d, I64({1, 3}, {0, 0, 0})},
       "last dim 3"},
      {"GatherNDBatchMismatch",
       OpType::kGatherND,
       13,
       {IntAttr("batch_dims", 1)},
       {d, I64({2, 1}, {0, 0})},
       "batch dims"},
      {"ScatterElementsIndex",
       OpType::kScatterElements,
       13,
       {},
       {d, I64({1, 1}, {5}), F({1, 1}, {0})},
       "index 5"},
      {"ScatterElementsShapes",
       OpType::kScatterElements,
       13,
       {},
       {d, I64({1, 1}, {0}), F({1, 2}, {0, 0})},
       "differs from updates shape"},
      {"ScatterElementsReduction",
       OpType::kScatterElements,
       16,
       {StringAttr("reduction", "avg")},
       {d, I64({1, 1}, {0}), F({1, 1}, {0})},
       "unknown reduction"},
      {"ScatterNDUpdatesShape",
       OpType::kScatterND,
       13,
       {},
       {d, I64({1, 1}, {0}), F({1}, {0})},
       "updates shape"},
      {"ScatterNDIndex",
       OpType::kScatterND,
       13,
       {},
       {d, I64({1, 1}, {-4}), F({1, 2}, {0, 0})},
       "index -4"},
      {"OneHotZeroDepth",
       OpType::kOneHot,
       11,
       {},
       {L({0}), F({}, {0}), F({2}, {0, 1})},
       "depth must be positive"},
      {"OneHotValues", OpType::kOneHot, 11, {}, {L({0}), F({}, {2}), F({3}, {0, 1, 2})}, "values"},
      {"TopKTooLarge",
       OpType::kTopK,
       11,
       {},
       {F({3}, {1, 2, 3}), L({4})},
       "k = 4",
       StatusCode::kInvalidArgument,
       2},
      {"TopKNegative",
       OpType::kTopK,
       11,
       {},
       {F({3}, {1, 2, 3}), L({-1})},
       "k = -1",
       StatusCode::kInvalidArgument,
       2},
      {"CumSumAxis", OpType::kCumSum, 14, {}, {F({3}, {1, 2, 3}), I64({}, {1})}, "out of range"},
      {"CumSumAxisNotScalar", OpType::kCumSum, 14, {}, {F({3}, {1, 2, 3}), L({0, 0})}, "one value"},
      {"NonZeroStrings",
       OpType::kNonZero,
       13,
       {},
       {S({1}, {"a"})},
       "string",
       StatusCode::kUnimplemented},
      {"TopKStrings",
       OpType::kTopK,
       11,
       {},
       {S({1}, {"a"}), L({1})},
       "string",
       StatusCode::kUnimplemented,
       2},
      {"CumSumBool",
       OpType::kCumSum,
       14,
       {},
       {B({1}, {true}), I64({}, {0})},
       "bool",
       StatusCode::kUnimplemented},
      {"TriluRank", OpType::kTrilu, 14, {}, {F({3}, {1, 2, 3})}, "rank >= 2"},
  };
}

class TensorIndexError : public ::testing::TestWithParam<ErrorCase> {};
TEST_P(TensorIndexError, Fails) { CheckError(GetParam()); }
INSTANTIATE_TEST_SUITE_P(BadInput, TensorIndexError, ::testing::ValuesIn(IndexErrorCases()),
                         CaseName<ErrorCase>);

// Sorting against a stable sort of (value desc, index asc) over random lines with many ties.
TEST(TopK, MatchesStableSortWithTies) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> value(0, 9);
  Tensor x(DataType::kFloat32, {3, 50, 4});
  for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] = float(value(rng));
  for (int largest : {0, 1}) {
    KernelRun run;
    run.op = OpType::kTopK;
    run.opset = 11;
    run.attributes = {IntAttr("axis", 1), IntAttr("largest", largest)};
    run.inputs = {x, L({7})};
    run.num_outputs = 2;
    auto out = RunKernel(run);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    for (int64_t o = 0; o < 3; ++o) {
      for (int64_t i = 0; i < 4; ++i) {
        std::vector<std::pair<float, int64_t>> line;
        for (int64_t d = 0; d < 50; ++d) line.push_back({x.data<float>()[(o * 50 + d) * 4 + i], d});
        std::stable_sort(line.begin(), line.end(), [&](const auto& a, const auto& b) {
          return largest ? a.first > b.first : a.first < b.first;
        });
        for (int64_t j = 0; j < 7; ++j) {
          int64_t at = (o * 7 + j) * 4 + i;
          EXPECT_EQ((*out)[0].data<float>()[at], line[size_t(j)].first);
          EXPECT_EQ((*out)[1].data<int64_t>()[at], line[size_t(j)].second);
        }
      }
    }
  }
}

Tensor H(Shape shape, std::vector<uint16_t> bits) {
  Tensor t(DataType::kFloat16, std::move(shape));
  for (size_t i = 0; i < bits.size(); ++i) t.data<uint16_t>()[i] = bits[i];
  return t;
}

// Float16 arithmetic goes through float: 1 + 0.5 = 1.5, cumulative 1, 1 + 2 = 3.
TEST(HalfPrecision, ScatterAddAndCumSum) {
  KernelRun scatter;
  scatter.op = OpType::kScatterElements;
  scatter.opset = 16;
  scatter.attributes = {StringAttr("reduction", "add")};
  scatter.inputs = {H({2}, {0x3c00, 0x4000}), L({0}), H({1}, {0x3800})};
  auto out = RunKernel(scatter);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE((*out)[0].BitwiseEquals(H({2}, {0x3e00, 0x4000}))) << Describe((*out)[0]);
  KernelRun cumsum;
  cumsum.op = OpType::kCumSum;
  cumsum.inputs = {H({2}, {0x3c00, 0x4000}), I64({}, {0})};
  out = RunKernel(cumsum);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE((*out)[0].BitwiseEquals(H({2}, {0x3c00, 0x4200}))) << Describe((*out)[0]);
}

}  // namespace
}  // namespace shrink::engine::testing
