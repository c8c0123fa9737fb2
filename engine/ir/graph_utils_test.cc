#include "engine/ir/graph_utils.h"

#include <gtest/gtest.h>

#include "engine/kernels/kernel_test_util.h"

namespace shrink::engine {
namespace {

using testing::AddTestNode;
using testing::GraphAttr;
using testing::TensorInfo;

// x -> Relu -> a -> Neg -> b (output); Abs(x) -> dead
Model Chain() {
  Model model = testing::EmptyModel();
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {2}));
  g.outputs.push_back(TensorInfo("b", DataType::kFloat32, {2}));
  AddTestNode(&g, "Neg", {"a"}, {"b"});  // out of order on purpose
  AddTestNode(&g, "Relu", {"x"}, {"a"});
  AddTestNode(&g, "Abs", {"x"}, {"dead"});
  return model;
}

TEST(GraphUtilsTest, TopologicalOrderPutsProducersFirst) {
  Model model = Chain();
  auto order = TopologicalOrder(model.graph);
  ASSERT_TRUE(order.ok());
  ASSERT_EQ(order->size(), 3u);
  EXPECT_EQ((*order)[0]->op_type, "Relu");
  EXPECT_EQ((*order)[1]->op_type, "Neg");
  ASSERT_TRUE(SortTopologically(&model.graph).ok());
  EXPECT_EQ(model.graph.nodes[0]->op_type, "Relu");
  EXPECT_TRUE(ValidateGraph(model.graph).ok());
}

TEST(GraphUtilsTest, DetectsCyclesDanglingAndDuplicates) {
  Model cyclic = testing::EmptyModel();
  AddTestNode(&cyclic.graph, "Relu", {"b"}, {"a"});
  AddTestNode(&cyclic.graph, "Neg", {"a"}, {"b"});
  cyclic.graph.outputs.push_back(TensorInfo("b", DataType::kFloat32, {}));
  Status cycle = ValidateGraph(cyclic.graph);
  EXPECT_NE(cycle.message().find("cycle"), std::string::npos) << cycle.ToString();

  Model dangling = Chain();
  dangling.graph.nodes[0]->inputs[0] = "nowhere";
  Status missing = ValidateGraph(dangling.graph);
  EXPECT_NE(missing.message().find("'nowhere'"), std::string::npos) << missing.ToString();

  Model duplicate = Chain();
  duplicate.graph.nodes[2]->outputs[0] = "a";
  EXPECT_NE(ValidateGraph(duplicate.graph).message().find("defined more than once"),
            std::string::npos);
}

TEST(GraphUtilsTest, IndexAndEdits) {
  Model model = Chain();
  Graph& g = model.graph;
  GraphIndex index(g);
  EXPECT_EQ(index.Producer("a")->op_type, "Relu");
  EXPECT_EQ(index.Producer("x"), nullptr);
  EXPECT_EQ(index.Consumers("x").size(), 2u);
  EXPECT_TRUE(index.IsGraphOutput("b"));

  EXPECT_EQ(EliminateDeadNodes(&g), 1);
  EXPECT_EQ(g.nodes.size(), 2u);
  // Bypass Relu: Neg reads x directly; Relu becomes dead.
  EXPECT_EQ(ReplaceAllUses(&g, "a", "x"), 1);
  EXPECT_EQ(EliminateDeadNodes(&g), 1);
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0]->inputs[0], "x");
  EXPECT_EQ(UniqueValueName(g, "x"), "x_1");
  EXPECT_EQ(UniqueValueName(g, "fresh"), "fresh");
  Node* inserted = InsertNode(&g, std::make_unique<Node>(), g.nodes[0].get());
  EXPECT_EQ(g.nodes[0].get(), inserted);
  EXPECT_TRUE(RemoveNode(&g, inserted));
  EXPECT_FALSE(RemoveNode(&g, inserted));
}

TEST(GraphUtilsTest, SubgraphReadsCountAsUsesAndRespectShadowing) {
  Model model = testing::EmptyModel();
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("cond", DataType::kBool, {}));
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {2}));
  auto then_branch = std::make_shared<Graph>();
  AddTestNode(then_branch.get(), "Relu", {"x"}, {"t"});
  then_branch->outputs.push_back(TensorInfo("t", DataType::kFloat32, {2}));
  auto else_branch = std::make_shared<Graph>();
  else_branch->inputs.push_back(TensorInfo("x", DataType::kFloat32, {2}));  // shadows x
  AddTestNode(else_branch.get(), "Neg", {"x"}, {"e"});
  else_branch->outputs.push_back(TensorInfo("e", DataType::kFloat32, {2}));
  AddTestNode(&g, "If", {"cond"}, {"y"},
              {GraphAttr("then_branch", then_branch), GraphAttr("else_branch", else_branch)});
  g.outputs.push_back(TensorInfo("y", DataType::kFloat32, {2}));

  EXPECT_EQ(OuterScopeReferences(*then_branch), std::set<std::string>{"x"});
  EXPECT_TRUE(OuterScopeReferences(*else_branch).empty());
  GraphIndex index(g);
  EXPECT_EQ(index.Consumers("x").size(), 1u);
  EXPECT_EQ(ReplaceAllUses(&g, "x", "z"), 1);  // only the then-branch read
  EXPECT_EQ(then_branch->nodes[0]->inputs[0], "z");
  EXPECT_EQ(else_branch->nodes[0]->inputs[0], "x");
  EXPECT_EQ(EliminateDeadNodes(&g), 0);
}

}  // namespace
}  // namespace shrink::engine
