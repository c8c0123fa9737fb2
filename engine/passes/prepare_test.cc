#include "engine/passes/prepare.h"

#include <filesystem>

#include "engine/io/onnx_export.h"
#include "engine/io/onnx_import.h"
#include "engine/passes/passes_test_util.h"

namespace shrink::engine::passes_test {
namespace {

// Whole models: preparation reorders float32 sums (BN folding, bias fusion) in every layer it
// touches, so outputs move by a few ulps per layer, and deep nets amplify that. The bound is
// on max |after - before| / max(1, max |before|) per output: 1e-4, twenty times below half an
// 8-bit quantization step of a unit-range tensor (1 / 255 / 2 = 2e-3), so preparation can
// never be confused with quantization error. Models without such folds must match exactly.
constexpr double kModelTolerance = 1e-4;

struct RealModel {
  std::string name;
  std::string path;
  testing::PassTestOptions options;
  // Expected report counts (-1: not checked).
  int constant_nodes_folded;
  int batch_norms_folded;
  int biases_fused;
  int identities_removed;
  bool exact;  // no rewrite that reorders float math
  // Applied before the check, e.g. to compare logits where a final Sigmoid saturates.
  std::function<void(Model*)> adjust = nullptr;
};

// ppocrv4_det's probability map is ~1e-7 everywhere on random inputs (no text), which would hide
// any error: the check compares the logits feeding the final Sigmoid instead.
void ExposeLogits(Model* model) {
  Graph& g = model->graph;
  for (ValueInfo& output : g.outputs) {
    for (auto it = g.nodes.begin(); it != g.nodes.end(); ++it) {
      if ((*it)->op != OpType::kSigmoid || (*it)->outputs[0] != output.name) continue;
      output.name = (*it)->inputs[0];
      g.nodes.erase(it);
      break;
    }
  }
}

std::string Asset(const std::string& relative) {
  return std::string(SHRINK_ASSETS_DIR) + "/models/" + relative;
}
std::string Shared(const std::string& file) {
  return std::string(SHRINK_SHARED_MODELS_DIR) + "/" + file;
}

testing::PassTestOptions Shapes(std::map<std::string, Shape> shapes,
                                std::map<std::string, double> values = {}) {
  testing::PassTestOptions options;
  options.shapes = std::move(shapes);
  options.values = std::move(values);
  return options;
}

std::vector<RealModel> RealModels() {
  return {
      {"silero_vad_v5", Asset("silero_vad_v5/silero_vad_v5.onnx"),
       Shapes({{"input", {1, 512}}, {"state", {2, 1, 128}}}, {{"sr", 16000}}), 341, 0, -1, -1,
       false},
      {"silero_vad_v5 8 kHz", Asset("silero_vad_v5/silero_vad_v5.onnx"),
       Shapes({{"input", {1, 256}}, {"state", {2, 1, 128}}}, {{"sr", 8000}}), 341, 0, -1, -1,
       false},
      {"ppocrv4_det", Asset("ppocrv4_det/ch_PP-OCRv4_det_infer.onnx"),
       Shapes({{"x", {1, 3, 96, 96}}}), 342, 3, 2, 0, false, ExposeLogits},
      {"blazeface_front_128",
       Asset("blazeface_front_128/face_detection_front_128x128_barracuda.onnx"),
       {},
       0,
       0,
       -1,
       0,
       false},
      {"oww_melspectrogram", Asset("oww_melspectrogram/melspectrogram.onnx"),
       Shapes({{"input", {1, 1760}}}), 9, 0, -1, 0, false},
      {"oww_embedding", Asset("oww_embedding/embedding_model.onnx"),
       Shapes({{"input_1", {1, 76, 32, 1}}}), 0, 0, -1, 0, false},
      {"mnist_mlp", Shared("mnist_mlp.onnx"), {}, 0, 0, 0, 0, true},
      {"mnist_cnn", Shared("mnist_cnn.onnx"), {}, 0, 0, 0, 0, true},
      {"digits_gru", Shared("digits_gru.onnx"), {}, 5, 0, 0, 0, true},
  };
}

StatusOr<int> Prepare(Model* model, PrepareReport* report) {
  ASSIGN_OR_RETURN(*report, PrepareForQuantization(model));
  int total = 0;
  for (const PassRewrites& pass : report->passes) total += pass.rewrites;
  return total;
}

std::string Describe(const PrepareReport& report) {
  std::string text;
  for (const PassRewrites& pass : report.passes) {
    text += pass.name + "=" + std::to_string(pass.rewrites) + " ";
  }
  return text + "casts_folded=" + std::to_string(report.casts_folded) +
         " constant_nodes_folded=" + std::to_string(report.constant_nodes_folded);
}

TEST(PrepareTest, RealModelsKeepTheirOutputs) {
  for (const RealModel& real : RealModels()) {
    SCOPED_TRACE(real.name);
    if (!std::filesystem::exists(real.path)) {
      GTEST_SKIP() << "model not found: " << real.path << " (asset kit or shared/ missing)";
    }
    auto model = LoadModel(real.path);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    if (real.adjust) real.adjust(&*model);
    bool checker_accepts_original = CheckModelWithOnnx(*model).ok();
    PrepareReport report;
    auto check = testing::CheckPass(
        &*model, [&](Model* m) { return Prepare(m, &report); }, real.options);
    ASSERT_TRUE(check.ok()) << check.status().ToString();
    std::cout << real.name << ": " << Describe(report) << "; max scaled error "
              << check->max_scaled_error << ", max abs error " << check->max_abs_error
              << (checker_accepts_original ? ", ONNX checker run" : ", original fails ONNX checker")
              << "\n";
    for (const auto& output : check->outputs) {
      std::cout << "  output " << output.name << ": max |before| " << output.max_abs_reference
                << ", max error " << output.max_abs_error << "\n";
    }
    EXPECT_LE(check->max_scaled_error, real.exact ? 0.0 : kModelTolerance);
    if (checker_accepts_original) {
      Status checked = CheckModelWithOnnx(*model);
      EXPECT_TRUE(checked.ok()) << "ONNX checker rejects the prepared model: "
                                << checked.ToString();
    }
    EXPECT_EQ(report.casts_folded, 0);  // no float16 weights in these models
    if (real.constant_nodes_folded >= 0) {
      EXPECT_EQ(report.constant_nodes_folded, real.constant_nodes_folded);
    }
    if (real.batch_norms_folded >= 0) {
      EXPECT_EQ(report.Rewrites("fold_batch_norm"), real.batch_norms_folded);
    }
    if (real.biases_fused >= 0) {
      EXPECT_EQ(report.Rewrites("fuse_bias"), real.biases_fused);
    }
    if (real.identities_removed >= 0) {
      EXPECT_EQ(report.Rewrites("remove_identity"), real.identities_removed);
    }
  }
}

// Every weight of a heavy op is an initializer of the node's level or of an enclosing one.
void ExpectWeightsAreInitializers(const Graph& graph, std::vector<const Graph*> scopes,
                                  int* checked) {
  scopes.push_back(&graph);
  auto is_initializer = [&](const std::string& name) {
    for (auto it = scopes.rbegin(); it != scopes.rend(); ++it) {
      if ((*it)->HasInitializer(name)) return true;
    }
    return false;
  };
  for (const auto& node : graph.nodes) {
    std::vector<int> weights;
    switch (node->op) {
      case OpType::kConv:
      case OpType::kConvTranspose:
      case OpType::kGemm:
        weights = {1, 2};
        break;
      case OpType::kMatMul:
        weights = {1};
        break;
      case OpType::kLSTM:
      case OpType::kGRU:
        weights = {1, 2, 3};
        break;
      default:
        break;
    }
    for (int i : weights) {
      if (!node->HasInput(i)) continue;
      EXPECT_TRUE(is_initializer(node->inputs[size_t(i)]))
          << node->Describe() << " input " << i << " '" << node->inputs[size_t(i)] << "'";
      ++*checked;
    }
    for (const Attribute& attribute : node->attributes) {
      if (attribute.g) ExpectWeightsAreInitializers(*attribute.g, scopes, checked);
      for (const auto& sub : attribute.graphs) ExpectWeightsAreInitializers(*sub, scopes, checked);
    }
  }
}

TEST(PrepareTest, WeightsOfRealModelsAreInitializers) {
  for (const char* relative :
       {"silero_vad_v5/silero_vad_v5.onnx", "ppocrv4_det/ch_PP-OCRv4_det_infer.onnx"}) {
    std::string path = Asset(relative);
    SCOPED_TRACE(path);
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "asset kit model not found: " << path;
    auto model = LoadModel(path);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    auto bytes_before = SerializeModel(*model);
    ASSERT_TRUE(PrepareForQuantization(&*model).ok());
    auto bytes_after = SerializeModel(*model);
    ASSERT_TRUE(bytes_before.ok() && bytes_after.ok());
    int checked = 0;
    ExpectWeightsAreInitializers(model->graph, {}, &checked);
    EXPECT_GT(checked, 0);
    // Weights sliced inside subgraphs become per-branch initializers; the file must not grow
    // much (the sliced originals go away).
    EXPECT_LE(bytes_after->size(), bytes_before->size() * 11 / 10);
    std::cout << relative << ": " << checked << " weight inputs checked, " << bytes_before->size()
              << " -> " << bytes_after->size() << " bytes\n";
  }
}

TEST(PrepareTest, DisabledPassesLeaveTheModelAlone) {
  auto model = LoadModel(Shared("mnist_cnn.onnx"));
  if (!model.ok()) GTEST_SKIP() << "shared models missing: " << model.status().ToString();
  PrepareOptions options;
  options.fold_fp16_casts = options.fold_constants = options.remove_identity = false;
  options.fold_batch_norm = options.fuse_bias = options.eliminate_dead_nodes = false;
  options.share_subgraph_constants = false;
  size_t nodes = model->graph.nodes.size();
  auto report = PrepareForQuantization(&*model, options);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->passes.empty());
  EXPECT_EQ(model->graph.nodes.size(), nodes);
}

// A small float16-weight model with a BN and an Identity: every pass has work, in order.
TEST(PrepareTest, ReportsEveryPass) {
  Model model = testing::EmptyModel();
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {1, 2, 4, 4}));
  g.outputs.push_back(TensorInfo("y", DataType::kFloat32, {1, 3, 4, 4}));
  Tensor w = Random({3, 2, 1, 1}, 1, -0.5f, 0.5f);
  Tensor w16(DataType::kFloat16, w.shape());
  for (int64_t i = 0; i < w.size(); ++i) w16.data<uint16_t>()[i] = FloatToHalf(w.data<float>()[i]);
  g.SetInitializer("w16", w16);
  for (const char* name : {"scale", "beta", "mean"})
    g.SetInitializer(name, Random({3}, 2, 0.5f, 1));
  g.SetInitializer("var", Random({3}, 3, 0.5f, 1));
  g.SetInitializer("c", Random({1, 3, 1, 1}, 4, -1, 1));
  AddTestNode(&g, "Constant", {}, {"unused"}, {TensorAttr("value", Tensor::Scalar<float>(1))});
  AddTestNode(&g, "Cast", {"w16"}, {"w"}, {IntAttr("to", 1)});
  AddTestNode(&g, "Identity", {"x"}, {"xi"});
  AddTestNode(&g, "Conv", {"xi", "w"}, {"z"});
  AddTestNode(&g, "BatchNormalization", {"z", "scale", "beta", "mean", "var"}, {"n"});
  AddTestNode(&g, "Add", {"n", "c"}, {"y"});
  PrepareReport report;
  auto check = testing::CheckPass(&model, [&](Model* m) { return Prepare(m, &report); });
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  // One 2-term dot product per output, |terms| <= 0.5 * s with s < 1 / sqrt(0.5): see
  // passes_test_util.h.
  EXPECT_LE(check->max_abs_error, SumTolerance(4, 2 * 0.5 * 1.5 + 4 * 1.5 + 2));
  EXPECT_EQ(report.casts_folded, 1);
  EXPECT_EQ(report.constant_nodes_folded, 1);
  EXPECT_EQ(report.Rewrites("remove_identity"), 1);
  EXPECT_EQ(report.Rewrites("fold_batch_norm"), 1);
  EXPECT_EQ(report.Rewrites("fuse_bias"), 1);
  ASSERT_EQ(g.nodes.size(), 1u) << Describe(report);
  EXPECT_EQ(g.nodes[0]->op, OpType::kConv);
  EXPECT_EQ(g.nodes[0]->outputs[0], "y");
}

}  // namespace
}  // namespace shrink::engine::passes_test
