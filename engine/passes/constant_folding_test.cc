#include "engine/passes/constant_folding.h"

#include <gtest/gtest.h>

#include "engine/io/onnx_import.h"
#include "engine/kernels/kernel_test_util.h"
#include "engine/runtime/executor.h"

namespace shrink::engine {
namespace {

using testing::AddTestNode;
using testing::TensorAttr;
using testing::TensorInfo;

// Runs a model before and after a pass on the same inputs; outputs must be bit-identical
// (folding runs the same kernels on the same values).
void ExpectSameOutputs(const Model& before, const Model& after,
                       const std::vector<NamedTensor>& feeds) {
  auto run = [&](const Model& model) {
    auto executor = Executor::Create(model);
    EXPECT_TRUE(executor.ok()) << executor.status().ToString();
    auto outputs = (*executor)->Run(feeds);
    EXPECT_TRUE(outputs.ok()) << outputs.status().ToString();
    return std::move(outputs).value();
  };
  std::vector<Tensor> expected = run(before), actual = run(after);
  ASSERT_EQ(expected.size(), actual.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_TRUE(expected[i].BitwiseEquals(actual[i]));
}

TEST(ConstantFoldingTest, FoldsConstantSubexpressionsOnly) {
  Model model = testing::EmptyModel();
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {2}));
  g.outputs.push_back(TensorInfo("y", DataType::kFloat32, {2}));
  g.SetInitializer("a", Tensor::FromVector<float>({2}, {1, 2}));
  AddTestNode(&g, "Constant", {}, {"b"},
              {TensorAttr("value", Tensor::FromVector<float>({2}, {10, 20}))});
  AddTestNode(&g, "Mul", {"a", "b"}, {"ab"});    // constant
  AddTestNode(&g, "Neg", {"ab"}, {"nab"});       // constant through a folded value
  AddTestNode(&g, "Add", {"x", "nab"}, {"y"});   // depends on the input: stays
  std::unique_ptr<Graph> original = g.Clone();
  Model before = testing::EmptyModel();
  before.graph = std::move(*original);

  auto changed = FoldConstants(&model);
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_TRUE(*changed);
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0]->op_type, "Add");
  const Tensor* folded = g.FindInitializer("nab");
  ASSERT_NE(folded, nullptr);
  EXPECT_EQ(folded->data<float>()[1], -40.0f);
  ExpectSameOutputs(before, model, {{"x", Tensor::FromVector<float>({2}, {0.5f, 3})}});
  EXPECT_FALSE(*FoldConstants(&model));  // nothing left to fold
}

TEST(ConstantFoldingTest, InitializersThatAreInputsAreNotConstant) {
  Model model = testing::EmptyModel();
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("w", DataType::kFloat32, {2}));
  g.outputs.push_back(TensorInfo("y", DataType::kFloat32, {2}));
  g.SetInitializer("w", Tensor::FromVector<float>({2}, {1, 2}));  // a default the caller may override
  AddTestNode(&g, "Neg", {"w"}, {"y"});
  EXPECT_FALSE(*FoldConstants(&model));
  EXPECT_EQ(g.nodes.size(), 1u);
}

// A subgraph computing on a constant of the enclosing graph (silero slices its LSTM weights
// inside If branches) folds too; a subgraph value that shadows nothing but is fed stays.
TEST(ConstantFoldingTest, SubgraphsSeeConstantsOfEnclosingScopes) {
  Model model = testing::EmptyModel();
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("cond", DataType::kBool, {}));
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {2}));
  g.outputs.push_back(TensorInfo("y", DataType::kFloat32, {2}));
  g.SetInitializer("w", Tensor::FromVector<float>({2}, {3, 4}));
  auto branch = [](const std::string& name, const std::string& op) {
    auto sub = std::make_shared<Graph>();
    sub->name = name;
    sub->outputs.push_back(TensorInfo(name + "_out", DataType::kFloat32, {2}));
    AddTestNode(sub.get(), op, {"w"}, {name + "_w"});            // outer constant: folds
    AddTestNode(sub.get(), "Add", {"x", name + "_w"}, {name + "_out"});  // reads x: stays
    return sub;
  };
  AddTestNode(&g, "If", {"cond"}, {"y"},
              {testing::GraphAttr("then_branch", branch("then", "Neg")),
               testing::GraphAttr("else_branch", branch("else", "Abs"))});
  Model before = testing::EmptyModel();
  before.graph = std::move(*g.Clone());
  ASSERT_TRUE(*FoldConstants(&model));
  const Graph* then_branch = g.nodes[0]->GetGraph("then_branch");
  ASSERT_EQ(then_branch->nodes.size(), 1u);
  ASSERT_NE(then_branch->FindInitializer("then_w"), nullptr);
  EXPECT_EQ(then_branch->FindInitializer("then_w")->data<float>()[1], -4.0f);
  for (bool cond : {false, true}) {
    ExpectSameOutputs(before, model, {{"cond", Tensor::Scalar<bool>(cond)},
                                      {"x", Tensor::FromVector<float>({2}, {0.5f, 3})}});
  }
}

TEST(ConstantFoldingTest, RealModelsKeepTheirOutputs) {
  for (const char* path : {SHRINK_SHARED_MODELS_DIR "/digits_gru.onnx"}) {
    auto model = LoadModel(path);
    ASSERT_TRUE(model.ok());
    auto before = LoadModel(path);
    auto changed = FoldConstants(&*model);
    ASSERT_TRUE(changed.ok()) << changed.status().ToString();
    EXPECT_TRUE(*changed);  // its Constant nodes become initializers
    Tensor input(DataType::kFloat32, {3, 28, 28});
    for (int64_t i = 0; i < input.size(); ++i) input.data<float>()[i] = float(i % 17) / 17.0f;
    ExpectSameOutputs(*before, *model, {{"input", input}});
  }
}

}  // namespace
}  // namespace shrink::engine
