#include "engine/passes/opset_upgrade_cases.h"

#include <cmath>
#include <memory>
#include <utility>

#include "engine/kernels/kernel_test_util.h"

namespace shrink::engine::testing_models {
namespace {

using testing::AddTestNode;
using testing::FloatAttr;
using testing::FloatsAttr;
using testing::IntAttr;
using testing::IntsAttr;
using testing::StringAttr;
using testing::TensorInfo;

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

UpgradeCase Simple(std::string name, int64_t opset, std::vector<int64_t> targets, std::string rule,
                   const std::string& op, std::vector<Shape> shapes, int outputs,
                   std::vector<Attribute> attrs) {
  return {std::move(name),
          opset,
          std::move(targets),
          std::move(rule),
          OneNode(op, shapes, outputs, std::move(attrs)),
          Feeds(shapes)};
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

std::function<void(Graph*)> BatchNormGraph(int64_t spatial_attr, int outputs) {
  return [=](Graph* g) {
    g->inputs.push_back(TensorInfo("x0", DataType::kFloat32, {2, 3, 2, 2}));
    g->outputs.push_back(TensorInfo("y0", DataType::kFloat32, {2, 3, 2, 2}));
    g->SetInitializer("scale", Tensor::FromVector<float>({3}, {1.0f, 0.5f, 2.0f}));
    g->SetInitializer("bias", Tensor::FromVector<float>({3}, {0.1f, -0.2f, 0.3f}));
    g->SetInitializer("mean", Tensor::FromVector<float>({3}, {0.0f, 0.5f, -0.5f}));
    g->SetInitializer("var", Tensor::FromVector<float>({3}, {1.0f, 2.0f, 0.5f}));
    // Y alone: the inference form (trailing "" outputs crash ORT 1.29's BatchNormalization-9).
    std::vector<std::string> outs = {"y0", "", "", "", ""};
    outs.resize(size_t(outputs));
    std::vector<Attribute> attrs = {FloatAttr("epsilon", 1e-3f)};
    if (spatial_attr >= 0) attrs.push_back(IntAttr("spatial", spatial_attr));
    AddTestNode(g, "BatchNormalization", {"x0", "scale", "bias", "mean", "var"}, outs, attrs);
  };
}

// Squeeze + Softmax (pre-13 axis) in both branches of an If.
std::function<void(Graph*)> IfGraph() {
  auto branch = [](const std::string& suffix, int64_t axis) {
    auto body = std::make_shared<Graph>();
    body->name = "branch" + suffix;
    body->outputs.push_back(UnshapedInfo("b" + suffix));
    AddTestNode(body.get(), "Squeeze", {"x"}, {"s" + suffix}, {IntsAttr("axes", {0})});
    AddTestNode(body.get(), "Softmax", {"s" + suffix}, {"b" + suffix}, {IntAttr("axis", axis)});
    return body;
  };
  return [branch](Graph* g) {
    g->inputs.push_back(TensorInfo("x", DataType::kFloat32, {1, 2, 3}));
    g->inputs.push_back(TensorInfo("cond", DataType::kBool, {}));
    g->outputs.push_back(UnshapedInfo("y"));
    AddTestNode(g, "If", {"cond"}, {"y"},
                {testing::GraphAttr("then_branch", branch("t", 0)),
                 testing::GraphAttr("else_branch", branch("e", 1))});
  };
}

// Softmax/LogSoftmax/Hardmax 13: one axis instead of flatten-to-2-D.
std::vector<UpgradeCase> SoftmaxCases() {
  std::vector<UpgradeCase> cases = {
      Simple("Softmax axis 1 of rank 3", 11, {13, 18}, "Softmax 11->13 axis (flatten/reshape)",
             "Softmax", {{2, 3, 4}}, 1, {IntAttr("axis", 1)}),
      Simple("Softmax default axis rank 4", 9, {13}, "Softmax 11->13 axis (flatten/reshape)",
             "Softmax", {{2, 3, 2, 2}}, 1, {}),
      Simple("Softmax default axis rank 2", 11, {13}, "Softmax 11->13 axis (last axis)", "Softmax",
             {{3, 5}}, 1, {}),
      Simple("LogSoftmax last axis", 11, {13}, "LogSoftmax 11->13 axis (last axis)", "LogSoftmax",
             {{2, 3, 4}}, 1, {IntAttr("axis", -1)}),
      Simple("LogSoftmax axis 0", 12, {13}, "(flatten/reshape)", "LogSoftmax", {{2, 3, 4}}, 1,
             {IntAttr("axis", 0)}),
      Simple("Hardmax axis -2", 11, {17}, "Hardmax 11->13 axis (flatten/reshape)", "Hardmax",
             {{2, 3, 4}}, 1, {IntAttr("axis", -2)}),
  };
  UpgradeCase unknown_rank = Simple("Softmax rank unknown", 11, {13}, "(flatten/reshape)",
                                    "Softmax", {{2, 3}}, 1, {IntAttr("axis", 1)});
  unknown_rank.build = [](Graph* g) {
    g->inputs.push_back(UnshapedInfo("x0"));  // no shape: the rewrite cannot know the rank
    g->outputs.push_back(UnshapedInfo("y0"));
    AddTestNode(g, "Softmax", {"x0"}, {"y0"}, {IntAttr("axis", 1)});
  };
  cases.push_back(unknown_rank);
  return cases;
}

// Attributes that became inputs (Split, Squeeze, Reduce*, Clip, Pad, Slice, Dropout, TopK).
std::vector<UpgradeCase> AttributeToInputCases() {
  std::vector<UpgradeCase> cases = {
      Simple("Split attr", 11, {13, 18}, "Split 11->13 split attribute -> input", "Split", {{2, 6}},
             2, {IntAttr("axis", 1), IntsAttr("split", {2, 4})}),
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
      Simple("ReduceL2", 9, {18}, "ReduceL2 13->18 axes attribute -> input", "ReduceL2", {{2, 3}},
             1, {IntsAttr("axes", {-1})}),
      Simple("Clip", 9, {11, 13}, "Clip 6->11 min/max attributes -> inputs", "Clip", {{3, 4}}, 1,
             {FloatAttr("min", -0.5f), FloatAttr("max", 1.25f)}),
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
  UpgradeCase topk =
      Simple("TopK", 9, {10, 11, 18}, "TopK 1->10 k attribute -> input", "TopK", {{3, 6}}, 1, {});
  topk.build = [](Graph* g) {
    g->inputs.push_back(TensorInfo("x0", DataType::kFloat32, {3, 6}));
    g->outputs.push_back(TensorInfo("values", DataType::kFloat32, {3, 2}));
    g->outputs.push_back(TensorInfo("indices", DataType::kInt64, {3, 2}));
    AddTestNode(g, "TopK", {"x0"}, {"values", "indices"}, {IntAttr("k", 2)});
  };
  cases.push_back(topk);
  return cases;
}

// Upsample -> Resize and Resize-10 -> 11.
std::vector<UpgradeCase> ResizeCases() {
  const std::vector<Shape> shapes = {{1, 2, 4, 6}};
  std::vector<UpgradeCase> cases = {
      {"Upsample-9 nearest",
       9,
       {10, 11, 13, 18},
       "Upsample 9->10 -> Resize-10",
       UpsampleGraph("Upsample", "nearest", {1, 1, 2, 3}, false),
       Feeds(shapes)},
      {"Upsample-7 linear",
       8,
       {9, 13},
       "Upsample 7->9 scales attribute -> input",
       UpsampleGraph("Upsample", "linear", {1, 1, 2, 1.5f}, true),
       Feeds(shapes)},
      {"Resize-10 nearest up",
       10,
       {11, 13},
       "Resize 10->11 asymmetric + roi",
       UpsampleGraph("Resize", "nearest", {1, 1, 1.5f, 2.5f}, false),
       Feeds(shapes)},
      {"Resize-10 nearest down",
       10,
       {11, 18},
       "Resize 10->11 asymmetric + roi",
       UpsampleGraph("Resize", "nearest", {1, 1, 0.5f, 0.7f}, false),
       Feeds(shapes)},
      {"Resize-10 linear",
       10,
       {13},
       "Resize 10->11 asymmetric + roi",
       UpsampleGraph("Resize", "linear", {1, 1, 0.6f, 1.7f}, false),
       Feeds(shapes)},
  };
  return cases;
}

// BatchNormalization, renamed ops, version bumps and subgraphs.
std::vector<UpgradeCase> OtherCases() {
  const std::vector<Shape> bn_shapes = {{2, 3, 2, 2}};
  std::vector<UpgradeCase> cases = {
      {"BN-7 spatial",
       7,
       {9, 15},
       "BatchNormalization 7->9 drop spatial",
       BatchNormGraph(1, 1),
       Feeds(bn_shapes)},
      {"BN-9 omitted outputs",
       9,
       {14, 15},
       "BatchNormalization 9->14 inference form",
       BatchNormGraph(-1, 1),
       Feeds(bn_shapes)},
      Simple("Gemm", 9, {11, 13}, "Gemm 9->11 bump", "Gemm", {{2, 3}, {3, 4}, {4}}, 1,
             {FloatAttr("beta", 0.5f)}),
      Simple("Max 2 inputs", 7, {8, 13}, "Max 6->8 bump", "Max", {{2, 3}, {2, 3}}, 1, {}),
      Simple("Sum 3 inputs", 7, {13}, "Sum 6->8 bump", "Sum", {{2, 3}, {2, 3}, {2, 3}}, 1, {}),
      Simple("Mean", 7, {18}, "Mean 8->13 bump", "Mean", {{2, 3}, {2, 3}}, 1, {}),
      Simple("Min", 9, {13}, "Min 8->12 bump", "Min", {{2, 3}, {2, 3}}, 1, {}),
      {"Cast",
       9,
       {13},
       "Cast 9->13 bump",
       [](Graph* g) {
         g->inputs.push_back(TensorInfo("x0", DataType::kFloat32, {2, 3}));
         g->outputs.push_back(TensorInfo("y0", DataType::kInt32, {2, 3}));
         AddTestNode(g, "Cast", {"x0"}, {"y0"}, {IntAttr("to", int64_t(DataType::kInt32))});
       },
       Feeds({{2, 3}})},
  };
  UpgradeCase scatter = Simple("Scatter-9", 9, {11, 13, 18}, "Scatter 9->11 -> ScatterElements",
                               "Scatter", {{2, 3}}, 1, {});
  scatter.build = [](Graph* g) {
    g->inputs.push_back(TensorInfo("x0", DataType::kFloat32, {2, 3}));
    g->outputs.push_back(TensorInfo("y0", DataType::kFloat32, {2, 3}));
    g->SetInitializer("idx", Tensor::FromVector<int64_t>({2, 2}, {2, 0, 1, 1}));
    g->SetInitializer("upd", Tensor::FromVector<float>({2, 2}, {7, 8, 9, 10}));
    AddTestNode(g, "Scatter", {"x0", "idx", "upd"}, {"y0"}, {IntAttr("axis", 1)});
  };
  cases.push_back(scatter);
  UpgradeCase one_hot = Simple("OneHot-9 constant indices", 9, {11, 13}, "OneHot 9->11 bump",
                               "OneHot", {{3, 4}}, 1, {});
  one_hot.build = [](Graph* g) {
    g->inputs.push_back(TensorInfo("x0", DataType::kFloat32, {3, 4}));
    g->outputs.push_back(TensorInfo("y0", DataType::kFloat32, {3, 4}));
    g->SetInitializer("idx", Tensor::FromVector<int64_t>({3}, {0, 3, 1}));
    g->SetInitializer("depth", Tensor::FromVector<int64_t>({1}, {4}));
    g->SetInitializer("values", Tensor::FromVector<float>({2}, {-1, 2}));
    AddTestNode(g, "OneHot", {"idx", "depth", "values"}, {"oh"});
    AddTestNode(g, "Add", {"oh", "x0"}, {"y0"});
  };
  cases.push_back(one_hot);
  for (bool cond : {true, false}) {
    cases.push_back({std::string("If branches, cond ") + (cond ? "true" : "false"),
                     11,
                     {13, 18},
                     "Squeeze 11->13 axes attribute -> input",
                     IfGraph(),
                     {{"x", Iota({1, 2, 3})}, {"cond", Tensor::Scalar<bool>(cond)}}});
  }
  return cases;
}

}  // namespace

std::vector<UpgradeCase> UpgradeCases() {
  std::vector<UpgradeCase> cases;
  for (auto group : {SoftmaxCases, AttributeToInputCases, ResizeCases, OtherCases}) {
    for (auto& c : group()) cases.push_back(std::move(c));
  }
  return cases;
}

Model OldModel(const UpgradeCase& c) {
  Model model = testing::EmptyModel(c.opset);
  model.ir_version = 4;
  c.build(&model.graph);
  return model;
}

}  // namespace shrink::engine::testing_models
