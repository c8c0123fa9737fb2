// ONNX Runtime as the judge of the quantizers: quantized fixtures and the labeled MNIST models
// must load and run in ORT, and ORT's output must match our runtime's output of the same file:
// within one output quantization step for static QDQ (ORT requantizes in its fused integer
// kernels, we run DQ -> float op -> Q; reduce_range=true so that ORT's u8*s8 kernels cannot
// saturate on CPUs without VNNI), within a stated tolerance for dynamic quantization.
// Also prints accuracy on the MNIST eval subset and the ORT latency of int8 vs fp32.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>

#include "engine/io/onnx_export.h"
#include "engine/io/onnx_import.h"
#include "engine/passes/constant_folding.h"
#include "engine/quant/qdq_quantizer.h"
#include "engine/quant/qdq_test_fixtures.h"
#include "tests/ort_runner.h"
#include "tests/test_inputs.h"

namespace shrink::testing {
namespace {

using engine::Graph;
using engine::Model;
using engine::NamedTensor;
using engine::Node;
using engine::OpType;
using engine::Shape;
using engine::Tensor;
namespace quant = engine::quant;
namespace qt = engine::quant::testing;

#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(SHRINK_CONCAT(r_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)   \
  auto tmp = (expr);                                \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString(); \
  lhs = std::move(tmp).value()

std::string TempModelPath(const std::string& name) {
  return ::testing::TempDir() + "/qdq_ort_" + name + ".onnx";
}

// Largest scale of the DequantizeLinear that produces `name` (through If branches and float
// clamps).
double OutputStep(const Graph& graph, const std::string& name) {
  const Node* producer = qt::Producer(graph, name);
  if (producer == nullptr) return 0;
  if (producer->op == OpType::kDequantizeLinear || producer->op == OpType::kMsDequantizeLinear) {
    const Tensor* scale = graph.FindInitializer(producer->inputs[1]);
    double step = 0;
    for (int64_t i = 0; scale && i < scale->size(); ++i) {
      step = std::max<double>(step, scale->data<float>()[i]);
    }
    return step;
  }
  // A clamp left in float (e.g. symmetric int16 cannot absorb it) is 1-Lipschitz: its input's step.
  if (producer->op == OpType::kRelu || producer->op == OpType::kClip) {
    return OutputStep(graph, producer->inputs[0]);
  }
  double step = 0;
  for (const auto& attr : producer->attributes) {
    if (!attr.g) continue;
    for (size_t i = 0; i < producer->outputs.size(); ++i) {
      if (producer->outputs[i] == name && i < attr.g->outputs.size()) {
        step = std::max(step, OutputStep(*attr.g, attr.g->outputs[i].name));
      }
    }
  }
  return step;
}

// Max |ours - ORT| per output, for one set of feeds.
StatusOr<std::vector<double>> CompareWithOrt(const Model& model, OrtRunner* ort,
                                             const std::vector<NamedTensor>& feeds,
                                             std::vector<Tensor>* ours_out = nullptr) {
  ASSIGN_OR_RETURN(std::vector<Tensor> ours, qt::RunModel(model, feeds));
  ASSIGN_OR_RETURN(std::vector<Tensor> theirs, ort->Run(feeds));
  if (ours.size() != theirs.size()) return Internal("output count differs");
  std::vector<double> diffs;
  for (size_t i = 0; i < ours.size(); ++i) {
    if (ours[i].shape() != theirs[i].shape()) return Internal("output shape differs");
    diffs.push_back(qt::MaxAbsDiff(ours[i], theirs[i]));
  }
  if (ours_out) *ours_out = std::move(ours);
  return diffs;
}

struct NamedFixture {
  const char* name;
  qt::Fixture (*make)();
};

qt::Fixture GemmTransB() { return qt::GemmFixture(true); }
qt::Fixture GemmNoTransB() { return qt::GemmFixture(false); }

const NamedFixture kFixtures[] = {
    {"conv_relu_pool_conv_add", &qt::ConvChain},
    {"gemm_transb", &GemmTransB},
    {"gemm", &GemmNoTransB},
    {"matmul_weight_and_activations", &qt::MatMulFixture},
    {"concat_reshape", &qt::ConcatReshapeFixture},
    {"if_subgraph_weights", &qt::IfFixture},
    {"conv_clip_relu", &qt::ClipReluFixture},
    {"conv_leakyrelu_max", &qt::LeakyMaxFixture},
    {"grouped_conv_transpose", &qt::ConvTransposeFixture},
};

// int8 (u8 activations, 7-bit s8 weights) and 16x8 (int16 activations in com.microsoft Q/DQ,
// which ORT runs unfused).
TEST(QdqOrtTest, StaticFixturesMatchOrtWithinOneOutputStep) {
  for (quant::QuantType activations : {quant::QuantType::kUint8, quant::QuantType::kInt16}) {
    for (const NamedFixture& fixture : kFixtures) {
      const std::string name = std::string(fixture.name) + "_" + QuantTypeName(activations);
      SCOPED_TRACE(name);
      qt::Fixture f = fixture.make();
      Model q = engine::CloneModel(f.model);
      quant::StaticQuantOptions options;
      options.reduce_range = true;
      options.activation_type = activations;
      ASSERT_OK_AND_ASSIGN(auto summary, quant::QuantizeStatic(&q, f.ranges, options));
      Status checked = engine::CheckModelWithOnnx(q);
      ASSERT_TRUE(checked.ok()) << checked.ToString();
      const std::string path = TempModelPath(name);
      ASSERT_TRUE(engine::SaveModel(q, path).ok());
      ASSERT_OK_AND_ASSIGN(auto ort, OrtRunner::Create(path));
      for (const auto& feeds : f.feed_sets) {
        ASSERT_OK_AND_ASSIGN(std::vector<double> diffs, CompareWithOrt(q, ort.get(), feeds));
        for (size_t i = 0; i < diffs.size(); ++i) {
          double step = OutputStep(q.graph, q.graph.outputs[i].name);
          ASSERT_GT(step, 0) << "output " << q.graph.outputs[i].name << " is not quantized";
          EXPECT_LE(diffs[i], step * (1 + 1e-5)) << q.graph.outputs[i].name;
        }
      }
    }
  }
}

// MNIST training images [0, n) as pixel / 255 (the calibration subset of shared/models).
StatusOr<Tensor> MnistTrainImages(int64_t n, const Shape& shape) {
  const std::string path = AssetKitRoot() + "/data/mnist/train-images-idx3-ubyte";
  std::ifstream file(path, std::ios::binary);
  if (!file) return NotFound(path);
  std::vector<char> bytes(size_t(16 + n * 784));
  if (!file.read(bytes.data(), std::streamsize(bytes.size()))) return DataLoss(path);
  if (uint8_t(bytes[2]) != 0x08 || uint8_t(bytes[3]) != 0x03) return DataLoss(path + ": not IDX3");
  Tensor t(engine::DataType::kFloat32, shape);
  for (int64_t i = 0; i < n * 784; ++i)
    t.data<float>()[i] = float(uint8_t(bytes[size_t(16 + i)])) / 255.0f;
  return t;
}

int CountCorrect(const Tensor& logits, const std::vector<uint8_t>& labels) {
  int correct = 0;
  for (int64_t row = 0; row < logits.dim(0); ++row) {
    const float* p = logits.data<float>() + row * logits.dim(1);
    int64_t best = std::max_element(p, p + logits.dim(1)) - p;
    correct += best == labels[size_t(row)];
  }
  return correct;
}

double MedianOrtSeconds(OrtRunner* ort, const std::vector<NamedTensor>& feeds, int runs) {
  for (int i = 0; i < 5; ++i) (void)ort->Run(feeds);
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    auto start = std::chrono::steady_clock::now();
    (void)ort->Run(feeds);
    times.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

struct LabeledModel {
  const char* name;
  Shape image_shape;  // one sample without the batch dim
  int float_correct;  // documented eval-subset count (shared/models/README)
};

class QdqOrtMnistTest : public ::testing::TestWithParam<LabeledModel> {
 protected:
  Shape BatchShape(int64_t n) const {
    Shape shape = {n};
    shape.insert(shape.end(), GetParam().image_shape.begin(), GetParam().image_shape.end());
    return shape;
  }
  void SetUp() override {
    path_ = SharedModelsDir() + "/" + GetParam().name + ".onnx";
    const std::string mnist = AssetKitRoot() + "/data/mnist/";
    if (!std::ifstream(path_) || !std::ifstream(mnist + "t10k-images-idx3-ubyte") ||
        !std::ifstream(mnist + "train-images-idx3-ubyte")) {
      GTEST_SKIP() << "needs " << path_ << " and the MNIST IDX files of the asset kit";
    }
  }
  std::string path_;
};

void PrintTo(const LabeledModel& model, std::ostream* os) { *os << model.name; }

TEST_P(QdqOrtMnistTest, StaticAndDynamicMatchOrtAndKeepAccuracy) {
  const LabeledModel& param = GetParam();
  ASSERT_OK_AND_ASSIGN(Model model, engine::LoadModel(path_));
  ASSERT_TRUE(engine::FoldConstants(&model).ok());
  ASSERT_OK_AND_ASSIGN(MnistSubset eval, LoadMnistTest(AssetKitRoot() + "/data/mnist", 1000));
  ASSERT_OK_AND_ASSIGN(Tensor images, MnistImages(eval, 0, 1000, BatchShape(1000)));
  const std::vector<NamedTensor> feeds = {{"input", images}};
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> float_out, qt::RunModel(model, feeds));
  const int float_correct = CountCorrect(float_out[0], eval.labels);
  EXPECT_EQ(float_correct, param.float_correct);

  // Static: min/max ranges from 64 training images.
  ASSERT_OK_AND_ASSIGN(Tensor calib, MnistTrainImages(64, BatchShape(64)));
  ASSERT_OK_AND_ASSIGN(engine::quant::RangeMap ranges,
                       qt::ObserveRanges(model, {{{"input", calib}}}));
  Model static_model = engine::CloneModel(model);
  quant::StaticQuantOptions static_options;
  static_options.reduce_range = true;
  ASSERT_OK_AND_ASSIGN(auto static_summary,
                       quant::QuantizeStatic(&static_model, ranges, static_options));
  int quantized_nodes = 0;
  for (const auto& d : static_summary.decisions) {
    quantized_nodes += d.action == quant::NodeDecision::Action::kQuantized;
  }
  const std::string static_path = TempModelPath(std::string(param.name) + "_static");
  ASSERT_TRUE(engine::SaveModel(static_model, static_path).ok());
  OrtRunnerOptions ort_options;
  ort_options.optimized_model_path = TempModelPath(std::string(param.name) + "_static_ort_opt");
  ASSERT_OK_AND_ASSIGN(auto static_ort, OrtRunner::Create(static_path, ort_options));
  std::vector<Tensor> static_ours;
  ASSERT_OK_AND_ASSIGN(std::vector<double> static_diff,
                       CompareWithOrt(static_model, static_ort.get(), feeds, &static_ours));
  const double step = OutputStep(static_model.graph, "logits");
  EXPECT_LE(static_diff[0], step * (1 + 1e-5)) << "static: ORT vs ours, one output step";
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> static_theirs, static_ort->Run(feeds));

  // Dynamic.
  Model dynamic_model = engine::CloneModel(model);
  quant::DynamicQuantOptions dynamic_options;
  dynamic_options.reduce_range = true;
  ASSERT_TRUE(quant::QuantizeDynamic(&dynamic_model, dynamic_options).ok());
  const std::string dynamic_path = TempModelPath(std::string(param.name) + "_dynamic");
  ASSERT_TRUE(engine::SaveModel(dynamic_model, dynamic_path).ok());
  ASSERT_OK_AND_ASSIGN(auto dynamic_ort, OrtRunner::Create(dynamic_path));
  std::vector<Tensor> dynamic_ours;
  ASSERT_OK_AND_ASSIGN(std::vector<double> dynamic_diff,
                       CompareWithOrt(dynamic_model, dynamic_ort.get(), feeds, &dynamic_ours));
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> dynamic_theirs, dynamic_ort->Run(feeds));
  // Both runtimes quantize activations the same way and accumulate exactly in int32; what
  // differs is the float rescale epilogue (a few ulp), which can flip the rounding of a later
  // DynamicQuantizeLinear by one step. Tolerance: 1% of the logits' magnitude.
  const double logit_scale = qt::MaxAbs(float_out[0]);
  EXPECT_LE(dynamic_diff[0], 0.01 * logit_scale) << "dynamic: ORT vs ours";

  std::printf(
      "[qdq] %-10s float %d | static int8 (%d nodes quantized) ours %d ort %d, "
      "max |ours-ort| %.4g (output step %.4g) | dynamic ours %d ort %d, max |ours-ort| "
      "%.4g (|logits| max %.3g)\n",
      param.name, float_correct, quantized_nodes, CountCorrect(static_ours[0], eval.labels),
      CountCorrect(static_theirs[0], eval.labels), static_diff[0], step,
      CountCorrect(dynamic_ours[0], eval.labels), CountCorrect(dynamic_theirs[0], eval.labels),
      dynamic_diff[0], logit_scale);

  // What ORT fused: op histogram of its optimized model.
  auto optimized = engine::LoadModel(ort_options.optimized_model_path);
  if (optimized.ok()) {
    std::map<std::string, int> ops;
    for (const auto& node : optimized->graph.nodes) ops[node->op_type] += 1;
    std::string text;
    for (const auto& [op, count] : ops) text += " " + op + "x" + std::to_string(count);
    std::printf("[qdq] %-10s ORT optimized static model:%s\n", param.name, text.c_str());
    // Every Conv/Gemm must have become an integer kernel (QLinearConv, QGemm): a float one left
    // means the QDQ placement did not match ORT's selectors.
    for (const char* op : {"Conv", "FusedConv", "Gemm", "FusedGemm", "MatMul"}) {
      EXPECT_EQ(ops.count(op), 0u) << op << " left in float by ORT";
    }
  } else {
    ADD_FAILURE() << "ORT did not write its optimized model: " << optimized.status().ToString();
  }

  // ORT latency, 2 threads: int8 static vs fp32 (a printout, not an assertion).
  OrtRunnerOptions timing;
  timing.threads = 2;
  ASSERT_OK_AND_ASSIGN(auto fp32_timed, OrtRunner::Create(path_, timing));
  ASSERT_OK_AND_ASSIGN(auto int8_timed, OrtRunner::Create(static_path, timing));
  ASSERT_OK_AND_ASSIGN(auto dyn_timed, OrtRunner::Create(dynamic_path, timing));
  for (int64_t batch : {1, 64}) {
    ASSERT_OK_AND_ASSIGN(Tensor x, MnistImages(eval, 0, batch, BatchShape(batch)));
    std::vector<NamedTensor> batch_feeds = {{"input", x}};
    const int runs = batch == 1 ? 400 : 60;
    double fp32 = MedianOrtSeconds(fp32_timed.get(), batch_feeds, runs);
    double int8 = MedianOrtSeconds(int8_timed.get(), batch_feeds, runs);
    double dyn = MedianOrtSeconds(dyn_timed.get(), batch_feeds, runs);
    std::printf(
        "[qdq] %-10s ORT 2 threads batch %3lld: fp32 %.1f us, static int8 %.1f us "
        "(%.2fx), dynamic %.1f us (%.2fx)\n",
        param.name, static_cast<long long>(batch), fp32 * 1e6, int8 * 1e6, int8 / fp32, dyn * 1e6,
        dyn / fp32);
  }
}

INSTANTIATE_TEST_SUITE_P(SharedModels, QdqOrtMnistTest,
                         ::testing::Values(LabeledModel{"mnist_mlp", {1, 28, 28}, 964},
                                           LabeledModel{"mnist_cnn", {1, 28, 28}, 990},
                                           LabeledModel{"digits_gru", {28, 28}, 934}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace shrink::testing

namespace shrink::testing {
namespace {

// A dev-set conv model (20 Conv + LeakyRelu + Max(x, -0.4) blocks): ORT latency of static int8
// vs fp32 at 2 threads (printout) and ORT vs ours within one output step. Calibrated on random
// inputs: this checks speed and agreement, not accuracy.
TEST(QdqOrtDevModels, OwwEmbeddingFusesAndRunsFaster) {
  const std::string path = AssetKitRoot() + "/models/oww_embedding/embedding_model.onnx";
  if (!std::ifstream(path)) GTEST_SKIP() << "needs " << path;
  ASSERT_OK_AND_ASSIGN(Model model, engine::LoadModel(path));
  ASSERT_TRUE(engine::FoldConstants(&model).ok());
  std::vector<std::vector<NamedTensor>> calib;
  for (uint32_t seed = 0; seed < 4; ++seed) {
    calib.push_back({{"input_1", qt::RandomTensor({4, 76, 32, 1}, seed, -1, 1)}});
  }
  ASSERT_OK_AND_ASSIGN(engine::quant::RangeMap ranges, qt::ObserveRanges(model, calib));
  Model q = engine::CloneModel(model);
  quant::StaticQuantOptions options;
  options.reduce_range = true;
  ASSERT_OK_AND_ASSIGN(auto summary, quant::QuantizeStatic(&q, ranges, options));
  int quantized = 0, total = 0;
  for (const auto& d : summary.decisions) {
    total += 1;
    quantized += d.action == quant::NodeDecision::Action::kQuantized;
  }
  const std::string q_path = TempModelPath("oww_embedding_static");
  ASSERT_TRUE(engine::SaveModel(q, q_path).ok());
  OrtRunnerOptions timing;
  timing.threads = 2;
  timing.optimized_model_path = TempModelPath("oww_embedding_static_ort_opt");
  ASSERT_OK_AND_ASSIGN(auto int8_ort, OrtRunner::Create(q_path, timing));
  OrtRunnerOptions fp32_timing;
  fp32_timing.threads = 2;
  ASSERT_OK_AND_ASSIGN(auto fp32_ort, OrtRunner::Create(path, fp32_timing));
  const std::vector<NamedTensor> feeds = {{"input_1", qt::RandomTensor({1, 76, 32, 1}, 9, -1, 1)}};
  ASSERT_OK_AND_ASSIGN(std::vector<double> diff, CompareWithOrt(q, int8_ort.get(), feeds));
  const double step = OutputStep(q.graph, q.graph.outputs[0].name);
  EXPECT_LE(diff[0], step * (1 + 1e-5));
  double fp32 = MedianOrtSeconds(fp32_ort.get(), feeds, 200);
  double int8 = MedianOrtSeconds(int8_ort.get(), feeds, 200);
  std::map<std::string, int> ops;
  auto optimized = engine::LoadModel(timing.optimized_model_path);
  if (optimized.ok()) {
    for (const auto& node : optimized->graph.nodes) ops[node->op_type] += 1;
  }
  EXPECT_EQ(ops.count("Conv"), 0u) << "a Conv was not fused into QLinearConv";
  std::string text;
  for (const auto& [op, count] : ops) text += " " + op + "x" + std::to_string(count);
  std::printf(
      "[qdq] oww_embedding: %d/%d nodes quantized, max |ours-ort| %.4g (step %.4g); ORT 2 "
      "threads fp32 %.1f us, static int8 %.1f us (%.2fx)\n[qdq] ORT optimized:%s\n",
      quantized, total, diff[0], step, fp32 * 1e6, int8 * 1e6, int8 / fp32, text.c_str());
}

}  // namespace
}  // namespace shrink::testing
