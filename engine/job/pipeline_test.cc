#include "engine/job/pipeline.h"

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "engine/io/npy.h"
#include "engine/io/onnx_import.h"
#include "engine/job/recipe.h"
#include "engine/runtime/executor.h"

namespace shrink::engine {
namespace {

const std::string kModels = SHRINK_SHARED_MODELS_DIR;

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!FileExists(kModels + "/mnist_mlp.onnx")) GTEST_SKIP() << "no shared models";
    dir_ = MakeTempDir("shrink-pipeline-test").value();
    Tensor images(DataType::kFloat32, {16, 1, 28, 28});
    for (int64_t i = 0; i < images.size(); ++i) {
      images.data<float>()[i] = float((i * 37) % 256) / 255.0f;
    }
    ASSERT_TRUE(WriteNpz(File("calib.npz"), {{"input", images}}, NpzCompression::kStored).ok());
  }
  void TearDown() override {
    if (!dir_.empty()) (void)RemoveAll(dir_);
  }
  std::string File(const std::string& name) const { return JoinPath(dir_, name); }

  JobSpec Spec(const std::string& model, const std::string& preset, bool calib) {
    JobSpec spec;
    spec.model_path = kModels + "/" + model + ".onnx";
    spec.output_path = File("out.onnx");
    spec.calibration_data = calib ? File("calib.npz") : "";
    spec.recipe.set_preset(preset);
    spec.recipe.set_threads(1);
    return spec;
  }

  std::string dir_;
};

TEST_F(PipelineTest, Int8ReportsStagesDecisionsAndSizes) {
  std::vector<std::string> stages;
  JobHooks hooks;
  hooks.progress = [&](const std::string& stage, double fraction, const std::string&) {
    if (stages.empty() || stages.back() != stage) stages.push_back(stage);
    EXPECT_GE(fraction, 0.0);
    EXPECT_LE(fraction, 1.0);
  };
  auto report = RunJob(Spec("mnist_cnn", "int8", true), hooks);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(stages, (std::vector<std::string>{"load", "prepare", "calibrate", "quantize", "export",
                                              "validate"}));
  EXPECT_EQ(report->schema(), 1);
  EXPECT_EQ(report->calibration().samples(), 16);
  EXPECT_EQ(report->preparation().opset_after(), 13);
  int quantized = 0;
  for (const auto& node : report->nodes()) quantized += node.action() == "quantized";
  EXPECT_GE(quantized, 4);  // 2 Conv + 2 Gemm
  EXPECT_GT(report->size().raw_ratio(), 3.0);
  EXPECT_GT(report->size().zstd_before(), 0);
  EXPECT_FALSE(report->validation().checker().empty());
  // The written model loads and runs in the engine's own runtime.
  auto model = LoadModel(File("out.onnx"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto executor = Executor::Create(*model, {1, false});
  ASSERT_TRUE(executor.ok()) << executor.status().ToString();
}

TEST_F(PipelineTest, WeightDominatedModelShrinksAsPromised) {
  // mnist_mlp is 203530 float parameters: int8 storage must be >= 3.9x smaller, fp16 >= 1.99x.
  auto int8 = RunJob(Spec("mnist_mlp", "size", false), {});
  ASSERT_TRUE(int8.ok()) << int8.status().ToString();
  EXPECT_GE(int8->size().raw_ratio(), 3.9);
  auto fp16 = RunJob(Spec("mnist_mlp", "float16", false), {});
  ASSERT_TRUE(fp16.ok()) << fp16.status().ToString();
  EXPECT_GE(fp16->size().raw_ratio(), 1.99);
}

TEST_F(PipelineTest, FailedJobsLeaveNoOutputAndKeepAnEarlierFile) {
  ASSERT_TRUE(WriteFile(File("out.onnx"), "an earlier result").ok());
  // The judge refuses what the job wrote (but accepts the input): the job failed.
  JobHooks rejecting;
  rejecting.validate_output = [](const std::string& path) -> StatusOr<std::string> {
    if (path.find(".partial") == std::string::npos) return std::string("input is fine");
    return Internal("the judge refused it");
  };
  auto rejected = RunJob(Spec("mnist_mlp", "int8-dynamic", false), rejecting);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.status().code(), StatusCode::kInternal);
  EXPECT_NE(rejected.status().message().find("judge refused"), std::string::npos);
  EXPECT_EQ(ReadFile(File("out.onnx")).value(), "an earlier result");
  EXPECT_FALSE(FileExists(File("out.onnx.partial")));

  // The judge refuses the input model too: bad input, not a failed job.
  JobHooks refusing_all;
  refusing_all.validate_output = [](const std::string&) -> StatusOr<std::string> {
    return Internal("the judge refused it");
  };
  auto bad_input = RunJob(Spec("mnist_mlp", "int8-dynamic", false), refusing_all);
  ASSERT_FALSE(bad_input.ok());
  EXPECT_EQ(bad_input.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_input.status().message().find("input model itself"), std::string::npos);
  EXPECT_EQ(ReadFile(File("out.onnx")).value(), "an earlier result");

  auto no_data = RunJob(Spec("mnist_mlp", "int8", false), {});
  ASSERT_FALSE(no_data.ok());
  EXPECT_EQ(no_data.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_data.status().message().find("calibration data"), std::string::npos);

  std::atomic<bool> cancel{true};
  JobHooks cancelled;
  cancelled.cancel = &cancel;
  auto stopped = RunJob(Spec("mnist_mlp", "float16", false), cancelled);
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(ReadFile(File("out.onnx")).value(), "an earlier result");
}

}  // namespace
}  // namespace shrink::engine
