// Shared by the pass tests: fixtures run before/after through the pass tester. Tolerances:
// a rewrite that only renames or removes nodes must be exact (0). A fold changes where per-
// channel factors are applied and how a bias is summed; both sides then compute an n-term dot
// product whose float32 error is at most gamma(n) * sum|terms| with gamma(n) ~ n * u, u = 2^-24
// (Higham, Accuracy and Stability, 3.1), plus a few roundings for the folded scale and shift.
// SumTolerance() states that bound from the fixture's own magnitudes.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "engine/ir/graph_utils.h"
#include "engine/kernels/kernel_test_util.h"
#include "engine/passes/pass_tester.h"

namespace shrink::engine::passes_test {

using testing::AddTestNode;
using testing::FloatAttr;
using testing::GraphAttr;
using testing::IntAttr;
using testing::TensorAttr;
using testing::TensorInfo;

constexpr double kUnitRoundoff = 0x1p-24;

// |before - after| bound for two evaluations of an n-term sum (plus `extra` roundings each)
// whose terms add up to at most `sum_abs` in magnitude.
inline double SumTolerance(int64_t terms, double sum_abs, int extra = 4) {
  return 2.0 * double(terms + extra) * kUnitRoundoff * sum_abs;
}

inline Tensor Random(Shape shape, uint64_t seed, float low, float high) {
  Tensor tensor(DataType::kFloat32, std::move(shape));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uniform(low, high);
  for (int64_t i = 0; i < tensor.size(); ++i) tensor.data<float>()[i] = uniform(rng);
  return tensor;
}

using Pass = std::function<StatusOr<int>(Model*)>;

struct PassCase {
  std::string name;
  std::function<Model()> build;
  Pass pass;
  int expected_rewrites;
  double tolerance;  // on max |after - before|, inputs uniform in [-1, 1]
  testing::PassTestOptions options = {};
  std::function<void(const Model&)> check_after = nullptr;
};

inline void RunCase(const PassCase& test_case) {
  SCOPED_TRACE(test_case.name);
  Model model = test_case.build();
  ASSERT_TRUE(ValidateGraph(model.graph).ok());
  auto check = testing::CheckPass(&model, test_case.pass, test_case.options);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_EQ(check->rewrites, test_case.expected_rewrites);
  Status within = testing::ExpectWithin(*check, test_case.tolerance);
  EXPECT_TRUE(within.ok()) << within.ToString();
  std::cout << "  " << test_case.name << ": " << check->rewrites << " rewrites, max error "
            << check->max_abs_error << " (tolerance " << test_case.tolerance << ")\n";
  Status valid = ValidateGraph(model.graph);
  EXPECT_TRUE(valid.ok()) << valid.ToString();
  if (test_case.check_after) test_case.check_after(model);
  // Every pass reaches a fixed point in one run.
  auto again = test_case.pass(&model);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
}

inline int CountOps(const Graph& graph, OpType op) {
  int count = 0;
  for (const auto& node : graph.nodes) {
    if (node->op == op) ++count;
    for (const Attribute& attribute : node->attributes) {
      if (attribute.g) count += CountOps(*attribute.g, op);
    }
  }
  return count;
}

inline std::function<void(const Model&)> ExpectOps(OpType op, int count) {
  return [op, count](const Model& model) { EXPECT_EQ(CountOps(model.graph, op), count); };
}

// If(cond) with the given branches; both branches produce one output named by the branch.
inline std::shared_ptr<Graph> Branch(const std::string& name, const std::string& output) {
  auto branch = std::make_shared<Graph>();
  branch->name = name;
  branch->outputs.push_back(TensorInfo(output, DataType::kFloat32, {}));
  branch->outputs.back().type.has_shape = false;
  return branch;
}

inline testing::PassTestOptions CondOptions(bool cond) {
  testing::PassTestOptions options;
  options.values["cond"] = cond ? 1 : 0;
  return options;
}

}  // namespace shrink::engine::passes_test
