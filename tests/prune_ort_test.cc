// Pruned models (engine/sparsity) judged by ONNX Runtime: the shared MNIST models pruned with
// each structure (and repaired) load in ORT and give our runtime's outputs. Channel pruning
// really changes shapes, so this also checks that the written files are consistent.
//
// Tolerance: the judge's (ort_judge_test.cc): |ours - ort| <= 1e-4 * max(1, |ort|). Pruning only
// changes weight values and shapes; both runtimes still compute in fp32 with K <= 800 terms per
// dot product, ~1e-6..1e-5 relative per layer from accumulation order.
#include <gtest/gtest.h>

#include "common/file_util.h"
#include "engine/io/npy.h"
#include "engine/io/onnx_export.h"
#include "engine/io/onnx_import.h"
#include "engine/runtime/executor.h"
#include "engine/sparsity/prune.h"
#include "engine/sparsity/repair.h"
#include "tests/ort_runner.h"
#include "tests/output_compare.h"
#include "tests/test_inputs.h"

namespace shrink::testing {
namespace {

using engine::Model;
using engine::NamedTensor;
using engine::Shape;
using engine::Tensor;
namespace sparsity = engine::sparsity;

constexpr double kTolerance = 1e-4;

struct PruneCase {
  const char* name;
  sparsity::PruneOptions options;
  bool repair;
};

std::vector<PruneCase> Cases() {
  sparsity::PruneOptions global;
  global.global = true;
  global.keep_first_last = false;
  sparsity::PruneOptions two_four = global;
  two_four.global = false;
  two_four.structure = sparsity::Structure::kNOfM;
  sparsity::PruneOptions channel = two_four;
  channel.structure = sparsity::Structure::kChannel;
  channel.target_sparsity = 0.25;
  return {
      {"global50", global, false}, {"2of4_repair", two_four, true}, {"channel25", channel, false}};
}

class PruneOrtTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override { dir_ = *MakeTempDir("shrink-prune-ort"); }
  void TearDown() override { (void)RemoveAll(dir_); }
  std::string dir_;
};

TEST_P(PruneOrtTest, PrunedModelsRunInOrtWithOurOutputs) {
  const std::string name = GetParam();
  const std::string model_path = JoinPath(SHRINK_SHARED_MODELS_DIR, name + ".onnx");
  const std::string mnist = JoinPath(SHRINK_ASSETS_DIR, "data/mnist");
  if (!FileExists(model_path) || !FileExists(JoinPath(mnist, "train-images-idx3-ubyte"))) {
    GTEST_SKIP() << "needs " << model_path << " and the kit's MNIST files in " << mnist;
  }
  const Shape shape = name == "digits_gru" ? Shape{64, 28, 28} : Shape{64, 1, 28, 28};
  auto set = LoadMnistSet(mnist, "train", 64);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  auto images = MnistImages(*set, 0, 64, shape);
  ASSERT_TRUE(images.ok());
  const std::string data = JoinPath(dir_, "calib.npz");
  ASSERT_TRUE(engine::WriteNpz(data, {{"input", *images}}, engine::NpzCompression::kStored).ok());
  auto original = engine::LoadModel(model_path);
  ASSERT_TRUE(original.ok()) << original.status().ToString();
  for (const PruneCase& c : Cases()) {
    SCOPED_TRACE(c.name);
    Model model = engine::CloneModel(*original);
    auto summary = sparsity::Prune(&model, c.options);
    ASSERT_TRUE(summary.ok()) << summary.status().ToString();
    if (c.repair) {
      ASSERT_TRUE(
          sparsity::RepairPrunedLayers(&model, *original, data, {64, 2}, &summary->layers).ok());
    }
    const std::string path = JoinPath(dir_, std::string(c.name) + ".onnx");
    ASSERT_TRUE(engine::SaveModel(model, path).ok());
    auto ort = OrtRunner::Create(path, OrtRunnerOptions{2});
    ASSERT_TRUE(ort.ok()) << ort.status().ToString();
    auto loaded = engine::LoadModel(path);
    ASSERT_TRUE(loaded.ok());
    auto ours = engine::Executor::Create(*loaded);
    ASSERT_TRUE(ours.ok());
    const std::vector<NamedTensor> feeds = {{"input", *images}};
    auto want = (*ort)->Run(feeds);
    auto got = (*ours)->Run(feeds);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    const Difference diff = Compare((*got)[0], (*want)[0]);
    EXPECT_TRUE(diff.problem.empty()) << diff.problem;
    EXPECT_LE(diff.max_scaled, kTolerance);
    std::printf("%s %s: overall sparsity %.3f, max |ours - ort| / max(1, |ort|) = %.2e\n",
                name.c_str(), c.name, summary->overall, diff.max_scaled);
  }
}

INSTANTIATE_TEST_SUITE_P(SharedModels, PruneOrtTest,
                         ::testing::Values("mnist_mlp", "mnist_cnn", "digits_gru"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace shrink::testing
