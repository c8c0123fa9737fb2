// Float16 conversion on tiny fixtures, run by our executor against the float model.
//
// Tolerances: rounding a float to float16 has relative error <= u = 2^-11. A dot product
// sum_k w_k h_k whose weights and inputs are each rounded once changes by at most
// 2u * sum_k |w_k| |h_k| (to first order), and rounding the result to float16 adds u * |result|.
// The tests compute sum_k |w_k| |h_k| by running the same graph on |weights| and |inputs| (an
// upper bound through Relu, which is 1-Lipschitz and shrinks magnitudes).
#include "engine/quant/float16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/ir/graph_utils.h"
#include "engine/kernels/kernel_test_util.h"
#include "engine/quant/float16_ops.h"
#include "engine/runtime/executor.h"

namespace shrink::engine::quant {
namespace {

using testing::AddTestNode;
using testing::GraphAttr;
using testing::IntAttr;
using testing::TensorInfo;

constexpr double kU = 1.0 / 2048;  // float16 unit roundoff, 2^-11

Tensor Random(Shape shape, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  Tensor t(DataType::kFloat32, std::move(shape));
  for (int64_t i = 0; i < t.size(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

Tensor Abs(const Tensor& t) {
  Tensor out = t.Clone();
  for (int64_t i = 0; i < t.size(); ++i) out.data<float>()[i] = std::fabs(t.data<float>()[i]);
  return out;
}

std::vector<Tensor> RunModel(const Model& model, const std::vector<NamedTensor>& feeds) {
  auto executor = Executor::Create(model, {1, false});
  EXPECT_TRUE(executor.ok()) << executor.status().ToString();
  if (!executor.ok()) return {};
  auto outputs = (*executor)->Run(feeds);
  EXPECT_TRUE(outputs.ok()) << outputs.status().ToString();
  return outputs.ok() ? std::move(outputs).value() : std::vector<Tensor>{};
}

double At(const Tensor& t, int64_t i) { return t.GetAsDouble(i); }

// x[1,2,5,5] -> Conv(3x2x3x3, pad 1) -> Relu -> Reshape([1,-1]) -> MatMul(75x4) -> logits,
// Softmax(logits) -> probs. `abs_model` uses |W| and drops Relu (the magnitude bound).
Model ConvMatMulFixture(bool abs_model) {
  Model model = testing::EmptyModel(13);
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {1, 2, 5, 5}));
  g.outputs.push_back(TensorInfo("logits", DataType::kFloat32, {1, 4}));
  g.outputs.push_back(TensorInfo("probs", DataType::kFloat32, {1, 4}));
  Tensor w = Random({3, 2, 3, 3}, 1, 0.5f), b = Random({3}, 2), w2 = Random({75, 4}, 3, 0.3f);
  g.SetInitializer("W", abs_model ? Abs(w) : w);
  g.SetInitializer("B", abs_model ? Abs(b) : b);
  g.SetInitializer("W2", abs_model ? Abs(w2) : w2);
  g.SetInitializer("shape", Tensor::FromVector<int64_t>({2}, {1, -1}));
  AddTestNode(&g, "Conv", {"x", "W", "B"}, {"conv"}, {testing::IntsAttr("pads", {1, 1, 1, 1})});
  AddTestNode(&g, abs_model ? "Identity" : "Relu", {"conv"}, {"relu"});
  AddTestNode(&g, "Reshape", {"relu", "shape"}, {"flat"});
  AddTestNode(&g, "MatMul", {"flat", "W2"}, {"logits"});
  AddTestNode(&g, "Softmax", {"logits"}, {"probs"}, {IntAttr("axis", -1)});
  return model;
}

const NodeDecision* FindDecision(const QuantSummary& summary, const std::string& op) {
  for (const NodeDecision& d : summary.decisions) {
    if (d.op_type == op) return &d;
  }
  return nullptr;
}

int CountOps(const Graph& g, OpType op) {
  int n = 0;
  for (const auto& node : g.nodes) n += node->op == op;
  return n;
}

// With A1 = |W| * |x| + |B| (the magnitude model's conv output, >= |relu| elementwise) and
// M = |W2|^T A1: the float16 conv weights move each conv output by <= u * A1, the MatMul's
// float16 input (full conversion) by another u * A1, its float16 weights add u * M, and its
// float16 output u * |logits|. Logits are thus within 3u * M + u * |logits| (weights-only needs
// only 2u * M); probs within p * (e^(2 delta) - 1), delta the largest logit bound (softmax
// moves by at most that ratio).
void ExpectWithinFloat16Bounds(const Model& converted) {
  const Tensor x = Random({1, 2, 5, 5}, 4);
  std::vector<Tensor> ref = RunModel(ConvMatMulFixture(false), {{"x", x}});
  std::vector<Tensor> mag = RunModel(ConvMatMulFixture(true), {{"x", Abs(x)}});
  std::vector<Tensor> out = RunModel(converted, {{"x", x}});
  ASSERT_EQ(out.size(), 2u);
  ASSERT_EQ(out[0].dtype(), DataType::kFloat32);
  double delta = 0;
  for (int64_t i = 0; i < 4; ++i) {
    const double bound = (3 * kU * At(mag[0], i) + kU * std::fabs(At(ref[0], i))) * (1 + 4 * kU);
    EXPECT_NEAR(At(out[0], i), At(ref[0], i), bound) << "logit " << i;
    delta = std::max(delta, bound);
  }
  for (int64_t i = 0; i < 4; ++i) {
    const double p = At(ref[1], i);
    EXPECT_NEAR(At(out[1], i), p, p * std::expm1(2 * delta) + 1e-7) << "prob " << i;
  }
}

TEST(Float16WeightsOnly, StoresDataWeightsAsHalfBehindOneCastEach) {
  Model model = ConvMatMulFixture(false);
  auto summary = ConvertToFloat16(&model, {true, true, {}});
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  const Graph& g = model.graph;
  for (const char* name : {"W", "B", "W2"}) {
    ASSERT_NE(g.FindInitializer(name), nullptr) << name;
    EXPECT_EQ(g.FindInitializer(name)->dtype(), DataType::kFloat16) << name;
  }
  EXPECT_EQ(g.FindInitializer("shape")->dtype(), DataType::kInt64);  // not a data input
  EXPECT_EQ(CountOps(g, OpType::kCast), 3);
  EXPECT_EQ(summary->clamped_values, 0);
  ASSERT_NE(FindDecision(*summary, "Conv"), nullptr);
  EXPECT_EQ(FindDecision(*summary, "Conv")->action, NodeDecision::Action::kConverted);
  EXPECT_EQ(FindDecision(*summary, "Conv")->weight_type, "float16");
  EXPECT_EQ(FindDecision(*summary, "Relu")->action, NodeDecision::Action::kFloat);
  EXPECT_EQ(summary->decisions.size(), 5u);
  ExpectWithinFloat16Bounds(model);
}

// The executor casts float16 weights once when it plans the model: no Cast runs per inference
// and the weights reach their kernels as constants (pre-packed).
TEST(Float16WeightsOnly, ExecutorCastsWeightsOnceAtPlanTime) {
  Model model = ConvMatMulFixture(false);
  ASSERT_TRUE(ConvertToFloat16(&model, {true, true, {}}).ok());
  auto executor = Executor::Create(model, {1, false});
  ASSERT_TRUE(executor.ok()) << executor.status().ToString();
  NodeProfile profile;
  RunOptions options;
  options.profile = &profile;
  ASSERT_TRUE((*executor)->Run({{"x", Random({1, 2, 5, 5}, 4)}}, options).ok());
  EXPECT_EQ(profile.entries.size(), 5u);  // Conv, Relu, Reshape, MatMul, Softmax
  for (const auto& entry : profile.entries) EXPECT_NE(entry.node->op, OpType::kCast);
}

TEST(Float16Full, ConvertsWhatOrtRunsInHalfAndCastsAroundTheRest) {
  Model model = ConvMatMulFixture(false);
  auto summary = ConvertToFloat16(&model, {false, true, {}});
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  const Graph& g = model.graph;
  EXPECT_EQ(g.FindInitializer("W2")->dtype(), DataType::kFloat16);
  EXPECT_EQ(g.FindInitializer("shape")->dtype(), DataType::kInt64);
  // ORT 1.29 CPU has no float16 Conv/Relu/Softmax: they stay float32, with the reason, but
  // their weights are stored as float16 behind a Cast as in weights-only conversion.
  EXPECT_EQ(g.FindInitializer("W")->dtype(), DataType::kFloat16);
  EXPECT_EQ(CountOps(g, OpType::kCast), 2 + 2);  // W, B; MatMul's input and output
  const NodeDecision* conv = FindDecision(*summary, "Conv");
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->action, NodeDecision::Action::kFloat);
  EXPECT_NE(conv->reason.find("no float16 kernel"), std::string::npos) << conv->reason;
  EXPECT_EQ(conv->weight_type, "float16");
  EXPECT_EQ(FindDecision(*summary, "MatMul")->action, NodeDecision::Action::kConverted);
  EXPECT_EQ(FindDecision(*summary, "MatMul")->activation_type, "float16");
  EXPECT_EQ(g.outputs[0].type.elem_type, DataType::kFloat32);
  EXPECT_TRUE(ValidateGraph(g).ok());
  ExpectWithinFloat16Bounds(model);
}

TEST(Float16Full, Float16ModelInputsAndOutputs) {
  Model model = ConvMatMulFixture(false);
  auto summary = ConvertToFloat16(&model, {false, false, {}});
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(model.graph.inputs[0].type.elem_type, DataType::kFloat16);
  EXPECT_EQ(model.graph.outputs[0].type.elem_type, DataType::kFloat16);
  EXPECT_EQ(model.graph.outputs[0].name, "logits");
  const Tensor x = Random({1, 2, 5, 5}, 4);
  Tensor x16(DataType::kFloat16, x.shape());
  for (int64_t i = 0; i < x.size(); ++i)
    x16.data<Float16>()[i].bits = FloatToHalf(x.data<float>()[i]);
  std::vector<Tensor> out = RunModel(model, {{"x", x16}});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].dtype(), DataType::kFloat16);
  std::vector<Tensor> ref = RunModel(ConvMatMulFixture(false), {{"x", x}});
  std::vector<Tensor> mag = RunModel(ConvMatMulFixture(true), {{"x", Abs(x)}});
  for (int64_t i = 0; i < 4; ++i) {
    // The float16 model input adds u * A1 to every conv output: 4u * M, plus output rounding.
    const double bound = (4 * kU * At(mag[0], i) + kU * std::fabs(At(ref[0], i))) * (1 + 4 * kU);
    EXPECT_NEAR(At(out[0], i), At(ref[0], i), bound) << "logit " << i;
  }
}

TEST(Float16Full, ExcludedOpsStayFloat) {
  Model model = ConvMatMulFixture(false);
  Float16Options options;
  options.filter.exclude_ops = {"MatMul"};
  auto summary = ConvertToFloat16(&model, options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(FindDecision(*summary, "MatMul")->action, NodeDecision::Action::kExcluded);
  EXPECT_EQ(model.graph.FindInitializer("W2")->dtype(), DataType::kFloat32);
  EXPECT_EQ(CountOps(model.graph, OpType::kCast), 2);  // only the Conv's weights
}

// Values beyond +-65504 clamp (counted), infinities and NaN stay, tiny values flush to zero.
TEST(Float16WeightsOnly, ClampsOutOfRangeValuesAndKeepsInfNan) {
  Model model = testing::EmptyModel(13);
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {1, 6}));
  g.outputs.push_back(TensorInfo("y", DataType::kFloat32, {1, 6}));
  g.SetInitializer("w", Tensor::FromVector<float>({1, 6}, {1e5f, -7e4f, INFINITY, NAN, 1e-9f, 3}));
  AddTestNode(&g, "Mul", {"x", "w"}, {"y"});
  auto summary = ConvertToFloat16(&model, {true, true, {}});
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->clamped_values, 2);
  ASSERT_EQ(summary->warnings.size(), 2u);  // the clamped tensor, and one value underflowed
  const Tensor* w = g.FindInitializer("w");
  ASSERT_NE(w, nullptr);
  const Float16* h = w->data<Float16>();
  EXPECT_EQ(h[0].bits, 0x7bff);  // 65504
  EXPECT_EQ(h[1].bits, 0xfbff);  // -65504
  EXPECT_EQ(h[2].bits, 0x7c00);  // inf
  EXPECT_TRUE(std::isnan(HalfToFloat(h[3].bits)));
  EXPECT_EQ(h[4].bits, 0);
  EXPECT_EQ(HalfToFloat(h[5].bits), 3.0f);
  std::vector<Tensor> out =
      RunModel(model, {{"x", Tensor::FromVector<float>({1, 6}, {1, 1, 1, 1, 1, 1})}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(At(out[0], 0), 65504.0);
}

// x -> If(cond): then MatMul(x, Wt) with Wt a branch initializer, else Mul(x, 2) (float only).
Model IfFixture() {
  Model model = testing::EmptyModel(13);
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("cond", DataType::kBool, {}));
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {2, 3}));
  g.outputs.push_back(TensorInfo("y", DataType::kFloat32, {2, 3}));
  auto then_branch = std::make_shared<Graph>();
  then_branch->SetInitializer("Wt", Random({3, 3}, 7));
  AddTestNode(then_branch.get(), "MatMul", {"x", "Wt"}, {"t"});
  then_branch->outputs.push_back(TensorInfo("t", DataType::kFloat32, {2, 3}));
  auto else_branch = std::make_shared<Graph>();
  AddTestNode(else_branch.get(), "Constant", {}, {"two"},
              {testing::TensorAttr("value", Tensor::Scalar<float>(2))});
  AddTestNode(else_branch.get(), "Mul", {"x", "two"}, {"e"});
  else_branch->outputs.push_back(TensorInfo("e", DataType::kFloat32, {2, 3}));
  AddTestNode(&g, "If", {"cond"}, {"y"},
              {GraphAttr("then_branch", then_branch), GraphAttr("else_branch", else_branch)});
  return model;
}

class Float16IfTest : public ::testing::TestWithParam<bool> {};

TEST_P(Float16IfTest, BranchesStayTypeConsistent) {
  const bool keep_io = GetParam();
  Model model = IfFixture();
  auto summary = ConvertToFloat16(&model, {false, keep_io, {}});
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_TRUE(ValidateGraph(model.graph).ok());
  const Node& if_node = *model.graph.nodes.back();
  ASSERT_EQ(if_node.op, OpType::kIf);
  const DataType expected = keep_io ? DataType::kFloat32 : DataType::kFloat16;
  for (const char* branch : {"then_branch", "else_branch"}) {
    EXPECT_EQ(if_node.GetGraph(branch)->outputs[0].type.elem_type, expected) << branch;
  }
  const Tensor x = Random({2, 3}, 8);
  Tensor feed = x;
  if (!keep_io) {
    feed = Tensor(DataType::kFloat16, x.shape());
    for (int64_t i = 0; i < x.size(); ++i)
      feed.data<Float16>()[i].bits = FloatToHalf(x.data<float>()[i]);
  }
  for (bool cond : {true, false}) {
    std::vector<Tensor> ref =
        RunModel(IfFixture(), {{"cond", Tensor::Scalar<bool>(cond)}, {"x", x}});
    std::vector<Tensor> out = RunModel(model, {{"cond", Tensor::Scalar<bool>(cond)}, {"x", feed}});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].dtype(), expected);
    // K = 3 terms of magnitude <= 1 each: 2u * 3 + output rounding u * |y| (3u for the input
    // rounding of the float16 I/O variant).
    for (int64_t i = 0; i < x.size(); ++i) {
      const double bound = (cond ? 3 * 3 * kU : 0) + 2 * kU * std::fabs(At(ref[0], i));
      EXPECT_NEAR(At(out[0], i), At(ref[0], i), bound) << "cond " << cond << " element " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(KeepIo, Float16IfTest, ::testing::Bool());

Tensor ToHalfTensor(const Tensor& t) {
  Tensor half(DataType::kFloat16, t.shape());
  for (int64_t i = 0; i < t.size(); ++i)
    half.data<Float16>()[i].bits = FloatToHalf(t.data<float>()[i]);
  return half;
}

// A model that already has float16 I/O: x16 -> Cast(float) -> MatMul(W) -> Cast(float16) -> y16.
Model HalfIoFixture() {
  Model model = testing::EmptyModel(13);
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x16", DataType::kFloat16, {2, 4}));
  g.outputs.push_back(TensorInfo("y16", DataType::kFloat16, {2, 3}));
  g.SetInitializer("W", Random({4, 3}, 11));
  AddTestNode(&g, "Cast", {"x16"}, {"x"}, {IntAttr("to", int64_t(DataType::kFloat32))});
  AddTestNode(&g, "MatMul", {"x", "W"}, {"y"});
  AddTestNode(&g, "Cast", {"y"}, {"y16"}, {IntAttr("to", int64_t(DataType::kFloat16))});
  return model;
}

class Float16HalfIoTest : public ::testing::TestWithParam<bool> {};

TEST_P(Float16HalfIoTest, ModelsWithFloat16IoConvert) {
  Model model = HalfIoFixture();
  auto summary = ConvertToFloat16(&model, {GetParam(), true, {}});
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_TRUE(ValidateGraph(model.graph).ok());
  EXPECT_EQ(model.graph.FindInitializer("W")->dtype(), DataType::kFloat16);
  EXPECT_EQ(model.graph.inputs[0].type.elem_type, DataType::kFloat16);
  EXPECT_EQ(model.graph.outputs[0].type.elem_type, DataType::kFloat16);
  const Tensor x = ToHalfTensor(Random({2, 4}, 12));
  std::vector<Tensor> ref = RunModel(HalfIoFixture(), {{"x16", x}});
  std::vector<Tensor> out = RunModel(model, {{"x16", x}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dtype(), DataType::kFloat16);
  // The weights' rounding: u * sum_k |w_k x_k| <= u * 4 (|w|, |x| <= 1); both outputs are then
  // rounded to float16, which may land one half-ulp apart: + u * |y|.
  for (int64_t i = 0; i < 6; ++i) {
    EXPECT_NEAR(At(out[0], i), At(ref[0], i), 4 * kU + 2 * kU * std::fabs(At(ref[0], i)));
  }
}

INSTANTIATE_TEST_SUITE_P(WeightsOnly, Float16HalfIoTest, ::testing::Bool());

// x -> MatMul(W) -> Cast(to float) -> Concat with ConstantOfShape(value float) -> y: the Cast
// inside the converted region becomes a Cast to float16; the generator stays float32 and its
// output is cast.
TEST(Float16Full, CastToFloatInsideConvertedRegionBecomesHalf) {
  Model model = testing::EmptyModel(13);
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {2, 4}));
  g.outputs.push_back(TensorInfo("y", DataType::kFloat32, {4, 3}));
  g.SetInitializer("W", Random({4, 3}, 13));
  g.SetInitializer("fill_shape", Tensor::FromVector<int64_t>({2}, {2, 3}));
  AddTestNode(&g, "MatMul", {"x", "W"}, {"m"});
  AddTestNode(&g, "Cast", {"m"}, {"c"}, {IntAttr("to", int64_t(DataType::kFloat32))});
  AddTestNode(&g, "ConstantOfShape", {"fill_shape"}, {"fill"},
              {testing::TensorAttr("value", Tensor::FromVector<float>({1}, {0.25f}))});
  AddTestNode(&g, "Concat", {"c", "fill"}, {"y"}, {IntAttr("axis", 0)});
  Model original = testing::EmptyModel(13);
  original.graph.inputs = g.inputs;
  original.graph.outputs = g.outputs;
  original.graph.SetInitializer("W", *g.FindInitializer("W"));
  original.graph.SetInitializer("fill_shape", *g.FindInitializer("fill_shape"));
  for (const auto& node : g.nodes) original.graph.AddNode(std::make_unique<Node>(*node));

  auto summary = ConvertToFloat16(&model, {false, true, {}});
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_TRUE(ValidateGraph(g).ok());
  for (const auto& node : g.nodes) {
    if (node->op == OpType::kCast && node->inputs[0] == "m") {
      EXPECT_EQ(node->GetInt("to", 0), int64_t(DataType::kFloat16));
    }
    if (node->op == OpType::kConstantOfShape) {
      EXPECT_EQ(node->GetTensor("value")->dtype(), DataType::kFloat32);
    }
  }
  EXPECT_EQ(FindDecision(*summary, "Concat")->action, NodeDecision::Action::kConverted);
  const Tensor x = Random({2, 4}, 14);
  std::vector<Tensor> ref = RunModel(original, {{"x", x}});
  std::vector<Tensor> out = RunModel(model, {{"x", x}});
  ASSERT_EQ(out.size(), 1u);
  for (int64_t i = 0; i < 12; ++i) {
    // K = 4 with |w|, |x| <= 1: 2u * 4, plus the result's rounding u * |y|.
    EXPECT_NEAR(At(out[0], i), At(ref[0], i), 8 * kU + kU * std::fabs(At(ref[0], i))) << i;
  }
}

// A Loop carrying a sum: acc += x * 1 (MatMul with an identity-like weight) three times; the
// body's float32 Add forces Casts inside the body, and the carried state stays consistent.
TEST(Float16Full, LoopCarriedStateStaysTypeConsistent) {
  auto build = [] {
    Model model = testing::EmptyModel(13);
    Graph& g = model.graph;
    g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {1, 2}));
    g.outputs.push_back(TensorInfo("sum", DataType::kFloat32, {1, 2}));
    auto body = std::make_shared<Graph>();
    body->inputs.push_back(TensorInfo("i", DataType::kInt64, {}));
    body->inputs.push_back(TensorInfo("c_in", DataType::kBool, {}));
    body->inputs.push_back(TensorInfo("acc", DataType::kFloat32, {1, 2}));
    body->SetInitializer("Wb", Tensor::FromVector<float>({2, 2}, {0.5f, 0.25f, -0.75f, 1.0f}));
    AddTestNode(body.get(), "MatMul", {"x", "Wb"}, {"xw"});
    AddTestNode(body.get(), "Add", {"acc", "xw"}, {"acc_out"});
    AddTestNode(body.get(), "Identity", {"c_in"}, {"c_out"});
    body->outputs.push_back(TensorInfo("c_out", DataType::kBool, {}));
    body->outputs.push_back(TensorInfo("acc_out", DataType::kFloat32, {1, 2}));
    g.SetInitializer("trips", Tensor::Scalar<int64_t>(3));
    g.SetInitializer("zero", Tensor::FromVector<float>({1, 2}, {0, 0}));
    AddTestNode(&g, "Loop", {"trips", "", "zero"}, {"sum"}, {GraphAttr("body", body)});
    return model;
  };
  Model model = build();
  auto summary = ConvertToFloat16(&model, {false, true, {}});
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_TRUE(ValidateGraph(model.graph).ok());
  const Node* loop = nullptr;
  for (const auto& node : model.graph.nodes) {
    if (node->op == OpType::kLoop) loop = node.get();
  }
  ASSERT_NE(loop, nullptr);
  const Graph& body = *loop->GetGraph("body");
  EXPECT_EQ(FindDecision(*summary, "Loop")->action, NodeDecision::Action::kConverted);
  EXPECT_EQ(body.inputs[2].type.elem_type, DataType::kFloat16);
  EXPECT_EQ(body.outputs[1].type.elem_type, DataType::kFloat16);
  const Tensor x = Tensor::FromVector<float>({1, 2}, {0.3f, -0.7f});
  std::vector<Tensor> ref = RunModel(build(), {{"x", x}});
  std::vector<Tensor> out = RunModel(model, {{"x", x}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dtype(), DataType::kFloat32);
  for (int64_t i = 0; i < 2; ++i) {
    // Each of 3 steps: MatMul (x rounded, K = 2, |w x| <= 1.1) and the carried sum (|sum| <= 3.3)
    // rounded to float16: 3 * (3u * 1.1 + u * 3.3), doubled for slack in the first-order bound.
    EXPECT_NEAR(At(out[0], i), At(ref[0], i), 2 * 3 * (3 * kU * 1.1 + kU * 3.3)) << i;
  }
}

TEST(Float16Ops, SchemaSeparatesDataFromParameters) {
  Model model = ConvMatMulFixture(false);
  for (const auto& node : model.graph.nodes) {
    FloatSignature sig = GetFloatSignature(*node, 13);
    ASSERT_TRUE(sig.known) << node->op_type;
    if (node->op == OpType::kReshape) {
      EXPECT_TRUE(sig.input_data[0]);
      EXPECT_FALSE(sig.input_data[1]);  // shape
    }
    if (node->op == OpType::kConv) {
      EXPECT_TRUE(sig.input_data[1] && sig.input_data[2]);
    }
  }
  Node resize;
  resize.op_type = "Resize";
  resize.op = OpType::kResize;
  resize.inputs = {"x", "roi", "scales"};
  resize.outputs = {"y"};
  FloatSignature sig = GetFloatSignature(resize, 13);
  EXPECT_EQ(sig.input_data, (std::vector<bool>{true, false, false}));
  Node clip;
  clip.op_type = "Clip";
  clip.op = OpType::kClip;
  clip.inputs = {"x", "min", "max"};
  clip.outputs = {"y"};
  EXPECT_EQ(GetFloatSignature(clip, 13).input_data, (std::vector<bool>{true, true, true}));
  Node bn;
  bn.op_type = "BatchNormalization";
  bn.op = OpType::kBatchNormalization;
  bn.inputs = {"x", "scale", "bias", "mean", "var"};
  bn.outputs = {"y"};
  for (int64_t opset : {11, 15}) {  // scale/bias are weights; statistics never (range)
    EXPECT_EQ(GetFloatSignature(bn, opset).input_data,
              (std::vector<bool>{true, true, true, false, false}));
  }
  EXPECT_TRUE(OrtCpuRunsFloat16(OpType::kMatMul, 13));
  EXPECT_FALSE(OrtCpuRunsFloat16(OpType::kConv, 13));
}

}  // namespace
}  // namespace shrink::engine::quant
