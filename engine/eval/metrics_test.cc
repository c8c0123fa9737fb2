// Streaming metrics against values computed by hand. Inputs are small integers and halves, so
// every sum is exact in double; results that go through log10/sqrt are compared with a relative
// tolerance of a few double ulps (1e-12).
#include "engine/eval/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace shrink::engine::eval {
namespace {

constexpr double kRel = 1e-12;

Tensor Scores(int64_t rows, int64_t classes, std::vector<float> values) {
  return Tensor::FromVector<float>({rows, classes}, values);
}

TEST(MetricsTest, ArgmaxAndRankBreakTiesByLowerIndex) {
  const float scores[] = {1, 3, 3, 0};
  EXPECT_EQ(Argmax(scores, 4), 1);
  EXPECT_EQ(LabelRank(scores, 4, 1), 0);  // ties with class 2, which comes later
  EXPECT_EQ(LabelRank(scores, 4, 2), 1);  // class 1 ties and comes first
  EXPECT_EQ(LabelRank(scores, 4, 0), 2);
  EXPECT_EQ(LabelRank(scores, 4, 3), 3);
  const float nan_label[] = {std::numeric_limits<float>::quiet_NaN(), 0};
  EXPECT_EQ(LabelRank(nan_label, 2, 0), 2);  // never correct
}

// ref  = [[1,2,3],[3,2,1]], cand = [[1,2,2.5],[1,2,1]]
// errors 0,0,0.5,2,0,0: sum e^2 = 4.25, sum |e| = 2.5, max 2; sum ref^2 = 28, sum cand^2 =
// 17.25, dot = 20.5; top-1: row 0 both class 2, row 1 class 0 vs 1 -> agreement 1/2.
TEST(MetricsTest, OutputMetricsMatchHandValuesInOneOrTwoBatches) {
  const Tensor ref = Scores(2, 3, {1, 2, 3, 3, 2, 1});
  const Tensor cand = Scores(2, 3, {1, 2, 2.5f, 1, 2, 1});
  OutputAccumulator whole("logits");
  ASSERT_TRUE(whole.Add(ref, cand, 2).ok());
  OutputAccumulator split("logits");
  ASSERT_TRUE(split.Add(Scores(1, 3, {1, 2, 3}), Scores(1, 3, {1, 2, 2.5f}), 1).ok());
  ASSERT_TRUE(split.Add(Scores(1, 3, {3, 2, 1}), Scores(1, 3, {1, 2, 1}), 1).ok());
  for (const v1::OutputMetrics& m : {whole.Result(), split.Result()}) {
    EXPECT_EQ(m.output(), "logits");
    EXPECT_TRUE(m.classifier());
    EXPECT_EQ(m.agreement(), 0.5);
    EXPECT_NEAR(m.sqnr_db(), 10 * std::log10(28 / 4.25), kRel * 10);
    EXPECT_NEAR(m.cosine(), 20.5 / std::sqrt(28 * 17.25), kRel);
    EXPECT_EQ(m.max_abs_error(), 2.0);
    EXPECT_EQ(m.mean_abs_error(), 2.5 / 6);
  }
}

TEST(MetricsTest, IdenticalOutputsGiveInfiniteSqnrStoredAs999) {
  const Tensor ref = Scores(2, 2, {1, -2, 0.5f, 4});
  OutputAccumulator acc("y");
  ASSERT_TRUE(acc.Add(ref, ref, 2).ok());
  v1::OutputMetrics m = acc.Result();
  EXPECT_EQ(m.sqnr_db(), 999);
  EXPECT_NEAR(m.cosine(), 1.0, kRel);
  EXPECT_EQ(m.agreement(), 1.0);
  EXPECT_EQ(m.max_abs_error(), 0.0);
  EXPECT_EQ(m.mean_abs_error(), 0.0);
}

TEST(MetricsTest, ZeroReferenceAndZeroCandidateEdgeCases) {
  OutputAccumulator zero_ref("y");
  ASSERT_TRUE(
      zero_ref
          .Add(Tensor::FromVector<float>({2}, {0, 0}), Tensor::FromVector<float>({2}, {1, 0}), 2)
          .ok());
  EXPECT_EQ(zero_ref.Result().sqnr_db(), -999);
  EXPECT_EQ(zero_ref.Result().cosine(), 0.0);
  OutputAccumulator both_zero("y");
  Tensor zeros = Tensor::FromVector<float>({2}, {0, 0});
  ASSERT_TRUE(both_zero.Add(zeros, zeros, 2).ok());
  EXPECT_EQ(both_zero.Result().sqnr_db(), 999);
  EXPECT_EQ(both_zero.Result().cosine(), 1.0);
}

TEST(MetricsTest, OnlyFloatingPointNByCOutputsAreClassifiers) {  // trailing 1s allowed
  struct Case {
    const char* what;
    Tensor value;
    int64_t samples;
    bool classifier;
  };
  const Case cases[] = {
      {"[N,C] float", Scores(2, 3, {0, 1, 2, 3, 4, 5}), 2, true},
      {"[N,1] float", Scores(2, 1, {0, 1}), 2, false},
      {"[N] float", Tensor::FromVector<float>({2}, {0, 1}), 2, false},
      {"[N,C,1] float", Tensor::FromVector<float>({2, 2, 1}, {0, 1, 2, 3}), 2, true},
      {"[N,C,1,1] float", Tensor::FromVector<float>({2, 2, 1, 1}, {0, 1, 2, 3}), 2, true},
      {"[N,C,2] float", Tensor::FromVector<float>({2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7}), 2, false},
      {"[N,C] int64", Tensor::FromVector<int64_t>({2, 2}, {0, 1, 2, 3}), 2, false},
      {"rows != samples", Scores(2, 2, {0, 1, 2, 3}), 1, false},
  };
  for (const Case& c : cases) {
    OutputAccumulator acc("y");
    ASSERT_TRUE(acc.Add(c.value, c.value, c.samples).ok()) << c.what;
    EXPECT_EQ(acc.Result().classifier(), c.classifier) << c.what;
    EXPECT_EQ(IsClassifierShape(c.value, c.samples), c.classifier) << c.what;
  }
}

TEST(MetricsTest, IntegerOutputsAreCompared) {
  OutputAccumulator acc("ids");
  ASSERT_TRUE(acc.Add(Tensor::FromVector<int64_t>({3}, {1, 2, 3}),
                      Tensor::FromVector<int64_t>({3}, {1, 2, 5}), 3)
                  .ok());
  EXPECT_NEAR(acc.Result().sqnr_db(), 10 * std::log10(14.0 / 4.0), kRel * 10);
  EXPECT_EQ(acc.Result().max_abs_error(), 2.0);
}

TEST(MetricsTest, ShapeMismatchIsAnErrorNamingTheOutput) {
  OutputAccumulator acc("logits");
  Status status = acc.Add(Scores(2, 3, {0, 0, 0, 0, 0, 0}), Scores(3, 2, {0, 0, 0, 0, 0, 0}), 2);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("output 'logits'"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("[3,2]"), std::string::npos) << status.message();
}

// labels 0,1,2,0 over 3 classes.
// reference ranks 0,0,0,1 -> top-1 3/4, top-2 4/4; candidate ranks 1,0,2,0 -> 2/4, 3/4.
// d = ref_correct - cand_correct = 1,0,1,-1: mean 0.25, sample variance (3 - 4 * 0.0625) / 3,
// interval 25 +- 100 * 1.96 * sd / 2 points.
TEST(MetricsTest, AccuracyAndPairedIntervalMatchHandValues) {
  const Tensor ref = Scores(4, 3, {5, 1, 0, 0, 5, 1, 1, 0, 5, 1, 5, 0});
  const Tensor cand = Scores(4, 3, {1, 5, 0, 0, 5, 1, 5, 1, 0, 5, 1, 0});
  const Tensor labels = Tensor::FromVector<int64_t>({4}, {0, 1, 2, 0});
  AccuracyAccumulator acc("logits", 2);
  ASSERT_TRUE(acc.Add(ref, cand, labels).ok());
  v1::AccuracyMetrics m = acc.Result();
  EXPECT_EQ(m.samples(), 4);
  EXPECT_EQ(m.k(), 2);
  EXPECT_EQ(m.reference_correct(), 3);
  EXPECT_EQ(m.candidate_correct(), 2);
  EXPECT_EQ(m.reference_top1(), 75.0);
  EXPECT_EQ(m.candidate_top1(), 50.0);
  EXPECT_EQ(m.reference_topk(), 100.0);
  EXPECT_EQ(m.candidate_topk(), 75.0);
  EXPECT_EQ(m.drop(), 25.0);
  const double half = 100 * 1.96 * std::sqrt((3 - 4 * 0.0625) / 3) / 2;
  EXPECT_NEAR(m.drop_ci95_low(), 25 - half, kRel * 100);
  EXPECT_NEAR(m.drop_ci95_high(), 25 + half, kRel * 100);
  EXPECT_EQ(m.output(), "logits");
}

TEST(MetricsTest, IntervalOfIdenticalPredictionsIsZeroWidth) {
  double low = -1, high = -1;
  PairedInterval95(1000, 0, 0, &low, &high);
  EXPECT_EQ(low, 0.0);
  EXPECT_EQ(high, 0.0);
  PairedInterval95(1, 1, 1, &low, &high);  // one sample: no spread to estimate
  EXPECT_EQ(low, 100.0);
  EXPECT_EQ(high, 100.0);
}

TEST(MetricsTest, TopKIsCappedAtTheClassCount) {
  AccuracyAccumulator acc("logits", 5);
  const Tensor scores = Scores(1, 3, {0, 1, 2});
  ASSERT_TRUE(acc.Add(scores, scores, Tensor::FromVector<int64_t>({1}, {0})).ok());
  EXPECT_EQ(acc.Result().k(), 3);
  EXPECT_EQ(acc.Result().reference_topk(), 100.0);
  EXPECT_EQ(acc.Result().reference_top1(), 0.0);
}

TEST(MetricsTest, LabelOutsideTheClassesIsAnError) {
  AccuracyAccumulator acc("logits", 5);
  const Tensor scores = Scores(2, 3, {0, 1, 2, 0, 1, 2});
  Status status = acc.Add(scores, scores, Tensor::FromVector<int64_t>({2}, {1, 3}));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("label 3 of sample 1"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace shrink::engine::eval
