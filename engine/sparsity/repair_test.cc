#include "engine/sparsity/repair.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "common/file_util.h"
#include "engine/io/npy.h"
#include "engine/kernels/kernel_test_util.h"
#include "engine/runtime/executor.h"
#include "engine/sparsity/prune.h"

namespace shrink::engine::sparsity {
namespace {

using ::shrink::engine::testing::AddTestNode;
using ::shrink::engine::testing::EmptyModel;
using ::shrink::engine::testing::IntAttr;
using ::shrink::engine::testing::IntsAttr;
using ::shrink::engine::testing::TensorInfo;

Tensor Gaussian(const Shape& shape, uint32_t seed, float scale = 1.0f) {
  Tensor t(DataType::kFloat32, shape);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  for (int64_t i = 0; i < t.size(); ++i) t.data<float>()[i] = normal(rng);
  return t;
}

// Correlated inputs: every feature mixes a few shared latent factors (like real activations),
// which is what lets the remaining weights stand in for the pruned ones.
Tensor CorrelatedRows(int64_t rows, int64_t features, int64_t factors, uint32_t seed) {
  const Tensor z = Gaussian({rows, factors}, seed), mix = Gaussian({factors, features}, seed + 1);
  const Tensor noise = Gaussian({rows, features}, seed + 2, 0.1f);
  Tensor x(DataType::kFloat32, {rows, features});
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t f = 0; f < features; ++f) {
      float v = noise.data<float>()[r * features + f];
      for (int64_t k = 0; k < factors; ++k) {
        v += z.data<float>()[r * factors + k] * mix.data<float>()[k * features + f];
      }
      x.data<float>()[r * features + f] = v;
    }
  }
  return x;
}

class RepairTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = *MakeTempDir("shrink-repair-test"); }
  void TearDown() override { (void)RemoveAll(dir_); }
  std::string Data(const Tensor& x) {
    const std::string path = JoinPath(dir_, "data.npz");
    EXPECT_TRUE(WriteNpz(path, {{"x", x}}, NpzCompression::kStored).ok());
    return path;
  }
  std::string dir_;
};

Tensor Run(const Model& model, const Tensor& x) {
  auto executor = Executor::Create(model);
  EXPECT_TRUE(executor.ok()) << executor.status().ToString();
  auto outputs = (*executor)->Run({{"x", x}});
  EXPECT_TRUE(outputs.ok()) << outputs.status().ToString();
  return (*outputs)[0];
}

double RelativeError(const Tensor& got, const Tensor& want) {
  double noise = 0, signal = 0;
  for (int64_t i = 0; i < want.size(); ++i) {
    const double d = double(got.data<float>()[i]) - double(want.data<float>()[i]);
    noise += d * d;
    signal += double(want.data<float>()[i]) * want.data<float>()[i];
  }
  return std::sqrt(noise / signal);
}

// Prunes, repairs, and checks: the mask is kept, the layer is not worse, and the reported
// errors are the layer's measured output errors on the data (the statistics see every row and
// every output position here, so they are exact up to float32 rounding of the outputs).
void PruneRepairAndCheck(const Model& original, const Tensor& x, const std::string& data,
                         const PruneOptions& options, const std::string& weight) {
  Model pruned = CloneModel(original);
  auto summary = Prune(&pruned, options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  const Model before = CloneModel(pruned);
  ASSERT_TRUE(RepairPrunedLayers(&pruned, original, data, {}, &summary->layers).ok());
  const v1::LayerSparsity& layer = summary->layers[0];
  const Tensor& w0 = *before.graph.FindInitializer(weight);
  const Tensor& w1 = *pruned.graph.FindInitializer(weight);
  for (int64_t i = 0; i < w0.size(); ++i) {
    ASSERT_EQ(w0.data<float>()[i] == 0, w1.data<float>()[i] == 0) << "mask changed at " << i;
  }
  EXPECT_LE(layer.repair_error_after(), layer.repair_error_before());
  const Tensor want = Run(original, x);
  const double measured_before = RelativeError(Run(before, x), want);
  const double measured_after = RelativeError(Run(pruned, x), want);
  // Float32 outputs carry a relative rounding error of ~6e-8 each; sums over <= 27 terms.
  EXPECT_NEAR(layer.repair_error_before(), measured_before, 1e-5);
  EXPECT_NEAR(layer.repair_error_after(), measured_after, 1e-5);
  std::printf("%s: relative output error %.4f -> %.4f after repair\n", weight.c_str(),
              measured_before, measured_after);
  // With correlated inputs the refit recovers a good part of the lost output.
  EXPECT_LT(layer.repair_error_after(), 0.8 * layer.repair_error_before());
}

TEST_F(RepairTest, GemmRefitReducesTheLayerError) {
  Model model = EmptyModel(13);
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {-1, 24}));
  g.outputs.push_back(TensorInfo("y", DataType::kFloat32, {-1, 10}));
  g.SetInitializer("w", Gaussian({10, 24}, 3));
  g.SetInitializer("b", Gaussian({10}, 4));
  AddTestNode(&g, "Gemm", {"x", "w", "b"}, {"y"}, {IntAttr("transB", 1)})->name = "fc";
  const Tensor x = CorrelatedRows(200, 24, 6, 7);
  PruneOptions options;
  options.keep_first_last = false;
  PruneRepairAndCheck(model, x, Data(x), options, "w");
}

TEST_F(RepairTest, ConvRefitWithPaddingReducesTheLayerError) {
  Model model = EmptyModel(13);
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {-1, 3, 8, 8}));
  g.outputs.push_back(TensorInfo("y", DataType::kFloat32, {-1, 6, 8, 8}));
  g.SetInitializer("w", Gaussian({6, 3, 3, 3}, 5));
  g.SetInitializer("b", Gaussian({6}, 6));
  AddTestNode(&g, "Conv", {"x", "w", "b"}, {"y"}, {IntsAttr("pads", {1, 1, 1, 1})})->name = "conv";
  // Smooth images (neighbouring pixels and channels correlated): rows of 2 x 2 blocks.
  Tensor x = CorrelatedRows(16, 3 * 4 * 4, 4, 9);
  Tensor images(DataType::kFloat32, {16, 3, 8, 8});
  for (int64_t i = 0; i < images.size(); ++i) {
    const int64_t n = i / 192, c = (i / 64) % 3, h = (i / 8) % 8, w = i % 8;
    images.data<float>()[i] = x.data<float>()[n * 48 + c * 16 + (h / 2) * 4 + w / 2];
  }
  PruneOptions options;
  options.keep_first_last = false;
  options.structure = Structure::kNOfM;
  options.n = 1, options.m = 3;  // along the 3 input channels
  PruneRepairAndCheck(model, images, Data(images), options, "w");
}

TEST_F(RepairTest, AllocationPrunesTheInsensitiveLayerMoreAndHitsTheTarget) {
  // Two parallel Gemms of equal size; "flat" has weights of equal magnitude (every weight
  // matters), "peaked" has a few large weights (most can go for free).
  Model model = EmptyModel(13);
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {-1, 32}));
  g.outputs.push_back(TensorInfo("y", DataType::kFloat32, {-1, 16}));
  Tensor flat = Gaussian({32, 16}, 11), peaked = Gaussian({32, 16}, 12);
  for (int64_t i = 0; i < flat.size(); ++i) {
    flat.data<float>()[i] = flat.data<float>()[i] > 0 ? 1.0f : -1.0f;
    if (i % 8 != 0) peaked.data<float>()[i] *= 0.02f;
  }
  g.SetInitializer("w0", Gaussian({32, 32}, 13));
  g.SetInitializer("flat", flat);
  g.SetInitializer("peaked", peaked);
  g.SetInitializer("w3", Gaussian({16, 16}, 14));
  AddTestNode(&g, "MatMul", {"x", "w0"}, {"h"})->name = "first";
  AddTestNode(&g, "MatMul", {"h", "flat"}, {"a"})->name = "flat";
  AddTestNode(&g, "MatMul", {"h", "peaked"}, {"b"})->name = "peaked";
  AddTestNode(&g, "Add", {"a", "b"}, {"s"});
  AddTestNode(&g, "MatMul", {"s", "w3"}, {"y"})->name = "last";
  const Tensor x = Gaussian({64, 32}, 15);
  PruneOptions options;
  options.target_sparsity = 0.5;
  auto allocation = AllocateSparsity(model, Data(x), options, 2);
  ASSERT_TRUE(allocation.ok()) << allocation.status().ToString();
  ASSERT_EQ(allocation->size(), 2u);  // first and last stay dense
  const double a = allocation->at("flat"), b = allocation->at("peaked");
  EXPECT_LT(a, b);
  EXPECT_NEAR((a + b) / 2, 0.5, 1e-12);  // equal sizes: the plain mean is the weighted mean
  std::printf("allocated: flat %.3f, peaked %.3f\n", a, b);
  options.structure = Structure::kNOfM;
  EXPECT_FALSE(AllocateSparsity(model, Data(x), options, 2).ok());
}

}  // namespace
}  // namespace shrink::engine::sparsity
