// Evaluated jobs: budgets, auto-tuning and the report's evaluation parts, on the shared MNIST
// MLP with our runtime as the evaluator (no ORT hooks).
#include <gtest/gtest.h>

#include <cmath>

#include "common/file_util.h"
#include "engine/io/npy.h"
#include "engine/io/onnx_export.h"
#include "engine/io/onnx_import.h"
#include "engine/job/pipeline.h"

namespace shrink::engine {
namespace {

const std::string kMlp = std::string(SHRINK_SHARED_MODELS_DIR) + "/mnist_mlp.onnx";

class TuningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!FileExists(kMlp)) GTEST_SKIP() << kMlp << " missing";
    dir_ = *MakeTempDir("shrink-tuning-test");
    Tensor images(DataType::kFloat32, {64, 1, 28, 28});
    for (int64_t i = 0; i < images.size(); ++i) {
      // Pixel 0 (the top-left corner) stays 0, as in MNIST.
      images.data<float>()[i] = i % 784 == 0 ? 0 : float((i * 37) % 256) / 255.0f;
    }
    ASSERT_TRUE(WriteNpz(File("data.npz"), {{"input", images}}, NpzCompression::kStored).ok());
  }
  void TearDown() override { (void)RemoveAll(dir_); }
  std::string File(const std::string& name) const { return JoinPath(dir_, name); }

  // The MLP whose first layer has a huge weight on the corner pixel in every row: the float
  // model never sees it (the pixel is always 0), but int8 weights lose everything else.
  void WriteFragileMlp(const std::string& path) {
    auto model = LoadModel(kMlp);
    ASSERT_TRUE(model.ok());
    const Node* first = nullptr;
    for (const auto& node : model->graph.nodes) {
      if (node->op_type == "Gemm" && !first) first = node.get();
    }
    ASSERT_NE(first, nullptr);
    Tensor weight = model->graph.FindInitializer(first->inputs[1])->Clone();  // [256, 784]
    for (int64_t row = 0; row < weight.shape()[0]; ++row) {
      weight.data<float>()[row * weight.shape()[1]] = 1000;
    }
    model->graph.SetInitializer(first->inputs[1], weight);
    ASSERT_TRUE(SaveModel(*model, path).ok());
  }

  JobSpec Int8(const std::string& model, double min_sqnr_db) {
    JobSpec spec;
    spec.model_path = model;
    spec.output_path = File("out.onnx");
    spec.calibration_data = File("data.npz");
    spec.recipe.set_preset("int8");
    spec.recipe.set_threads(1);
    spec.recipe.mutable_budget()->set_min_sqnr_db(min_sqnr_db);
    return spec;
  }

  std::string dir_;
};

TEST_F(TuningTest, AFragileLayerIsFoundAndKeptFloat) {
  WriteFragileMlp(File("fragile.onnx"));
  auto report = RunJob(Int8(File("fragile.onnx"), 25), {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const v1::Tuning& tuning = report->tuning();
  ASSERT_GE(tuning.trials_size(), 2);
  EXPECT_FALSE(tuning.trials(0).meets_budget()) << tuning.trials(0).ShortDebugString();
  EXPECT_TRUE(tuning.budget_met()) << tuning.summary();
  EXPECT_FALSE(BudgetMissed(*report));
  const v1::Trial& chosen = tuning.trials(tuning.chosen_trial());
  EXPECT_TRUE(chosen.meets_budget());
  ASSERT_EQ(chosen.fallback_nodes_size(), 1) << chosen.ShortDebugString();
  EXPECT_EQ(chosen.fallback_nodes(0), "/fc1/Gemm") << "the sensitivity ranking put it first";
  EXPECT_GE(chosen.sqnr_db(), 25);
  // The written model is the chosen trial, with that layer float and the report saying why.
  bool fc1_float = false;
  for (const auto& node : report->nodes()) {
    if (node.node() == "/fc1/Gemm") fc1_float = node.action() != "quantized";
  }
  EXPECT_TRUE(fc1_float);
  EXPECT_TRUE(FileExists(File("out.onnx")));
  EXPECT_FALSE(FileExists(File("out.onnx.trial0.onnx"))) << "trials are cleaned up";
  EXPECT_EQ(report->evaluation().outputs(0).sqnr_db(), chosen.sqnr_db());
}

TEST_F(TuningTest, AnUnreachableBudgetKeepsTheBestTrialAndSaysWhy) {
  v1::Budget* budget = nullptr;
  JobSpec spec = Int8(kMlp, 200);  // no int8 model is within 200 dB of float
  budget = spec.recipe.mutable_budget();
  budget->set_max_trials(4);
  auto report = RunJob(spec, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(BudgetMissed(*report));
  EXPECT_EQ(report->tuning().trials_size(), 4);
  EXPECT_NE(report->tuning().summary().find("trial limit"), std::string::npos)
      << report->tuning().summary();
  EXPECT_TRUE(FileExists(File("out.onnx"))) << "the best-effort artifact is written";
  for (const auto& trial : report->tuning().trials()) EXPECT_FALSE(trial.meets_budget());
}

TEST_F(TuningTest, BudgetsThatNeedLabelsOrDataSayWhat) {
  JobSpec spec = Int8(kMlp, 0);
  spec.recipe.mutable_budget()->set_max_accuracy_drop(0.5);
  auto report = RunJob(spec, {});
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.status().message().find("labels"), std::string::npos)
      << report.status().message();
  EXPECT_FALSE(FileExists(File("out.onnx")));

  spec = Int8(kMlp, 20);
  spec.recipe.set_preset("size");  // no calibration data needed, none given
  spec.calibration_data.clear();
  report = RunJob(spec, {});
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.status().message().find("--eval"), std::string::npos)
      << report.status().message();
}

TEST_F(TuningTest, EvaluationDataAloneAddsEvaluationAndSensitivity) {
  JobSpec spec = Int8(kMlp, 0);
  spec.recipe.clear_budget();
  spec.evaluation_data = File("data.npz");
  auto report = RunJob(spec, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->has_tuning());
  EXPECT_EQ(report->evaluation().samples(), 64);
  EXPECT_FALSE(report->sensitivity().empty());
  EXPECT_EQ(report->sensitivity(0).rank(), 1);
}

}  // namespace
}  // namespace shrink::engine
