// Values the static quantizer keeps float on purpose: what feeds a dynamic-range compression
// (Log, Sqrt, divisors) and model state that is fed back between runs.
#include <gtest/gtest.h>

#include "engine/kernels/kernel_test_util.h"
#include "engine/quant/qdq_quantizer.h"
#include "engine/quant/qdq_test_fixtures.h"

namespace shrink::engine::quant {
namespace {

using engine::testing::AddTestNode;
using engine::testing::EmptyModel;
using engine::testing::IntAttr;
using engine::testing::IntsAttr;
using engine::testing::TensorInfo;
using namespace testing;  // NOLINT: the fixtures and helpers of this test

// X -> MatMul -> square -> MatMul (a mel filter) -> Log -> MatMul (head) -> Y, plus a
// LayerNorm-like branch: H -> proj -> ReduceMean -> Sqrt -> Div(proj, sqrt) -> Z.
Fixture LogFrontEnd() {
  Fixture f;
  f.model = EmptyModel(13);
  Graph& g = f.model.graph;
  g.inputs.push_back(TensorInfo("X", kF32, {4, 8}));
  g.inputs.push_back(TensorInfo("H", kF32, {4, 8}));
  g.outputs.push_back(TensorInfo("Y", kF32, {4, 8}));
  g.outputs.push_back(TensorInfo("Z", kF32, {4, 8}));
  for (int i = 1; i <= 4; ++i) {
    g.SetInitializer("W" + std::to_string(i), RandomTensor({8, 8}, 80 + uint32_t(i), -1, 1));
  }
  g.SetInitializer("eps", Tensor::Scalar<float>(1e-3f));
  AddTestNode(&g, "MatMul", {"X", "W1"}, {"spec"})->name = "stft";
  AddTestNode(&g, "Mul", {"spec", "spec"}, {"power"})->name = "square";
  AddTestNode(&g, "MatMul", {"power", "W2"}, {"mel"})->name = "mel";
  AddTestNode(&g, "Abs", {"mel"}, {"mel_abs"})->name = "abs";
  AddTestNode(&g, "Add", {"mel_abs", "eps"}, {"mel_eps"})->name = "floor";
  AddTestNode(&g, "Log", {"mel_eps"}, {"logmel"})->name = "log";
  AddTestNode(&g, "MatMul", {"logmel", "W3"}, {"Y"})->name = "head";
  AddTestNode(&g, "MatMul", {"H", "W4"}, {"proj"})->name = "proj";
  AddTestNode(&g, "ReduceMean", {"proj"}, {"mean"}, {IntsAttr("axes", {1})})->name = "mean";
  AddTestNode(&g, "Abs", {"mean"}, {"mean_abs"})->name = "mean_abs";
  AddTestNode(&g, "Sqrt", {"mean_abs"}, {"root"})->name = "sqrt";
  AddTestNode(&g, "Div", {"proj", "root"}, {"Z"})->name = "div";
  for (uint32_t seed = 90; seed < 93; ++seed) {
    f.feed_sets.push_back(
        {{"X", RandomTensor({4, 8}, seed, -1, 1)}, {"H", RandomTensor({4, 8}, seed + 10, -1, 1)}});
  }
  Finish(&f);
  return f;
}

TEST(QdqPrecisionTest, WhatFeedsLogOrSqrtStaysFloatUpToAReduction) {
  Fixture f = LogFrontEnd();
  Model q = CloneModel(f.model);
  auto summary = QuantizeStatic(&q, f.ranges, {});
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  for (const char* name : {"stft", "square", "mel", "floor"}) {
    const NodeDecision* d = Decision(*summary, name);
    ASSERT_NE(d, nullptr) << name;
    EXPECT_EQ(d->action, NodeDecision::Action::kFloat) << name;
    EXPECT_NE(d->reason.find("Log, Sqrt"), std::string::npos) << name << ": " << d->reason;
  }
  // After the Log the values are well scaled again; the ReduceMean stops the Sqrt's reach, so
  // the LayerNorm-style projection is quantized.
  EXPECT_EQ(Decision(*summary, "head")->action, NodeDecision::Action::kQuantized);
  EXPECT_EQ(Decision(*summary, "proj")->action, NodeDecision::Action::kQuantized);
}

// Stateful: m = X W; a = m + S; stateN = Concat(a, m); Y = a W2.
Fixture StatefulFixture() {
  Fixture f;
  f.model = EmptyModel(13);
  Graph& g = f.model.graph;
  g.inputs.push_back(TensorInfo("X", kF32, {1, 8}));
  g.inputs.push_back(TensorInfo("S", kF32, {1, 8}));
  g.outputs.push_back(TensorInfo("Y", kF32, {1, 8}));
  g.outputs.push_back(TensorInfo("stateN", kF32, {2, 8}));
  g.SetInitializer("W", RandomTensor({8, 8}, 95, -1, 1));
  g.SetInitializer("W2", RandomTensor({8, 8}, 96, -1, 1));
  AddTestNode(&g, "MatMul", {"X", "W"}, {"m"})->name = "mm";
  AddTestNode(&g, "Add", {"m", "S"}, {"a"})->name = "add";
  AddTestNode(&g, "Concat", {"a", "m"}, {"stateN"}, {IntAttr("axis", 0)})->name = "cat";
  AddTestNode(&g, "MatMul", {"a", "W2"}, {"Y"})->name = "head";
  for (uint32_t seed = 97; seed < 100; ++seed) {
    f.feed_sets.push_back(
        {{"X", RandomTensor({1, 8}, seed, -1, 1)}, {"S", RandomTensor({1, 8}, seed + 10, -1, 1)}});
  }
  Finish(&f);
  return f;
}

TEST(QdqPrecisionTest, StateOutputsAndWhatTheyCarryStayFloat) {
  Fixture f = StatefulFixture();
  Model plain = CloneModel(f.model);
  auto unmarked = QuantizeStatic(&plain, f.ranges, {});
  ASSERT_TRUE(unmarked.ok());
  EXPECT_EQ(Decision(*unmarked, "cat")->action, NodeDecision::Action::kQuantized);

  Model q = CloneModel(f.model);
  StaticQuantOptions options;
  options.float_outputs = {"stateN"};
  auto summary = QuantizeStatic(&q, f.ranges, options);
  ASSERT_TRUE(summary.ok());
  for (const char* name : {"cat", "add", "mm"}) {
    const NodeDecision* d = Decision(*summary, name);
    EXPECT_EQ(d->action, NodeDecision::Action::kFloat) << name;
    EXPECT_NE(d->reason.find("state"), std::string::npos) << name << ": " << d->reason;
  }
  // The head reads `a`, which is state: quantizing its input would quantize the state too.
  const NodeDecision* head = Decision(*summary, "head");
  EXPECT_EQ(head->action, NodeDecision::Action::kFloat);
  EXPECT_NE(head->reason.find("reads 'a'"), std::string::npos) << head->reason;
  // stateN is bit-exact: nothing on its path is quantized.
  auto float_out = RunModel(f.model, f.feed_sets[0]);
  auto quant_out = RunModel(q, f.feed_sets[0]);
  ASSERT_TRUE(float_out.ok() && quant_out.ok());
  EXPECT_EQ(MaxAbsDiff((*float_out)[1], (*quant_out)[1]), 0.0);
}

TEST(QdqPrecisionTest, IncludeListKeepsClampsWithTheirProducer) {
  Fixture f = ConvChain();
  StaticQuantOptions options;
  options.filter.include_ops = {"Conv", "MaxPool", "Add"};  // like the latency preset
  Model q = CloneModel(f.model);
  auto summary = QuantizeStatic(&q, f.ranges, options);
  ASSERT_TRUE(summary.ok());
  const NodeDecision* relu = Decision(*summary, "relu1");
  EXPECT_EQ(relu->action, NodeDecision::Action::kQuantized) << relu->reason;
  EXPECT_NE(relu->reason.find("absorbed"), std::string::npos);

  options.filter.exclude_ops = {"Relu"};  // an explicit exclusion keeps it
  Model kept = CloneModel(f.model);
  auto excluded = QuantizeStatic(&kept, f.ranges, options);
  ASSERT_TRUE(excluded.ok());
  EXPECT_NE(Decision(*excluded, "relu1")->action, NodeDecision::Action::kQuantized);
}

}  // namespace
}  // namespace shrink::engine::quant
