#include "engine/passes/fold_fp16_casts.h"

#include "engine/passes/passes_test_util.h"

namespace shrink::engine::passes_test {
namespace {

constexpr DataType kF32 = DataType::kFloat32;

Tensor HalfOf(const Tensor& wide, DataType dtype) {
  Tensor half(dtype, wide.shape());
  for (int64_t i = 0; i < wide.size(); ++i) {
    float value = wide.data<float>()[i];
    uint32_t bits;
    std::memcpy(&bits, &value, sizeof(bits));
    half.data<uint16_t>()[i] =
        dtype == DataType::kFloat16 ? FloatToHalf(value) : uint16_t(bits >> 16);
  }
  return half;
}

Attribute CastTo(DataType dtype) { return IntAttr("to", int64_t(dtype)); }

// The weights-only float16 layout: W16 -> Cast -> Conv, B16 (a Constant node) -> Cast -> Add,
// plus a bfloat16 initializer. Three casts fold.
Model HalfWeights() {
  Model model = testing::EmptyModel();
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", kF32, {1, 3, 5, 5}));
  g.outputs.push_back(TensorInfo("y", kF32, {1, 4, 3, 3}));
  g.SetInitializer("w16", HalfOf(Random({4, 3, 3, 3}, 1, -1, 1), DataType::kFloat16));
  g.SetInitializer("s16", HalfOf(Random({1, 4, 1, 1}, 2, -1, 1), DataType::kBFloat16));
  AddTestNode(&g, "Constant", {}, {"b16"},
              {TensorAttr("value", HalfOf(Random({1, 4, 1, 1}, 3, -1, 1), DataType::kFloat16))});
  AddTestNode(&g, "Cast", {"w16"}, {"w"}, {CastTo(kF32)});
  AddTestNode(&g, "Cast", {"b16"}, {"b"}, {CastTo(kF32)});
  AddTestNode(&g, "Cast", {"s16"}, {"s"}, {CastTo(kF32)});
  AddTestNode(&g, "Conv", {"x", "w"}, {"z"});
  AddTestNode(&g, "Add", {"z", "b"}, {"zb"});
  AddTestNode(&g, "Mul", {"zb", "s"}, {"y"});
  return model;
}

// Casts that stay: of a computed value, to float16, and one whose output is a graph output.
Model CastsThatStay() {
  Model model = testing::EmptyModel();
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", kF32, {4}));
  g.outputs.push_back(TensorInfo("y", kF32, {4}));
  g.outputs.push_back(TensorInfo("h", DataType::kFloat16, {4}));
  g.outputs.push_back(TensorInfo("k", kF32, {4}));
  g.SetInitializer("w32", Random({4}, 4, -1, 1));
  g.SetInitializer("k16", HalfOf(Random({4}, 5, -1, 1), DataType::kFloat16));
  AddTestNode(&g, "Cast", {"x"}, {"h"}, {CastTo(DataType::kFloat16)});
  AddTestNode(&g, "Cast", {"h"}, {"xr"}, {CastTo(kF32)});
  AddTestNode(&g, "Add", {"xr", "w32"}, {"y"});
  AddTestNode(&g, "Cast", {"k16"}, {"k"}, {CastTo(kF32)});
  return model;
}

// If branch casting an outer float16 initializer.
Model CastInSubgraph() {
  Model model = testing::EmptyModel();
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", kF32, {4}));
  g.inputs.push_back(TensorInfo("cond", DataType::kBool, {}));
  g.outputs.push_back(TensorInfo("y", kF32, {}));
  g.outputs.back().type.has_shape = false;
  g.SetInitializer("w16", HalfOf(Random({4}, 6, -1, 1), DataType::kFloat16));
  auto then_branch = Branch("then", "o_then");
  AddTestNode(then_branch.get(), "Cast", {"w16"}, {"w"}, {CastTo(kF32)});
  AddTestNode(then_branch.get(), "Mul", {"x", "w"}, {"o_then"});
  auto else_branch = Branch("else", "o_else");
  AddTestNode(else_branch.get(), "Neg", {"x"}, {"o_else"});
  AddTestNode(&g, "If", {"cond"}, {"y"},
              {GraphAttr("then_branch", then_branch), GraphAttr("else_branch", else_branch)});
  return model;
}

TEST(FoldFp16CastsTest, Fixtures) {
  // Widening float16/bfloat16 to float32 is exact: outputs must be bit-identical.
  std::vector<PassCase> cases = {
      {"float16 weights",
       HalfWeights,
       FoldFp16Casts,
       3,
       0.0,
       {},
       [](const Model& m) {
         EXPECT_EQ(CountOps(m.graph, OpType::kCast), 0);
         EXPECT_EQ(CountOps(m.graph, OpType::kConstant), 0);
         EXPECT_FALSE(m.graph.HasInitializer("w16"));
         ASSERT_TRUE(m.graph.HasInitializer("w"));
         EXPECT_EQ(m.graph.FindInitializer("w")->dtype(), DataType::kFloat32);
       }},
      {"casts that stay", CastsThatStay, FoldFp16Casts, 0, 0.0, {}, ExpectOps(OpType::kCast, 3)},
      {"If branch, cond=1", CastInSubgraph, FoldFp16Casts, 1, 0.0, CondOptions(true)},
      {"If branch, cond=0", CastInSubgraph, FoldFp16Casts, 1, 0.0, CondOptions(false)},
  };
  for (const PassCase& test_case : cases) RunCase(test_case);
}

}  // namespace
}  // namespace shrink::engine::passes_test
