// The evaluator with ONNX Runtime, the runtime the README's accuracy counts come from: the float
// MNIST models reproduce them exactly on the full test set, and int8 models made by `shrink run
// --preset int8` (RunJob in-process) stay within a point on the eval subset.
#include <gtest/gtest.h>

#include <cmath>

#include "common/file_util.h"
#include "engine/eval/evaluator.h"
#include "engine/io/npy.h"
#include "engine/job/pipeline.h"
#include "engine/job/recipe.h"
#include "engine/ort/ort_eval_runner.h"
#include "engine/ort/ort_runner.h"
#include "tests/test_inputs.h"

namespace shrink::testing {
namespace {

using engine::Shape;
using engine::Tensor;
namespace eval = engine::eval;

struct MnistModel {
  const char* name;
  Shape per_image;
  int64_t full_correct;    // README: ORT, full test set
  int64_t subset_correct;  // README: ORT, eval subset (test images 0..999)
};

const MnistModel kModels[] = {{"mnist_mlp", {1, 28, 28}, 9662, 964},
                              {"mnist_cnn", {1, 28, 28}, 9898, 990},
                              {"digits_gru", {28, 28}, 9457, 934}};

class EvalOrtTest : public ::testing::TestWithParam<MnistModel> {
 protected:
  static void SetUpTestSuite() { dir_ = new std::string(*MakeTempDir("shrink-eval-ort")); }
  static void TearDownTestSuite() {
    (void)RemoveAll(*dir_);
    delete dir_;
  }

  void SetUp() override {
    model_ = JoinPath(SharedModelsDir(), std::string(GetParam().name) + ".onnx");
    mnist_ = JoinPath(AssetKitRoot(), "data/mnist");
    if (!FileExists(model_) || !FileExists(JoinPath(mnist_, "t10k-images-idx3-ubyte"))) {
      GTEST_SKIP() << "needs " << model_ << " and the MNIST files of the asset kit in " << mnist_;
    }
  }

  // Images [0, count) of `set` ("t10k" or "train") with labels, in the model's layout; made once.
  std::string Data(const std::string& set, int64_t count) {
    const Shape& per_image = GetParam().per_image;
    std::string path = JoinPath(*dir_, set + "-" + std::to_string(count) + "-rank" +
                                           std::to_string(per_image.size()) + ".npz");
    if (FileExists(path)) return path;
    auto subset = LoadMnistSet(mnist_, set, count);
    EXPECT_TRUE(subset.ok()) << subset.status().ToString();
    Shape shape = {count};
    shape.insert(shape.end(), per_image.begin(), per_image.end());
    Tensor images = *MnistImages(*subset, 0, count, shape);
    std::vector<int64_t> labels(subset->labels.begin(), subset->labels.end());
    EXPECT_TRUE(engine::WriteNpz(
                    path,
                    {{"input", images}, {"labels", Tensor::FromVector<int64_t>({count}, labels)}},
                    engine::NpzCompression::kStored)
                    .ok());
    return path;
  }

  static std::string* dir_;
  std::string model_, mnist_;
};
std::string* EvalOrtTest::dir_ = nullptr;

TEST_P(EvalOrtTest, FloatModelReproducesTheReadmeCountsExactly) {
  auto result = eval::Evaluate(model_, model_, Data("t10k", 10000), ort::OrtRuntime(2), {});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->runtime(), "onnxruntime " + ort::OrtVersion());
  const v1::AccuracyMetrics& a = result->accuracy();
  EXPECT_EQ(a.samples(), 10000);
  EXPECT_EQ(a.reference_correct(), GetParam().full_correct);
  EXPECT_EQ(a.candidate_correct(), GetParam().full_correct);
  EXPECT_EQ(a.drop(), 0.0);
  EXPECT_EQ(a.drop_ci95_low(), 0.0);
  EXPECT_EQ(a.drop_ci95_high(), 0.0);
  ASSERT_EQ(result->outputs_size(), 1);
  EXPECT_EQ(result->outputs(0).agreement(), 1.0);
  EXPECT_EQ(result->outputs(0).sqnr_db(), 999);
  EXPECT_EQ(result->outputs(0).max_abs_error(), 0.0);
  std::printf("%s float in ORT: %lld/10000 (top-5 %.2f%%), %.2f s (%.2f s in Run)\n",
              GetParam().name, (long long)a.reference_correct(), a.reference_topk(),
              result->seconds(), result->inference_seconds());
}

// int8 (static QDQ, calibration on train images 0..499) on the eval subset, in both runtimes:
// the drop stays within a point, and the interval holds the drop.
TEST_P(EvalOrtTest, Int8ModelDropIsWithinOnePoint) {
  const std::string int8 = JoinPath(*dir_, std::string(GetParam().name) + "_int8.onnx");
  engine::JobSpec job;
  job.model_path = model_;
  job.output_path = int8;
  job.calibration_data = Data("train", 500);
  auto recipe = engine::ParseRecipeJson("{\"preset\": \"int8\"}", "test recipe");
  ASSERT_TRUE(recipe.ok()) << recipe.status().ToString();
  job.recipe = *recipe;
  job.recipe.set_threads(2);
  auto report = engine::RunJob(job, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();

  const std::string data = Data("t10k", 1000);
  for (const auto& [runtime, runners] : {std::make_pair("onnxruntime", ort::OrtRuntime(2)),
                                         std::make_pair("shrink", eval::OurRuntime(2))}) {
    auto result = eval::Evaluate(int8, model_, data, runners, {});
    ASSERT_TRUE(result.ok()) << runtime << ": " << result.status().ToString();
    const v1::AccuracyMetrics& a = result->accuracy();
    EXPECT_EQ(a.samples(), 1000);
    if (std::string(runtime) == "onnxruntime") {
      EXPECT_EQ(a.reference_correct(), GetParam().subset_correct);
    }
    EXPECT_GE(a.drop(), -1.0) << runtime;
    EXPECT_LE(a.drop(), 1.0) << runtime;
    EXPECT_LE(a.drop_ci95_low(), a.drop()) << runtime;
    EXPECT_GE(a.drop_ci95_high(), a.drop()) << runtime;
    EXPECT_LT(result->outputs(0).sqnr_db(), 999) << runtime;  // quantization did change outputs
    std::printf(
        "%s int8 in %s: %lld -> %lld of 1000, drop %.2f [%.2f, %.2f], agreement %.3f, "
        "SQNR %.1f dB\n",
        GetParam().name, runtime, (long long)a.reference_correct(),
        (long long)a.candidate_correct(), a.drop(), a.drop_ci95_low(), a.drop_ci95_high(),
        result->outputs(0).agreement(), result->outputs(0).sqnr_db());
  }
}

TEST_P(EvalOrtTest, LatencyInBothRuntimes) {
  const std::string data = Data("t10k", 1000);
  for (const auto& runners : {ort::OrtRuntime(1), eval::OurRuntime(1)}) {
    std::string note;
    auto latency = eval::MeasureLatency(model_, data, runners, 20, {}, &note);
    ASSERT_TRUE(latency.ok()) << latency.status().ToString();
    EXPECT_EQ(latency->runs(), 20);
    EXPECT_EQ(latency->threads(), 1);
    EXPECT_GT(latency->median_ms(), 0);
    EXPECT_GE(latency->p90_ms(), latency->median_ms());
    EXPECT_NE(note.find("dynamic batch axis: batch 1"), std::string::npos) << note;
    std::printf("%s latency in %s: median %.3f ms, p90 %.3f ms (%s)\n", GetParam().name,
                latency->runtime().c_str(), latency->median_ms(), latency->p90_ms(), note.c_str());
  }
}

INSTANTIATE_TEST_SUITE_P(SharedModels, EvalOrtTest, ::testing::ValuesIn(kModels),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace shrink::testing
