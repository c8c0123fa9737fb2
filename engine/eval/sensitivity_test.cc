#include "engine/eval/sensitivity.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/file_util.h"
#include "engine/io/npy.h"
#include "engine/io/onnx_export.h"
#include "engine/io/onnx_import.h"
#include "engine/job/pipeline.h"

namespace shrink::engine::eval {
namespace {

const std::string kMlp = std::string(SHRINK_SHARED_MODELS_DIR) + "/mnist_mlp.onnx";

Tensor Images(int64_t count) {
  Tensor images(DataType::kFloat32, {count, 1, 28, 28});
  for (int64_t i = 0; i < images.size(); ++i) {
    images.data<float>()[i] = float((i * 37) % 256) / 255.0f;
  }
  return images;
}

// The MLP with one huge weight in its second (last) Gemm: per-tensor int8 then rounds that
// layer's other weights to zero, while the first layer is untouched.
StatusOr<Model> FragileMlp() {
  ASSIGN_OR_RETURN(Model model, LoadModel(kMlp));
  const Node* last = nullptr;
  for (const auto& node : model.graph.nodes) {
    if (node->op_type == "Gemm") last = node.get();
  }
  if (!last) return Internal("no Gemm");
  Tensor weight = model.graph.FindInitializer(last->inputs[1])->Clone();
  float max_abs = 0;
  for (int64_t i = 0; i < weight.size(); ++i) {
    max_abs = std::max(max_abs, std::fabs(weight.data<float>()[i]));
  }
  weight.data<float>()[7] = 300 * max_abs;
  model.graph.SetInitializer(last->inputs[1], weight);
  return model;
}

class SensitivityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!FileExists(kMlp)) GTEST_SKIP() << kMlp << " missing";
    dir_ = *MakeTempDir("shrink-sensitivity");
    data_ = JoinPath(dir_, "calib.npz");
    ASSERT_TRUE(WriteNpz(data_, {{"input", Images(64)}}, NpzCompression::kStored).ok());
  }
  void TearDown() override { (void)RemoveAll(dir_); }

  // Quantizes `model_path` to int8 with per-tensor weights; returns the quantized model.
  StatusOr<Model> PerTensorInt8(const std::string& model_path) {
    JobSpec spec;
    spec.model_path = model_path;
    spec.output_path = JoinPath(dir_, "int8.onnx");
    spec.calibration_data = data_;
    spec.recipe.set_preset("int8");
    v1::QuantizeStep* step = spec.recipe.add_steps()->mutable_quantize();
    step->set_per_channel(false);
    RETURN_IF_ERROR(RunJob(spec, {}).status());
    return LoadModel(spec.output_path);
  }

  std::string dir_, data_;
};

TEST_F(SensitivityTest, TheLayerWithTheOutlierWeightRanksFirst) {
  auto fragile = FragileMlp();
  ASSERT_TRUE(fragile.ok()) << fragile.status().ToString();
  std::string path = JoinPath(dir_, "fragile.onnx");
  ASSERT_TRUE(SaveModel(*fragile, path).ok());
  auto quantized = PerTensorInt8(path);
  ASSERT_TRUE(quantized.ok()) << quantized.status().ToString();
  auto ranked = RankLayerSensitivity(*fragile, *quantized, data_, {});
  ASSERT_TRUE(ranked.ok()) << ranked.status().ToString();
  ASSERT_GE(ranked->size(), 2u);
  const v1::LayerSensitivity& worst = (*ranked)[0];
  EXPECT_EQ(worst.node(), "/fc2/Gemm") << "the last Gemm holds the outlier";
  EXPECT_EQ(worst.rank(), 1);
  EXPECT_GT(worst.added_db(), (*ranked)[1].added_db()) << worst.ShortDebugString();
  // Rounding to its own output grid explains at most step/sqrt(12) of RMSE; this layer is off
  // by more than a whole step: the error comes from its coarse weights.
  EXPECT_GT(worst.rmse_over_scale(), 1) << worst.ShortDebugString();
}

TEST_F(SensitivityTest, AModelAgainstItselfLosesNothing) {
  auto model = LoadModel(kMlp);
  ASSERT_TRUE(model.ok());
  auto ranked = RankLayerSensitivity(*model, *model, data_, {});
  ASSERT_TRUE(ranked.ok()) << ranked.status().ToString();
  ASSERT_FALSE(ranked->empty());
  for (const auto& layer : *ranked) {
    EXPECT_EQ(layer.sqnr_db(), 999) << layer.node();
    EXPECT_EQ(layer.added_db(), 0) << layer.node();
    EXPECT_EQ(layer.rmse(), 0) << layer.node();
  }
}

TEST_F(SensitivityTest, BadDataIsNamed) {
  auto model = LoadModel(kMlp);
  ASSERT_TRUE(model.ok());
  auto ranked = RankLayerSensitivity(*model, *model, JoinPath(dir_, "missing.npz"), {});
  ASSERT_FALSE(ranked.ok());
  EXPECT_NE(ranked.status().message().find("missing.npz"), std::string::npos);
}

}  // namespace
}  // namespace shrink::engine::eval
