#include "engine/passes/fuse_bias.h"

#include "engine/passes/passes_test_util.h"

namespace shrink::engine::passes_test {
namespace {

constexpr DataType kF32 = DataType::kFloat32;

// Weights in [-0.5, 0.5], biases and addends in [-1, 1], inputs in [-1, 1]: the sum of n terms
// plus two bias terms is at most n / 2 + 2.
double BiasTolerance(int64_t n) { return SumTolerance(n + 2, 0.5 * double(n) + 2); }

struct AddSpec {
  std::string name;
  Shape addend_shape;
  bool conv_bias;
  bool addend_first;
  int expected;
};

// x [1, 3, 5, 5] -> Conv (4 out, 3x3) -> Add(constant) -> y (a graph output)
Model ConvAdd(const AddSpec& spec) {
  Model model = testing::EmptyModel();
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", kF32, {1, 3, 5, 5}));
  g.outputs.push_back(TensorInfo("y", kF32, {}));
  g.outputs.back().type.has_shape = false;
  g.SetInitializer("w", Random({4, 3, 3, 3}, 1, -0.5f, 0.5f));
  std::vector<std::string> conv_inputs = {"x", "w"};
  if (spec.conv_bias) {
    g.SetInitializer("b", Random({4}, 2, -1, 1));
    conv_inputs.push_back("b");
  }
  AddTestNode(&g, "Conv", conv_inputs, {"z"});
  g.SetInitializer("c", Random(spec.addend_shape, 3, -1, 1));
  AddTestNode(
      &g, "Add",
      spec.addend_first ? std::vector<std::string>{"c", "z"} : std::vector<std::string>{"z", "c"},
      {"y"});
  return model;
}

// x (2-D or 3-D) -> MatMul(W [6, 4]) -> Add(constant [4]) -> y
Model MatMulAdd(bool two_d) {
  Model model = testing::EmptyModel();
  Graph& g = model.graph;
  g.inputs.push_back(two_d ? TensorInfo("x", kF32, {3, 6}, {"N"})
                           : TensorInfo("x", kF32, {2, 3, 6}));
  g.outputs.push_back(TensorInfo("y", kF32, {}));
  g.outputs.back().type.has_shape = false;
  g.SetInitializer("w", Random({6, 4}, 4, -0.5f, 0.5f));
  g.SetInitializer("c", Random({4}, 5, -1, 1));
  AddTestNode(&g, "MatMul", {"x", "w"}, {"z"});
  AddTestNode(&g, "Add", {"z", "c"}, {"y"});
  return model;
}

// The Conv output also feeds a Relu: the Add must stay.
Model ConvAddTwoReaders() {
  Model model = ConvAdd({"", {4, 1, 1}, true, false, 0});
  model.graph.outputs.push_back(TensorInfo("r", kF32, {1, 4, 3, 3}));
  AddTestNode(&model.graph, "Relu", {"z"}, {"r"});
  return model;
}

// Loop body: Conv + Add with body-local constants; the weight comes from the outer scope.
Model ConvAddInLoop() {
  Model model = testing::EmptyModel();
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", kF32, {1, 3, 5, 5}));
  g.outputs.push_back(TensorInfo("y", kF32, {}));
  g.outputs.back().type.has_shape = false;
  g.SetInitializer("w", Random({4, 3, 3, 3}, 6, -0.5f, 0.5f));
  g.SetInitializer("trips", Tensor::Scalar<int64_t>(2));
  g.SetInitializer("acc0", Tensor(kF32, {1, 4, 3, 3}));
  auto body = std::make_shared<Graph>();
  body->name = "body";
  body->inputs.push_back(TensorInfo("i", DataType::kInt64, {}));
  body->inputs.push_back(TensorInfo("cond_in", DataType::kBool, {}));
  body->inputs.push_back(TensorInfo("acc", kF32, {1, 4, 3, 3}));
  body->outputs.push_back(TensorInfo("cond_in_out", DataType::kBool, {}));
  body->outputs.push_back(TensorInfo("acc_out", kF32, {1, 4, 3, 3}));
  body->SetInitializer("c", Random({1, 4, 1, 1}, 7, -1, 1));
  AddTestNode(body.get(), "Identity", {"cond_in"}, {"cond_in_out"});
  AddTestNode(body.get(), "Conv", {"x", "w"}, {"z"});
  AddTestNode(body.get(), "Add", {"z", "c"}, {"zc"});
  AddTestNode(body.get(), "Add", {"acc", "zc"}, {"acc_out"});
  AddTestNode(&g, "Loop", {"trips", "", "acc0"}, {"y"}, {GraphAttr("body", body)});
  return model;
}

TEST(FuseBiasTest, Fixtures) {
  std::vector<AddSpec> adds = {
      {"[1,C,1,1] into existing bias", {1, 4, 1, 1}, true, false, 1},
      {"[C,1,1] first operand, bias added", {4, 1, 1}, false, true, 1},
      {"scalar [1] broadcast to every channel", {1}, true, false, 1},
      {"[1,1,1,1,1] has a higher rank: stays", {1, 1, 1, 1, 1}, true, false, 0},
      {"[1,C,3,3] varies spatially: stays", {1, 4, 3, 3}, true, false, 0},
      {"[3] broadcasts over the width: stays", {3}, true, false, 0},
  };
  std::vector<PassCase> cases;
  for (const AddSpec& spec : adds) {
    cases.push_back({"Conv + Add " + spec.name,
                     [spec] { return ConvAdd(spec); },
                     FuseBias,
                     spec.expected,
                     spec.expected ? BiasTolerance(27) : 0.0,
                     {},
                     ExpectOps(OpType::kAdd, 1 - spec.expected)});
  }
  cases.push_back({"MatMul 2-D + Add becomes Gemm",
                   [] { return MatMulAdd(true); },
                   FuseBias,
                   1,
                   BiasTolerance(6),
                   {},
                   ExpectOps(OpType::kGemm, 1)});
  cases.push_back({"MatMul 3-D + Add stays",
                   [] { return MatMulAdd(false); },
                   FuseBias,
                   0,
                   0.0,
                   {},
                   ExpectOps(OpType::kMatMul, 1)});
  cases.push_back({"Conv output read twice", ConvAddTwoReaders, FuseBias, 0, 0.0});
  cases.push_back({"Loop body",
                   ConvAddInLoop,
                   FuseBias,
                   1,
                   2 * BiasTolerance(27),
                   {},
                   ExpectOps(OpType::kAdd, 1)});
  for (const PassCase& test_case : cases) RunCase(test_case);
}

}  // namespace
}  // namespace shrink::engine::passes_test
