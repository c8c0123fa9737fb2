// Weight clustering judged by ONNX Runtime on the shared MNIST models: the dense and compact
// forms load and run in ORT with the outputs of our runtime, and the figures of issue 7 item 3
// are printed: file size raw and zstd at 16/32/256 clusters, and top-1 on the eval subset (test
// images 0..999) in our runtime, with the 16-cluster target of <= 1.0 point drop.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "common/compress.h"
#include "common/file_util.h"
#include "engine/cluster/cluster.h"
#include "engine/eval/evaluator.h"
#include "engine/io/npy.h"
#include "engine/io/onnx_export.h"
#include "engine/io/onnx_import.h"
#include "engine/passes/constant_folding.h"
#include "engine/runtime/executor.h"
#include "tests/ort_runner.h"
#include "tests/output_compare.h"
#include "tests/test_inputs.h"

namespace shrink::testing {
namespace {

using engine::Model;
using engine::NamedTensor;
using engine::Shape;
using engine::Tensor;
namespace cluster = engine::cluster;

struct MnistModel {
  const char* name;
  Shape per_image;
  bool only_clusterable_weights;  // no GRU weights (not clustered) in the file
};

const MnistModel kModels[] = {{"mnist_mlp", {1, 28, 28}, true},
                              {"mnist_cnn", {1, 28, 28}, true},
                              {"digits_gru", {28, 28}, false}};

struct Variant {
  int clusters;
  bool per_channel;
  bool compact;
  std::string Label() const {
    return std::to_string(clusters) + (per_channel ? " per-channel" : " per-tensor") +
           (compact ? " compact" : " dense");
  }
};

class ClusterOrtTest : public ::testing::TestWithParam<MnistModel> {
 protected:
  static void SetUpTestSuite() { dir_ = new std::string(*MakeTempDir("shrink-cluster-ort")); }
  static void TearDownTestSuite() {
    (void)RemoveAll(*dir_);
    delete dir_;
  }

  void SetUp() override {
    model_path_ = JoinPath(SharedModelsDir(), std::string(GetParam().name) + ".onnx");
    mnist_ = JoinPath(AssetKitRoot(), "data/mnist");
    if (!FileExists(model_path_) || !FileExists(JoinPath(mnist_, "t10k-images-idx3-ubyte"))) {
      GTEST_SKIP() << "needs " << model_path_ << " and the MNIST files of the asset kit in "
                   << mnist_;
    }
    auto model = engine::LoadModel(model_path_);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    model_ = std::move(*model);
    auto subset = LoadMnistSet(mnist_, "t10k", 1000);
    ASSERT_TRUE(subset.ok()) << subset.status().ToString();
    Shape shape = {1000};
    shape.insert(shape.end(), GetParam().per_image.begin(), GetParam().per_image.end());
    Tensor images = *MnistImages(*subset, 0, 1000, shape);
    data_ = JoinPath(*dir_, std::string(GetParam().name) + "-t10k-1000.npz");
    std::vector<int64_t> labels(subset->labels.begin(), subset->labels.end());
    ASSERT_TRUE(engine::WriteNpz(
                    data_,
                    {{"input", images}, {"labels", Tensor::FromVector<int64_t>({1000}, labels)}},
                    engine::NpzCompression::kStored)
                    .ok());
    Shape small = {16};
    small.insert(small.end(), GetParam().per_image.begin(), GetParam().per_image.end());
    feeds_ = {{"input", *MnistImages(*subset, 0, 16, small)}};
  }

  // Clusters a copy of the model and writes it; returns the path.
  std::string Write(const Variant& v, cluster::ClusterSummary* summary) {
    Model model = engine::CloneModel(model_);
    cluster::ClusterOptions options;
    options.clusters = v.clusters;
    options.per_channel = v.per_channel;
    options.compact = v.compact;
    auto result = cluster::ClusterWeights(&model, options);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    if (result.ok()) *summary = *result;
    EXPECT_TRUE(engine::CheckModelWithOnnx(model).ok());
    std::string path = JoinPath(
        *dir_, std::string(GetParam().name) + "-" + std::to_string(v.clusters) +
                   (v.per_channel ? "c" : "t") + (v.compact ? "-compact" : "-dense") + ".onnx");
    EXPECT_TRUE(engine::SaveModel(model, path).ok());
    return path;
  }

  std::vector<Tensor> RunOrt(const std::string& path) {
    auto runner = OrtRunner::Create(path, OrtRunnerOptions{2});
    EXPECT_TRUE(runner.ok()) << runner.status().ToString();
    if (!runner.ok()) return {};
    auto outputs = (*runner)->Run(feeds_);
    EXPECT_TRUE(outputs.ok()) << outputs.status().ToString();
    return outputs.ok() ? *outputs : std::vector<Tensor>{};
  }

  std::vector<Tensor> RunOurs(const std::string& path) {
    auto model = engine::LoadModel(path);
    EXPECT_TRUE(model.ok()) << model.status().ToString();
    auto executor = engine::Executor::Create(*model);
    EXPECT_TRUE(executor.ok()) << executor.status().ToString();
    auto outputs = (*executor)->Run(feeds_);
    EXPECT_TRUE(outputs.ok()) << outputs.status().ToString();
    return outputs.ok() ? *outputs : std::vector<Tensor>{};
  }

  static std::string* dir_;
  std::string model_path_, mnist_, data_;
  Model model_;
  std::vector<NamedTensor> feeds_;
};
std::string* ClusterOrtTest::dir_ = nullptr;

int64_t ZstdSize(const std::string& path) {
  auto bytes = ReadFile(path);
  return int64_t(ZstdCompress(*bytes, DefaultZstdLevel(bytes->size()))->size());
}

// Both forms hold the same weight values, so every run of them (ORT or ours) computes the same
// function: the outputs differ only by the float32 rounding of different summation orders,
// bounded here by 1e-5 of max(1, |output|) (logits of a few units, sums of <= 800 products).
constexpr double kSameWeightsTolerance = 1e-5;

// Deep models (tens of layers) take the judge's bound for our runtime against ORT.
constexpr double kDeepModelTolerance = 1e-4;

void ExpectSame(const std::vector<Tensor>& a, const std::vector<Tensor>& b, const std::string& what,
                double tolerance = kSameWeightsTolerance) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    Difference d = Compare(a[i], b[i]);
    EXPECT_TRUE(d.problem.empty()) << what << ": " << d.problem;
    EXPECT_LE(d.max_scaled, tolerance) << what << " output " << i;
  }
}

TEST_P(ClusterOrtTest, FormsRunInOrtAndOursWithSizesAndAccuracy) {
  std::printf("\n%-10s %-28s %9s %9s %6s %8s %6s  top-1 (ours)  drop\n", "model", "variant", "raw",
              "zstd", "layers", "fewest k", "rmse");
  std::printf("%-10s %-28s %9lld %9lld\n", GetParam().name, "float32",
              (long long)*FileSize(model_path_), (long long)ZstdSize(model_path_));
  const std::vector<Variant> variants = {{16, false, false},  {16, false, true},  {16, true, false},
                                         {16, true, true},    {32, false, false}, {32, false, true},
                                         {256, false, false}, {256, false, true}};
  std::string dense_path;
  for (const Variant& v : variants) {
    SCOPED_TRACE(v.Label());
    cluster::ClusterSummary summary;
    std::string path = Write(v, &summary);
    std::vector<Tensor> ort = RunOrt(path), ours = RunOurs(path);
    ExpectSame(ort, ours, "ORT vs ours");
    if (!v.compact) {
      dense_path = path;
    } else {
      ExpectSame(ort, RunOrt(dense_path), "compact vs dense in ORT");
      // The compact file holds about one byte per clustered weight instead of four.
      if (GetParam().only_clusterable_weights) {
        EXPECT_LT(*FileSize(path) * 3, *FileSize(model_path_));
      }
    }
    auto result = engine::eval::Evaluate(path, model_path_, data_, engine::eval::OurRuntime(2), {});
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    const v1::AccuracyMetrics& a = result->accuracy();
    double rmse = 0;
    int fewest = 256;
    for (const auto& layer : summary.layers) {
      rmse = std::max(rmse, layer.rmse());
      fewest = std::min(fewest, int(layer.clusters()));
    }
    std::printf("%-10s %-28s %9lld %9lld %6zu %8d %6.4f  %4lld -> %4lld  %5.1f\n", GetParam().name,
                v.Label().c_str(), (long long)*FileSize(path), (long long)ZstdSize(path),
                summary.layers.size(), fewest, rmse, (long long)a.reference_correct(),
                (long long)a.candidate_correct(), a.drop());
    for (const std::string& note : summary.adjustments) std::printf("    note: %s\n", note.c_str());
    if (v.clusters == 16) {
      EXPECT_LE(a.drop(), 1.0) << "target: 16 clusters <= 1.0 point drop";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Mnist, ClusterOrtTest, ::testing::ValuesIn(kModels),
                         [](const auto& info) { return std::string(info.param.name); });

// The dev-set models (Constant-node weights folded first, If subgraphs, NHWC, opset 11..16):
// 16 per-channel clusters in both forms load and run in ORT, compact equal to dense there and
// in our runtime, and the time clustering takes is printed (the issue bounds it by 2x int8
// calibration on the largest model).
TEST(ClusterDevSetTest, CompactAndDenseRunInOrt) {
  auto manifest = LoadManifest(AssetKitRoot());
  if (!manifest.ok()) GTEST_SKIP() << manifest.status().ToString();
  auto dir = MakeTempDir("shrink-cluster-dev");
  ASSERT_TRUE(dir.ok());
  for (const KitModel& kit : DevSetOnnxModels(*manifest)) {
    SCOPED_TRACE(kit.name);
    auto loaded = engine::LoadModel(kit.path);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    ASSERT_TRUE(engine::FoldConstants(&*loaded).ok());
    std::vector<std::vector<Tensor>> outputs;
    for (bool compact : {false, true}) {
      Model model = engine::CloneModel(*loaded);
      cluster::ClusterOptions options;
      options.per_channel = true;
      options.compact = compact;
      auto start = std::chrono::steady_clock::now();
      auto summary = cluster::ClusterWeights(&model, options);
      double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      ASSERT_TRUE(summary.ok()) << summary.status().ToString();
      std::string path = JoinPath(*dir, kit.name + (compact ? "-compact.onnx" : "-dense.onnx"));
      ASSERT_TRUE(engine::SaveModel(model, path).ok());
      auto runner = OrtRunner::Create(path, OrtRunnerOptions{2});
      ASSERT_TRUE(runner.ok()) << runner.status().ToString();
      auto executor = engine::Executor::Create(model);
      ASSERT_TRUE(executor.ok()) << executor.status().ToString();
      InputOptions input_options;
      input_options.shapes = kit.bench_shapes;
      input_options.values = kit.bench_values;
      auto feeds = MakeInputs((*executor)->required_inputs(), input_options);
      ASSERT_TRUE(feeds.ok()) << feeds.status().ToString();
      auto ort = (*runner)->Run(*feeds);
      ASSERT_TRUE(ort.ok()) << ort.status().ToString();
      auto ours = (*executor)->Run(*feeds);
      ASSERT_TRUE(ours.ok()) << ours.status().ToString();
      ExpectSame(*ort, *ours, "ORT vs ours", kDeepModelTolerance);
      outputs.push_back(*ort);
      std::printf("%-22s %-7s %3zu layers clustered in %.3f s, file %lld bytes (zstd %lld)\n",
                  kit.name.c_str(), compact ? "compact" : "dense", summary->layers.size(), seconds,
                  (long long)*FileSize(path), (long long)ZstdSize(path));
    }
    ExpectSame(outputs[0], outputs[1], "dense vs compact in ORT", kDeepModelTolerance);
  }
  (void)RemoveAll(*dir);
}

}  // namespace
}  // namespace shrink::testing
