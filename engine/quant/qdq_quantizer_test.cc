#include "engine/quant/qdq_quantizer.h"

#include <gtest/gtest.h>

#include "engine/io/onnx_export.h"
#include "engine/ir/graph_utils.h"
#include "engine/kernels/kernel_test_util.h"
#include "engine/quant/op_quant_table.h"
#include "engine/quant/qdq_test_fixtures.h"
#include "engine/quant/quant_params.h"

namespace shrink::engine::quant {
namespace {

using engine::testing::AddTestNode;
using engine::testing::EmptyModel;
using engine::testing::FloatAttr;
using engine::testing::GraphAttr;
using engine::testing::IntAttr;
using engine::testing::IntsAttr;
using engine::testing::TensorInfo;
using namespace testing;  // NOLINT: the fixtures and helpers of this test
using testing::LinearErrorBound;
using testing::MaxAbs;
using testing::MaxAbsDiff;
using testing::MaxChannelL1;
using testing::NodesOf;
using testing::ObserveRanges;
using testing::Producer;
using testing::RandomTensor;
using testing::RunModel;

float Scale(const Fixture& f, const std::string& name, QuantType type = QuantType::kUint8,
            bool symmetric = false) {
  return ComputeParams(f.ranges.at(name), type, symmetric).scale;
}

// Max error of quantized vs float outputs over every feed set (output `index`).
double MaxError(const Model& float_model, const Model& quantized, const Fixture& f, int index = 0) {
  double worst = 0;
  for (const auto& feeds : f.feed_sets) {
    auto want = RunModel(float_model, feeds);
    auto got = RunModel(quantized, feeds);
    EXPECT_TRUE(want.ok() && got.ok()) << got.status().ToString();
    if (!want.ok() || !got.ok()) return 1e30;
    worst = std::max(worst, MaxAbsDiff((*want)[size_t(index)], (*got)[size_t(index)]));
  }
  return worst;
}

// The DQ feeding `value` and the initializer behind it.
struct DqView {
  const Node* dq = nullptr;
  const Tensor* values = nullptr;
  const Tensor* scale = nullptr;
  const Tensor* zero_point = nullptr;
};
DqView FindDq(const Graph& graph, const std::string& value, const Graph* owner = nullptr) {
  const Graph& g = owner ? *owner : graph;
  DqView view;
  view.dq = Producer(g, value);
  if (view.dq == nullptr || view.dq->op_type != "DequantizeLinear") return DqView{};
  view.values = g.FindInitializer(view.dq->inputs[0]);
  view.scale = g.FindInitializer(view.dq->inputs[1]);
  view.zero_point = g.FindInitializer(view.dq->inputs[2]);
  return view;
}

TEST(QdqQuantizerTest, ConvChainStructure) {
  Fixture f = ConvChain();
  Model q = engine::testing::EmptyModel(13);
  q.graph = std::move(*f.model.graph.Clone());
  StaticQuantOptions options;
  auto summary = QuantizeStatic(&q, f.ranges, options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  const Graph& g = q.graph;

  EXPECT_TRUE(NodesOf(g, OpType::kRelu).empty()) << "Relu must be absorbed";
  const Node* conv1 = Producer(g, "c1_float");
  if (conv1 == nullptr) conv1 = NodesOf(g, OpType::kConv)[0];
  ASSERT_EQ(conv1->name, "conv1");
  // Input: Q(X) -> DQ -> conv1.
  const Node* x_dq = Producer(g, conv1->inputs[0]);
  ASSERT_NE(x_dq, nullptr);
  EXPECT_EQ(x_dq->op, OpType::kDequantizeLinear);
  const Node* x_q = Producer(g, x_dq->inputs[0]);
  ASSERT_NE(x_q, nullptr);
  EXPECT_EQ(x_q->op, OpType::kQuantizeLinear);
  EXPECT_EQ(x_q->inputs[0], "X");
  // Weight: int8 per-channel on axis 0.
  DqView w1 = FindDq(g, conv1->inputs[1]);
  ASSERT_NE(w1.values, nullptr);
  EXPECT_EQ(w1.values->dtype(), DataType::kInt8);
  EXPECT_EQ(w1.dq->GetInt("axis", -1), 0);
  ASSERT_EQ(w1.scale->shape(), Shape({4}));
  // Bias: int32, scale = s_x * s_w[c].
  DqView b1 = FindDq(g, conv1->inputs[2]);
  ASSERT_NE(b1.values, nullptr);
  EXPECT_EQ(b1.values->dtype(), DataType::kInt32);
  const float s_x = Scale(f, "X");
  for (int c = 0; c < 4; ++c) {
    EXPECT_FLOAT_EQ(b1.scale->data<float>()[c], s_x * w1.scale->data<float>()[c]);
  }
  // Conv1's output goes straight into a Q with the Relu's range (zero point 0 for u8).
  ASSERT_EQ(conv1->outputs.size(), 1u);
  const Node* relu_q = nullptr;
  for (const auto& node : g.nodes) {
    if (node->op == OpType::kQuantizeLinear && node->inputs[0] == conv1->outputs[0]) {
      relu_q = node.get();
    }
  }
  ASSERT_NE(relu_q, nullptr);
  EXPECT_EQ(g.FindInitializer(relu_q->inputs[2])->data<uint8_t>()[0], 0);
  EXPECT_FLOAT_EQ(g.FindInitializer(relu_q->inputs[1])->data<float>()[0], Scale(f, "r1"));
  // MaxPool shares its input's parameters.
  const Node* pool = NodesOf(g, OpType::kMaxPool)[0];
  const Node* pool_q = nullptr;
  for (const auto& node : g.nodes) {
    if (node->op == OpType::kQuantizeLinear && node->inputs[0] == pool->outputs[0]) {
      pool_q = node.get();
    }
  }
  ASSERT_NE(pool_q, nullptr);
  EXPECT_FLOAT_EQ(g.FindInitializer(pool_q->inputs[1])->data<float>()[0], Scale(f, "r1"));
  // The graph output keeps its name and comes from a DQ.
  ASSERT_NE(Producer(g, "Y"), nullptr);
  EXPECT_EQ(Producer(g, "Y")->op, OpType::kDequantizeLinear);

  const NodeDecision* d = Decision(*summary, "conv1");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->action, NodeDecision::Action::kQuantized);
  EXPECT_TRUE(d->per_channel);
  EXPECT_EQ(d->weight_type, "int8");
  EXPECT_EQ(Decision(*summary, "relu1")->action, NodeDecision::Action::kQuantized);
  EXPECT_EQ(Decision(*summary, "pool")->action, NodeDecision::Action::kQuantized);
  EXPECT_EQ(Decision(*summary, "add")->action, NodeDecision::Action::kQuantized);
  EXPECT_GT(summary->scales.tensors, 5);
  EXPECT_GT(summary->scales.min_scale, 0);
  EXPECT_GE(summary->scales.max_scale, summary->scales.min_scale);
}

TEST(QdqQuantizerTest, ConvChainAccuracyWithinDerivedBound) {
  for (bool per_channel : {true, false}) {
    Fixture f = ConvChain();
    Model q = EmptyModel(13);
    q.graph = std::move(*f.model.graph.Clone());
    StaticQuantOptions options;
    options.per_channel = per_channel;
    options.reduce_range = true;
    ASSERT_TRUE(QuantizeStatic(&q, f.ranges, options).ok());
    const Graph& g = f.model.graph;
    auto weight_step = [&](const std::string& w) {
      auto qw = QuantizeWeight(*g.FindInitializer(w),
                               {QuantType::kInt8, per_channel ? 0 : -1, true, true});
      return MaxValue(qw->scale);
    };
    double x_max = std::max(std::fabs(f.ranges["X"].min), std::fabs(f.ranges["X"].max));
    double s_x = Scale(f, "X"), s_w1 = weight_step("W1"), s_r1 = Scale(f, "r1");
    // Layer 1 (Relu and MaxPool are 1-Lipschitz and re-quantize on the same grid: exact).
    double e1 = LinearErrorBound(MaxChannelL1(*g.FindInitializer("W1"), 0), 18, x_max, s_x / 2,
                                 s_w1, s_x * s_w1, s_r1);
    double p_max = std::max(std::fabs(f.ranges["p1"].min), std::fabs(f.ranges["p1"].max));
    double s_w2 = weight_step("W2");
    double e2 = LinearErrorBound(MaxChannelL1(*g.FindInitializer("W2"), 0), 36, p_max, e1, s_w2,
                                 s_r1 * s_w2, Scale(f, "c2"));
    double bound = e2 + e1 + Scale(f, "Y") / 2;
    double error = MaxError(f.model, q, f);
    EXPECT_LE(error, bound) << "per_channel=" << per_channel;
    EXPECT_GT(error, 0);
  }
}

TEST(QdqQuantizerTest, GemmPerChannelAxisFollowsTransB) {
  for (bool trans_b : {true, false}) {
    Fixture f = GemmFixture(trans_b);
    Model q = EmptyModel(13);
    q.graph = std::move(*f.model.graph.Clone());
    ASSERT_TRUE(QuantizeStatic(&q, f.ranges, {}).ok());
    const Node* gemm = NodesOf(q.graph, OpType::kGemm)[0];
    DqView w = FindDq(q.graph, gemm->inputs[1]);
    ASSERT_NE(w.values, nullptr);
    const int axis = trans_b ? 0 : 1;
    EXPECT_EQ(w.dq->GetInt("axis", -1), axis);
    EXPECT_EQ(w.scale->size(), 8);
    DqView c = FindDq(q.graph, gemm->inputs[2]);
    ASSERT_NE(c.values, nullptr);
    EXPECT_EQ(c.values->dtype(), DataType::kInt32);
    const float s_x = Scale(f, "X");
    for (int i = 0; i < 8; ++i) {
      EXPECT_FLOAT_EQ(c.scale->data<float>()[i], s_x * w.scale->data<float>()[i]);
    }
    double s_w = MaxValue(*w.scale);
    double x_max = std::max(std::fabs(f.ranges["X"].min), std::fabs(f.ranges["X"].max));
    double bound = LinearErrorBound(MaxChannelL1(*f.model.graph.FindInitializer("W"), axis), 16,
                                    x_max, s_x / 2, s_w, s_x * s_w, Scale(f, "Y"));
    EXPECT_LE(MaxError(f.model, q, f), bound);
  }
}

TEST(QdqQuantizerTest, MatMulWeightPerColumnAndTwoActivationMatMul) {
  Fixture f = MatMulFixture();
  const Graph& g = f.model.graph;
  Model q = EmptyModel(13);
  q.graph = std::move(*f.model.graph.Clone());
  auto summary = QuantizeStatic(&q, f.ranges, {});
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  auto mms = NodesOf(q.graph, OpType::kMatMul);
  ASSERT_EQ(mms.size(), 2u);
  DqView w = FindDq(q.graph, mms[0]->inputs[1]);
  ASSERT_NE(w.values, nullptr);
  EXPECT_EQ(w.dq->GetInt("axis", -1), 1);
  // Both inputs of the activation MatMul come from a Q->DQ pair (ORT fuses it to QLinearMatMul).
  for (int i = 0; i < 2; ++i) {
    const Node* dq = Producer(q.graph, mms[1]->inputs[size_t(i)]);
    ASSERT_NE(dq, nullptr);
    EXPECT_EQ(dq->op, OpType::kDequantizeLinear);
    EXPECT_EQ(Producer(q.graph, dq->inputs[0])->op, OpType::kQuantizeLinear);
  }
  EXPECT_EQ(Decision(*summary, "mm_act")->action, NodeDecision::Action::kQuantized);
  const double a_max = 1, s_a = Scale(f, "A"), s_b = Scale(f, "B");
  double w_step = MaxValue(*w.scale);
  double bound_y = LinearErrorBound(MaxChannelL1(*g.FindInitializer("W"), 1), 16, a_max, s_a / 2,
                                    w_step, 0, Scale(f, "Y"));
  EXPECT_LE(MaxError(f.model, q, f, 0), bound_y);
  // B is an activation too: 16 * |b|max * s_a/2 + 16 * |a|max * s_b/2 + cross term.
  double bound_z = LinearErrorBound(16 * 1.0, 16, a_max, s_a / 2, s_b, 0, Scale(f, "Z"));
  EXPECT_LE(MaxError(f.model, q, f, 1), bound_z);
}

// Concat(X1, X2) -> Reshape -> Y: Concat gets its own range, Reshape shares it.
TEST(QdqQuantizerTest, ConcatOwnRangeReshapeSharesIt) {
  Fixture f = ConcatReshapeFixture();
  Model q = EmptyModel(13);
  q.graph = std::move(*f.model.graph.Clone());
  auto summary = QuantizeStatic(&q, f.ranges, {});
  ASSERT_TRUE(summary.ok());
  const Node* reshape = NodesOf(q.graph, OpType::kReshape)[0];
  EXPECT_EQ(reshape->inputs[1], "shape") << "shape input must stay int64";
  const Node* y_dq = Producer(q.graph, "Y");
  ASSERT_EQ(y_dq->op, OpType::kDequantizeLinear);
  EXPECT_FLOAT_EQ(q.graph.FindInitializer(y_dq->inputs[1])->data<float>()[0], Scale(f, "cat"));
  EXPECT_EQ(Decision(*summary, "reshape")->action, NodeDecision::Action::kQuantized);
  double bound = std::max(Scale(f, "X1"), Scale(f, "X2")) / 2 + Scale(f, "cat") / 2;
  EXPECT_LE(MaxError(f.model, q, f), bound);
}

// If(cond) { MatMul(X, W_outer) } else { MatMul(X, W_inner) }: weights of the outer graph and of
// the subgraph both get a DQ, and the branch's MatMul is quantized.
TEST(QdqQuantizerTest, SubgraphWeightsInnerAndOuter) {
  Fixture f = IfFixture();
  ASSERT_TRUE(f.ranges.count("t_out") && f.ranges.count("e_out"));
  auto wanted = TensorsToCalibrate(f.model, {});
  ASSERT_TRUE(wanted.ok());
  EXPECT_EQ(*wanted, (std::vector<std::string>{"X", "t_out", "e_out"}));

  Model q = EmptyModel(13);
  q.graph = std::move(*f.model.graph.Clone());
  auto summary = QuantizeStatic(&q, f.ranges, {});
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  const Node* if_node = NodesOf(q.graph, OpType::kIf)[0];
  const Graph& then_g = *if_node->GetGraph("then_branch");
  const Graph& else_g = *if_node->GetGraph("else_branch");
  // Outer weight: DQ in the outer graph, still named W_outer.
  DqView outer = FindDq(q.graph, "W_outer");
  ASSERT_NE(outer.values, nullptr);
  EXPECT_EQ(outer.dq->GetInt("axis", -1), 1);
  DqView inner = FindDq(else_g, "W_inner");
  ASSERT_NE(inner.values, nullptr);
  for (const Graph* branch : {&then_g, &else_g}) {
    const Node* mm = NodesOf(*branch, OpType::kMatMul)[0];
    const Node* x_dq = Producer(*branch, mm->inputs[0]);
    ASSERT_NE(x_dq, nullptr);
    EXPECT_EQ(x_dq->op, OpType::kDequantizeLinear);
    EXPECT_EQ(Producer(*branch, branch->outputs[0].name)->op, OpType::kDequantizeLinear);
  }
  EXPECT_EQ(Decision(*summary, "mm_then")->graph, "if/then_branch");
  EXPECT_EQ(Decision(*summary, "mm_else")->action, NodeDecision::Action::kQuantized);
  EXPECT_TRUE(ValidateGraph(q.graph).ok());
  const double s_x = Scale(f, "X");
  for (int branch = 0; branch < 2; ++branch) {
    const char* w_name = branch == 0 ? "W_outer" : "W_inner";
    const Graph& w_graph =
        branch == 0 ? f.model.graph : *f.model.graph.nodes[0]->GetGraph("else_branch");
    const DqView& view = branch == 0 ? outer : inner;
    double s_w = MaxValue(*view.scale);
    double bound = LinearErrorBound(MaxChannelL1(*w_graph.FindInitializer(w_name), 1), 16, 1.0,
                                    s_x / 2, s_w, 0, Scale(f, branch == 0 ? "t_out" : "e_out"));
    Fixture one = {};
    one.feed_sets = {f.feed_sets[size_t(branch)]};
    EXPECT_LE(MaxError(f.model, q, one), bound) << w_name;
  }
}

// Conv -> Clip(0, 6) -> Y: the Clip disappears; Relu stays when symmetric int8 cannot clamp.
TEST(QdqQuantizerTest, ClipAbsorbedAndSymmetricReluKept) {
  Fixture f = ClipReluFixture();
  const Graph& g = f.model.graph;
  ASSERT_GT(f.ranges["c"].max, 6) << "the fixture must exercise the upper clamp";
  {
    Model q = EmptyModel(13);
    q.graph = std::move(*f.model.graph.Clone());
    auto summary = QuantizeStatic(&q, f.ranges, {});
    ASSERT_TRUE(summary.ok());
    EXPECT_TRUE(NodesOf(q.graph, OpType::kClip).empty());
    EXPECT_TRUE(NodesOf(q.graph, OpType::kRelu).empty());
    const Node* y_dq = Producer(q.graph, "Y");
    ASSERT_EQ(y_dq->op, OpType::kDequantizeLinear);
    EXPECT_FLOAT_EQ(q.graph.FindInitializer(y_dq->inputs[1])->data<float>()[0], Scale(f, "Y"));
    DqView w = FindDq(q.graph, "W");
    double s_w = MaxValue(*w.scale);
    double s_x = Scale(f, "X");
    double bound = LinearErrorBound(MaxChannelL1(*g.FindInitializer("W"), 0), 18, 1.0, s_x / 2, s_w,
                                    0, Scale(f, "Y"));
    EXPECT_LE(MaxError(f.model, q, f, 0), bound);
  }
  {
    Model q = EmptyModel(13);
    q.graph = std::move(*f.model.graph.Clone());
    StaticQuantOptions options;
    options.activation_type = QuantType::kInt8;
    options.activation_symmetric = true;
    auto summary = QuantizeStatic(&q, f.ranges, options);
    ASSERT_TRUE(summary.ok());
    EXPECT_EQ(NodesOf(q.graph, OpType::kRelu).size(), 1u) << "symmetric int8 cannot clamp at 0";
    EXPECT_EQ(Decision(*summary, "relu")->action, NodeDecision::Action::kFloat);
  }
}

// mm1 -> Sigmoid -> mm2 -> Add(bias) -> Y: Sigmoid excluded by op, mm2 by name, Add lacks a range.
TEST(QdqQuantizerTest, ExcludedAndUncalibratedNodesStayFloat) {
  Fixture f;
  f.model = EmptyModel(13);
  Graph& g = f.model.graph;
  g.inputs.push_back(TensorInfo("X", kF32, {2, 8}));
  g.outputs.push_back(TensorInfo("Y", kF32, {2, 8}));
  g.SetInitializer("W1", RandomTensor({8, 8}, 70, -1, 1));
  g.SetInitializer("W2", RandomTensor({8, 8}, 71, -1, 1));
  g.SetInitializer("b", RandomTensor({8}, 72, -1, 1));
  AddTestNode(&g, "MatMul", {"X", "W1"}, {"m1"})->name = "mm1";
  AddTestNode(&g, "Sigmoid", {"m1"}, {"s"})->name = "sig";
  AddTestNode(&g, "MatMul", {"s", "W2"}, {"m2"})->name = "mm2";
  AddTestNode(&g, "Add", {"m2", "b"}, {"Y"})->name = "add";
  f.feed_sets.push_back({{"X", RandomTensor({2, 8}, 73, -1, 1)}});
  Finish(&f);
  f.ranges.erase("Y");
  Model q = EmptyModel(13);
  q.graph = std::move(*f.model.graph.Clone());
  StaticQuantOptions options;
  options.filter.exclude_ops = {"Sigmoid"};
  options.filter.exclude_nodes = {"mm2"};
  auto summary = QuantizeStatic(&q, f.ranges, options);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(Decision(*summary, "mm1")->action, NodeDecision::Action::kQuantized);
  EXPECT_EQ(Decision(*summary, "sig")->action, NodeDecision::Action::kExcluded);
  EXPECT_EQ(Decision(*summary, "mm2")->action, NodeDecision::Action::kExcluded);
  const NodeDecision* add = Decision(*summary, "add");
  EXPECT_EQ(add->action, NodeDecision::Action::kFloat);
  EXPECT_NE(add->reason.find("no range"), std::string::npos) << add->reason;
  ASSERT_EQ(summary->warnings.size(), 1u);
  EXPECT_TRUE(g.HasInitializer("W2"));
  EXPECT_TRUE(q.graph.HasInitializer("W2")) << "excluded node keeps its float weight";
  // mm1's output is quantized; the float Sigmoid reads its DQ output.
  EXPECT_EQ(Producer(q.graph, "m1")->op, OpType::kDequantizeLinear);
  EXPECT_LT(MaxError(f.model, q, f), 0.1);
}

TEST(QdqQuantizerTest, MaxWithScalarFloorAbsorbedAfterLeakyRelu) {
  Fixture f = LeakyMaxFixture();
  ASSERT_LT(f.ranges["l1"].min, -0.4f) << "the fixture must exercise the floor";
  Model q = EmptyModel(13);
  q.graph = std::move(*f.model.graph.Clone());
  auto summary = QuantizeStatic(&q, f.ranges, {});
  ASSERT_TRUE(summary.ok());
  EXPECT_TRUE(NodesOf(q.graph, OpType::kMax).empty());
  EXPECT_EQ(Decision(*summary, "leaky")->action, NodeDecision::Action::kQuantized);
  EXPECT_EQ(Decision(*summary, "max")->action, NodeDecision::Action::kQuantized);
  // LeakyRelu is 1-Lipschitz; the floor is exact. Layer 1 then layer 2 (1x1, fan-in 4).
  const Graph& g = f.model.graph;
  auto step = [&](const std::string& w) {
    DqView view = FindDq(q.graph, w);
    return MaxValue(*view.scale);
  };
  double s_x = Scale(f, "X"), s_w1 = step("W1"), s_w2 = step("W2");
  double e1 = LinearErrorBound(MaxChannelL1(*g.FindInitializer("W1"), 0), 27, 2.0, s_x / 2, s_w1, 0,
                               Scale(f, "c1"));
  double e_leaky = e1 + Scale(f, "m1") / 2;
  double m_max = std::max(std::fabs(f.ranges["m1"].min), std::fabs(f.ranges["m1"].max));
  double bound = LinearErrorBound(MaxChannelL1(*g.FindInitializer("W2"), 0), 4, m_max, e_leaky,
                                  s_w2, 0, Scale(f, "Y"));
  EXPECT_LE(MaxError(f.model, q, f), bound);
}

// Grouped ConvTranspose: W [C, M/g, k, k] is quantized per axis 1 (one scale per output channel
// of a group, shared by the groups); the bias then has more channels than weight scales and
// stays float.
TEST(QdqQuantizerTest, GroupedConvTransposeWeightsOnAxis1) {
  Fixture f = ConvTransposeFixture();
  Model q = EmptyModel(13);
  q.graph = std::move(*f.model.graph.Clone());
  auto summary = QuantizeStatic(&q, f.ranges, {});
  ASSERT_TRUE(summary.ok());
  const Node* deconv = NodesOf(q.graph, OpType::kConvTranspose)[0];
  DqView w = FindDq(q.graph, deconv->inputs[1]);
  ASSERT_NE(w.values, nullptr);
  EXPECT_EQ(w.dq->GetInt("axis", -1), 1);
  EXPECT_EQ(w.scale->size(), 3);
  EXPECT_EQ(deconv->inputs[2], "B");
  double s_w = MaxValue(*w.scale);
  // Each output sums at most ceil(3/2)^2 taps of each of the 2 input channels of its group.
  const Tensor& wf = *f.model.graph.FindInitializer("W");
  double l1 = 0;
  for (int64_t i = 0; i < wf.size(); ++i) l1 = std::max(l1, std::fabs(double(wf.data<float>()[i])));
  double s_x = Scale(f, "X");
  double bound = LinearErrorBound(l1 * 8, 8, 1.0, s_x / 2, s_w, 0, Scale(f, "Y"));
  EXPECT_LE(MaxError(f.model, q, f), bound);
}

TEST(QdqQuantizerTest, Int16ActivationsUseMicrosoftDomain) {
  Fixture f = GemmFixture(true);
  Model q = EmptyModel(13);
  q.graph = std::move(*f.model.graph.Clone());
  StaticQuantOptions options;
  options.activation_type = QuantType::kInt16;
  ASSERT_TRUE(QuantizeStatic(&q, f.ranges, options).ok());
  EXPECT_EQ(q.OpsetVersion("com.microsoft"), 1);
  Status checked = CheckModelWithOnnx(q);
  EXPECT_TRUE(checked.ok()) << "opset <= 17 tools must still check the 16x8 model: "
                            << checked.ToString();
  const Node* y_dq = Producer(q.graph, "Y");
  ASSERT_NE(y_dq, nullptr);
  EXPECT_EQ(y_dq->op, OpType::kMsDequantizeLinear);
  const Tensor* zp = q.graph.FindInitializer(y_dq->inputs[2]);
  EXPECT_EQ(zp->dtype(), DataType::kInt16);
  EXPECT_EQ(zp->data<int16_t>()[0], 0);
  const Node* gemm = NodesOf(q.graph, OpType::kGemm)[0];
  const Node* w_dq = Producer(q.graph, gemm->inputs[1]);
  EXPECT_EQ(w_dq->op, OpType::kDequantizeLinear) << "int8 weights use the standard domain";
  const float s_x = Scale(f, "X", QuantType::kInt16, true);
  DqView w = FindDq(q.graph, gemm->inputs[1]);
  double s_w = MaxValue(*w.scale);
  double bound = LinearErrorBound(MaxChannelL1(*f.model.graph.FindInitializer("W"), 0), 16, 2.0,
                                  s_x / 2, s_w, s_x * s_w, Scale(f, "Y", QuantType::kInt16, true));
  EXPECT_LE(MaxError(f.model, q, f), bound);
}

TEST(QdqQuantizerTest, IntegerModelIo) {
  Fixture f = GemmFixture(true);
  Model q = EmptyModel(13);
  q.graph = std::move(*f.model.graph.Clone());
  StaticQuantOptions options;
  options.quantize_model_io = true;
  ASSERT_TRUE(QuantizeStatic(&q, f.ranges, options).ok());
  EXPECT_EQ(q.graph.inputs[0].type.elem_type, DataType::kUint8);
  EXPECT_EQ(q.graph.outputs[0].type.elem_type, DataType::kUint8);
  EXPECT_TRUE(NodesOf(q.graph, OpType::kQuantizeLinear).size() == 1);  // only Gemm's output
  bool documented = false;
  for (const auto& [key, value] : q.metadata_props) {
    documented |=
        key == "shrink.quantized_input.X" && value.find("zero_point=") != std::string::npos;
  }
  EXPECT_TRUE(documented);
  AffineParams px = ComputeParams(f.ranges["X"], QuantType::kUint8, false);
  AffineParams py = ComputeParams(f.ranges["Y"], QuantType::kUint8, false);
  const Tensor& x = f.feed_sets[0][0].tensor;
  Tensor xq(DataType::kUint8, x.shape());
  for (int64_t i = 0; i < x.size(); ++i) {
    float v = std::nearbyint(x.data<float>()[i] / px.scale) + float(px.zero_point);
    xq.data<uint8_t>()[i] = uint8_t(std::clamp(v, 0.0f, 255.0f));
  }
  auto got = RunModel(q, {{"X", xq}});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  auto want = RunModel(f.model, f.feed_sets[0]);
  ASSERT_TRUE(want.ok());
  Tensor y(kF32, (*got)[0].shape());
  for (int64_t i = 0; i < y.size(); ++i) {
    y.data<float>()[i] = float((*got)[0].data<uint8_t>()[i] - py.zero_point) * py.scale;
  }
  // Same derivation as GemmPerChannelAxisFollowsTransB, loosened to the widest weight step.
  double bound = LinearErrorBound(MaxChannelL1(*f.model.graph.FindInitializer("W"), 0), 16, 2.0,
                                  px.scale / 2, 0.4 / 127, px.scale * 0.4 / 127, py.scale);
  EXPECT_LE(MaxAbsDiff((*want)[0], y), bound);
}

TEST(QdqQuantizerTest, RejectsOpsetBelow13) {
  Fixture f = GemmFixture(true);
  Model q = EmptyModel(12);
  q.graph = std::move(*f.model.graph.Clone());
  auto summary = QuantizeStatic(&q, f.ranges, {});
  ASSERT_FALSE(summary.ok());
  EXPECT_NE(summary.status().message().find("opset"), std::string::npos);
}

TEST(QdqQuantizerTest, TensorsToCalibrateListsWhatThePlanNeeds) {
  Fixture f = ConvChain();
  auto wanted = TensorsToCalibrate(f.model, {});
  ASSERT_TRUE(wanted.ok());
  EXPECT_EQ(*wanted, (std::vector<std::string>{"X", "c1", "r1", "p1", "c2", "Y"}));
}

TEST(NodeFilterTest, IncludeThenExclude) {
  Node conv;
  conv.name = "c1";
  conv.op_type = "Conv";
  struct Case {
    NodeFilter filter;
    bool excluded;
  };
  const Case cases[] = {
      {{}, false},
      {{{"c1"}, {}, {}, {}}, false},
      {{{"other"}, {}, {}, {}}, true},
      {{{}, {"Conv"}, {}, {}}, false},
      {{{"other"}, {"Conv"}, {}, {}}, false},  // included by op
      {{{}, {"MatMul"}, {}, {}}, true},
      {{{}, {}, {"c1"}, {}}, true},
      {{{}, {"Conv"}, {}, {"Conv"}}, true},  // exclusion wins
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    EXPECT_EQ(cases[i].filter.Excluded(conv), cases[i].excluded) << "case " << i;
  }
}

TEST(OpQuantTableTest, AxesAndRules) {
  Node gemm;
  gemm.op = OpType::kGemm;
  gemm.SetAttribute(IntAttr("transB", 1));
  const OpQuantSpec* spec = FindOpQuantSpec(OpType::kGemm);
  ASSERT_NE(spec, nullptr);
  EXPECT_EQ(WeightChannelAxis(*spec, gemm, 2), 0);
  gemm.SetAttribute(IntAttr("transB", 0));
  EXPECT_EQ(WeightChannelAxis(*spec, gemm, 2), 1);
  EXPECT_EQ(WeightChannelAxis(*FindOpQuantSpec(OpType::kMatMul), gemm, 3), 2);
  EXPECT_EQ(WeightChannelAxis(*FindOpQuantSpec(OpType::kConvTranspose), gemm, 4), 1);
  EXPECT_EQ(FindOpQuantSpec(OpType::kMaxPool)->output, OutputRule::kSharedWithInput);
  EXPECT_EQ(FindOpQuantSpec(OpType::kConcat)->output, OutputRule::kOwnRange);
  EXPECT_EQ(FindOpQuantSpec(OpType::kHardSigmoid), nullptr);
  EXPECT_EQ(FindOpQuantSpec(OpType::kRelu), nullptr);
}

}  // namespace
}  // namespace shrink::engine::quant
