#include "engine/passes/share_constants.h"

#include "engine/passes/passes_test_util.h"

namespace shrink::engine::passes_test {
namespace {

constexpr DataType kF32 = DataType::kFloat32;

// Both branches of an If hold the same 512-float weight under different names (what folding a
// slice of an outer weight leaves behind), plus a small identical constant and a differing one.
// Only the large identical pair is shared.
Model DuplicatedBranchWeights() {
  Model model = testing::EmptyModel();
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", kF32, {512}));
  g.inputs.push_back(TensorInfo("cond", DataType::kBool, {}));
  g.outputs.push_back(TensorInfo("y", kF32, {}));
  g.outputs.back().type.has_shape = false;
  auto branch = [](const std::string& name, uint64_t other_seed) {
    auto sub = Branch(name, name + "_out");
    sub->SetInitializer(name + "_w", Random({512}, 1, -1, 1));
    sub->SetInitializer(name + "_small", Random({4}, 2, -1, 1));
    sub->SetInitializer(name + "_other", Random({512}, other_seed, -1, 1));
    AddTestNode(sub.get(), "Mul", {"x", name + "_w"}, {name + "_a"});
    AddTestNode(sub.get(), "Add", {name + "_a", name + "_other"}, {name + "_b"});
    AddTestNode(sub.get(), "ReduceSum", {name + "_b"}, {name + "_s"}, {IntAttr("keepdims", 1)});
    AddTestNode(sub.get(), "Mul", {name + "_s", name + "_small"}, {name + "_out"});
    return sub;
  };
  AddTestNode(
      &g, "If", {"cond"}, {"y"},
      {GraphAttr("then_branch", branch("then", 3)), GraphAttr("else_branch", branch("else", 4))});
  return model;
}

TEST(ShareSubgraphConstantsTest, Fixtures) {
  auto pass = [](Model* model) { return ShareSubgraphConstants(model); };
  auto check = [](const Model& m) {
    EXPECT_EQ(m.graph.num_initializers(), 1u);
    const Graph* then_branch = m.graph.nodes[0]->GetGraph("then_branch");
    EXPECT_EQ(then_branch->num_initializers(), 2u);  // the small one and the differing one
    EXPECT_EQ(OuterScopeReferences(*then_branch).count(m.graph.initializer_names()[0]), 1u);
  };
  std::vector<PassCase> cases = {
      {"If branches, cond=1", DuplicatedBranchWeights, pass, 1, 0.0, CondOptions(true), check},
      {"If branches, cond=0", DuplicatedBranchWeights, pass, 1, 0.0, CondOptions(false)},
  };
  for (const PassCase& test_case : cases) RunCase(test_case);
}

}  // namespace
}  // namespace shrink::engine::passes_test
