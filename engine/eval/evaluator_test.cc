// The evaluator end to end with our runtime: tiny synthetic models (streaming, trimming, state
// inputs, error cases) and the shared MNIST models on the full test set.
#include "engine/eval/evaluator.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/file_util.h"
#include "engine/io/npy.h"
#include "engine/io/onnx_export.h"
#include "engine/kernels/kernel_test_util.h"
#include "tests/test_inputs.h"

namespace shrink::engine::eval {
namespace {

using testing::AddTestNode;
using testing::TensorInfo;

constexpr int64_t kClasses = 4;

enum class Variant { kScale, kTransposed, kOtherOutputName };

// logits = x * w ([N, 4] times a per-class weight); kTransposed gives [4, N], and
// kOtherOutputName calls the output "probs".
Model ScaleModel(const std::vector<float>& w, Variant variant = Variant::kScale) {
  Model model = testing::EmptyModel(13);
  Graph& g = model.graph;
  g.name = "scale";
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {-1, kClasses}, {"N"}));
  const std::string out = variant == Variant::kOtherOutputName ? "probs" : "logits";
  g.SetInitializer("w", Tensor::FromVector<float>({kClasses}, w));
  if (variant == Variant::kTransposed) {
    AddTestNode(&g, "Mul", {"x", "w"}, {"scaled"});
    AddTestNode(&g, "Transpose", {"scaled"}, {out}, {testing::IntsAttr("perm", {1, 0})});
    g.outputs.push_back(TensorInfo(out, DataType::kFloat32, {kClasses, -1}, {"", "N"}));
  } else {
    AddTestNode(&g, "Mul", {"x", "w"}, {out});
    g.outputs.push_back(TensorInfo(out, DataType::kFloat32, {-1, kClasses}, {"N"}));
  }
  return model;
}

// Deterministic scores with distinct values per row, and labels that the reference (w = 1)
// gets right for most rows.
Tensor Inputs(int64_t n) {
  Tensor x(DataType::kFloat32, {n, kClasses});
  for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] = float((i * 7 + 3) % 11) * 0.5f;
  return x;
}
Tensor Labels(int64_t n) {
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i) labels.push_back((i * 3) % kClasses);
  return Tensor::FromVector<int64_t>({n}, labels);
}

class EvaluatorTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = *MakeTempDir("shrink-eval-test"); }
  void TearDown() override { (void)RemoveAll(dir_); }

  std::string Save(const std::string& name, const Model& model) {
    std::string path = JoinPath(dir_, name);
    Status saved = SaveModel(model, path);
    EXPECT_TRUE(saved.ok()) << saved.ToString();
    return path;
  }
  std::string Data(const std::string& name, std::vector<NamedTensor> arrays) {
    std::string path = JoinPath(dir_, name);
    EXPECT_TRUE(WriteNpz(path, arrays, NpzCompression::kStored).ok());
    return path;
  }

  std::string dir_;
};

// Top-1 with the first index winning ties, as the evaluator scores.
int64_t Top1(const float* row) {
  int64_t best = 0;
  for (int64_t j = 1; j < kClasses; ++j) best = row[j] > row[best] ? j : best;
  return best;
}

TEST_F(EvaluatorTest, StreamedBatchesMatchWholeArrayMetrics) {
  const std::vector<float> w = {1, 0.5f, 1.5f, 1};
  const std::string ref = Save("ref.onnx", ScaleModel({1, 1, 1, 1}));
  const std::string cand = Save("cand.onnx", ScaleModel(w));
  const int64_t n = 10, used = 7;
  const Tensor x = Inputs(n), labels = Labels(n);
  const std::string data = Data("data.npz", {{"x", x}, {"labels", labels}});
  EvalOptions options;
  options.batch_size = 3;  // batches of 3, 3 and 1 (the last one trimmed from 3)
  options.max_samples = used;
  options.top_k = 2;
  auto result = Evaluate(cand, ref, data, OurRuntime(1), options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();

  // The same figures from the whole arrays in one pass.
  double ref2 = 0, cand2 = 0, dot = 0, err2 = 0, abs_sum = 0, max_abs = 0;
  int64_t agree = 0, ref_ok = 0, cand_ok = 0;
  for (int64_t i = 0; i < used; ++i) {
    float c_row[kClasses];
    const float* r_row = x.data<float>() + i * kClasses;
    for (int64_t j = 0; j < kClasses; ++j) {
      c_row[j] = r_row[j] * w[j];
      const double e = double(r_row[j]) - double(c_row[j]);
      ref2 += double(r_row[j]) * r_row[j];
      cand2 += double(c_row[j]) * c_row[j];
      dot += double(r_row[j]) * c_row[j];
      err2 += e * e;
      abs_sum += std::fabs(e);
      max_abs = std::max(max_abs, std::fabs(e));
    }
    agree += Top1(r_row) == Top1(c_row);
    ref_ok += Top1(r_row) == labels.data<int64_t>()[i];
    cand_ok += Top1(c_row) == labels.data<int64_t>()[i];
  }
  EXPECT_EQ(result->samples(), used);
  EXPECT_EQ(result->runtime(), "shrink");
  EXPECT_EQ(result->data(), data);
  EXPECT_EQ(result->data_sha256().size(), 64u);
  ASSERT_EQ(result->outputs_size(), 1);
  const v1::OutputMetrics& o = result->outputs(0);
  EXPECT_TRUE(o.classifier());
  EXPECT_EQ(o.agreement(), double(agree) / used);
  // Sums of a few dozen exact products in another order: equal to ~1e-15 relative.
  EXPECT_NEAR(o.sqnr_db(), 10 * std::log10(ref2 / err2), 1e-12);
  EXPECT_NEAR(o.cosine(), dot / std::sqrt(ref2 * cand2), 1e-12);
  EXPECT_EQ(o.max_abs_error(), max_abs);
  EXPECT_NEAR(o.mean_abs_error(), abs_sum / (used * kClasses), 1e-12);
  ASSERT_TRUE(result->has_accuracy());
  EXPECT_EQ(result->accuracy().samples(), used);
  EXPECT_EQ(result->accuracy().reference_correct(), ref_ok);
  EXPECT_EQ(result->accuracy().candidate_correct(), cand_ok);
  EXPECT_EQ(result->accuracy().k(), 2);
  EXPECT_LE(result->accuracy().drop_ci95_low(), result->accuracy().drop());
  EXPECT_GE(result->accuracy().drop_ci95_high(), result->accuracy().drop());
  EXPECT_GT(result->inference_seconds(), 0);
  EXPECT_GE(result->seconds(), result->inference_seconds());
}

TEST_F(EvaluatorTest, WithoutLabelsThereIsNoAccuracy) {
  const std::string ref = Save("ref.onnx", ScaleModel({1, 1, 1, 1}));
  const std::string data = Data("data.npz", {{"x", Inputs(5)}});
  auto result = Evaluate(ref, ref, data, OurRuntime(1), {});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_FALSE(result->has_accuracy());
  EXPECT_EQ(result->outputs(0).sqnr_db(), 999);
  EXPECT_EQ(result->outputs(0).agreement(), 1.0);
}

TEST_F(EvaluatorTest, StateInputsLeftOutOfTheDataAreFedZeros) {
  Model model = testing::EmptyModel(13);
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {-1, kClasses}, {"N"}));
  g.inputs.push_back(TensorInfo("h", DataType::kFloat32, {-1, kClasses}, {"N"}));
  AddTestNode(&g, "Add", {"x", "h"}, {"logits"});
  AddTestNode(&g, "Identity", {"logits"}, {"h_out"});
  g.outputs.push_back(TensorInfo("logits", DataType::kFloat32, {-1, kClasses}, {"N"}));
  g.outputs.push_back(TensorInfo("h_out", DataType::kFloat32, {-1, kClasses}, {"N"}));
  const std::string path = Save("state.onnx", model);
  const std::string data = Data("data.npz", {{"x", Inputs(6)}, {"labels", Labels(6)}});
  EvalOptions options;
  options.batch_size = 2;
  EXPECT_FALSE(Evaluate(path, path, data, OurRuntime(1), options).ok());  // `h` is missing
  options.state_inputs = {"h"};
  auto zeros = Evaluate(path, path, data, OurRuntime(1), options);
  ASSERT_TRUE(zeros.ok()) << zeros.status().ToString();
  EXPECT_EQ(zeros->samples(), 6);
  options.state_pairs = {{"h", "h_out"}};  // carried: h grows with every batch
  auto carried = Evaluate(path, path, data, OurRuntime(1), options);
  ASSERT_TRUE(carried.ok()) << carried.status().ToString();
  EXPECT_EQ(carried->outputs(0).sqnr_db(), 999);  // each model carries its own, equal state
}

TEST_F(EvaluatorTest, BadInputsAreErrorsNamingTheProblem) {
  const std::string ref = Save("ref.onnx", ScaleModel({1, 1, 1, 1}));
  const std::string other = Save("other.onnx", ScaleModel({1, 1, 1, 1}, Variant::kOtherOutputName));
  const std::string transposed =
      Save("transposed.onnx", ScaleModel({1, 1, 1, 1}, Variant::kTransposed));
  const std::string good = Data("good.npz", {{"x", Inputs(6)}, {"labels", Labels(6)}});
  const std::string short_labels = Data("short.npz", {{"x", Inputs(6)}, {"labels", Labels(5)}});
  const std::string bad_label = Data(
      "badlabel.npz", {{"x", Inputs(2)}, {"labels", Tensor::FromVector<int64_t>({2}, {0, 9})}});
  const std::string float_labels = Data(
      "floatlabels.npz", {{"x", Inputs(2)}, {"labels", Tensor::FromVector<float>({2}, {0, 1})}});
  struct Case {
    const char* what;
    std::string candidate, reference, data;
    std::vector<std::string> expected;  // substrings of the message
  };
  const Case cases[] = {
      {"labels count", ref, ref, short_labels, {"short.npz", "labels"}},
      {"different outputs", other, ref, good, {"different outputs", "'probs'", "'logits'"}},
      {"shapes", transposed, ref, good, {"output 'logits'", "[4,6]", "[6,4]"}},
      {"missing data", ref, ref, JoinPath(dir_, "none.npz"), {"none.npz", "no such file"}},
      {"missing model", JoinPath(dir_, "none.onnx"), ref, good, {"candidate model", "none.onnx"}},
      {"label range", ref, ref, bad_label, {"label 9", "outside"}},
      {"float labels", ref, ref, float_labels, {"labels", "integer"}},
  };
  for (const Case& c : cases) {
    auto result = Evaluate(c.candidate, c.reference, c.data, OurRuntime(1), {});
    ASSERT_FALSE(result.ok()) << c.what;
    for (const std::string& part : c.expected) {
      EXPECT_NE(result.status().message().find(part), std::string::npos)
          << c.what << ": " << result.status().message();
    }
  }
}

TEST_F(EvaluatorTest, LatencyUsesOneSampleForADynamicBatchAxis) {
  const std::string ref = Save("ref.onnx", ScaleModel({1, 1, 1, 1}));
  const std::string data = Data("data.npz", {{"x", Inputs(8)}});
  std::string note;
  LatencyOptions options;
  options.model_label = "before";
  auto latency = MeasureLatency(ref, data, OurRuntime(1), 20, options, &note);
  ASSERT_TRUE(latency.ok()) << latency.status().ToString();
  EXPECT_EQ(latency->runtime(), "shrink");
  EXPECT_EQ(latency->model(), "before");
  EXPECT_EQ(latency->threads(), 1);
  EXPECT_EQ(latency->runs(), 20);
  EXPECT_GT(latency->median_ms(), 0);
  EXPECT_GE(latency->p90_ms(), latency->median_ms());
  EXPECT_NE(note.find("1 sample"), std::string::npos) << note;
  EXPECT_NE(note.find("dynamic batch"), std::string::npos) << note;
}

// The shared MNIST models on the full test set (10000 images), each against itself in our
// runtime. Our float arithmetic differs from ORT's in the last bits, which can flip only the
// README's near-ties (top-1/top-2 margin < 1e-2 in ORT): 4 for mnist_mlp, 4 for mnist_cnn, 3
// for digits_gru. Against itself the drop is exactly 0.
struct MnistCase {
  const char* model;
  Shape per_image;
  int64_t ort_correct;  // README, full test set
  int64_t near_ties;    // README, margin < 1e-2 on the full test set
};

class MnistEvalTest : public EvaluatorTest, public ::testing::WithParamInterface<MnistCase> {};

TEST_P(MnistEvalTest, FloatModelAgainstItselfMatchesTheReadmeCounts) {
  const MnistCase& c = GetParam();
  const std::string model = JoinPath(SHRINK_SHARED_MODELS_DIR, std::string(c.model) + ".onnx");
  const std::string mnist = JoinPath(SHRINK_ASSETS_DIR, "data/mnist");
  if (!FileExists(model) || !FileExists(JoinPath(mnist, "t10k-images-idx3-ubyte"))) {
    GTEST_SKIP() << "needs " << model << " and the MNIST files of the asset kit in " << mnist;
  }
  auto subset = shrink::testing::LoadMnistSet(mnist, "t10k", 10000);
  ASSERT_TRUE(subset.ok()) << subset.status().ToString();
  Shape shape = {10000};
  shape.insert(shape.end(), c.per_image.begin(), c.per_image.end());
  auto images = shrink::testing::MnistImages(*subset, 0, 10000, shape);
  ASSERT_TRUE(images.ok());
  std::vector<int64_t> labels(subset->labels.begin(), subset->labels.end());
  const std::string data = Data(
      "mnist.npz", {{"input", *images}, {"labels", Tensor::FromVector<int64_t>({10000}, labels)}});
  auto result = Evaluate(model, model, data, OurRuntime(2), {});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const v1::AccuracyMetrics& a = result->accuracy();
  EXPECT_EQ(a.samples(), 10000);
  EXPECT_LE(std::abs(a.reference_correct() - c.ort_correct), c.near_ties)
      << c.model << ": " << a.reference_correct() << " correct, README (ORT) " << c.ort_correct;
  EXPECT_EQ(a.candidate_correct(), a.reference_correct());
  EXPECT_EQ(a.drop(), 0.0);
  EXPECT_EQ(a.drop_ci95_low(), 0.0);
  EXPECT_EQ(a.drop_ci95_high(), 0.0);
  EXPECT_EQ(a.output(), "logits");
  ASSERT_EQ(result->outputs_size(), 1);
  EXPECT_EQ(result->outputs(0).agreement(), 1.0);
  EXPECT_EQ(result->outputs(0).sqnr_db(), 999);
  std::printf("%s in shrink: %lld/10000 (README, ORT: %lld; near-ties %lld), %.2f s\n", c.model,
              (long long)a.reference_correct(), (long long)c.ort_correct, (long long)c.near_ties,
              result->seconds());
}

INSTANTIATE_TEST_SUITE_P(SharedModels, MnistEvalTest,
                         ::testing::Values(MnistCase{"mnist_mlp", {1, 28, 28}, 9662, 4},
                                           MnistCase{"mnist_cnn", {1, 28, 28}, 9898, 4},
                                           MnistCase{"digits_gru", {28, 28}, 9457, 3}),
                         [](const auto& info) { return std::string(info.param.model); });

}  // namespace
}  // namespace shrink::engine::eval
