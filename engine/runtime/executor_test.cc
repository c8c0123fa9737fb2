#include "engine/runtime/executor.h"

#include <gtest/gtest.h>

#include <map>

#include "engine/kernels/kernel_test_util.h"

namespace shrink::engine {
namespace {

using testing::AddTestNode;
using testing::GraphAttr;
using testing::IntAttr;
using testing::TensorAttr;
using testing::TensorInfo;

// y = Relu(x + w) with w an initializer; z = Neg(y).
Model AddReluNeg() {
  Model model = testing::EmptyModel();
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {-1, 2}, {"N"}));
  g.outputs.push_back(TensorInfo("y", DataType::kFloat32, {-1, 2}, {"N"}));
  g.outputs.push_back(TensorInfo("z", DataType::kFloat32, {-1, 2}, {"N"}));
  g.SetInitializer("w", Tensor::FromVector<float>({2}, {1, -10}));
  AddTestNode(&g, "Add", {"x", "w"}, {"s"});
  AddTestNode(&g, "Relu", {"s"}, {"y"});
  AddTestNode(&g, "Neg", {"y"}, {"z"});
  return model;
}

std::vector<float> Values(const Tensor& t) {
  return std::vector<float>(t.data<float>(), t.data<float>() + t.size());
}

TEST(ExecutorTest, RunsAChainAndKeepsOutputOrder) {
  Model model = AddReluNeg();
  auto executor = Executor::Create(model);
  ASSERT_TRUE(executor.ok()) << executor.status().ToString();
  auto outputs = (*executor)->Run({{"x", Tensor::FromVector<float>({2, 2}, {1, 2, 3, 20})}});
  ASSERT_TRUE(outputs.ok()) << outputs.status().ToString();
  ASSERT_EQ(outputs->size(), 2u);
  EXPECT_EQ(Values((*outputs)[0]), (std::vector<float>{2, 0, 4, 10}));
  EXPECT_EQ(Values((*outputs)[1]), (std::vector<float>{-2, 0, -4, -10}));
}

TEST(ExecutorTest, RejectsBadFeedsWithNamedErrors) {
  Model model = AddReluNeg();
  auto executor = Executor::Create(model);
  ASSERT_TRUE(executor.ok());
  auto wrong_name = (*executor)->Run({{"input", Tensor(DataType::kFloat32, {1, 2})}});
  EXPECT_NE(wrong_name.status().message().find("no input named 'input'"), std::string::npos);
  auto wrong_type = (*executor)->Run({{"x", Tensor(DataType::kInt64, {1, 2})}});
  EXPECT_NE(wrong_type.status().message().find("must be float32, got int64"), std::string::npos);
  auto wrong_dim = (*executor)->Run({{"x", Tensor(DataType::kFloat32, {1, 3})}});
  EXPECT_NE(wrong_dim.status().message().find("dim 1 must be 2"), std::string::npos)
      << wrong_dim.status().ToString();
  auto wrong_rank = (*executor)->Run({{"x", Tensor(DataType::kFloat32, {2})}});
  EXPECT_NE(wrong_rank.status().message().find("rank 1 instead of 2"), std::string::npos);
  auto missing = (*executor)->Run({});
  EXPECT_NE(missing.status().message().find("input 'x' is missing"), std::string::npos);
}

TEST(ExecutorTest, SymbolicDimsMustBindConsistently) {
  Model model = testing::EmptyModel();
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("a", DataType::kFloat32, {-1}, {"N"}));
  g.inputs.push_back(TensorInfo("b", DataType::kFloat32, {-1}, {"N"}));
  g.outputs.push_back(TensorInfo("c", DataType::kFloat32, {-1}, {"N"}));
  AddTestNode(&g, "Add", {"a", "b"}, {"c"});
  auto executor = Executor::Create(model);
  ASSERT_TRUE(executor.ok());
  auto run = (*executor)->Run({{"a", Tensor(DataType::kFloat32, {3})},
                               {"b", Tensor(DataType::kFloat32, {4})}});
  EXPECT_NE(run.status().message().find("('N') is 4 here but 3"), std::string::npos)
      << run.status().ToString();
}

TEST(ExecutorTest, MissingKernelsAreListedTogether) {
  Model model = AddReluNeg();
  AddTestNode(&model.graph, "Frobnicate", {"z"}, {"f1"}, {}, "com.example");
  AddTestNode(&model.graph, "Frobnicate", {"f1"}, {"f2"}, {}, "com.example");
  auto executor = Executor::Create(model);
  ASSERT_FALSE(executor.ok());
  EXPECT_EQ(executor.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(executor.status().message().find("com.example.Frobnicate (2 nodes)"),
            std::string::npos)
      << executor.status().ToString();
}

class RecordingObserver : public TensorObserver {
 public:
  void OnNodeOutput(const Graph&, const Node& node, int index, const Tensor& value) override {
    seen[node.outputs[size_t(index)]] = value.Clone();
  }
  std::map<std::string, Tensor> seen;
};

TEST(ExecutorTest, ObserverSeesEveryIntermediateIncludingSubgraphs) {
  Model model = AddReluNeg();
  auto executor = Executor::Create(model);
  ASSERT_TRUE(executor.ok());
  RecordingObserver observer;
  RunOptions options;
  options.observer = &observer;
  ASSERT_TRUE((*executor)->Run({{"x", Tensor::FromVector<float>({1, 2}, {1, 2})}}, options).ok());
  ASSERT_EQ(observer.seen.size(), 3u);
  EXPECT_EQ(Values(observer.seen["s"]), (std::vector<float>{2, -8}));
}

TEST(ExecutorTest, CancellationStopsBetweenNodes) {
  Model model = AddReluNeg();
  auto executor = Executor::Create(model);
  ASSERT_TRUE(executor.ok());
  std::atomic<bool> cancel{true};
  RunOptions options;
  options.cancel = &cancel;
  auto run = (*executor)->Run({{"x", Tensor(DataType::kFloat32, {1, 2})}}, options);
  EXPECT_EQ(run.status().code(), StatusCode::kCancelled);
}

// If whose branches read an outer value and a Constant; Loop with a carried sum and a scan output.
TEST(ExecutorTest, IfAndLoopSeeOuterScope) {
  Model model = testing::EmptyModel();
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("cond", DataType::kBool, {}));
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {2}));
  g.outputs.push_back(TensorInfo("branch", DataType::kFloat32, {2}));
  g.outputs.push_back(TensorInfo("sum", DataType::kFloat32, {2}));
  g.outputs.push_back(TensorInfo("history", DataType::kFloat32, {-1, 2}));

  auto then_branch = std::make_shared<Graph>();
  AddTestNode(then_branch.get(), "Relu", {"x"}, {"t"});
  then_branch->outputs.push_back(TensorInfo("t", DataType::kFloat32, {2}));
  auto else_branch = std::make_shared<Graph>();
  AddTestNode(else_branch.get(), "Constant", {}, {"k"},
              {TensorAttr("value", Tensor::FromVector<float>({2}, {7, 8}))});
  AddTestNode(else_branch.get(), "Add", {"x", "k"}, {"e"});
  else_branch->outputs.push_back(TensorInfo("e", DataType::kFloat32, {2}));
  AddTestNode(&g, "If", {"cond"}, {"branch"},
              {GraphAttr("then_branch", then_branch), GraphAttr("else_branch", else_branch)});

  auto body = std::make_shared<Graph>();
  body->inputs.push_back(TensorInfo("i", DataType::kInt64, {}));
  body->inputs.push_back(TensorInfo("c_in", DataType::kBool, {}));
  body->inputs.push_back(TensorInfo("acc", DataType::kFloat32, {2}));
  AddTestNode(body.get(), "Add", {"acc", "x"}, {"acc_out"});
  AddTestNode(body.get(), "Identity", {"c_in"}, {"c_out"});
  body->outputs.push_back(TensorInfo("c_out", DataType::kBool, {}));
  body->outputs.push_back(TensorInfo("acc_out", DataType::kFloat32, {2}));
  body->outputs.push_back(TensorInfo("acc_out", DataType::kFloat32, {2}));
  g.SetInitializer("trips", Tensor::Scalar<int64_t>(3));
  g.SetInitializer("zero", Tensor::FromVector<float>({2}, {0, 0}));
  AddTestNode(&g, "Loop", {"trips", "", "zero"}, {"sum", "history"}, {GraphAttr("body", body)});

  auto executor = Executor::Create(model);
  ASSERT_TRUE(executor.ok()) << executor.status().ToString();
  Tensor x = Tensor::FromVector<float>({2}, {-1, 2});
  auto taken = (*executor)->Run({{"cond", Tensor::Scalar<bool>(true)}, {"x", x}});
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_EQ(Values((*taken)[0]), (std::vector<float>{0, 2}));
  EXPECT_EQ(Values((*taken)[1]), (std::vector<float>{-3, 6}));
  EXPECT_EQ((*taken)[2].shape(), (Shape{3, 2}));
  EXPECT_EQ(Values((*taken)[2]), (std::vector<float>{-1, 2, -2, 4, -3, 6}));
  auto other = (*executor)->Run({{"cond", Tensor::Scalar<bool>(false)}, {"x", x}});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(Values((*other)[0]), (std::vector<float>{6, 10}));
}

}  // namespace
}  // namespace shrink::engine
