// The opset upgrade, rule by rule: a tiny model at the old opset, upgraded, must compute the same
// outputs in our executor. Every rewrite keeps the kernels' arithmetic the same (the same
// elements combined in the same order), so outputs are compared bit for bit. Then every dev-set
// and shared model upgraded to 13/17/18 must still run, give the same outputs, export, pass
// CheckExportedModel and re-import.
#include "engine/passes/opset_upgrade.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <functional>
#include <string>
#include <vector>

#include "engine/io/model_check.h"
#include "engine/io/onnx_export.h"
#include "engine/io/onnx_import.h"
#include "engine/io/shape_inference.h"
#include "engine/kernels/kernel_test_util.h"
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

Model CloneModel(const Model& model) {
  Model copy;
  copy.ir_version = model.ir_version;
  copy.opset_imports = model.opset_imports;
  copy.producer_name = model.producer_name;
  copy.graph = std::move(*model.graph.Clone());
  return copy;
}

StatusOr<std::vector<Tensor>> RunModel(const Model& model, const std::vector<NamedTensor>& feeds) {
  ASSIGN_OR_RETURN(auto executor, Executor::Create(model, {2, false}));
  return executor->Run(feeds);
}

ValueInfo UnshapedInfo(const std::string& name) {
  ValueInfo info;
  info.name = name;
  info.type.elem_type = DataType::kFloat32;
  return info;
}

Tensor Iota(Shape shape, float scale = 0.37f) {
  Tensor t(DataType::kFloat32, shape);
  for (int64_t i = 0; i < t.size(); ++i) t.data<float>()[i] = std::sin(float(i) * scale) * 3;
  return t;
}

std::string Joined(const std::vector<std::string>& rules) {
  std::string all;
  for (const auto& r : rules) all += r + "; ";
  return all;
}

// One rule fixture: a model at `opset`, upgraded to each of `targets`.
struct RuleCase {
  std::string name;
  int64_t opset;
  std::vector<int64_t> targets;
  std::string expected_rule;  // a substring of one recorded rule
  std::function<void(Graph*)> build;
  std::vector<NamedTensor> feeds;
};

void RunRuleCase(const RuleCase& c) {
  SCOPED_TRACE(c.name);
  Model old_model = testing::EmptyModel(c.opset);
  old_model.ir_version = 4;
  c.build(&old_model.graph);
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

// A single-node graph: inputs and outputs float32 of the given shapes.
std::function<void(Graph*)> OneNode(const std::string& op, std::vector<Shape> in_shapes,
                                    int num_outputs, std::vector<Attribute> attrs) {
  return [=](Graph* g) {
    std::vector<std::string> ins, outs;
    for (size_t i = 0; i < in_shapes.size(); ++i) {
      ins.push_back("x" + std::to_string(i));
      g->inputs.push_back(TensorInfo(ins.back(), DataType::kFloat32, in_shapes[i]));
    }
    for (int i = 0; i < num_outputs; ++i) {
      outs.push_back("y" + std::to_string(i));
      ValueInfo out;
      out.name = outs.back();
      out.type.elem_type = DataType::kFloat32;
      g->outputs.push_back(out);
    }
    AddTestNode(g, op, ins, outs, attrs);
  };
}

std::vector<NamedTensor> Feeds(std::vector<Shape> shapes) {
  std::vector<NamedTensor> feeds;
  for (size_t i = 0; i < shapes.size(); ++i) {
    feeds.push_back({"x" + std::to_string(i), Iota(shapes[i], 0.37f + 0.1f * float(i))});
  }
  return feeds;
}

RuleCase Simple(std::string name, int64_t opset, std::vector<int64_t> targets, std::string rule,
                const std::string& op, std::vector<Shape> shapes, int outputs,
                std::vector<Attribute> attrs) {
  return {std::move(name), opset, std::move(targets), std::move(rule),
          OneNode(op, shapes, outputs, std::move(attrs)), Feeds(shapes)};
}

TEST(OpsetUpgradeRules, SoftmaxFamilyKeepsPre13Semantics) {
  const std::vector<RuleCase> cases = {
      Simple("Softmax axis 1 of rank 3", 11, {13, 18}, "Softmax 11->13 axis (flatten/reshape)",
             "Softmax", {{2, 3, 4}}, 1, {IntAttr("axis", 1)}),
      Simple("Softmax default axis rank 4", 9, {13}, "Softmax 11->13 axis (flatten/reshape)",
             "Softmax", {{2, 3, 2, 2}}, 1, {}),
      Simple("Softmax default axis rank 2", 11, {13}, "Softmax 11->13 axis (last axis)",
             "Softmax", {{3, 5}}, 1, {}),
      Simple("LogSoftmax last axis", 11, {13}, "LogSoftmax 11->13 axis (last axis)", "LogSoftmax",
             {{2, 3, 4}}, 1, {IntAttr("axis", -1)}),
      Simple("LogSoftmax axis 0", 12, {13}, "(flatten/reshape)", "LogSoftmax", {{2, 3, 4}}, 1,
             {IntAttr("axis", 0)}),
      Simple("Hardmax axis -2", 11, {17}, "Hardmax 11->13 axis (flatten/reshape)", "Hardmax",
             {{2, 3, 4}}, 1, {IntAttr("axis", -2)}),
  };
  for (const auto& c : cases) RunRuleCase(c);
}

TEST(OpsetUpgradeRules, SoftmaxOfUnknownRankUsesFlattenReshape) {
  RuleCase c = Simple("Softmax rank unknown", 11, {13}, "(flatten/reshape)", "Softmax", {{2, 3}},
                      1, {IntAttr("axis", 1)});
  c.build = [](Graph* g) {
    ValueInfo x;
    x.name = "x0";
    x.type.elem_type = DataType::kFloat32;  // no shape: the rewrite cannot know the rank
    g->inputs.push_back(x);
    ValueInfo y;
    y.name = "y0";
    y.type.elem_type = DataType::kFloat32;
    g->outputs.push_back(y);
    AddTestNode(g, "Softmax", {"x0"}, {"y0"}, {IntAttr("axis", 1)});
  };
  RunRuleCase(c);
}

TEST(OpsetUpgradeRules, AttributesBecomeInputs) {
  const std::vector<RuleCase> cases = {
      Simple("Split attr", 11, {13, 18}, "Split 11->13 split attribute -> input", "Split",
             {{2, 6}}, 2, {IntAttr("axis", 1), IntsAttr("split", {2, 4})}),
      Simple("Split equal", 11, {18}, "Split 13->18 num_outputs", "Split", {{6, 2}}, 3, {}),
      Simple("Squeeze", 11, {13}, "Squeeze 11->13 axes attribute -> input", "Squeeze",
             {{2, 1, 3, 1}}, 1, {IntsAttr("axes", {1, -1})}),
      Simple("Unsqueeze", 9, {13}, "Unsqueeze 11->13 axes attribute -> input", "Unsqueeze",
             {{2, 3}}, 1, {IntsAttr("axes", {0, 3})}),
      Simple("ReduceSum", 11, {13}, "ReduceSum 11->13 axes attribute -> input", "ReduceSum",
             {{2, 3, 4}}, 1, {IntsAttr("axes", {0, 2}), IntAttr("keepdims", 0)}),
      Simple("ReduceMean", 13, {18}, "ReduceMean 13->18 axes attribute -> input", "ReduceMean",
             {{2, 3, 4}}, 1, {IntsAttr("axes", {1})}),
      Simple("ReduceMax all", 11, {18}, "ReduceMax 13->18 (no axes attribute)", "ReduceMax",
             {{2, 3}}, 1, {}),
      Simple("ReduceL2", 9, {18}, "ReduceL2 13->18 axes attribute -> input", "ReduceL2",
             {{2, 3}}, 1, {IntsAttr("axes", {-1})}),
      Simple("Clip", 9, {11, 13}, "Clip 6->11 min/max attributes -> inputs", "Clip", {{3, 4}},
             1, {FloatAttr("min", -0.5f), FloatAttr("max", 1.25f)}),
      Simple("Clip min only", 10, {12}, "Clip 6->11", "Clip", {{3, 4}}, 1,
             {FloatAttr("min", 0.0f)}),
      Simple("Pad constant", 9, {11, 18}, "Pad 2->11 pads/value attributes -> inputs", "Pad",
             {{2, 3}}, 1, {IntsAttr("pads", {0, 1, 1, 2}), FloatAttr("value", 1.5f)}),
      Simple("Pad reflect", 10, {13}, "Pad 2->11", "Pad", {{2, 4}}, 1,
             {IntsAttr("pads", {0, 2, 0, 1}), StringAttr("mode", "reflect")}),
      Simple("Slice", 9, {10, 13}, "Slice 1->10 attributes -> inputs", "Slice", {{4, 5}}, 1,
             {IntsAttr("starts", {1, -3}), IntsAttr("ends", {100, -1}), IntsAttr("axes", {0, 1})}),
      Simple("Slice no axes", 9, {11}, "Slice 1->10", "Slice", {{4, 5}}, 1,
             {IntsAttr("starts", {1, 0}), IntsAttr("ends", {3, 2})}),
      Simple("Dropout", 10, {12, 13}, "Dropout 10->12 ratio attribute -> input", "Dropout",
             {{2, 3}}, 1, {FloatAttr("ratio", 0.3f)}),
  };
  for (const auto& c : cases) RunRuleCase(c);
}

TEST(OpsetUpgradeRules, TopKGetsKInput) {
  RuleCase c = Simple("TopK", 9, {10, 11, 18}, "TopK 1->10 k attribute -> input", "TopK",
                      {{3, 6}}, 1, {IntAttr("k", 2)});
  c.build = [](Graph* g) {
    g->inputs.push_back(TensorInfo("x0", DataType::kFloat32, {3, 6}));
    g->outputs.push_back(TensorInfo("values", DataType::kFloat32, {3, 2}));
    g->outputs.push_back(TensorInfo("indices", DataType::kInt64, {3, 2}));
    AddTestNode(g, "TopK", {"x0"}, {"values", "indices"}, {IntAttr("k", 2)});
  };
  RunRuleCase(c);
}

// Upsample/Resize-10 sample at x / scale with ORT's "simple" nearest rounding.
std::function<void(Graph*)> UpsampleGraph(const std::string& op, const std::string& mode,
                                          std::vector<float> scales, bool scales_attribute) {
  return [=](Graph* g) {
    g->inputs.push_back(TensorInfo("x0", DataType::kFloat32, {1, 2, 4, 6}));
    ValueInfo y;
    y.name = "y0";
    y.type.elem_type = DataType::kFloat32;
    g->outputs.push_back(y);
    if (scales_attribute) {
      AddTestNode(g, op, {"x0"}, {"y0"}, {StringAttr("mode", mode), FloatsAttr("scales", scales)});
      return;
    }
    g->SetInitializer("scales", Tensor::FromVector<float>({4}, scales));
    AddTestNode(g, op, {"x0", "scales"}, {"y0"}, {StringAttr("mode", mode)});
  };
}

TEST(OpsetUpgradeRules, UpsampleAndResize10) {
  const std::vector<Shape> shapes = {{1, 2, 4, 6}};
  const std::vector<RuleCase> cases = {
      {"Upsample-9 nearest", 9, {10, 11, 13, 18}, "Upsample 9->10 -> Resize-10",
       UpsampleGraph("Upsample", "nearest", {1, 1, 2, 3}, false), Feeds(shapes)},
      {"Upsample-7 linear", 8, {9, 13}, "Upsample 7->9 scales attribute -> input",
       UpsampleGraph("Upsample", "linear", {1, 1, 2, 1.5f}, true), Feeds(shapes)},
      {"Resize-10 nearest up", 10, {11, 13}, "Resize 10->11 asymmetric + roi",
       UpsampleGraph("Resize", "nearest", {1, 1, 1.5f, 2.5f}, false), Feeds(shapes)},
      {"Resize-10 nearest down", 10, {11, 18}, "Resize 10->11 asymmetric + roi",
       UpsampleGraph("Resize", "nearest", {1, 1, 0.5f, 0.7f}, false), Feeds(shapes)},
      {"Resize-10 linear", 10, {13}, "Resize 10->11 asymmetric + roi",
       UpsampleGraph("Resize", "linear", {1, 1, 0.6f, 1.7f}, false), Feeds(shapes)},
  };
  for (const auto& c : cases) RunRuleCase(c);
}

TEST(OpsetUpgradeRules, BatchNormalizationAndBumps) {
  auto batch_norm = [](int64_t spatial_attr, int outputs) {
    return [=](Graph* g) {
      g->inputs.push_back(TensorInfo("x0", DataType::kFloat32, {2, 3, 2, 2}));
      g->outputs.push_back(TensorInfo("y0", DataType::kFloat32, {2, 3, 2, 2}));
      g->SetInitializer("scale", Tensor::FromVector<float>({3}, {1.0f, 0.5f, 2.0f}));
      g->SetInitializer("bias", Tensor::FromVector<float>({3}, {0.1f, -0.2f, 0.3f}));
      g->SetInitializer("mean", Tensor::FromVector<float>({3}, {0.0f, 0.5f, -0.5f}));
      g->SetInitializer("var", Tensor::FromVector<float>({3}, {1.0f, 2.0f, 0.5f}));
      std::vector<std::string> outs = {"y0", "m", "v", "sm", "sv"};
      outs.resize(size_t(outputs));
      std::vector<Attribute> attrs = {FloatAttr("epsilon", 1e-3f)};
      if (spatial_attr >= 0) attrs.push_back(IntAttr("spatial", spatial_attr));
      AddTestNode(g, "BatchNormalization", {"x0", "scale", "bias", "mean", "var"}, outs, attrs);
    };
  };
  const std::vector<Shape> bn_shapes = {{2, 3, 2, 2}};
  const std::vector<RuleCase> cases = {
      {"BN-7 spatial", 7, {9, 15}, "BatchNormalization 7->9 drop spatial", batch_norm(1, 1),
       Feeds(bn_shapes)},
      {"BN-9 unused outputs", 9, {14, 15}, "BatchNormalization 9->14 inference outputs",
       batch_norm(-1, 5), Feeds(bn_shapes)},
      Simple("Gemm", 9, {11, 13}, "Gemm 9->11 bump", "Gemm", {{2, 3}, {3, 4}}, 1, {}),
      Simple("Max 2 inputs", 7, {8, 13}, "Max 6->8 bump", "Max", {{2, 3}, {2, 3}}, 1, {}),
      Simple("Sum 3 inputs", 7, {13}, "Sum 6->8 bump", "Sum", {{2, 3}, {2, 3}, {2, 3}}, 1, {}),
      Simple("Mean", 7, {18}, "Mean 8->13 bump", "Mean", {{2, 3}, {2, 3}}, 1, {}),
      Simple("Min", 9, {13}, "Min 8->12 bump", "Min", {{2, 3}, {2, 3}}, 1, {}),
      {"Cast", 9, {13}, "Cast 9->13 bump",
       [](Graph* g) {
         g->inputs.push_back(TensorInfo("x0", DataType::kFloat32, {2, 3}));
         g->outputs.push_back(TensorInfo("y0", DataType::kInt32, {2, 3}));
         AddTestNode(g, "Cast", {"x0"}, {"y0"}, {IntAttr("to", int64_t(DataType::kInt32))});
       },
       Feeds({{2, 3}})},
  };
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

TEST(OpsetUpgradeRules, SubgraphsAreUpgraded) {
  auto branch = [](const std::string& suffix, int64_t axis) {
    auto body = std::make_shared<Graph>();
    body->name = "branch" + suffix;
    body->outputs.push_back(UnshapedInfo("b" + suffix));
    AddTestNode(body.get(), "Squeeze", {"x"}, {"s" + suffix}, {IntsAttr("axes", {0})});
    AddTestNode(body.get(), "Softmax", {"s" + suffix}, {"b" + suffix}, {IntAttr("axis", axis)});
    return body;
  };
  RuleCase c{"If branches", 11, {13, 18}, "Squeeze 11->13 axes attribute -> input",
             [&](Graph* g) {
               g->inputs.push_back(TensorInfo("x", DataType::kFloat32, {1, 2, 3}));
               g->inputs.push_back(TensorInfo("cond", DataType::kBool, {}));
               g->outputs.push_back(UnshapedInfo("y"));
               AddTestNode(g, "If", {"cond"}, {"y"},
                           {testing::GraphAttr("then_branch", branch("t", 0)),
                            testing::GraphAttr("else_branch", branch("e", 1))});
             },
             {}};
  for (bool cond : {true, false}) {
    c.feeds = {{"x", Iota({1, 2, 3})}, {"cond", Tensor::Scalar<bool>(cond)}};
    RunRuleCase(c);
  }
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

TEST(OpsetUpgrade, ErrorsNameOpAndVersions) {
  {
    Model model = testing::EmptyModel(13);
    auto result = UpgradeOpset(&model, 11);
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.status().message().find("downgrade 13 -> 11"), std::string::npos);
    EXPECT_FALSE(UpgradeOpset(&model, 19).ok());
  }
  {
    Model model = testing::EmptyModel(11);
    AddTestNode(&model.graph, "NonMaxSuppression", {"a", "b"}, {"c"});
    auto result = UpgradeOpset(&model, 13);
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.status().message().find("NonMaxSuppression"), std::string::npos);
    EXPECT_NE(result.status().message().find("from opset 11 to 13"), std::string::npos);
  }
  {
    Model model = testing::EmptyModel(10);  // nearest with up- and down-sampling axes
    UpsampleGraph("Resize", "nearest", {1, 1, 2, 0.5f}, false)(&model.graph);
    auto result = UpgradeOpset(&model, 11);
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.status().message().find("Resize 10->11"), std::string::npos)
        << result.status().ToString();
  }
  {
    Model model = testing::EmptyModel(9);  // a used training output of BatchNormalization-9
    Graph& g = model.graph;
    g.outputs.push_back(TensorInfo("m", DataType::kFloat32, {3}));
    AddTestNode(&g, "BatchNormalization", {"x", "s", "b", "m0", "v0"}, {"y", "m"});
    auto result = UpgradeOpset(&model, 14);
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.status().message().find("BatchNormalization 9->14"), std::string::npos);
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
      models.push_back({name, path, {{"input", name == std::string("digits_gru")
                                                   ? Shape{2, 28, 28}
                                                   : Shape{2, 1, 28, 28}}}, {}});
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
