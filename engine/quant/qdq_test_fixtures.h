// Tiny float models for the quantizer tests, named after what they contain, with the feeds
// used to calibrate and compare them. Test-only; shared by engine_quant_qdq_test and
// qdq_ort_test.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "engine/ir/graph_utils.h"
#include "engine/kernels/kernel_test_util.h"
#include "engine/quant/qdq_test_util.h"

namespace shrink::engine::quant::testing {

using engine::testing::AddTestNode;
using engine::testing::EmptyModel;
using engine::testing::GraphAttr;
using engine::testing::IntAttr;
using engine::testing::IntsAttr;
using engine::testing::TensorInfo;

constexpr DataType kF32 = DataType::kFloat32;

struct Fixture {
  Model model;
  std::vector<std::vector<NamedTensor>> feed_sets;
  RangeMap ranges;
};

// Validates the model and observes the min/max range of every float tensor over the feeds.
inline void Finish(Fixture* f) {
  ASSERT_TRUE(ValidateGraph(f->model.graph).ok());
  auto ranges = ObserveRanges(f->model, f->feed_sets);
  ASSERT_TRUE(ranges.ok()) << ranges.status().ToString();
  f->ranges = *ranges;
}

// X[1,2,8,8] -> Conv(pad 1) -> Relu -> MaxPool 2x2 -> Conv(pad 1) -> Add(conv2, pool) -> Y.
inline Fixture ConvChain() {
  Fixture f;
  f.model = EmptyModel(13);
  Graph& g = f.model.graph;
  g.inputs.push_back(TensorInfo("X", kF32, {1, 2, 8, 8}));
  g.outputs.push_back(TensorInfo("Y", kF32, {1, 4, 4, 4}));
  g.SetInitializer("W1", RandomTensor({4, 2, 3, 3}, 1, -0.5f, 0.5f));
  g.SetInitializer("B1", RandomTensor({4}, 2, -0.2f, 0.2f));
  g.SetInitializer("W2", RandomTensor({4, 4, 3, 3}, 3, -0.3f, 0.3f));
  g.SetInitializer("B2", RandomTensor({4}, 4, -0.2f, 0.2f));
  auto pads = IntsAttr("pads", {1, 1, 1, 1});
  AddTestNode(&g, "Conv", {"X", "W1", "B1"}, {"c1"}, {pads})->name = "conv1";
  AddTestNode(&g, "Relu", {"c1"}, {"r1"})->name = "relu1";
  AddTestNode(&g, "MaxPool", {"r1"}, {"p1"},
              {IntsAttr("kernel_shape", {2, 2}), IntsAttr("strides", {2, 2})})
      ->name = "pool";
  AddTestNode(&g, "Conv", {"p1", "W2", "B2"}, {"c2"}, {pads})->name = "conv2";
  AddTestNode(&g, "Add", {"c2", "p1"}, {"Y"})->name = "add";
  for (uint32_t seed = 10; seed < 14; ++seed) {
    f.feed_sets.push_back({{"X", RandomTensor({1, 2, 8, 8}, seed, -1, 1)}});
  }
  Finish(&f);
  return f;
}

// X[3,16] -> Gemm(W, C) -> Y with transB on or off.
inline Fixture GemmFixture(bool trans_b) {
  Fixture f;
  f.model = EmptyModel(13);
  Graph& g = f.model.graph;
  g.inputs.push_back(TensorInfo("X", kF32, {3, 16}));
  g.outputs.push_back(TensorInfo("Y", kF32, {3, 8}));
  g.SetInitializer("W", RandomTensor(trans_b ? Shape{8, 16} : Shape{16, 8}, 5, -0.4f, 0.4f));
  g.SetInitializer("C", RandomTensor({8}, 6, -0.3f, 0.3f));
  AddTestNode(&g, "Gemm", {"X", "W", "C"}, {"Y"}, {IntAttr("transB", trans_b ? 1 : 0)})->name =
      "gemm";
  for (uint32_t seed = 20; seed < 24; ++seed) {
    f.feed_sets.push_back({{"X", RandomTensor({3, 16}, seed, -2, 1)}});
  }
  Finish(&f);
  return f;
}

inline Fixture MatMulFixture() {
  Fixture f;
  f.model = EmptyModel(13);
  Graph& g = f.model.graph;
  g.inputs.push_back(TensorInfo("A", kF32, {3, 16}));
  g.inputs.push_back(TensorInfo("B", kF32, {16, 8}));
  g.outputs.push_back(TensorInfo("Y", kF32, {3, 8}));
  g.outputs.push_back(TensorInfo("Z", kF32, {3, 8}));
  g.SetInitializer("W", RandomTensor({16, 8}, 7, -0.5f, 0.5f));
  AddTestNode(&g, "MatMul", {"A", "W"}, {"Y"})->name = "mm_weight";
  AddTestNode(&g, "MatMul", {"A", "B"}, {"Z"})->name = "mm_act";
  for (uint32_t seed = 30; seed < 33; ++seed) {
    f.feed_sets.push_back({{"A", RandomTensor({3, 16}, seed, -1, 1)},
                           {"B", RandomTensor({16, 8}, seed + 100, -1, 1)}});
  }
  Finish(&f);
  return f;
}

// Concat(X1, X2) -> Reshape -> Y: Concat gets its own range, Reshape shares it.
inline Fixture ConcatReshapeFixture() {
  Fixture f;
  f.model = EmptyModel(13);
  Graph& g = f.model.graph;
  g.inputs.push_back(TensorInfo("X1", kF32, {2, 4}));
  g.inputs.push_back(TensorInfo("X2", kF32, {2, 4}));
  g.outputs.push_back(TensorInfo("Y", kF32, {4, 4}));
  g.SetInitializer("shape", Tensor::FromVector<int64_t>({2}, {4, 4}));
  AddTestNode(&g, "Concat", {"X1", "X2"}, {"cat"}, {IntAttr("axis", 1)})->name = "concat";
  AddTestNode(&g, "Reshape", {"cat", "shape"}, {"Y"})->name = "reshape";
  f.feed_sets.push_back(
      {{"X1", RandomTensor({2, 4}, 40, -1, 1)}, {"X2", RandomTensor({2, 4}, 41, -3, 2)}});
  Finish(&f);
  return f;
}

// If(cond) { MatMul(X, W_outer) } else { MatMul(X, W_inner) }: weights of the outer graph and of
// the subgraph both get a DQ, and the branch's MatMul is quantized.
inline Fixture IfFixture() {
  Fixture f;
  f.model = EmptyModel(13);
  Graph& g = f.model.graph;
  g.inputs.push_back(TensorInfo("X", kF32, {2, 16}));
  g.inputs.push_back(TensorInfo("cond", DataType::kBool, {}));
  g.outputs.push_back(TensorInfo("Y", kF32, {2, 8}));
  g.SetInitializer("W_outer", RandomTensor({16, 8}, 50, -0.5f, 0.5f));
  auto then_branch = std::make_shared<Graph>();
  then_branch->name = "then";
  AddTestNode(then_branch.get(), "MatMul", {"X", "W_outer"}, {"t_out"})->name = "mm_then";
  then_branch->outputs.push_back(TensorInfo("t_out", kF32, {2, 8}));
  auto else_branch = std::make_shared<Graph>();
  else_branch->name = "else";
  else_branch->SetInitializer("W_inner", RandomTensor({16, 8}, 51, -0.5f, 0.5f));
  AddTestNode(else_branch.get(), "MatMul", {"X", "W_inner"}, {"e_out"})->name = "mm_else";
  else_branch->outputs.push_back(TensorInfo("e_out", kF32, {2, 8}));
  AddTestNode(&g, "If", {"cond"}, {"Y"},
              {GraphAttr("then_branch", then_branch), GraphAttr("else_branch", else_branch)})
      ->name = "if";
  for (bool c : {true, false}) {
    f.feed_sets.push_back(
        {{"X", RandomTensor({2, 16}, 52, -1, 1)}, {"cond", Tensor::Scalar<bool>(c)}});
  }
  Finish(&f);
  return f;
}

// Conv -> Clip(0, 6) -> Y: the Clip disappears; Relu stays when symmetric int8 cannot clamp.
inline Fixture ClipReluFixture() {
  Fixture f;
  f.model = EmptyModel(13);
  Graph& g = f.model.graph;
  g.inputs.push_back(TensorInfo("X", kF32, {1, 2, 6, 6}));
  g.outputs.push_back(TensorInfo("Y", kF32, {1, 3, 4, 4}));
  g.outputs.push_back(TensorInfo("R", kF32, {1, 3, 4, 4}));
  g.SetInitializer("W", RandomTensor({3, 2, 3, 3}, 60, -1.5f, 1.5f));
  g.SetInitializer("lo", Tensor::Scalar<float>(0));
  g.SetInitializer("hi", Tensor::Scalar<float>(6));
  AddTestNode(&g, "Conv", {"X", "W"}, {"c"})->name = "conv";
  AddTestNode(&g, "Clip", {"c", "lo", "hi"}, {"Y"})->name = "clip";
  AddTestNode(&g, "Conv", {"X", "W"}, {"c2"})->name = "conv_relu";
  AddTestNode(&g, "Relu", {"c2"}, {"R"})->name = "relu";
  for (uint32_t seed = 61; seed < 64; ++seed) {
    f.feed_sets.push_back({{"X", RandomTensor({1, 2, 6, 6}, seed, -1, 1)}});
  }
  Finish(&f);
  return f;
}

// X -> Conv -> LeakyRelu -> Max(x, -0.4) -> Conv -> Y (the Max is a clamp the Q can absorb).
inline Fixture LeakyMaxFixture() {
  Fixture f;
  f.model = EmptyModel(13);
  Graph& g = f.model.graph;
  g.inputs.push_back(TensorInfo("X", kF32, {1, 3, 6, 6}));
  g.outputs.push_back(TensorInfo("Y", kF32, {1, 4, 6, 6}));
  g.SetInitializer("W1", RandomTensor({4, 3, 3, 3}, 80, -0.8f, 0.8f));
  g.SetInitializer("W2", RandomTensor({4, 4, 1, 1}, 81, -0.8f, 0.8f));
  g.SetInitializer("floor", Tensor::FromVector<float>({1, 1, 1, 1}, {-0.4f}));
  AddTestNode(&g, "Conv", {"X", "W1"}, {"c1"}, {IntsAttr("pads", {1, 1, 1, 1})})->name = "conv1";
  AddTestNode(&g, "LeakyRelu", {"c1"}, {"l1"}, {engine::testing::FloatAttr("alpha", 0.2f)})->name =
      "leaky";
  AddTestNode(&g, "Max", {"l1", "floor"}, {"m1"})->name = "max";
  AddTestNode(&g, "Conv", {"m1", "W2"}, {"Y"})->name = "conv2";
  for (uint32_t seed = 82; seed < 85; ++seed) {
    f.feed_sets.push_back({{"X", RandomTensor({1, 3, 6, 6}, seed, -2, 2)}});
  }
  Finish(&f);
  return f;
}

// X[1,4,5,5] -> ConvTranspose(group 2, stride 2, W [4, 3, 3, 3], B [6]) -> Y[1,6,11,11].
inline Fixture ConvTransposeFixture() {
  Fixture f;
  f.model = EmptyModel(13);
  Graph& g = f.model.graph;
  g.inputs.push_back(TensorInfo("X", kF32, {1, 4, 5, 5}));
  g.outputs.push_back(TensorInfo("Y", kF32, {1, 6, 11, 11}));
  g.SetInitializer("W", RandomTensor({4, 3, 3, 3}, 90, -0.5f, 0.5f));
  g.SetInitializer("B", RandomTensor({6}, 91, -0.5f, 0.5f));
  AddTestNode(&g, "ConvTranspose", {"X", "W", "B"}, {"Y"},
              {IntAttr("group", 2), IntsAttr("strides", {2, 2})})
      ->name = "deconv";
  for (uint32_t seed = 92; seed < 94; ++seed) {
    f.feed_sets.push_back({{"X", RandomTensor({1, 4, 5, 5}, seed, -1, 1)}});
  }
  Finish(&f);
  return f;
}

}  // namespace shrink::engine::quant::testing
