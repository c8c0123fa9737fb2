// The opset upgrade, rule by rule: a tiny model at the old opset, upgraded, must compute the same
// outputs in our executor. Every rewrite keeps the kernels' arithmetic the same (the same
// elements combined in the same order), so outputs are compared bit for bit. Then every dev-set
// and shared model upgraded to 13/17/18 must still run, give the same outputs, export, pass
// CheckExportedModel and re-import.
#include "engine/passes/opset_upgrade.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/io/model_check.h"
#include "engine/io/onnx_export.h"
#include "engine/io/onnx_import.h"
#include "engine/io/shape_inference.h"
#include "engine/kernels/kernel_test_util.h"
#include "engine/passes/opset_upgrade_cases.h"
#include "engine/runtime/executor.h"
#include "tests/output_compare.h"
#include "tests/test_inputs.h"

namespace shrink::engine {
namespace {

using testing::AddTestNode;
using testing::FloatAttr;
using testing::FloatsAttr;
using testing::IntAttr;
using testing::IntsAttr;
using testing::StringAttr;
using testing::TensorInfo;

StatusOr<std::vector<Tensor>> RunModel(const Model& model, const std::vector<NamedTensor>& feeds) {
  ASSIGN_OR_RETURN(auto executor, Executor::Create(model, {2, false}));
  return executor->Run(feeds);
}

std::string Joined(const std::vector<std::string>& rules) {
  std::string all;
  for (const auto& r : rules) all += r + "; ";
  return all;
}

void RunRuleCase(const testing_models::UpgradeCase& c) {
  SCOPED_TRACE(c.name);
  Model old_model = testing_models::OldModel(c);
  // libonnx's checker wants shaped graph outputs: let its inference fill in what it can.
  ASSERT_TRUE(InferShapes(&old_model).ok());
  bool outputs_shaped = true;
  for (const ValueInfo& out : old_model.graph.outputs) outputs_shaped &= out.type.has_shape;
  auto expected = RunModel(old_model, c.feeds);
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  for (int64_t target : c.targets) {
    SCOPED_TRACE("to opset " + std::to_string(target));
    Model model = CloneModel(old_model);
    auto result = UpgradeOpset(&model, target);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(model.OpsetVersion(""), target);
    EXPECT_NE(Joined(result->rules).find(c.expected_rule), std::string::npos)
        << "rules: " << Joined(result->rules);
    if (outputs_shaped) {
      auto check = CheckExportedModel(model);
      EXPECT_TRUE(check.ok()) << check.status().ToString();
    }
    auto actual = RunModel(model, c.feeds);
    ASSERT_TRUE(actual.ok()) << actual.status().ToString();
    ASSERT_EQ(actual->size(), expected->size());
    for (size_t i = 0; i < actual->size(); ++i) {
      EXPECT_TRUE((*actual)[i].BitwiseEquals((*expected)[i])) << "output " << i;
    }
  }
}

TEST(OpsetUpgradeRules, EveryRuleKeepsOutputs) {
  const auto cases = testing_models::UpgradeCases();
  EXPECT_GE(cases.size(), 40u) << "a fixture group went missing";
  for (const auto& c : cases) RunRuleCase(c);
}

TEST(OpsetUpgradeRules, ScatterBecomesScatterElements) {
  Model model = testing::EmptyModel(9);
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("data", DataType::kFloat32, {2, 3}));
  g.outputs.push_back(TensorInfo("y", DataType::kFloat32, {2, 3}));
  g.SetInitializer("idx", Tensor::FromVector<int64_t>({1, 2}, {2, 0}));
  g.SetInitializer("upd", Tensor::FromVector<float>({1, 2}, {7, 8}));
  AddTestNode(&g, "Scatter", {"data", "idx", "upd"}, {"y"}, {IntAttr("axis", 1)});
  auto result = UpgradeOpset(&model, 11);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_NE(Joined(result->rules).find("Scatter 9->11 -> ScatterElements x1"), std::string::npos);
  EXPECT_EQ(g.nodes[0]->op, OpType::kScatterElements);
  auto out = RunModel(model, {{"data", Tensor(DataType::kFloat32, {2, 3})}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const float expected[] = {8, 0, 7, 0, 0, 0};  // Scatter-9: data[0][idx[0][j]] = upd[0][j]
  for (int i = 0; i < 6; ++i) EXPECT_EQ((*out)[0].data<float>()[i], expected[i]);
}

TEST(OpsetUpgrade, RecordsCountsAndBumpsIrVersion) {
  Model model = testing::EmptyModel(9);
  model.ir_version = 3;
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {2, 3}));
  g.outputs.push_back(TensorInfo("y", DataType::kFloat32, {2, 3}));
  AddTestNode(&g, "Softmax", {"x"}, {"a"});
  AddTestNode(&g, "Relu", {"a"}, {"b"});
  AddTestNode(&g, "Softmax", {"b"}, {"y"});
  auto result = UpgradeOpset(&model, 13);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->from, 9);
  EXPECT_EQ(result->to, 13);
  std::string rules = Joined(result->rules);
  EXPECT_NE(rules.find("Softmax 11->13 axis (last axis) x2"), std::string::npos) << rules;
  EXPECT_NE(rules.find("Relu 6->13 bump x1"), std::string::npos) << rules;
  EXPECT_NE(rules.find("IR 3->7 x1"), std::string::npos) << rules;
  EXPECT_EQ(model.ir_version, 7);
}

// Steps the pass cannot take without changing results fail, naming op and versions.
struct ErrorCase {
  std::string name;
  int64_t opset, target;
  std::function<void(Graph*)> build;
  std::vector<std::string> expected;  // substrings of the message
};

TEST(OpsetUpgrade, ErrorsNameOpAndVersions) {
  auto x_input = [](Graph* g) { g->inputs.push_back(TensorInfo("x", DataType::kFloat32, {2})); };
  const std::vector<ErrorCase> cases = {
      {"downgrade", 13, 11, [](Graph*) {}, {"downgrade 13 -> 11"}},
      {"newer than known", 13, 19, [](Graph*) {}, {"19", "newer"}},
      {"older than supported", 6, 13, [](Graph*) {}, {"opset 6", "older"}},
      {"op without history",
       11,
       13,
       [](Graph* g) {
         AddTestNode(g, "NonMaxSuppression", {"a", "b"}, {"c"});
       },
       {"NonMaxSuppression", "from opset 11 to 13"}},
      {"op newer than the model's opset",
       9,
       13,
       [](Graph* g) {
         AddTestNode(g, "Resize", {"x", "s"}, {"y"});
       },
       {"Resize", "does not exist at opset 9"}},
      {"nearest Resize-10 up and down",
       10,
       11,
       [](Graph* g) {
         g->SetInitializer("scales", Tensor::FromVector<float>({4}, {1, 1, 2, 0.5f}));
         AddTestNode(g, "Resize", {"x", "scales"}, {"y"}, {StringAttr("mode", "nearest")});
       },
       {"Resize 10->11", "up- and down-sampling"}},
      {"nearest Resize-10 computed scales",
       10,
       13,
       [](Graph* g) {
         AddTestNode(g, "Resize", {"x", "scales"}, {"y"}, {StringAttr("mode", "nearest")});
       },
       {"Resize 10->11", "constant scales"}},
      {"Resize-11 tf_half_pixel_for_nn",
       11,
       13,
       [](Graph* g) {
         AddTestNode(g, "Resize", {"x", "roi", "scales"}, {"y"},
                     {StringAttr("coordinate_transformation_mode", "tf_half_pixel_for_nn")});
       },
       {"Resize 11->13", "tf_half_pixel_for_nn"}},
      {"BatchNormalization-9 training form",
       9,
       14,
       [](Graph* g) {
         AddTestNode(g, "BatchNormalization", {"x", "s", "b", "m0", "v0"}, {"y", "m"});
       },
       {"BatchNormalization 9->14", "training"}},
      {"BatchNormalization-7 spatial=0",
       7,
       9,
       [](Graph* g) {
         AddTestNode(g, "BatchNormalization", {"x", "s", "b", "m0", "v0"}, {"y"},
                     {IntAttr("spatial", 0)});
       },
       {"BatchNormalization 7->9", "spatial=0"}},
      {"Dropout-7 mask used",
       7,
       10,
       [](Graph* g) {
         g->outputs.push_back(TensorInfo("mask", DataType::kFloat32, {2}));
         AddTestNode(g, "Dropout", {"x"}, {"y", "mask"});
       },
       {"Dropout 7->10", "mask"}},
      {"OneHot-9 computed indices",
       9,
       11,
       [](Graph* g) {
         AddTestNode(g, "OneHot", {"x", "depth", "values"}, {"y"});
       },
       {"OneHot 9->11", "negative indices"}},
      {"Clip-6 of unknown type",
       9,
       11,
       [](Graph* g) { AddTestNode(g, "Clip", {"t"}, {"y"}, {FloatAttr("max", 1.0f)}); },
       {"Clip 6->11", "element type of 't'"}},
      {"Scan-8 batch axis",
       8,
       9,
       [](Graph* g) {
         AddTestNode(g, "Scan", {"", "x"}, {"y"}, {IntAttr("num_scan_inputs", 1)});
       },
       {"Scan 8->9", "batch"}},
      {"malformed node",
       9,
       13,
       [](Graph* g) { AddTestNode(g, "Softmax", {}, {}); },
       {"Softmax 11->13", "no first input or output"}},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    Model model = testing::EmptyModel(c.opset);
    x_input(&model.graph);
    c.build(&model.graph);
    auto result = UpgradeOpset(&model, c.target);
    ASSERT_FALSE(result.ok());
    for (const std::string& part : c.expected) {
      EXPECT_NE(result.status().message().find(part), std::string::npos)
          << result.status().ToString();
    }
  }
}

TEST(OpsetUpgrade, OtherDomainsKeepTheirImports) {
  Model model = testing::EmptyModel(11);
  model.opset_imports.push_back({"com.microsoft", 1});
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {4}));
  g.outputs.push_back(TensorInfo("y", DataType::kUint8, {4}));
  g.SetInitializer("scale", Tensor::Scalar<float>(0.1f));
  g.SetInitializer("zp", Tensor::Scalar<uint8_t>(3));
  AddTestNode(&g, "QuantizeLinear", {"x", "scale", "zp"}, {"y"}, {}, "com.microsoft");
  auto result = UpgradeOpset(&model, 17);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(model.OpsetVersion("com.microsoft"), 1);
  EXPECT_EQ(model.OpsetVersion(""), 17);
  auto check = CheckExportedModel(model);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_EQ(*check, "onnx checker");
}

// ---- Whole models: dev set and shared models upgraded to 13, 17 and 18 ----

struct ModelUnderTest {
  std::string label;
  std::string path;
  std::map<std::string, Shape> shapes;
  std::map<std::string, double> values;
};

std::vector<ModelUnderTest> WholeModels() {
  std::vector<ModelUnderTest> models;
  auto manifest = shrink::testing::LoadManifest(shrink::testing::AssetKitRoot());
  if (manifest.ok()) {
    for (const auto& m : shrink::testing::DevSetOnnxModels(*manifest)) {
      models.push_back({m.name, m.path, m.bench_shapes, m.bench_values});
    }
  }
  for (const char* name : {"mnist_mlp", "mnist_cnn", "digits_gru"}) {
    std::string path = shrink::testing::SharedModelsDir() + "/" + name + ".onnx";
    if (FILE* f = std::fopen(path.c_str(), "rb")) {
      std::fclose(f);
      models.push_back(
          {name,
           path,
           {{"input", name == std::string("digits_gru") ? Shape{2, 28, 28} : Shape{2, 1, 28, 28}}},
           {}});
    }
  }
  return models;
}

TEST(OpsetUpgradeModels, UpgradedModelsComputeTheSame) {
  std::vector<ModelUnderTest> models = WholeModels();
  if (models.empty()) GTEST_SKIP() << "no asset kit or shared models found";
  for (const ModelUnderTest& m : models) {
    SCOPED_TRACE(m.label);
    auto loaded = LoadModel(m.path);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    auto executor = Executor::Create(*loaded, {2, false});
    ASSERT_TRUE(executor.ok()) << executor.status().ToString();
    shrink::testing::InputOptions options;
    options.shapes = m.shapes;
    options.values = m.values;
    auto feeds = shrink::testing::MakeInputs((*executor)->required_inputs(), options);
    ASSERT_TRUE(feeds.ok()) << feeds.status().ToString();
    auto expected = (*executor)->Run(*feeds);
    ASSERT_TRUE(expected.ok()) << expected.status().ToString();
    for (int64_t target : {13, 17, 18}) {
      if (target < loaded->OpsetVersion("")) continue;
      SCOPED_TRACE("to opset " + std::to_string(target));
      Model model = CloneModel(*loaded);
      auto result = UpgradeOpset(&model, target);
      ASSERT_TRUE(result.ok()) << result.status().ToString();
      std::printf("  %-20s %2lld -> %2lld: %s\n", m.label.c_str(), (long long)result->from,
                  (long long)result->to, Joined(result->rules).c_str());
      auto check = CheckExportedModel(model);
      ASSERT_TRUE(check.ok()) << check.status().ToString();
      EXPECT_EQ(*check, target <= 17 ? "onnx checker"
                                     : "engine checks: opset 18 is newer than libonnx 1.12");
      auto bytes = SerializeModel(model);
      ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
      auto reloaded = ParseModel(*bytes, "");
      ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
      auto actual = RunModel(*reloaded, *feeds);
      ASSERT_TRUE(actual.ok()) << actual.status().ToString();
      ASSERT_EQ(actual->size(), expected->size());
      for (size_t i = 0; i < actual->size(); ++i) {
        // Same kernels on the same values: bit-identical.
        EXPECT_TRUE((*actual)[i].BitwiseEquals((*expected)[i])) << "output " << i;
      }
    }
  }
}

}  // namespace
}  // namespace shrink::engine
