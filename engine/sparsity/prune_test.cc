#include "engine/sparsity/prune.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "common/file_util.h"
#include "engine/io/npy.h"
#include "engine/kernels/kernel_test_util.h"
#include "engine/runtime/executor.h"

namespace shrink::engine::sparsity {
namespace {

using ::shrink::engine::testing::AddTestNode;
using ::shrink::engine::testing::EmptyModel;
using ::shrink::engine::testing::IntAttr;
using ::shrink::engine::testing::IntsAttr;
using ::shrink::engine::testing::TensorInfo;
using ::testing::HasSubstr;

// Distinct magnitudes (a shuffled ramp with random signs), so "the k smallest" is unambiguous.
Tensor Ramp(const Shape& shape, uint32_t seed, float scale = 1.0f) {
  Tensor t(DataType::kFloat32, shape);
  std::vector<int64_t> order(static_cast<size_t>(t.size()));
  for (size_t i = 0; i < order.size(); ++i) order[i] = int64_t(i) + 1;
  std::mt19937 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  for (int64_t i = 0; i < t.size(); ++i) {
    t.data<float>()[i] = scale * float(order[size_t(i)]) / float(t.size()) * (rng() % 2 ? 1 : -1);
  }
  return t;
}

// x [N, K0] -> Gemm (transB) -> Relu -> MatMul -> Gemm (B [K, N]) -> y.
Model MlpModel() {
  Model model = EmptyModel(13);
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {-1, 12}));
  g.outputs.push_back(TensorInfo("y", DataType::kFloat32, {-1, 6}));
  g.SetInitializer("w1", Ramp({16, 12}, 1));
  g.SetInitializer("b1", Ramp({16}, 2));
  g.SetInitializer("w2", Ramp({16, 20}, 3));
  g.SetInitializer("w3", Ramp({20, 6}, 4));
  AddTestNode(&g, "Gemm", {"x", "w1", "b1"}, {"h1"}, {IntAttr("transB", 1)})->name = "fc1";
  AddTestNode(&g, "Relu", {"h1"}, {"r1"})->name = "relu1";
  AddTestNode(&g, "MatMul", {"r1", "w2"}, {"h2"})->name = "fc2";
  AddTestNode(&g, "Gemm", {"h2", "w3"}, {"y"})->name = "fc3";
  return model;
}

std::vector<float> Values(const Model& model, const std::string& name) {
  const Tensor* t = model.graph.FindInitializer(name);
  return std::vector<float>(t->data<float>(), t->data<float>() + t->size());
}

TEST(PruneTest, UnstructuredPerLayerIsExactAndKeepsTheLargest) {
  const Model original = MlpModel();
  Model model = CloneModel(original);
  PruneOptions options;
  options.target_sparsity = 0.3;
  options.keep_first_last = false;
  auto summary = Prune(&model, options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  ASSERT_EQ(summary->layers.size(), 3u);
  int64_t zeros = 0, elements = 0;
  for (const v1::LayerSparsity& layer : summary->layers) {
    const std::vector<float> before = Values(original, layer.weight());
    const std::vector<float> after = Values(model, layer.weight());
    const int64_t expected = std::llround(0.3 * double(before.size()));
    EXPECT_EQ(std::count(after.begin(), after.end(), 0.0f), expected) << layer.weight();
    EXPECT_EQ(layer.zeros(), expected);
    EXPECT_EQ(layer.elements(), int64_t(before.size()));
    EXPECT_DOUBLE_EQ(layer.target(), 0.3);
    EXPECT_EQ(layer.structure(), "unstructured");
    float largest_pruned = 0, smallest_kept = 1e9f;
    for (size_t i = 0; i < before.size(); ++i) {
      if (after[i] == 0) largest_pruned = std::max(largest_pruned, std::fabs(before[i]));
      if (after[i] != 0) {
        smallest_kept = std::min(smallest_kept, std::fabs(before[i]));
        EXPECT_EQ(after[i], before[i]);  // kept weights are untouched
      }
    }
    EXPECT_LT(largest_pruned, smallest_kept) << layer.weight();
    zeros += layer.zeros(), elements += layer.elements();
  }
  EXPECT_DOUBLE_EQ(summary->overall, double(zeros) / double(elements));
}

TEST(PruneTest, GlobalUsesOneThresholdAcrossLayers) {
  Model original = MlpModel();
  // fc2's weights are 10x smaller: one global threshold prunes it far more than the others.
  original.graph.SetInitializer("w2", Ramp({16, 20}, 3, 0.1f));
  Model model = CloneModel(original);
  PruneOptions options;
  options.target_sparsity = 0.5;
  options.global = true;
  options.keep_first_last = false;
  auto summary = Prune(&model, options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  float largest_pruned = 0, smallest_kept = 1e9f;
  int64_t zeros = 0, total = 0;
  for (const std::string name : {"w1", "w2", "w3"}) {
    const std::vector<float> before = Values(original, name), after = Values(model, name);
    for (size_t i = 0; i < before.size(); ++i) {
      if (after[i] == 0) largest_pruned = std::max(largest_pruned, std::fabs(before[i])), ++zeros;
      if (after[i] != 0) smallest_kept = std::min(smallest_kept, std::fabs(before[i]));
    }
    total += int64_t(before.size());
  }
  EXPECT_EQ(zeros, std::llround(0.5 * double(total)));
  EXPECT_LE(largest_pruned, smallest_kept);
  EXPECT_GT(summary->layers[1].sparsity(), 0.9);  // the small layer
  EXPECT_NEAR(summary->overall, 0.5, 0.5 / double(total));
}

TEST(PruneTest, FirstLastExcludedAndOverridesApply) {
  Model model = MlpModel();
  PruneOptions options;  // keep_first_last = true
  options.target_sparsity = 0.5;
  auto summary = Prune(&model, options);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->layers[0].zeros(), 0);
  EXPECT_EQ(summary->layers[0].target(), 0.0);
  EXPECT_EQ(summary->layers[1].zeros(), 160);
  EXPECT_EQ(summary->layers[2].zeros(), 0);

  Model other = MlpModel();
  options.keep_first_last = false;
  options.exclude_nodes = {"fc2"};
  options.layer_sparsity = {{"fc3", 0.25}};
  summary = Prune(&other, options);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->layers[0].zeros(), 96);
  EXPECT_EQ(summary->layers[1].zeros(), 0);
  EXPECT_EQ(summary->layers[2].zeros(), 30);
}

// Checks that every group of m consecutive elements along `axis` keeps exactly its n largest.
void ExpectNOfM(const Tensor& before, const Tensor& after, int axis, int n, int m) {
  const Shape& shape = before.shape();
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= shape[size_t(d)];
  for (size_t d = size_t(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
  const int64_t length = shape[size_t(axis)];
  int groups = 0;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t g = 0; g < length; g += m) {
      for (int64_t i = 0; i < inner; ++i) {
        std::vector<std::pair<float, float>> group;  // |before|, after
        for (int j = 0; j < m; ++j) {
          const int64_t at = (o * length + g + j) * inner + i;
          group.push_back({std::fabs(before.data<float>()[at]), after.data<float>()[at]});
        }
        std::sort(group.begin(), group.end());
        for (int j = 0; j < m; ++j) {
          EXPECT_EQ(group[size_t(j)].second == 0.0f, j < m - n) << "group " << groups;
        }
        ++groups;
      }
    }
  }
  EXPECT_EQ(groups, before.size() / m);
}

TEST(PruneTest, TwoOfFourAlongTheInputChannelAxis) {
  Model model = EmptyModel(13);
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {1, 8, 6, 6}));
  g.outputs.push_back(TensorInfo("y", DataType::kFloat32, {1, 6}));
  g.SetInitializer("wc", Ramp({8, 8, 3, 3}, 5));    // Conv: input axis 1
  g.SetInitializer("wt", Ramp({8, 4, 3, 3}, 6));    // ConvTranspose: input axis 0
  g.SetInitializer("wg", Ramp({6, 4 * 8 * 8}, 7));  // Gemm transB: input axis 1
  g.SetInitializer("wm", Ramp({6, 12}, 8));         // MatMul [K, N] (K = 6 % 4 != 0)
  AddTestNode(&g, "Conv", {"x", "wc"}, {"c"}, {IntsAttr("pads", {1, 1, 1, 1})})->name = "conv";
  AddTestNode(&g, "ConvTranspose", {"c", "wt"}, {"t"},
              {IntsAttr("pads", {1, 1, 1, 1}), IntsAttr("strides", {1, 1})})
      ->name = "deconv";
  AddTestNode(&g, "Flatten", {"t"}, {"f"});
  AddTestNode(&g, "Gemm", {"f", "wg"}, {"gy"}, {IntAttr("transB", 1)})->name = "fc";
  AddTestNode(&g, "MatMul", {"gy", "wm"}, {"y"})->name = "mm";
  const Model original = CloneModel(model);
  PruneOptions options;
  options.structure = Structure::kNOfM;
  options.keep_first_last = false;
  auto summary = Prune(&model, options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  ExpectNOfM(*original.graph.FindInitializer("wc"), *g.FindInitializer("wc"), 1, 2, 4);
  ExpectNOfM(*original.graph.FindInitializer("wt"), *g.FindInitializer("wt"), 0, 2, 4);
  ExpectNOfM(*original.graph.FindInitializer("wg"), *g.FindInitializer("wg"), 1, 2, 4);
  for (int i = 0; i < 3; ++i) {
    EXPECT_DOUBLE_EQ(summary->layers[size_t(i)].sparsity(), 0.5);
    EXPECT_EQ(summary->layers[size_t(i)].structure(), "2:4");
  }
  // MatMul's K = 6 is not divisible by 4: left dense, and the summary says so.
  EXPECT_EQ(summary->layers[3].zeros(), 0);
  EXPECT_EQ(summary->layers[3].target(), 0.0);
  ASSERT_EQ(summary->adjustments.size(), 1u);
  EXPECT_THAT(summary->adjustments[0], HasSubstr("mm"));
  EXPECT_THAT(summary->adjustments[0], HasSubstr("not divisible by 4"));
}

TEST(PruneTest, BadOptionsAreClearErrors) {
  struct Case {
    const char* name;
    PruneOptions options;
    const char* message;
  };
  auto with = [](auto edit) {
    PruneOptions options;
    edit(&options);
    return options;
  };
  const Case cases[] = {
      {"one", with([](PruneOptions* o) { o->target_sparsity = 1.0; }), "outside [0, 1)"},
      {"negative", with([](PruneOptions* o) { o->target_sparsity = -0.1; }), "-0.1"},
      {"layer", with([](PruneOptions* o) {
         o->layer_sparsity = {{"fc2", 1.5}};
       }),
       "fc2"},
      {"n = m", with([](PruneOptions* o) { o->structure = Structure::kNOfM, o->n = 4; }), "4:4"},
      {"m < 2", with([](PruneOptions* o) { o->structure = Structure::kNOfM, o->n = 1, o->m = 1; }),
       "1:1"},
      {"n = 0", with([](PruneOptions* o) { o->structure = Structure::kNOfM, o->n = 0; }), "0:4"},
  };
  for (const Case& c : cases) {
    Model model = MlpModel();
    auto summary = Prune(&model, c.options);
    ASSERT_FALSE(summary.ok()) << c.name;
    EXPECT_EQ(summary.status().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(summary.status().message(), HasSubstr(c.message)) << c.name;
  }
}

// x [1, 2, 8, 8] -> conv1 (8) -> Mul [8,1,1] -> Relu -> conv2 (16) -> Relu -> MaxPool ->
// Flatten -> fc1 (transB, 32) -> Relu -> fc2 (MatMul, 5). The odd output channels of conv1,
// conv2 and fc1 have small weights, so CHANNEL pruning at 50% removes exactly those.
Model ChannelModel() {
  Model model = EmptyModel(13);
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {1, 2, 8, 8}));
  g.outputs.push_back(TensorInfo("y", DataType::kFloat32, {1, 5}));
  auto odd_small = [](Tensor t, int axis) {
    const int64_t channels = t.dim(axis);
    int64_t inner = 1;
    for (int d = axis + 1; d < t.rank(); ++d) inner *= t.dim(d);
    for (int64_t i = 0; i < t.size(); ++i) {
      if ((i / inner) % channels % 2 == 1) t.data<float>()[i] *= 0.01f;
    }
    return t;
  };
  // Odd channels also have zero bias: removing them is then exact (nothing to compensate).
  auto odd_zero = [](Tensor t) {
    for (int64_t i = 1; i < t.size(); i += 2) t.data<float>()[i] = 0;
    return t;
  };
  g.SetInitializer("w1", odd_small(Ramp({8, 2, 3, 3}, 11), 0));
  g.SetInitializer("b1", odd_zero(Ramp({8}, 12)));
  g.SetInitializer("s1", Ramp({8, 1, 1}, 13));
  g.SetInitializer("w2", odd_small(Ramp({16, 8, 3, 3}, 14), 0));
  g.SetInitializer("b2", odd_zero(Ramp({16}, 15)));
  g.SetInitializer("w3", odd_small(Ramp({32, 16 * 4 * 4}, 16), 0));
  g.SetInitializer("b3", odd_zero(Ramp({32}, 17)));
  g.SetInitializer("w4", Ramp({32, 5}, 18));
  AddTestNode(&g, "Conv", {"x", "w1", "b1"}, {"c1"}, {IntsAttr("pads", {1, 1, 1, 1})})->name =
      "conv1";
  AddTestNode(&g, "Mul", {"c1", "s1"}, {"m1"});
  AddTestNode(&g, "Relu", {"m1"}, {"r1"});
  AddTestNode(&g, "Conv", {"r1", "w2", "b2"}, {"c2"}, {IntsAttr("pads", {1, 1, 1, 1})})->name =
      "conv2";
  AddTestNode(&g, "Relu", {"c2"}, {"r2"});
  AddTestNode(&g, "MaxPool", {"r2"}, {"p2"},
              {IntsAttr("kernel_shape", {2, 2}), IntsAttr("strides", {2, 2})});
  AddTestNode(&g, "Flatten", {"p2"}, {"f"});
  AddTestNode(&g, "Gemm", {"f", "w3", "b3"}, {"h3"}, {IntAttr("transB", 1)})->name = "fc1";
  AddTestNode(&g, "Relu", {"h3"}, {"r3"});
  AddTestNode(&g, "MatMul", {"r3", "w4"}, {"y"})->name = "fc2";
  g.value_info.push_back(TensorInfo("c1", DataType::kFloat32, {1, 8, 8, 8}));
  return model;
}

// Zeroes the odd output channels (weight rows and bias) of the given producers.
Model MaskedOddChannels(const Model& model) {
  Model masked = CloneModel(model);
  for (const auto& [name, inner] : std::vector<std::pair<std::string, int64_t>>{
           {"w1", 18}, {"b1", 1}, {"w2", 72}, {"b2", 1}, {"w3", 256}, {"b3", 1}}) {
    Tensor t = masked.graph.FindInitializer(name)->Clone();
    for (int64_t i = 0; i < t.size(); ++i) {
      if ((i / inner) % 2 == 1) t.data<float>()[i] = 0;
    }
    masked.graph.SetInitializer(name, t);
  }
  return masked;
}

Tensor RunModel(const Model& model, const Tensor& x) {
  auto executor = Executor::Create(model);
  EXPECT_TRUE(executor.ok()) << executor.status().ToString();
  auto outputs = (*executor)->Run({{"x", x}});
  EXPECT_TRUE(outputs.ok()) << outputs.status().ToString();
  return outputs.ok() ? (*outputs)[0] : Tensor();
}

TEST(PruneTest, ChannelPruningShrinksShapesAndMatchesTheMaskedModel) {
  const Model original = ChannelModel();
  Model model = CloneModel(original);
  PruneOptions options;
  options.structure = Structure::kChannel;
  options.keep_first_last = false;
  options.exclude_nodes = {"fc2"};  // its output is the graph output
  auto summary = Prune(&model, options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_THAT(summary->adjustments, ::testing::IsEmpty());
  const Graph& g = model.graph;
  EXPECT_EQ(g.FindInitializer("w1")->shape(), (Shape{4, 2, 3, 3}));
  EXPECT_EQ(g.FindInitializer("b1")->shape(), (Shape{4}));
  EXPECT_EQ(g.FindInitializer("s1")->shape(), (Shape{4, 1, 1}));
  EXPECT_EQ(g.FindInitializer("w2")->shape(), (Shape{8, 4, 3, 3}));
  EXPECT_EQ(g.FindInitializer("w3")->shape(), (Shape{16, 8 * 4 * 4}));
  EXPECT_EQ(g.FindInitializer("b3")->shape(), (Shape{16}));
  EXPECT_EQ(g.FindInitializer("w4")->shape(), (Shape{16, 5}));  // last layer: inputs only
  EXPECT_EQ(summary->layers[0].channels_removed(), 4);
  EXPECT_EQ(summary->layers[2].channels_removed(), 16);
  EXPECT_EQ(summary->layers[3].channels_removed(), 0);
  EXPECT_DOUBLE_EQ(summary->layers[1].sparsity(), 0.75);  // outputs and inputs halved
  EXPECT_TRUE(g.value_info.empty());                      // stale shapes dropped
  const Tensor x = Ramp({1, 2, 8, 8}, 19);
  const Tensor got = RunModel(model, x), want = RunModel(MaskedOddChannels(original), x);
  ASSERT_EQ(got.shape(), want.shape());
  // The removed terms are exact zeros in the masked model; only the float32 summation differs
  // (fewer terms, maybe another order): at most n * 2^-24 * sum|terms| with n <= 512 terms per
  // sum, 3e-5 of a sum of magnitudes that stays within 4x max(1, |output|) for these weights.
  for (int64_t i = 0; i < got.size(); ++i) {
    const float scale = std::max(1.0f, std::fabs(want.data<float>()[i]));
    EXPECT_NEAR(got.data<float>()[i], want.data<float>()[i], 3e-5 * 4 * scale) << i;
  }
}

TEST(PruneTest, ChannelPruningLeavesLayersItCannotAdjust) {
  Model model = ChannelModel();
  // conv2's output is also a graph output: its channels cannot go.
  model.graph.outputs.push_back(TensorInfo("c2", DataType::kFloat32, {1, 16, 8, 8}));
  PruneOptions options;
  options.structure = Structure::kChannel;
  options.keep_first_last = false;
  options.exclude_nodes = {"fc2"};  // its output is the graph output
  auto summary = Prune(&model, options);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->layers[1].channels_removed(), 0);
  EXPECT_EQ(model.graph.FindInitializer("w2")->shape(), (Shape{16, 4, 3, 3}));
  ASSERT_EQ(summary->adjustments.size(), 1u);
  EXPECT_THAT(summary->adjustments[0], HasSubstr("conv2: channels kept"));
  EXPECT_THAT(summary->adjustments[0], HasSubstr("graph output"));
}

// A removed channel with zero weights still feeds its consumer relu(bias) (here through a Mul by
// a per-channel constant): the consumer's bias takes it over, so the output is unchanged.
TEST(PruneTest, ChannelPruningMovesTheRemovedChannelsConstantIntoTheConsumerBias) {
  Model model = EmptyModel(13);
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {3, 6}));
  g.outputs.push_back(TensorInfo("y", DataType::kFloat32, {3, 4}));
  Tensor w1 = Ramp({6, 8}, 21);  // Gemm B [K, N]: output channels are columns
  for (int64_t i = 0; i < w1.size(); ++i) {
    if (i % 8 >= 5) w1.data<float>()[i] = 0;  // channels 5, 6, 7 are dead
  }
  g.SetInitializer("w1", w1);
  g.SetInitializer("b1", Ramp({8}, 22));
  g.SetInitializer("s1", Ramp({8}, 23));
  g.SetInitializer("w2", Ramp({4, 8}, 24));
  AddTestNode(&g, "Gemm", {"x", "w1", "b1"}, {"h"})->name = "fc1";
  AddTestNode(&g, "Mul", {"h", "s1"}, {"m"});
  AddTestNode(&g, "Relu", {"m"}, {"r"});
  AddTestNode(&g, "Gemm", {"r", "w2"}, {"y"}, {IntAttr("transB", 1)})->name = "fc2";
  Model pruned = CloneModel(model);
  PruneOptions options;
  options.structure = Structure::kChannel;
  options.keep_first_last = false;
  options.layer_sparsity = {{"fc1", 3.0 / 8}};
  options.exclude_nodes = {"fc2"};
  auto summary = Prune(&pruned, options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_THAT(summary->adjustments, ::testing::IsEmpty());
  EXPECT_EQ(pruned.graph.FindInitializer("w1")->shape(), (Shape{6, 5}));
  ASSERT_EQ(pruned.graph.nodes[3]->inputs.size(), 3u);  // fc2 got a bias
  const Tensor x = Ramp({3, 6}, 25);
  auto run = [&](const Model& m) {
    auto executor = Executor::Create(m);
    return (*(*executor)->Run({{"x", x}}))[0];
  };
  const Tensor got = run(pruned), want = run(model);
  // Sums of <= 8 terms of magnitude <= 1 in another order: 8 * 2^-24 * 8 < 1e-5.
  for (int64_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got.data<float>()[i], want.data<float>()[i], 1e-5) << i;
  }
}

}  // namespace
}  // namespace shrink::engine::sparsity
