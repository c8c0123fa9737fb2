// Pruning on the asset kit's dev-set models (real graphs: BN-folded convs, depthwise convs,
// If subgraphs, NHWC transposes): every structure gives a valid graph that runs and keeps the
// output shapes; repair runs on random inputs. Prints timings. Skips when the kit is absent.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "common/file_util.h"
#include "engine/io/npy.h"
#include "engine/io/onnx_import.h"
#include "engine/ir/graph_utils.h"
#include "engine/passes/constant_folding.h"
#include "engine/runtime/executor.h"
#include "engine/sparsity/prune.h"
#include "engine/sparsity/repair.h"
#include "tests/test_inputs.h"

namespace shrink::engine::sparsity {
namespace {

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

StatusOr<std::vector<Tensor>> RunOnce(const Model& model, const std::vector<NamedTensor>& feeds) {
  ASSIGN_OR_RETURN(auto executor, Executor::Create(model, ExecutorOptions{2}));
  return executor->Run(feeds);
}

TEST(PruneDevSetTest, EveryStructureGivesARunnableModel) {
  auto manifest = shrink::testing::LoadManifest(shrink::testing::AssetKitRoot());
  if (!manifest.ok()) GTEST_SKIP() << "no asset kit: " << manifest.status().ToString();
  auto dir = MakeTempDir("shrink-prune-devset");
  ASSERT_TRUE(dir.ok());
  for (const auto& kit : shrink::testing::DevSetOnnxModels(*manifest)) {
    SCOPED_TRACE(kit.name);
    auto original = LoadModel(kit.path);
    ASSERT_TRUE(original.ok()) << original.status().ToString();
    ASSERT_TRUE(FoldConstants(&*original).ok());  // Constant-node weights become initializers
    shrink::testing::InputOptions input_options;
    input_options.shapes = kit.bench_shapes;
    input_options.values = kit.bench_values;
    auto feeds = shrink::testing::MakeInputs(RequiredInputs(original->graph), input_options);
    ASSERT_TRUE(feeds.ok()) << feeds.status().ToString();
    const std::string data = JoinPath(*dir, kit.name + ".npz");
    ASSERT_TRUE(WriteNpz(data, *feeds, NpzCompression::kStored).ok());
    auto want = RunOnce(*original, *feeds);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    PruneOptions unstructured, two_four, channel;
    two_four.structure = Structure::kNOfM;
    channel.structure = Structure::kChannel;
    channel.target_sparsity = 0.25;
    for (const auto& [label, options] : std::vector<std::pair<std::string, PruneOptions>>{
             {"50%", unstructured}, {"2:4", two_four}, {"channel 25%", channel}}) {
      SCOPED_TRACE(label);
      Model model = CloneModel(*original);
      auto start = std::chrono::steady_clock::now();
      auto summary = Prune(&model, options);
      ASSERT_TRUE(summary.ok()) << summary.status().ToString();
      const double prune_seconds = Seconds(start);
      start = std::chrono::steady_clock::now();
      Status repaired = RepairPrunedLayers(&model, *original, data, {8, 2}, &summary->layers);
      ASSERT_TRUE(repaired.ok()) << repaired.ToString();
      const double repair_seconds = Seconds(start);
      ASSERT_TRUE(ValidateGraph(model.graph).ok());
      auto got = RunOnce(model, *feeds);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_EQ(got->size(), want->size());
      for (size_t i = 0; i < got->size(); ++i) EXPECT_EQ((*got)[i].shape(), (*want)[i].shape());
      int repaired_layers = 0;
      for (const auto& layer : summary->layers) {
        EXPECT_LE(layer.repair_error_after(), layer.repair_error_before()) << layer.node();
        repaired_layers += layer.repair_error_before() > 0;
      }
      std::printf(
          "%-20s %-12s %3zu layers, sparsity %.3f, %zu adjustments, %d repaired; "
          "prune %.2f s, repair %.2f s\n",
          kit.name.c_str(), label.c_str(), summary->layers.size(), summary->overall,
          summary->adjustments.size(), repaired_layers, prune_seconds, repair_seconds);
    }
  }
  (void)RemoveAll(*dir);
}

}  // namespace
}  // namespace shrink::engine::sparsity
