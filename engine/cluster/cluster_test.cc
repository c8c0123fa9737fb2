// Weight clustering: the 1-D k-means itself (counts, Lloyd fixed point, nearest assignment,
// determinism), ClusterWeights on tiny models (zeros, adjustments, exclusions, subgraphs, bad
// options) and both export forms on the shared MNIST models in our runtime. ORT and the
// accuracy/size figures are in tests/cluster_ort_test.cc.
#include "engine/cluster/cluster.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <set>

#include "common/compress.h"
#include "common/file_util.h"
#include "engine/cluster/cluster_tensor.h"
#include "engine/io/onnx_export.h"
#include "engine/io/onnx_import.h"
#include "engine/ir/graph_utils.h"
#include "engine/kernels/kernel_test_util.h"
#include "engine/runtime/executor.h"

namespace shrink::engine::cluster {
namespace {

using testing::AddTestNode;
using testing::EmptyModel;
using testing::GraphAttr;
using testing::IntAttr;
using testing::TensorInfo;

std::vector<float> Gaussian(int64_t n, uint32_t seed, float zero_fraction = 0) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = unit(gen) < zero_fraction ? 0.0f : normal(gen);
  return v;
}

std::set<float> Distinct(const float* v, int64_t n) { return std::set<float>(v, v + n); }

// --- KMeans1d ------------------------------------------------------------------------------

struct CountCase {
  Init init;
  int clusters;
};

class KMeansCountTest : public ::testing::TestWithParam<CountCase> {};

// Every returned centroid is used and distinct. The values are Gaussian with a few far outliers
// (as trained weights have): linear init then leaves clusters empty in the sparse tails, which
// re-seeding fills.
TEST_P(KMeansCountTest, CentroidsAreDistinctUsedAndAtMostK) {
  std::vector<float> values = Gaussian(20000, 7);
  for (size_t i = 0; i < 20; ++i) values[i * 997] *= 12;
  KMeansResult r = KMeans1d(values, {GetParam().clusters, GetParam().init, 25, 3});
  EXPECT_LE(int(r.centroids.size()), GetParam().clusters);
  EXPECT_TRUE(std::is_sorted(r.centroids.begin(), r.centroids.end()));
  EXPECT_EQ(Distinct(r.centroids.data(), int64_t(r.centroids.size())).size(), r.centroids.size());
  std::vector<int64_t> used(r.centroids.size(), 0);
  for (float v : values) ++used[size_t(NearestCentroid(r.centroids, v))];
  for (int64_t u : used) EXPECT_GT(u, 0);
  // Empty clusters are re-seeded, so all k are used (there are 20000 distinct values).
  EXPECT_EQ(int(r.centroids.size()), GetParam().clusters);
}

INSTANTIATE_TEST_SUITE_P(
    Inits, KMeansCountTest,
    ::testing::Values(CountCase{Init::kLinear, 2}, CountCase{Init::kLinear, 16},
                      CountCase{Init::kLinear, 256}, CountCase{Init::kDensity, 16},
                      CountCase{Init::kDensity, 32}, CountCase{Init::kDensity, 256},
                      CountCase{Init::kRandom, 16}, CountCase{Init::kRandom, 256}));

// At convergence each centroid is the mean of its values (Lloyd's fixed point), up to the float
// rounding of the mean: half an ulp of the centroid plus the double-sum error (negligible).
TEST(KMeansTest, ConvergedCentroidsAreTheMeansOfTheirClusters) {
  std::vector<float> values = Gaussian(5000, 11);
  for (Init init : {Init::kLinear, Init::kDensity, Init::kRandom}) {
    KMeansResult r = KMeans1d(values, {8, init, 1000, 5});
    ASSERT_LT(r.iterations, 1000) << "did not converge";
    std::vector<double> sum(r.centroids.size(), 0);
    std::vector<int64_t> count(r.centroids.size(), 0);
    for (float v : values) {
      size_t j = size_t(NearestCentroid(r.centroids, v));
      sum[j] += v;
      ++count[j];
    }
    for (size_t j = 0; j < r.centroids.size(); ++j) {
      double mean = sum[j] / double(count[j]);
      double half_ulp = std::nextafter(std::fabs(float(mean)), 1.0f) - std::fabs(float(mean));
      EXPECT_NEAR(r.centroids[j], mean, half_ulp) << "cluster " << j;
    }
  }
}

TEST(KMeansTest, NearestCentroidIsTheClosest) {
  std::vector<float> centroids = {-1.0f, -0.25f, 0.5f, 2.0f};
  for (float v : {-3.0f, -0.625f, -0.6f, 0.0f, 0.125f, 0.2f, 1.25f, 1.3f, 9.0f}) {
    int j = NearestCentroid(centroids, v);
    for (float c : centroids) EXPECT_LE(std::fabs(v - centroids[size_t(j)]), std::fabs(v - c));
  }
  EXPECT_EQ(NearestCentroid(centroids, -0.625f), 0);  // a tie goes to the lower centroid
}

TEST(KMeansTest, FewerDistinctValuesThanClustersKeepsThem) {
  std::vector<float> values = {3, 1, 2, 3, 1, 1};
  KMeansResult r = KMeans1d(values, {16, Init::kLinear, 25, 1});
  EXPECT_EQ(r.centroids, (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(r.distinct, 3);
  EXPECT_TRUE(KMeans1d({}, {16, Init::kLinear, 25, 1}).centroids.empty());
}

TEST(KMeansTest, DeterministicForASeed) {
  std::vector<float> values = Gaussian(3000, 2);
  KMeansResult a = KMeans1d(values, {16, Init::kRandom, 25, 42});
  KMeansResult b = KMeans1d(values, {16, Init::kRandom, 25, 42});
  KMeansResult c = KMeans1d(values, {16, Init::kRandom, 2, 43});
  EXPECT_EQ(a.centroids, b.centroids);
  EXPECT_NE(a.centroids, c.centroids);
}

// --- ClusterTensor ------------------------------------------------------------------------

TEST(ClusterTensorTest, ZerosStayAtTheirPositionsAndAreNotACluster) {
  Tensor w = Tensor::FromVector<float>({64, 100}, Gaussian(6400, 3, 0.5f));
  for (bool per_channel : {false, true}) {
    TensorClusterOptions options;
    options.kmeans.clusters = 4;
    options.axis = per_channel ? 0 : -1;
    options.compact = true;
    auto c = ClusterTensor(w, options);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    const float* before = w.data<float>();
    const float* after = c->dense.data<float>();
    for (int64_t i = 0; i < w.size(); ++i) {
      ASSERT_EQ(before[i] == 0.0f, after[i] == 0.0f) << i;
    }
    EXPECT_TRUE(c->zero_slot);
    EXPECT_EQ(c->clusters, 4);
    // Per tensor: 4 nonzero values + 0. Per channel: at most 4 nonzero values per row.
    if (!per_channel) {
      EXPECT_EQ(c->distinct_after, 5);
    }
    EXPECT_EQ(c->table_width, 5);
    // The compact form decodes to the dense one.
    const uint8_t* idx = c->indices.data<uint8_t>();
    const float* table = c->table.data<float>();
    for (int64_t i = 0; i < w.size(); ++i) {
      int64_t row = per_channel ? i / 100 : 0;
      ASSERT_EQ(table[row * c->table_width + idx[i]], after[i]) << i;
    }
  }
}

TEST(ClusterTensorTest, WithoutSparsityPreservationZerosAreOrdinaryValues) {
  Tensor w = Tensor::FromVector<float>({1000}, Gaussian(1000, 4, 0.5f));
  TensorClusterOptions options;
  options.kmeans.clusters = 4;
  options.preserve_sparsity = false;
  auto c = ClusterTensor(w, options);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->zero_slot);
  EXPECT_EQ(c->distinct_after, 4);
}

TEST(ClusterTensorTest, CompactWith256ClustersAndZerosUses255) {
  Tensor w = Tensor::FromVector<float>({20000}, Gaussian(20000, 5, 0.3f));
  TensorClusterOptions options;
  options.kmeans = {256, Init::kDensity, 25, 1};
  options.compact = true;
  auto c = ClusterTensor(w, options);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->capped);
  EXPECT_LE(c->table_width, 256);
  EXPECT_LE(c->clusters, 255);
}

TEST(ClusterTensorTest, ErrorIsAtMostHalfTheLargestCentroidGapInsideTheRange) {
  std::vector<float> values = Gaussian(4000, 6);
  Tensor w = Tensor::FromVector<float>({4000}, values);
  TensorClusterOptions options;
  options.kmeans.clusters = 16;
  auto c = ClusterTensor(w, options);
  ASSERT_TRUE(c.ok());
  std::set<float> centroids = Distinct(c->dense.data<float>(), w.size());
  float lo = *centroids.begin(), hi = *centroids.rbegin(), gap = 0, prev = lo;
  for (float x : centroids) gap = std::max(gap, x - prev), prev = x;
  for (int64_t i = 0; i < w.size(); ++i) {
    float v = values[size_t(i)];
    if (v < lo || v > hi) continue;  // the tails are bounded by the outer clusters' spread
    ASSERT_LE(std::fabs(v - c->dense.data<float>()[i]), gap / 2 + 1e-7f) << v;
  }
}

// --- ClusterWeights on tiny models ---------------------------------------------------------

// x [2, 3, 8, 8] -> Conv(W1 [4, 3, 3, 3]) -> Flatten -> Gemm(W2 [10, 144], transB) -> y
Model ConvGemmModel(float zero_fraction = 0) {
  Model model = EmptyModel(13);
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {2, 3, 8, 8}));
  g.outputs.push_back(TensorInfo("y", DataType::kFloat32, {2, 10}));
  g.SetInitializer("W1", Tensor::FromVector<float>({4, 3, 3, 3}, Gaussian(108, 21, zero_fraction)));
  g.SetInitializer("W2", Tensor::FromVector<float>({10, 144}, Gaussian(1440, 22, zero_fraction)));
  g.SetInitializer("b2", Tensor::FromVector<float>({10}, Gaussian(10, 23)));
  AddTestNode(&g, "Conv", {"x", "W1"}, {"c"})->name = "conv";
  AddTestNode(&g, "Flatten", {"c"}, {"f"})->name = "flatten";
  AddTestNode(&g, "Gemm", {"f", "W2", "b2"}, {"y"}, {IntAttr("transB", 1)})->name = "fc";
  return model;
}

std::vector<NamedTensor> Feeds() {
  std::vector<float> x = Gaussian(2 * 3 * 8 * 8, 99);
  for (float& v : x) v *= 20;
  return {{"x", Tensor::FromVector<float>({2, 3, 8, 8}, x)}};
}

Tensor RunOurs(const Model& model, const std::vector<NamedTensor>& feeds) {
  auto executor = Executor::Create(model);
  EXPECT_TRUE(executor.ok()) << executor.status().ToString();
  auto outputs = (*executor)->Run(feeds);
  EXPECT_TRUE(outputs.ok()) << outputs.status().ToString();
  return outputs->front();
}

// Same weights reach the ops in both forms, so outputs agree to float32 rounding of the
// kernels' summation order (a packed constant weight and a computed one may take different
// paths): relative 1e-5 of the output scale.
void ExpectClose(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.shape(), b.shape());
  double scale = 0;
  for (int64_t i = 0; i < a.size(); ++i)
    scale = std::max(scale, std::fabs(double(a.data<float>()[i])));
  for (int64_t i = 0; i < a.size(); ++i) {
    ASSERT_NEAR(a.data<float>()[i], b.data<float>()[i], 1e-5 * std::max(1.0, scale)) << i;
  }
}

TEST(ClusterWeightsTest, DenseAndCompactFormsComputeTheSameModel) {
  for (bool per_channel : {false, true}) {
    SCOPED_TRACE(per_channel ? "per channel" : "per tensor");
    ClusterOptions options;
    options.clusters = 8;
    options.per_channel = per_channel;
    Model dense = ConvGemmModel(0.3f);
    auto s1 = ClusterWeights(&dense, options);
    ASSERT_TRUE(s1.ok()) << s1.status().ToString();
    options.compact = true;
    Model compact = ConvGemmModel(0.3f);
    auto s2 = ClusterWeights(&compact, options);
    ASSERT_TRUE(s2.ok()) << s2.status().ToString();
    ASSERT_EQ(s2->layers.size(), 2u);
    EXPECT_EQ(s2->layers[0].weight(), "W1");
    EXPECT_EQ(s2->layers[1].node(), "fc");
    EXPECT_TRUE(s2->layers[1].compact());
    EXPECT_EQ(s2->layers[1].clusters(), 8);
    if (!per_channel) {
      EXPECT_EQ(s2->layers[1].distinct_after(), 9);  // 8 + the zeros
    }
    EXPECT_FALSE(compact.graph.HasInitializer("W2"));
    EXPECT_EQ(compact.graph.FindInitializer("W2_indices")->dtype(), DataType::kUint8);
    ASSERT_TRUE(ValidateGraph(compact.graph).ok());
    ASSERT_TRUE(CheckModelWithOnnx(compact).ok()) << CheckModelWithOnnx(compact).ToString();
    ExpectClose(RunOurs(dense, Feeds()), RunOurs(compact, Feeds()));
    // The round trip through a file keeps the form.
    auto bytes = SerializeModel(compact);
    ASSERT_TRUE(bytes.ok());
    auto reloaded = ParseModel(*bytes, "");
    ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
    ExpectClose(RunOurs(dense, Feeds()), RunOurs(*reloaded, Feeds()));
  }
}

TEST(ClusterWeightsTest, ExcludedNodesKeepTheirWeights) {
  Model model = ConvGemmModel();
  Tensor before = model.graph.FindInitializer("W1")->Clone();
  ClusterOptions options;
  options.exclude_nodes = {"conv"};
  auto summary = ClusterWeights(&model, options);
  ASSERT_TRUE(summary.ok());
  ASSERT_EQ(summary->layers.size(), 1u);
  EXPECT_EQ(summary->layers[0].node(), "fc");
  EXPECT_TRUE(model.graph.FindInitializer("W1")->BitwiseEquals(before));
}

TEST(ClusterWeightsTest, FewDistinctWeightsAreKeptAndStated) {
  Model model = ConvGemmModel();
  std::vector<float> nine(108);
  for (size_t i = 0; i < nine.size(); ++i) nine[i] = 0.1f * float(1 + i % 9);
  model.graph.SetInitializer("W1", Tensor::FromVector<float>({4, 3, 3, 3}, nine));
  ClusterOptions options;
  auto summary = ClusterWeights(&model, options);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->layers[0].clusters(), 9);
  EXPECT_EQ(summary->layers[0].distinct_after(), 9);
  EXPECT_EQ(summary->layers[0].rmse(), 0.0);
  ASSERT_EQ(summary->adjustments.size(), 1u);
  EXPECT_EQ(summary->adjustments[0],
            "layer conv (weight W1) has only 9 distinct nonzero weights: 9 clusters");
  EXPECT_TRUE(model.graph.FindInitializer("W1")->BitwiseEquals(
      Tensor::FromVector<float>({4, 3, 3, 3}, nine)));
}

TEST(ClusterWeightsTest, BadOptionsNameTheOption) {
  for (int clusters : {-1, 0, 1, 257, 1000}) {
    Model model = ConvGemmModel();
    ClusterOptions options;
    options.clusters = clusters;
    auto summary = ClusterWeights(&model, options);
    ASSERT_FALSE(summary.ok());
    EXPECT_EQ(summary.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(summary.status().message().find("'clusters'"), std::string::npos);
  }
  Model model = ConvGemmModel();
  ClusterOptions options;
  options.iterations = -1;
  EXPECT_EQ(ClusterWeights(&model, options).status().code(), StatusCode::kInvalidArgument);
}

TEST(ClusterWeightsTest, DeterministicAndInitsDiffer) {
  std::map<int, Tensor> by_init;
  for (Init init : {Init::kLinear, Init::kDensity, Init::kRandom}) {
    ClusterOptions options;
    options.init = init;
    options.seed = 7;
    Model a = ConvGemmModel(), b = ConvGemmModel();
    ASSERT_TRUE(ClusterWeights(&a, options).ok());
    ASSERT_TRUE(ClusterWeights(&b, options).ok());
    EXPECT_TRUE(a.graph.FindInitializer("W2")->BitwiseEquals(*b.graph.FindInitializer("W2")));
    by_init[int(init)] = *a.graph.FindInitializer("W2");
  }
  EXPECT_FALSE(by_init[0].BitwiseEquals(by_init[1]));
  EXPECT_FALSE(by_init[0].BitwiseEquals(by_init[2]));
}

// A MatMul inside an If branch whose weight lives in the branch, and one reading the main
// graph's weight from the outer scope: both are clustered; the compact form stays runnable.
TEST(ClusterWeightsTest, SubgraphWeightsAreClustered) {
  for (bool compact : {false, true}) {
    Model model = EmptyModel(13);
    Graph& g = model.graph;
    g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {2, 40}));
    g.inputs.push_back(TensorInfo("cond", DataType::kBool, {}));
    g.outputs.push_back(TensorInfo("y", DataType::kFloat32, {2, 30}));
    g.SetInitializer("Wo", Tensor::FromVector<float>({40, 30}, Gaussian(1200, 31)));
    auto then_g = std::make_shared<Graph>();
    then_g->name = "then";
    then_g->SetInitializer("Wi", Tensor::FromVector<float>({40, 30}, Gaussian(1200, 32)));
    AddTestNode(then_g.get(), "MatMul", {"x", "Wi"}, {"t"})->name = "inner";
    then_g->outputs.push_back(TensorInfo("t", DataType::kFloat32, {2, 30}));
    auto else_g = std::make_shared<Graph>();
    else_g->name = "else";
    AddTestNode(else_g.get(), "MatMul", {"x", "Wo"}, {"e"})->name = "outer";
    else_g->outputs.push_back(TensorInfo("e", DataType::kFloat32, {2, 30}));
    AddTestNode(&g, "If", {"cond"}, {"y"},
                {GraphAttr("then_branch", then_g), GraphAttr("else_branch", else_g)})
        ->name = "if";
    Model reference = CloneModel(model);
    ClusterOptions options;
    options.compact = compact;
    options.per_channel = true;
    auto summary = ClusterWeights(&model, options);
    ASSERT_TRUE(summary.ok()) << summary.status().ToString();
    ASSERT_EQ(summary->layers.size(), 2u);
    ASSERT_TRUE(ValidateGraph(model.graph).ok()) << ValidateGraph(model.graph).ToString();
    for (bool cond : {true, false}) {
      std::vector<NamedTensor> feeds = {{"x", Tensor::FromVector<float>({2, 40}, Gaussian(80, 33))},
                                        {"cond", Tensor::FromVector<bool>({}, {cond})}};
      Tensor ref = RunOurs(reference, feeds), got = RunOurs(model, feeds);
      // Clustering changed the weights: 16 clusters of N(0, 0.05) weights leave an error of a
      // few percent of the output, never zero.
      double diff = 0;
      for (int64_t i = 0; i < ref.size(); ++i) {
        diff = std::max(diff, std::fabs(double(ref.data<float>()[i] - got.data<float>()[i])));
      }
      EXPECT_GT(diff, 0.0);
      EXPECT_LT(diff, 0.1);
    }
  }
}

// --- shared MNIST models -------------------------------------------------------------------

class SharedModelTest : public ::testing::TestWithParam<const char*> {};

TEST_P(SharedModelTest, DenseAndCompactAgreeInOurRuntime) {
  std::string path = std::string(SHRINK_SHARED_MODELS_DIR) + "/" + GetParam() + ".onnx";
  if (!FileExists(path)) GTEST_SKIP() << "needs " << path;
  auto original = LoadModel(path);
  ASSERT_TRUE(original.ok()) << original.status().ToString();
  std::vector<int64_t> shape = std::string(GetParam()) == "digits_gru"
                                   ? std::vector<int64_t>{4, 28, 28}
                                   : std::vector<int64_t>{4, 1, 28, 28};
  std::vector<float> pixels = Gaussian(4 * 784, 8);
  for (float& p : pixels) p = std::fabs(p) * 10;
  std::vector<NamedTensor> feeds = {{"input", Tensor::FromVector<float>(shape, pixels)}};
  for (bool per_channel : {false, true}) {
    ClusterOptions options;
    options.per_channel = per_channel;
    Model dense = CloneModel(*original), compact = CloneModel(*original);
    ASSERT_TRUE(ClusterWeights(&dense, options).ok());
    options.compact = true;
    auto summary = ClusterWeights(&compact, options);
    ASSERT_TRUE(summary.ok()) << summary.status().ToString();
    EXPECT_FALSE(summary->layers.empty());
    ASSERT_TRUE(CheckModelWithOnnx(compact).ok()) << CheckModelWithOnnx(compact).ToString();
    ExpectClose(RunOurs(dense, feeds), RunOurs(compact, feeds));
  }
}

INSTANTIATE_TEST_SUITE_P(Mnist, SharedModelTest,
                         ::testing::Values("mnist_mlp", "mnist_cnn", "digits_gru"));

TEST(ClusterWeightsTest, DenseClusteringShrinksTheZstdSizeOfMnistMlp) {
  std::string path = std::string(SHRINK_SHARED_MODELS_DIR) + "/mnist_mlp.onnx";
  if (!FileExists(path)) GTEST_SKIP() << "needs " << path;
  auto model = LoadModel(path);
  ASSERT_TRUE(model.ok());
  auto zstd_size = [](const Model& m) {
    std::string bytes = *SerializeModel(m);
    return int64_t(ZstdCompress(bytes, DefaultZstdLevel(bytes.size()))->size());
  };
  int64_t before = zstd_size(*model);
  ASSERT_TRUE(ClusterWeights(&*model, {}).ok());
  int64_t after = zstd_size(*model);
  std::printf("mnist_mlp zstd: %lld -> %lld bytes with 16 dense clusters\n", (long long)before,
              (long long)after);
  // 16 values need 4 bits of entropy per weight against ~23 for float noise: at least 3x.
  EXPECT_LT(after * 3, before);
}

}  // namespace
}  // namespace shrink::engine::cluster
