#include "engine/passes/remove_identity.h"

#include "engine/passes/passes_test_util.h"

namespace shrink::engine::passes_test {
namespace {

constexpr DataType kF32 = DataType::kFloat32;

Model OneInput(int64_t opset = 17) {
  Model model = testing::EmptyModel(opset);
  model.graph.inputs.push_back(TensorInfo("x", kF32, {2, 3}));
  return model;
}

Model IdentityInsideChain() {
  Model model = OneInput();
  Graph& g = model.graph;
  g.outputs.push_back(TensorInfo("y", kF32, {2, 3}));
  AddTestNode(&g, "Relu", {"x"}, {"a"});
  AddTestNode(&g, "Identity", {"a"}, {"b"});
  AddTestNode(&g, "Identity", {"b"}, {"c"});  // chains collapse in one run
  AddTestNode(&g, "Add", {"c", "x"}, {"y"});
  return model;
}

// The Identity output is a graph output: Relu takes its name; Neg, another reader of the
// Relu, follows.
Model IdentityToGraphOutput() {
  Model model = OneInput();
  Graph& g = model.graph;
  g.outputs.push_back(TensorInfo("y", kF32, {2, 3}));
  g.outputs.push_back(TensorInfo("z", kF32, {2, 3}));
  AddTestNode(&g, "Relu", {"x"}, {"a"});
  AddTestNode(&g, "Identity", {"a"}, {"y"});
  AddTestNode(&g, "Neg", {"a"}, {"z"});
  return model;
}

// Nothing to do: input -> output, initializer -> output, and a value that is an output itself.
Model IdentitiesThatStay() {
  Model model = OneInput();
  Graph& g = model.graph;
  g.outputs.push_back(TensorInfo("y", kF32, {2, 3}));
  g.outputs.push_back(TensorInfo("w_out", kF32, {3}));
  g.outputs.push_back(TensorInfo("a", kF32, {2, 3}));
  g.outputs.push_back(TensorInfo("a_copy", kF32, {2, 3}));
  g.SetInitializer("w", Random({3}, 1, -1, 1));
  AddTestNode(&g, "Identity", {"x"}, {"y"});
  AddTestNode(&g, "Identity", {"w"}, {"w_out"});
  AddTestNode(&g, "Relu", {"x"}, {"a"});
  AddTestNode(&g, "Identity", {"a"}, {"a_copy"});
  return model;
}

Model Dropouts(bool mask_is_output, bool training_input) {
  Model model = OneInput(13);
  Graph& g = model.graph;
  g.outputs.push_back(TensorInfo("y", kF32, {2, 3}));
  std::vector<std::string> outputs = {"d"};
  if (mask_is_output) {
    outputs.push_back("mask");
    g.outputs.push_back(TensorInfo("mask", DataType::kBool, {2, 3}));
  }
  std::vector<std::string> inputs = {"x"};
  if (training_input) {
    g.SetInitializer("ratio", Tensor::Scalar<float>(0.5f));
    g.SetInitializer("training", Tensor::Scalar<bool>(false));
    inputs = {"x", "ratio", "training"};
  }
  AddTestNode(&g, "Dropout", inputs, outputs);
  AddTestNode(&g, "Sigmoid", {"d"}, {"y"});
  return model;
}

// Main graph: v = Identity(x), read by both If branches from the outer scope (rewired to x).
// then: o = Neg(Identity(Relu(v)))  - the inner Identity goes.
// else: o = Identity(v)             - passes an outer value through: stays.
Model IdentityInSubgraphs() {
  Model model = OneInput();
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("cond", DataType::kBool, {}));
  g.outputs.push_back(TensorInfo("y", kF32, {2, 3}));
  AddTestNode(&g, "Identity", {"x"}, {"v"});
  auto then_branch = Branch("then", "o_then");
  AddTestNode(then_branch.get(), "Relu", {"v"}, {"r"});
  AddTestNode(then_branch.get(), "Identity", {"r"}, {"t"});
  AddTestNode(then_branch.get(), "Neg", {"t"}, {"o_then"});
  auto else_branch = Branch("else", "o_else");
  AddTestNode(else_branch.get(), "Identity", {"v"}, {"o_else"});
  AddTestNode(&g, "If", {"cond"}, {"y"},
              {GraphAttr("then_branch", then_branch), GraphAttr("else_branch", else_branch)});
  return model;
}

TEST(RemoveIdentityTest, Fixtures) {
  std::vector<PassCase> cases = {
      {"chain", IdentityInsideChain, RemoveIdentity, 2, 0.0, {}, ExpectOps(OpType::kIdentity, 0)},
      {"graph output renames producer",
       IdentityToGraphOutput,
       RemoveIdentity,
       1,
       0.0,
       {},
       [](const Model& m) {
         EXPECT_EQ(CountOps(m.graph, OpType::kIdentity), 0);
         EXPECT_EQ(m.graph.nodes[0]->outputs[0], "y");
         EXPECT_EQ(m.graph.nodes[1]->inputs[0], "y");
       }},
      {"do not touch",
       IdentitiesThatStay,
       RemoveIdentity,
       0,
       0.0,
       {},
       ExpectOps(OpType::kIdentity, 3)},
      {"inference dropout", [] { return Dropouts(false, false); }, RemoveIdentity, 1, 0.0},
      {"dropout training_mode=false", [] { return Dropouts(false, true); }, RemoveIdentity, 1, 0.0},
      {"dropout with mask output stays", [] { return Dropouts(true, false); }, RemoveIdentity, 0,
       0.0},
      {"subgraphs, then", IdentityInSubgraphs, RemoveIdentity, 2, 0.0, CondOptions(true),
       ExpectOps(OpType::kIdentity, 1)},
      {"subgraphs, else", IdentityInSubgraphs, RemoveIdentity, 2, 0.0, CondOptions(false)},
  };
  for (const PassCase& test_case : cases) RunCase(test_case);
}

TEST(RemoveIdentityTest, SubgraphReadsFollowTheBypass) {
  Model model = IdentityInSubgraphs();
  ASSERT_TRUE(RemoveIdentity(&model).ok());
  const Graph* then_branch = model.graph.nodes[0]->GetGraph("then_branch");
  ASSERT_NE(then_branch, nullptr);
  EXPECT_EQ(then_branch->nodes[0]->inputs[0], "x");
  EXPECT_EQ(OuterScopeReferences(*then_branch), std::set<std::string>{"x"});
}

}  // namespace
}  // namespace shrink::engine::passes_test
