#include <gtest/gtest.h>

#include "engine/ir/graph_utils.h"
#include "engine/kernels/kernel_test_util.h"
#include "engine/quant/qdq_quantizer.h"
#include "engine/quant/qdq_test_util.h"
#include "engine/quant/quant_params.h"

namespace shrink::engine::quant {
namespace {

using engine::testing::AddTestNode;
using engine::testing::EmptyModel;
using engine::testing::FloatAttr;
using engine::testing::IntAttr;
using engine::testing::IntsAttr;
using engine::testing::TensorInfo;
using testing::LinearErrorBound;
using testing::MaxAbsDiff;
using testing::MaxChannelL1;
using testing::NodesOf;
using testing::RandomTensor;
using testing::RunModel;

constexpr DataType kF32 = DataType::kFloat32;

double WeightStep(const Tensor& w, int axis, bool per_channel, QuantType type = QuantType::kInt8) {
  auto q = QuantizeWeight(w, {type, per_channel ? axis : -1, true, false});
  double s = 0;
  for (int64_t i = 0; i < q->scale.size(); ++i) s = std::max<double>(s, q->scale.data<float>()[i]);
  return s;
}

// Dynamic u8 step of a tensor: its range widened to 0, over 255 levels.
double DynamicStep(const Tensor& x) {
  float lo = 0, hi = 0;
  for (int64_t i = 0; i < x.size(); ++i) {
    lo = std::min(lo, x.data<float>()[i]);
    hi = std::max(hi, x.data<float>()[i]);
  }
  return (double(hi) - double(lo)) / 255;
}

struct GemmCase {
  const char* name;
  bool gemm;
  bool trans_b;
  float alpha;
  float beta;
  bool per_channel;
};

class DynamicMatMulTest : public ::testing::TestWithParam<GemmCase> {};

TEST_P(DynamicMatMulTest, BecomesDynamicQuantizeMatMulWithinBound) {
  const GemmCase c = GetParam();
  Model model = EmptyModel(13);
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("X", kF32, {4, 32}));
  g.outputs.push_back(TensorInfo("Y", kF32, {4, 16}));
  Tensor w = RandomTensor(c.trans_b ? Shape{16, 32} : Shape{32, 16}, 1, -0.5f, 0.5f);
  g.SetInitializer("W", w);
  g.SetInitializer("C", RandomTensor({16}, 2, -1, 1));
  if (c.gemm) {
    AddTestNode(
        &g, "Gemm", {"X", "W", "C"}, {"Y"},
        {IntAttr("transB", c.trans_b), FloatAttr("alpha", c.alpha), FloatAttr("beta", c.beta)});
  } else {
    AddTestNode(&g, "MatMul", {"X", "W"}, {"Y"});
  }
  Model q = CloneModel(model);
  DynamicQuantOptions options;
  options.per_channel = c.per_channel;
  auto summary = QuantizeDynamic(&q, options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  auto fused = NodesOf(q.graph, OpType::kMsDynamicQuantizeMatMul);
  ASSERT_EQ(fused.size(), 1u);
  EXPECT_EQ(q.OpsetVersion("com.microsoft"), 1);
  EXPECT_FALSE(q.graph.HasInitializer("W")) << "the float weight is gone";
  const Tensor* scale = q.graph.FindInitializer(fused[0]->inputs[2]);
  EXPECT_EQ(scale->size(), c.per_channel ? 16 : 1);
  EXPECT_EQ(summary->decisions[0].action, NodeDecision::Action::kQuantized);

  Tensor x = RandomTensor({4, 32}, 3, -1, 2);
  auto want = RunModel(model, {{"X", x}});
  auto got = RunModel(q, {{"X", x}});
  ASSERT_TRUE(want.ok() && got.ok()) << got.status().ToString();
  const int axis = c.trans_b ? 0 : 1;
  double s_w = c.alpha * WeightStep(w, axis, c.per_channel);
  double bound =
      LinearErrorBound(c.alpha * MaxChannelL1(w, axis), 32, 2.0, DynamicStep(x) / 2, s_w, 0, 0);
  EXPECT_LE(MaxAbsDiff((*want)[0], (*got)[0]), bound);
}

INSTANTIATE_TEST_SUITE_P(Cases, DynamicMatMulTest,
                         ::testing::Values(GemmCase{"matmul", false, false, 1, 1, true},
                                           GemmCase{"matmul_per_tensor", false, false, 1, 1, false},
                                           GemmCase{"gemm_transb", true, true, 1, 1, true},
                                           GemmCase{"gemm_alpha_beta", true, false, 0.5f, 2.0f,
                                                    true}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(DynamicQuantizerTest, ConvBecomesConvIntegerWithRescaleWithinBound) {
  Model model = EmptyModel(13);
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("X", kF32, {1, 3, 7, 7}));
  g.outputs.push_back(TensorInfo("Y", kF32, {1, 5, 7, 7}));
  Tensor w = RandomTensor({5, 3, 3, 3}, 4, -0.6f, 0.6f);
  g.SetInitializer("W", w);
  g.SetInitializer("B", RandomTensor({5}, 5, -1, 1));
  AddTestNode(&g, "Conv", {"X", "W", "B"}, {"Y"}, {IntsAttr("pads", {1, 1, 1, 1})});
  Model q = CloneModel(model);
  auto summary = QuantizeDynamic(&q, {});
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_TRUE(NodesOf(q.graph, OpType::kConv).empty());
  ASSERT_EQ(NodesOf(q.graph, OpType::kConvInteger).size(), 1u);
  EXPECT_EQ(NodesOf(q.graph, OpType::kDynamicQuantizeLinear).size(), 1u);
  const Node* conv = NodesOf(q.graph, OpType::kConvInteger)[0];
  // uint8 weights: ORT's u8 x s8 ConvInteger is a slow path (see dynamic_quantizer.cc).
  EXPECT_EQ(q.graph.FindInitializer(conv->inputs[1])->dtype(), DataType::kUint8);
  EXPECT_EQ(summary->decisions[0].weight_type, "uint8");
  EXPECT_EQ(conv->GetInts("pads"), (std::vector<int64_t>{1, 1, 1, 1}));
  Tensor x = RandomTensor({1, 3, 7, 7}, 6, -1, 1);
  auto want = RunModel(model, {{"X", x}});
  auto got = RunModel(q, {{"X", x}});
  ASSERT_TRUE(want.ok() && got.ok()) << got.status().ToString();
  double bound = LinearErrorBound(MaxChannelL1(w, 0), 27, 1.0, DynamicStep(x) / 2,
                                  WeightStep(w, 0, true, QuantType::kUint8), 0, 0);
  EXPECT_LE(MaxAbsDiff((*want)[0], (*got)[0]), bound);
}

// GRU: weight-only, so the result must equal the float GRU run on dequant(quant(W)), exactly
// up to float summation order.
TEST(DynamicQuantizerTest, GruWeightOnlyMatchesDequantizedWeights) {
  Model model = EmptyModel(13);
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("X", kF32, {5, 2, 6}));
  g.outputs.push_back(TensorInfo("Y", kF32, {5, 1, 2, 8}));
  Tensor w = RandomTensor({1, 24, 6}, 7, -0.5f, 0.5f);
  Tensor r = RandomTensor({1, 24, 8}, 8, -0.5f, 0.5f);
  g.SetInitializer("W", w);
  g.SetInitializer("R", r);
  AddTestNode(&g, "GRU", {"X", "W", "R"}, {"Y"}, {IntAttr("hidden_size", 8)});
  Model q = CloneModel(model);
  auto summary = QuantizeDynamic(&q, {});
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  auto dqs = NodesOf(q.graph, OpType::kDequantizeLinear);
  ASSERT_EQ(dqs.size(), 2u);
  EXPECT_EQ(dqs[0]->GetInt("axis", -1), 1);
  EXPECT_EQ(summary->decisions[0].action, NodeDecision::Action::kQuantized);

  Model reference = CloneModel(model);
  for (auto [name, tensor] : {std::pair<const char*, Tensor>{"W", w}, {"R", r}}) {
    auto qw = QuantizeWeight(tensor, {QuantType::kInt8, 1, true, false});
    Tensor deq(kF32, tensor.shape());
    const int64_t rows = tensor.dim(1), cols = tensor.dim(2);
    for (int64_t i = 0; i < tensor.size(); ++i) {
      deq.data<float>()[i] =
          float(qw->values.data<int8_t>()[i]) * qw->scale.data<float>()[(i / cols) % rows];
    }
    reference.graph.SetInitializer(name, deq);
  }
  Tensor x = RandomTensor({5, 2, 6}, 9, -1, 1);
  auto want = RunModel(reference, {{"X", x}});
  auto got = RunModel(q, {{"X", x}});
  ASSERT_TRUE(want.ok() && got.ok()) << got.status().ToString();
  EXPECT_LE(MaxAbsDiff((*want)[0], (*got)[0]), 1e-6);
}

TEST(DynamicQuantizerTest, NonConstantWeightAndExcludedStayFloat) {
  Model model = EmptyModel(13);
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("A", kF32, {2, 4}));
  g.inputs.push_back(TensorInfo("B", kF32, {4, 4}));
  g.outputs.push_back(TensorInfo("Y", kF32, {2, 4}));
  g.SetInitializer("W", RandomTensor({4, 4}, 10, -1, 1));
  AddTestNode(&g, "MatMul", {"A", "B"}, {"t"})->name = "act";
  AddTestNode(&g, "MatMul", {"t", "W"}, {"Y"})->name = "skip";
  DynamicQuantOptions options;
  options.filter.exclude_nodes = {"skip"};
  auto summary = QuantizeDynamic(&model, options);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(NodesOf(model.graph, OpType::kMatMul).size(), 2u);
  EXPECT_EQ(summary->decisions[0].action, NodeDecision::Action::kFloat);
  EXPECT_EQ(summary->decisions[1].action, NodeDecision::Action::kExcluded);
}

}  // namespace
}  // namespace shrink::engine::quant
