// Whole models against ONNX Runtime: the dev-set models of the asset kit and the labeled models
// in shared/models run in ORT, in our executor with the fast kernels (2 threads) and with the
// reference kernels; every output must match ORT. The MNIST models must also reproduce their
// documented eval-subset accuracy exactly and ORT's prediction on every sample.
//
// Tolerance: |ours - ort| <= 1e-4 * max(1, |ort|) per element. Both runtimes compute in fp32 and
// differ in accumulation order (blocked GEMM/conv, fused ops, other exp/tanh/sigmoid
// approximations). A length-K dot product reordered changes by up to ~K * eps * sum|a_i * b_i|
// in the worst case and ~sqrt(K) * eps * sum|a_i * b_i| typically (eps = 2^-24 ~ 6e-8 per
// rounding). These models have K <= ~3000 and activations of order 1 per layer, which gives
// ~1e-6..1e-5 per layer; a few layers deep this stays well inside 1e-4 relative, while any real
// kernel bug (wrong padding, axis, gate order) shows up at 1e-2 or more. Values below 1 in
// magnitude are held to the absolute bound 1e-4, since their error comes from larger
// intermediate terms, not from their own size. Integer and bool outputs must be equal.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "common/sha256.h"
#include "engine/io/onnx_import.h"
#include "engine/ir/graph_utils.h"
#include "engine/runtime/executor.h"
#include "tests/ort_runner.h"
#include "tests/output_compare.h"
#include "tests/test_inputs.h"

namespace shrink::testing {
namespace {

using engine::DataType;
using engine::Executor;
using engine::NamedTensor;
using engine::Tensor;

constexpr double kTolerance = 1e-4;  // relative to max(1, |ort|); see the top of the file
constexpr int kThreads = 2;
constexpr uint64_t kSeed = 20240601;

#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(SHRINK_CONCAT(judge_statusor_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)   \
  auto tmp = (expr);                                \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString(); \
  lhs = std::move(tmp).value()

// The dev-set ONNX models; DevSetIsComplete checks this against the manifest.
const char* const kDevSetModels[] = {"silero_vad_v5", "ppocrv4_det", "blazeface_front_128",
                                     "oww_melspectrogram", "oww_embedding"};

bool IsExact(DataType type) { return !engine::IsFloatingPoint(type); }

// Checks every output of `ours` against ORT's and prints the error figures.
void ExpectOutputsMatch(const std::string& label, const std::vector<engine::ValueInfo>& infos,
                        const std::vector<Tensor>& ours, const std::vector<Tensor>& ort) {
  ASSERT_EQ(ours.size(), ort.size()) << label << ": output count differs from ORT";
  for (size_t i = 0; i < ort.size(); ++i) {
    const std::string name = i < infos.size() ? infos[i].name : std::to_string(i);
    Difference diff = Compare(ours[i], ort[i]);
    std::printf("  %-40s %-22s max_abs %.3g  max_rel %.3g  (%s)\n", label.c_str(), name.c_str(),
                diff.max_abs, diff.max_rel, engine::ShapeToString(ort[i].shape()).c_str());
    EXPECT_TRUE(diff.problem.empty()) << label << " output '" << name << "': " << diff.problem;
    double bound = IsExact(ort[i].dtype()) ? 0.0 : kTolerance;
    EXPECT_LE(diff.max_scaled, bound)
        << label << " output '" << name << "': max_abs " << diff.max_abs << " max_rel "
        << diff.max_rel << "; worst element " << diff.worst << ": ours "
        << (diff.worst >= 0 ? ours[i].GetAsDouble(diff.worst) : 0.0) << " vs ORT "
        << (diff.worst >= 0 ? ort[i].GetAsDouble(diff.worst) : 0.0);
  }
}

TEST(JudgeCompare, BoundIsRelativeAboveOneAndAbsoluteBelow) {
  Tensor ort = Tensor::FromVector<float>({4}, {0.5f, -2000.0f, 0.0f, 3.0f});
  Tensor ours = Tensor::FromVector<float>({4}, {0.50002f, -2000.1f, 0.0f, 3.0f});
  Difference diff = Compare(ours, ort);
  EXPECT_TRUE(diff.problem.empty());
  EXPECT_NEAR(diff.max_abs, 0.1, 1e-3);      // the -2000 element
  EXPECT_NEAR(diff.max_scaled, 5e-5, 1e-6);  // 0.1 / 2000 beats 0.00002 / 1
  EXPECT_EQ(diff.worst, 1);
  EXPECT_LE(diff.max_scaled, kTolerance);
  ours.data<float>()[3] = 3.001f;  // 3.3e-4 relative: a real error
  EXPECT_GT(Compare(ours, ort).max_scaled, kTolerance);
  EXPECT_FALSE(Compare(Tensor(DataType::kFloat32, {2, 2}), ort).problem.empty());
  EXPECT_FALSE(Compare(Tensor(DataType::kInt64, {4}), ort).problem.empty());
  Tensor nan = ort.Clone();
  nan.data<float>()[0] = NAN;
  EXPECT_FALSE(Compare(nan, ort).problem.empty());
}

TEST(TestInputs, ParsesShapesAndValues) {
  ASSERT_OK_AND_ASSIGN(auto shapes, ParseShapeList("input=1x512,state=2x1x128,sr="));
  EXPECT_EQ(shapes["input"], (engine::Shape{1, 512}));
  EXPECT_EQ(shapes["sr"], engine::Shape{});
  EXPECT_FALSE(ParseShapeList("input=1xx2").ok());
  EXPECT_FALSE(ParseShapeList("=1").ok());
  ASSERT_OK_AND_ASSIGN(auto values, ParseValueList("sr=16000"));
  EXPECT_EQ(values["sr"], 16000.0);
  EXPECT_FALSE(ParseValueList("sr=abc").ok());
}

TEST(TestInputs, FeedsAreFixedBySeedAndName) {
  engine::ValueInfo x, sr;
  x.name = "x";
  x.type.elem_type = DataType::kFloat32;
  x.type.has_shape = true;
  x.type.dims = {engine::Dim{-1, "N", ""}, engine::Dim{3, "", ""}};
  sr.name = "sr";
  sr.type.elem_type = DataType::kInt64;
  sr.type.has_shape = true;
  InputOptions options;
  EXPECT_FALSE(MakeInputs({x}, options).ok()) << "a symbolic dim needs a shape";
  options.shapes["x"] = {2, 3};
  options.values["sr"] = 16000;
  ASSERT_OK_AND_ASSIGN(auto feeds, MakeInputs({x, sr}, options));
  ASSERT_OK_AND_ASSIGN(auto reordered, MakeInputs({sr, x}, options));
  EXPECT_TRUE(feeds[0].tensor.BitwiseEquals(reordered[1].tensor));
  EXPECT_EQ(feeds[1].tensor.GetAsInt64(0), 16000);
  for (int64_t i = 0; i < 6; ++i) {
    EXPECT_GE(feeds[0].tensor.data<float>()[i], -1.0f);
    EXPECT_LE(feeds[0].tensor.data<float>()[i], 1.0f);
  }
}

// A model loaded in the three runtimes being compared.
struct Runtimes {
  std::unique_ptr<engine::Model> model;
  std::unique_ptr<Executor> fast;
  std::unique_ptr<Executor> reference;
  std::unique_ptr<OrtRunner> ort;
};

StatusOr<Runtimes> LoadRuntimes(const std::string& path) {
  Runtimes runtimes;
  auto model = engine::LoadModel(path);
  if (!model.ok()) return model.status().WithContext("shrink could not load " + path);
  runtimes.model = std::make_unique<engine::Model>(std::move(model).value());
  auto fast = Executor::Create(*runtimes.model, {kThreads, false});
  if (!fast.ok()) return fast.status().WithContext("fast executor for " + path);
  runtimes.fast = std::move(fast).value();
  auto reference = Executor::Create(*runtimes.model, {kThreads, true});
  if (!reference.ok()) return reference.status().WithContext("reference executor for " + path);
  runtimes.reference = std::move(reference).value();
  ASSIGN_OR_RETURN(runtimes.ort, OrtRunner::Create(path, {kThreads}));
  return runtimes;
}

struct AllOutputs {
  std::vector<Tensor> fast, reference, ort;
};

// Runs the feeds in all three runtimes and checks fast and reference against ORT.
StatusOr<AllOutputs> RunAndCompare(const std::string& label, Runtimes& runtimes,
                                   const std::vector<NamedTensor>& feeds) {
  AllOutputs out;
  ASSIGN_OR_RETURN(out.ort, runtimes.ort->Run(feeds));
  auto fast = runtimes.fast->Run(feeds);
  if (!fast.ok()) return fast.status().WithContext(label + " (fast kernels)");
  out.fast = std::move(fast).value();
  auto reference = runtimes.reference->Run(feeds);
  if (!reference.ok()) return reference.status().WithContext(label + " (reference kernels)");
  out.reference = std::move(reference).value();
  const auto& infos = runtimes.fast->outputs();
  ExpectOutputsMatch(label + " fast", infos, out.fast, out.ort);
  ExpectOutputsMatch(label + " reference", infos, out.reference, out.ort);
  return out;
}

StatusOr<KitModel> FindKitModel(const std::string& name) {
  ASSIGN_OR_RETURN(std::vector<KitModel> models, LoadManifest(AssetKitRoot()));
  for (const KitModel& model : DevSetOnnxModels(models)) {
    if (model.name == name) return model;
  }
  return NotFound("dev-set ONNX model '" + name + "' is not in " + AssetKitRoot() +
                  "/manifest.json");
}

TEST(DevSetManifest, EveryDevModelIsJudged) {
  ASSERT_OK_AND_ASSIGN(std::vector<KitModel> models, LoadManifest(AssetKitRoot()));
  std::vector<std::string> judged(std::begin(kDevSetModels), std::end(kDevSetModels));
  for (const KitModel& model : DevSetOnnxModels(models)) {
    EXPECT_NE(std::find(judged.begin(), judged.end(), model.name), judged.end())
        << "dev-set model '" << model.name << "' has no judge test: add it to kDevSetModels";
  }
}

class DevSetModelTest : public ::testing::TestWithParam<const char*> {};

TEST_P(DevSetModelTest, MatchesOrt) {
  ASSERT_OK_AND_ASSIGN(KitModel kit_model, FindKitModel(GetParam()));
  ASSERT_OK_AND_ASSIGN(Runtimes runtimes, LoadRuntimes(kit_model.path));
  InputOptions options;
  options.seed = kSeed;
  options.shapes = kit_model.bench_shapes;
  options.values = kit_model.bench_values;
  ASSERT_OK_AND_ASSIGN(std::vector<NamedTensor> feeds,
                       MakeInputs(runtimes.fast->required_inputs(), options));
  std::printf("%s [%s]\n", kit_model.name.c_str(), ShapesToString(feeds).c_str());
  auto outputs = RunAndCompare(kit_model.name, runtimes, feeds);
  ASSERT_TRUE(outputs.ok()) << outputs.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Kit, DevSetModelTest, ::testing::ValuesIn(kDevSetModels),
                         [](const auto& info) { return std::string(info.param); });

int OutputIndex(const Executor& executor, const std::string& name) {
  const auto& outputs = executor.outputs();
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (outputs[i].name == name) return int(i);
  }
  return -1;
}

// Silero VAD carries an LSTM state between 512-sample windows: each runtime feeds its own
// stateN back, so errors that grow with the state would show by the last window.
TEST(SileroVad, StatefulSequenceMatchesOrt) {
  constexpr int kWindows = 8;
  ASSERT_OK_AND_ASSIGN(KitModel kit_model, FindKitModel("silero_vad_v5"));
  ASSERT_OK_AND_ASSIGN(Runtimes runtimes, LoadRuntimes(kit_model.path));
  int state_out = OutputIndex(*runtimes.fast, "stateN");
  ASSERT_GE(state_out, 0) << "silero_vad_v5 has no output 'stateN'";
  Tensor zero_state(DataType::kFloat32, {2, 1, 128});
  Tensor state_fast = zero_state, state_reference = zero_state, state_ort = zero_state;
  const Tensor sr = Tensor::Scalar<int64_t>(16000);
  for (int step = 0; step < kWindows; ++step) {
    Tensor window = RandomFloatTensor({1, 512}, kSeed + uint64_t(step), -1.0f, 1.0f);
    const std::string label = "silero_vad_v5 window " + std::to_string(step);
    auto ort = runtimes.ort->Run({{"input", window}, {"state", state_ort}, {"sr", sr}});
    ASSERT_TRUE(ort.ok()) << ort.status().ToString();
    auto fast = runtimes.fast->Run({{"input", window}, {"state", state_fast}, {"sr", sr}});
    ASSERT_TRUE(fast.ok()) << label << " (fast): " << fast.status().ToString();
    auto reference =
        runtimes.reference->Run({{"input", window}, {"state", state_reference}, {"sr", sr}});
    ASSERT_TRUE(reference.ok()) << label << " (reference): " << reference.status().ToString();
    ExpectOutputsMatch(label + " fast", runtimes.fast->outputs(), *fast, *ort);
    ExpectOutputsMatch(label + " reference", runtimes.fast->outputs(), *reference, *ort);
    state_ort = (*ort)[size_t(state_out)];
    state_fast = (*fast)[size_t(state_out)];
    state_reference = (*reference)[size_t(state_out)];
  }
}

// The labeled models of shared/models (README there): input `input`, output `logits` [N,10].
struct LabeledModel {
  std::string name;
  engine::Shape image_shape;  // one sample, without the batch dim
  int expected_correct;       // documented eval-subset (t10k 0..999) top-1 count
};

const LabeledModel kLabeledModels[] = {
    {"mnist_mlp", {1, 28, 28}, 964},
    {"mnist_cnn", {1, 28, 28}, 990},
    {"digits_gru", {28, 28}, 934},
};

void PrintTo(const LabeledModel& model, std::ostream* os) { *os << model.name; }

engine::Shape BatchShape(const LabeledModel& model, int64_t n) {
  engine::Shape shape = {n};
  shape.insert(shape.end(), model.image_shape.begin(), model.image_shape.end());
  return shape;
}

class LabeledModelTest : public ::testing::TestWithParam<LabeledModel> {
 protected:
  std::string Path() const { return SharedModelsDir() + "/" + GetParam().name + ".onnx"; }
};

TEST_P(LabeledModelTest, RandomBatchMatchesOrt) {
  ASSERT_OK_AND_ASSIGN(Runtimes runtimes, LoadRuntimes(Path()));
  Tensor batch = RandomFloatTensor(BatchShape(GetParam(), 4), kSeed, 0.0f, 1.0f);
  auto outputs = RunAndCompare(GetParam().name + " batch 4", runtimes, {{"input", batch}});
  ASSERT_TRUE(outputs.ok()) << outputs.status().ToString();
}

// Top-1 class (first index on ties) and the margin to the runner-up.
void ArgMax(const Tensor& logits, int64_t row, int64_t* best, double* margin) {
  const int64_t classes = logits.dim(1);
  *best = 0;
  for (int64_t c = 1; c < classes; ++c) {
    if (logits.GetAsDouble(row * classes + c) > logits.GetAsDouble(row * classes + *best))
      *best = c;
  }
  double second = -INFINITY;
  for (int64_t c = 0; c < classes; ++c) {
    if (c != *best) second = std::max(second, logits.GetAsDouble(row * classes + c));
  }
  *margin = logits.GetAsDouble(row * classes + *best) - second;
}

// Counts correct predictions of `ours` and reports every sample where it disagrees with ORT.
void CheckPredictions(const std::string& label, const MnistSubset& subset, const Tensor& ours,
                      const Tensor& ort, int expected_correct) {
  ASSERT_EQ(ours.shape(), (engine::Shape{subset.count, 10})) << label << ": logits shape";
  ASSERT_EQ(ort.shape(), ours.shape());
  int correct = 0, ort_correct = 0, disagreements = 0;
  for (int64_t i = 0; i < subset.count; ++i) {
    int64_t ours_top = 0, ort_top = 0;
    double ours_margin = 0, ort_margin = 0;
    ArgMax(ours, i, &ours_top, &ours_margin);
    ArgMax(ort, i, &ort_top, &ort_margin);
    correct += ours_top == subset.labels[size_t(i)];
    ort_correct += ort_top == subset.labels[size_t(i)];
    if (ours_top != ort_top) {
      ++disagreements;
      ADD_FAILURE() << label << ": sample " << i << " (label " << int(subset.labels[size_t(i)])
                    << ") ours " << ours_top << " (margin " << ours_margin << ") vs ORT " << ort_top
                    << " (margin " << ort_margin << ")";
    }
  }
  std::printf("  %-28s top-1 %d/%lld (ORT %d/%lld), %d disagreements with ORT\n", label.c_str(),
              correct, (long long)subset.count, ort_correct, (long long)subset.count,
              disagreements);
  EXPECT_EQ(ort_correct, expected_correct) << label << ": ORT itself misses the documented count";
  EXPECT_EQ(correct, expected_correct) << label << ": documented eval-subset accuracy";
}

TEST_P(LabeledModelTest, MnistEvalAccuracyMatchesDocumented) {
  constexpr int64_t kEvalImages = 1000;
  ASSERT_OK_AND_ASSIGN(MnistSubset subset,
                       LoadMnistTest(AssetKitRoot() + "/data/mnist", kEvalImages));
  ASSERT_OK_AND_ASSIGN(Runtimes runtimes, LoadRuntimes(Path()));
  ASSERT_OK_AND_ASSIGN(Tensor images,
                       MnistImages(subset, 0, kEvalImages, BatchShape(GetParam(), kEvalImages)));
  std::vector<NamedTensor> feeds = {{"input", images}};
  auto ort = runtimes.ort->Run(feeds);
  ASSERT_TRUE(ort.ok()) << ort.status().ToString();
  auto fast = runtimes.fast->Run(feeds);
  ASSERT_TRUE(fast.ok()) << GetParam().name << " (fast): " << fast.status().ToString();
  auto reference = runtimes.reference->Run(feeds);
  ASSERT_TRUE(reference.ok()) << GetParam().name
                              << " (reference): " << reference.status().ToString();
  ASSERT_EQ(fast->size(), 1u);
  ASSERT_EQ(ort->size(), 1u);
  CheckPredictions(GetParam().name + " fast", subset, (*fast)[0], (*ort)[0],
                   GetParam().expected_correct);
  CheckPredictions(GetParam().name + " reference", subset, (*reference)[0], (*ort)[0],
                   GetParam().expected_correct);
  ExpectOutputsMatch(GetParam().name + " eval fast", runtimes.fast->outputs(), *fast, *ort);
}

// The judge itself, with no kernel of ours involved: ORT must reproduce the documented
// accuracy from our MNIST reader, whose float32 batch must hash to the documented checksum.
TEST_P(LabeledModelTest, OrtReproducesDocumentedAccuracy) {
  constexpr int64_t kEvalImages = 1000;
  ASSERT_OK_AND_ASSIGN(MnistSubset subset,
                       LoadMnistTest(AssetKitRoot() + "/data/mnist", kEvalImages));
  ASSERT_OK_AND_ASSIGN(Tensor images,
                       MnistImages(subset, 0, kEvalImages, BatchShape(GetParam(), kEvalImages)));
  EXPECT_EQ(
      Sha256Hex(std::string_view(static_cast<const char*>(images.raw_data()), images.nbytes())),
      "0678d37d56a66e061e86a601c8c1728563295db8af2a0cc02d7e31ffa60a62a7")
      << "MNIST eval images float32 pixel/255 checksum (shared/models/README.md)";
  ASSERT_OK_AND_ASSIGN(auto ort, OrtRunner::Create(Path(), {kThreads}));
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> logits, ort->Run({{"input", images}}));
  ASSERT_EQ(logits.size(), 1u);
  CheckPredictions(GetParam().name + " ORT", subset, logits[0], logits[0],
                   GetParam().expected_correct);
}

INSTANTIATE_TEST_SUITE_P(Shared, LabeledModelTest, ::testing::ValuesIn(kLabeledModels),
                         [](const auto& info) { return info.param.name; });

TEST(OrtRunner, RunsDevSetWithManifestOutputShapes) {
  ASSERT_OK_AND_ASSIGN(std::vector<KitModel> models, LoadManifest(AssetKitRoot()));
  for (const KitModel& kit_model : DevSetOnnxModels(models)) {
    ASSERT_OK_AND_ASSIGN(auto ort, OrtRunner::Create(kit_model.path, {kThreads}));
    ASSERT_OK_AND_ASSIGN(auto model, engine::LoadModel(kit_model.path));
    const std::vector<engine::ValueInfo> required = engine::RequiredInputs(model.graph);
    InputOptions options;
    options.shapes = kit_model.bench_shapes;
    options.values = kit_model.bench_values;
    ASSERT_OK_AND_ASSIGN(std::vector<NamedTensor> feeds, MakeInputs(required, options));
    ASSERT_OK_AND_ASSIGN(std::vector<Tensor> outputs, ort->Run(feeds));
    ASSERT_EQ(outputs.size(), ort->output_names().size());
    for (size_t i = 0; i < outputs.size(); ++i) {
      const std::string& name = ort->output_names()[i];
      auto expected = kit_model.bench_output_shapes.find(name);
      ASSERT_NE(expected, kit_model.bench_output_shapes.end()) << kit_model.name << " " << name;
      EXPECT_EQ(outputs[i].shape(), expected->second) << kit_model.name << " output " << name;
      EXPECT_EQ(outputs[i].dtype(), DataType::kFloat32) << kit_model.name << " output " << name;
    }
  }
}

TEST(OrtRunner, ErrorsAreStatusesNamingTheModel) {
  const std::string missing = "/nonexistent/judge_model.onnx";
  auto none = OrtRunner::Create(missing, {1});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find(missing), std::string::npos) << none.status().ToString();

  const std::string path = SharedModelsDir() + "/mnist_mlp.onnx";
  ASSERT_OK_AND_ASSIGN(auto ort, OrtRunner::Create(path, {1}));
  EXPECT_EQ(ort->input_names(), std::vector<std::string>{"input"});
  EXPECT_EQ(ort->output_names(), std::vector<std::string>{"logits"});
  const std::vector<std::vector<NamedTensor>> bad_feeds = {
      {{"no_such_input", Tensor(DataType::kFloat32, {1, 1, 28, 28})}},
      {{"input", Tensor(DataType::kFloat32, {1, 3})}},
      {{"input", Tensor(DataType::kInt64, {1, 1, 28, 28})}},
      {{"input", Tensor::FromVector<std::string>({1}, {"x"})}},
  };
  for (const auto& feeds : bad_feeds) {
    auto result = ort->Run(feeds);
    ASSERT_FALSE(result.ok()) << "feed " << ShapesToString(feeds) << " should fail";
    EXPECT_NE(result.status().message().find(path), std::string::npos)
        << result.status().ToString();
  }
  Tensor good(DataType::kFloat32, {2, 1, 28, 28});
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> logits, ort->Run({{"input", good}}));
  ASSERT_EQ(logits.size(), 1u);
  EXPECT_EQ(logits[0].shape(), (engine::Shape{2, 10}));
}

}  // namespace
}  // namespace shrink::testing
