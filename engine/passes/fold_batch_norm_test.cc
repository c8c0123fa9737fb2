#include "engine/passes/fold_batch_norm.h"

#include "engine/passes/passes_test_util.h"

namespace shrink::engine::passes_test {
namespace {

constexpr DataType kF32 = DataType::kFloat32;

// BN parameters: |scale| <= 1.5, var >= 0.1, so |s| = |scale| / sqrt(var + eps) < 4.75;
// |beta|, |mean| <= 1.
constexpr double kMaxS = 4.75;
constexpr float kMaxW = 0.5f;  // weights uniform in [-kMaxW, kMaxW], biases in [-1, 1]

// Adds BN(input) -> output with per-channel constants named after `output`.
void AddBatchNorm(Graph* g, const std::string& input, const std::string& output, int64_t c,
                  uint64_t seed) {
  g->SetInitializer(output + "_scale", Random({c}, seed, 0.5f, 1.5f));
  g->SetInitializer(output + "_beta", Random({c}, seed + 1, -1, 1));
  g->SetInitializer(output + "_mean", Random({c}, seed + 2, -1, 1));
  g->SetInitializer(output + "_var", Random({c}, seed + 3, 0.1f, 2.0f));
  AddTestNode(g, "BatchNormalization",
              {input, output + "_scale", output + "_beta", output + "_mean", output + "_var"},
              {output}, {FloatAttr("epsilon", 1e-3f)});
}

// Bound for y = BN(dot(x, w) + b) with n terms, |x| <= 1: the folded side sums n terms of size
// <= kMaxW * kMaxS, plus the shifted bias (|b| + |mean|) * kMaxS + |beta|.
double BnTolerance(int64_t n) { return SumTolerance(n + 2, n * kMaxW * kMaxS + 2 * kMaxS + 1); }

struct ConvSpec {
  std::string op;  // Conv or ConvTranspose
  int64_t cin, cout, group;
  bool bias;
};

// x [1, cin, 5, 5] -> op (3x3) -> BN -> y
Model ConvBatchNorm(const ConvSpec& spec) {
  Model model = testing::EmptyModel();
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", kF32, {1, spec.cin, 5, 5}));
  g.outputs.push_back(TensorInfo("y", kF32, {}));
  g.outputs.back().type.has_shape = false;
  Shape w_shape = spec.op == "Conv" ? Shape{spec.cout, spec.cin / spec.group, 3, 3}
                                    : Shape{spec.cin, spec.cout / spec.group, 3, 3};
  g.SetInitializer("w", Random(w_shape, 11, -kMaxW, kMaxW));
  std::vector<std::string> inputs = {"x", "w"};
  if (spec.bias) {
    g.SetInitializer("b", Random({spec.cout}, 12, -1, 1));
    inputs.push_back("b");
  }
  AddTestNode(&g, spec.op, inputs, {"z"}, {IntAttr("group", spec.group)});
  AddBatchNorm(&g, "z", "y", spec.cout, 20);
  return model;
}

int64_t ConvTerms(const ConvSpec& spec) { return spec.cin / spec.group * 9; }

// x [2, 6] -> Gemm(alpha, beta, transB, C [4]) -> BN -> y
Model GemmBatchNorm() {
  Model model = testing::EmptyModel();
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", kF32, {2, 6}));
  g.outputs.push_back(TensorInfo("y", kF32, {2, 4}));
  g.SetInitializer("w", Random({4, 6}, 31, -kMaxW, kMaxW));
  g.SetInitializer("c", Random({4}, 32, -1, 1));
  AddTestNode(&g, "Gemm", {"x", "w", "c"}, {"z"},
              {IntAttr("transB", 1), FloatAttr("alpha", 0.5f), FloatAttr("beta", 1.0f)});
  AddBatchNorm(&g, "z", "y", 4, 40);
  return model;
}

// x [3, 5] (2-D, declared) -> MatMul(W [5, 4]) -> BN -> y; becomes Gemm.
Model MatMulBatchNorm(bool two_d) {
  Model model = testing::EmptyModel();
  Graph& g = model.graph;
  g.inputs.push_back(two_d ? TensorInfo("x", kF32, {3, 5}) : TensorInfo("x", kF32, {3, 4, 5}));
  g.outputs.push_back(TensorInfo("y", kF32, {}));
  g.outputs.back().type.has_shape = false;
  g.SetInitializer("w", Random({5, 4}, 51, -kMaxW, kMaxW));
  AddTestNode(&g, "MatMul", {"x", "w"}, {"z"});
  AddBatchNorm(&g, "z", "y", two_d ? 4 : 4, 60);  // 3-D: BN over axis 1 (size 4) stays as is
  return model;
}

// The Conv output has a second reader (or is a graph output): BN must stay.
Model ConvWithTwoReaders(bool as_graph_output) {
  Model model = ConvBatchNorm({"Conv", 3, 4, 1, true});
  Graph& g = model.graph;
  if (as_graph_output) {
    g.outputs.push_back(TensorInfo("z", kF32, {1, 4, 3, 3}));
  } else {
    g.outputs.push_back(TensorInfo("r", kF32, {1, 4, 3, 3}));
    AddTestNode(&g, "Relu", {"z"}, {"r"});
  }
  return model;
}

// The Conv output is also read inside an If branch (outer-scope read): BN must stay.
Model ConvReadBySubgraph() {
  Model model = ConvBatchNorm({"Conv", 3, 4, 1, true});
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("cond", DataType::kBool, {}));
  g.outputs.push_back(TensorInfo("r", kF32, {}));
  g.outputs.back().type.has_shape = false;
  auto then_branch = Branch("then", "o_then");
  AddTestNode(then_branch.get(), "Relu", {"z"}, {"o_then"});
  auto else_branch = Branch("else", "o_else");
  AddTestNode(else_branch.get(), "Neg", {"z"}, {"o_else"});
  AddTestNode(&g, "If", {"cond"}, {"r"},
              {GraphAttr("then_branch", then_branch), GraphAttr("else_branch", else_branch)});
  return model;
}

// BN after Add: no producer to fold into; left alone (see fold_batch_norm.h).
Model StandaloneBatchNorm() {
  Model model = testing::EmptyModel();
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", kF32, {1, 3, 4, 4}));
  g.outputs.push_back(TensorInfo("y", kF32, {1, 3, 4, 4}));
  AddTestNode(&g, "Add", {"x", "x"}, {"z"});
  AddBatchNorm(&g, "z", "y", 3, 70);
  return model;
}

// If branch: Conv with an outer-scope weight, BN with branch-local constants.
Model BatchNormInSubgraph() {
  Model model = testing::EmptyModel();
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", kF32, {1, 3, 5, 5}));
  g.inputs.push_back(TensorInfo("cond", DataType::kBool, {}));
  g.outputs.push_back(TensorInfo("y", kF32, {}));
  g.outputs.back().type.has_shape = false;
  g.SetInitializer("w", Random({4, 3, 3, 3}, 81, -kMaxW, kMaxW));
  auto then_branch = Branch("then", "o_then");
  AddTestNode(then_branch.get(), "Conv", {"x", "w"}, {"z"});
  AddBatchNorm(then_branch.get(), "z", "o_then", 4, 90);
  auto else_branch = Branch("else", "o_else");
  AddTestNode(else_branch.get(), "Conv", {"x", "w"}, {"o_else"});  // shares the outer weight
  AddTestNode(&g, "If", {"cond"}, {"y"},
              {GraphAttr("then_branch", then_branch), GraphAttr("else_branch", else_branch)});
  return model;
}

TEST(FoldBatchNormTest, Fixtures) {
  std::vector<ConvSpec> convs = {
      {"Conv", 3, 4, 1, true},          {"Conv", 4, 6, 2, false},
      {"ConvTranspose", 4, 3, 1, true}, {"ConvTranspose", 4, 4, 2, false},
      {"ConvTranspose", 6, 6, 3, true},
  };
  std::vector<PassCase> cases;
  for (const ConvSpec& spec : convs) {
    std::string name = spec.op + " group " + std::to_string(spec.group) +
                       (spec.bias ? " with bias" : " without bias");
    cases.push_back({name,
                     [spec] { return ConvBatchNorm(spec); },
                     FoldBatchNorm,
                     1,
                     BnTolerance(ConvTerms(spec)),
                     {},
                     ExpectOps(OpType::kBatchNormalization, 0)});
  }
  cases.push_back({"Gemm transB alpha", GemmBatchNorm, FoldBatchNorm, 1, BnTolerance(6)});
  cases.push_back({"MatMul 2-D becomes Gemm",
                   [] { return MatMulBatchNorm(true); },
                   FoldBatchNorm,
                   1,
                   BnTolerance(5),
                   {},
                   ExpectOps(OpType::kGemm, 1)});
  cases.push_back(
      {"MatMul 3-D stays", [] { return MatMulBatchNorm(false); }, FoldBatchNorm, 0, 0.0});
  cases.push_back(
      {"Conv output read twice", [] { return ConvWithTwoReaders(false); }, FoldBatchNorm, 0, 0.0});
  cases.push_back({"Conv output is a graph output", [] { return ConvWithTwoReaders(true); },
                   FoldBatchNorm, 0, 0.0});
  cases.push_back({"Conv output read by a subgraph", ConvReadBySubgraph, FoldBatchNorm, 0, 0.0,
                   CondOptions(true)});
  cases.push_back({"standalone BN stays", StandaloneBatchNorm, FoldBatchNorm, 0, 0.0});
  for (bool cond : {true, false}) {
    cases.push_back({std::string("If branch, cond=") + (cond ? "1" : "0"), BatchNormInSubgraph,
                     FoldBatchNorm, 1, BnTolerance(27), CondOptions(cond),
                     ExpectOps(OpType::kBatchNormalization, 0)});
  }
  for (const PassCase& test_case : cases) RunCase(test_case);
}

TEST(FoldBatchNormTest, SharedWeightIsCopiedNotChanged) {
  Model model = BatchNormInSubgraph();
  ASSERT_EQ(*FoldBatchNorm(&model), 1);
  // The else branch still reads the outer weight unchanged; the folded copy lives in the branch.
  const Tensor* outer = model.graph.FindInitializer("w");
  ASSERT_NE(outer, nullptr);
  EXPECT_TRUE(outer->BitwiseEquals(Random({4, 3, 3, 3}, 81, -kMaxW, kMaxW)));
  const Graph* then_branch = model.graph.nodes[0]->GetGraph("then_branch");
  EXPECT_NE(then_branch->FindInitializer(then_branch->nodes[0]->inputs[1]), nullptr);
  EXPECT_EQ(then_branch->nodes[0]->outputs[0], "o_then");
}

}  // namespace
}  // namespace shrink::engine::passes_test
