#include "engine/job/recipe.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "engine/quant/op_quant_table.h"

namespace shrink::engine {
namespace {

TEST(Recipe, LatencyPresetOpsAreTheOpsOrtFuses) {
  std::vector<std::string> listed = LatencyPresetOps();
  std::vector<std::string> fused = quant::OrtFusedOpTypes();
  std::sort(listed.begin(), listed.end());
  std::sort(fused.begin(), fused.end());
  EXPECT_EQ(listed, fused);
}

TEST(Recipe, EveryPresetExpandsToOneValidStep) {
  for (const std::string& name : PresetNames()) {
    v1::Recipe recipe;
    recipe.set_preset(name);
    auto expanded = ExpandRecipe(recipe);
    ASSERT_TRUE(expanded.ok()) << name << ": " << expanded.status().ToString();
    ASSERT_EQ(expanded->steps_size(), 1) << name;
    EXPECT_EQ(expanded->data().batch_size(), 64);
  }
}

TEST(Recipe, PresetsNeedCalibrationDataOnlyForStaticActivations) {
  const std::map<std::string, bool> expected = {{"float16", false}, {"int8-dynamic", false},
                                                {"int8", true},     {"int16x8", true},
                                                {"size", false},    {"latency", true}};
  for (const auto& [name, needs] : expected) {
    v1::Recipe recipe;
    recipe.set_preset(name);
    auto expanded = ExpandRecipe(recipe);
    ASSERT_TRUE(expanded.ok());
    EXPECT_EQ(NeedsCalibrationData(*expanded), needs) << name;
  }
}

TEST(Recipe, Int8DefaultsAreFilledInExplicitly) {
  auto recipe = ParseRecipeJson(R"({"preset": "int8"})", "test");
  ASSERT_TRUE(recipe.ok());
  auto expanded = ExpandRecipe(*recipe);
  ASSERT_TRUE(expanded.ok());
  const v1::QuantizeStep& q = expanded->steps(0).quantize();
  EXPECT_EQ(q.weights(), v1::INT8);
  EXPECT_EQ(q.activations(), v1::UINT8);
  EXPECT_TRUE(q.per_channel());
  EXPECT_TRUE(q.reduce_range());
  EXPECT_FALSE(q.symmetric_activations());
  EXPECT_EQ(q.calibrator(), v1::MINMAX);
  EXPECT_EQ(q.histogram_bins(), 2048);
}

TEST(Recipe, ExplicitStepReplacesThePresetStepOfTheSameKind) {
  auto recipe = ParseRecipeJson(R"({
      "preset": "int8",
      "steps": [{"quantize": {"activations": "INT8", "calibrator": "PERCENTILE",
                              "perChannel": false, "excludeOps": ["Softmax"]}}],
      "budget": {"maxAccuracyDrop": 0.5, "minSqnrDb": 25},
      "data": {"batchSize": 8, "statePairs": [{"input": "state", "output": "stateN"}]},
      "seed": 1})",
                                "test");
  ASSERT_TRUE(recipe.ok()) << recipe.status().ToString();
  auto expanded = ExpandRecipe(*recipe);
  ASSERT_TRUE(expanded.ok()) << expanded.status().ToString();
  ASSERT_EQ(expanded->steps_size(), 1);
  const v1::QuantizeStep& q = expanded->steps(0).quantize();
  EXPECT_EQ(q.activations(), v1::INT8);
  EXPECT_EQ(q.calibrator(), v1::PERCENTILE);
  EXPECT_DOUBLE_EQ(q.percentile(), 99.999);
  EXPECT_FALSE(q.per_channel());
  EXPECT_EQ(expanded->data().batch_size(), 8);
  EXPECT_EQ(expanded->data().state_pairs(0).output(), "stateN");
}

struct BadRecipe {
  const char* json;
  const char* message;  // must appear in the error
};

TEST(Recipe, BadRecipesAreRejectedNamingTheProblem) {
  const BadRecipe cases[] = {
      {R"({"preset": "int4"})", "unknown preset 'int4'"},
      {R"({"presett": "int8"})", "presett"},
      {R"({"steps": [{"quantize": {"activations": "UINT4"}}]})", "UINT4"},
      {R"({})", "nothing to do"},
      {R"({"steps": [{"quantize": {}}, {"float16": {}}]})", "contradict"},
      {R"({"steps": [{"quantize": {"activations": "DYNAMIC", "calibrator": "ENTROPY"}}]})",
       "activations are DYNAMIC"},
      {R"({"steps": [{"quantize": {"activations": "FLOAT", "quantizeIo": true}}]})", "quantizeIo"},
      {R"({"steps": [{"quantize": {"calibrator": "MINMAX", "percentile": 99.9}}]})",
       "calibrator is MINMAX"},
      {R"({"steps": [{"quantize": {"calibrator": "PERCENTILE", "percentile": 120}}]})",
       "percentile must be in"},
      {R"({"steps": [{"quantize": {"weights": "UINT8"}}]})", "weights must be INT8"},
      {R"({"steps": [{"quantize": {"includeOps": ["Conv"], "excludeOps": ["Conv"]}}]})",
       "'Conv' is both included and excluded"},
      {R"({"preset": "int8", "prepare": {"targetOpset": 11}})", "below 13"},
      {R"({"preset": "int8", "prepare": {"targetOpset": 30}})", "targetOpset must be in"},
      {R"({"preset": "float16", "steps": [{"float16": {"weightsOnly": true,
                                                        "keepIoFloat32": false}}]})",
       "keepIoFloat32"},
      {R"({"preset": "int8", "data": {"statePairs": [{"input": "s"}]}})", "both input and output"},
      {R"({"preset": "int8", "budget": {"maxAccuracyDrop": -1}})", "budget"},
      {R"({"preset": "int8", "budget": {"maxAccuracyDrop": 150}})", "[0, 100]"},
      {R"({"preset": "int8", "budget": {"minAgreement": 99}})", "minAgreement is a fraction"},
      {R"({"preset": "int8", "budget": {"minSqnrDb": 30, "maxTrials": -2}})", "budget values"},
      {R"({"preset": "int8", "evaluate": {"runtime": "tensorrt"}})", "\"tensorrt\""},
      {R"({"preset": "int8", "evaluate": {"topK": -1}})", "evaluate values"},
      {R"({"steps": [{"prune": {"targetSparsity": 1.0}}]})", "[0, 1)"},
      {R"({"steps": [{"prune": {"structure": "N_OF_M", "n": 4, "m": 4}}]})", "1 <= n < m"},
      {R"({"steps": [{"prune": {"structure": "N_OF_M", "targetSparsity": 0.3}}]})",
       "contradicts"},
      {R"({"steps": [{"prune": {"n": 2}}]})", "only apply to structure N_OF_M"},
      {R"({"steps": [{"cluster": {"clusters": 300}}]})", "[2, 256]"},
      {R"({"preset": "int8", "steps": [{"cluster": {"compact": true}}]})", "dense form"},
      {R"({"steps": [{"prune": {}}, {"prune": {}}]})", "at most one step of each kind"},
      {R"({"preset": "int8", "steps": [{"quantize": {"calibrationSamples": -5}}]})",
       "calibrationSamples"},
      {R"([1, 2])", "not a valid shrink.v1.Recipe"},
  };
  for (const BadRecipe& c : cases) {
    auto recipe = ParseRecipeJson(c.json, "r.json");
    Status status = recipe.ok() ? ExpandRecipe(*recipe).status() : recipe.status();
    ASSERT_FALSE(status.ok()) << c.json;
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << c.json;
    EXPECT_NE(status.message().find(c.message), std::string::npos)
        << c.json << "\n  got: " << status.message();
  }
}

TEST(Recipe, JsonRoundTripKeepsEverything) {
  v1::Recipe recipe;
  recipe.set_preset("int8");
  auto expanded = ExpandRecipe(recipe);
  ASSERT_TRUE(expanded.ok());
  auto reparsed = ParseRecipeJson(RecipeToJson(*expanded), "round trip");
  ASSERT_TRUE(reparsed.ok()) << reparsed.status().ToString();
  EXPECT_EQ(reparsed->SerializeAsString(), expanded->SerializeAsString());
}

TEST(Recipe, BudgetAndEvaluateDefaultsAreWrittenOut) {
  auto recipe = ParseRecipeJson(R"({"preset": "int8", "budget": {"maxAccuracyDrop": 0.3}})",
                                "r.json");
  ASSERT_TRUE(recipe.ok());
  auto expanded = ExpandRecipe(*recipe);
  ASSERT_TRUE(expanded.ok()) << expanded.status().ToString();
  EXPECT_EQ(expanded->budget().max_trials(), 12);
  EXPECT_EQ(expanded->budget().max_tuning_seconds(), 600);
  EXPECT_EQ(expanded->evaluate().runtime(), "onnxruntime");
  EXPECT_EQ(expanded->evaluate().top_k(), 5);
  EXPECT_EQ(expanded->evaluate().latency_runs(), 20);
  // Limits without a budget are dropped: they change nothing, so they must not split the cache.
  auto limits_only = ParseRecipeJson(R"({"preset": "int8", "budget": {"maxTrials": 3}})", "r");
  ASSERT_TRUE(limits_only.ok());
  EXPECT_FALSE(ExpandRecipe(*limits_only)->has_budget());
}

TEST(Recipe, PruneClusterQuantizeRunInThatOrderWithDefaults) {
  auto recipe = ParseRecipeJson(
      R"({"preset": "int8", "steps": [{"cluster": {}}, {"prune": {"structure": "N_OF_M"}}]})",
      "r.json");
  ASSERT_TRUE(recipe.ok()) << recipe.status().ToString();
  auto expanded = ExpandRecipe(*recipe);
  ASSERT_TRUE(expanded.ok()) << expanded.status().ToString();
  ASSERT_EQ(expanded->steps_size(), 3);
  EXPECT_TRUE(expanded->steps(0).has_prune());
  EXPECT_TRUE(expanded->steps(1).has_cluster());
  EXPECT_TRUE(expanded->steps(2).has_quantize());
  EXPECT_EQ(expanded->steps(0).prune().target_sparsity(), 0.5);  // 2:4
  EXPECT_TRUE(expanded->steps(0).prune().keep_first_last());
  EXPECT_EQ(expanded->steps(1).cluster().clusters(), 16);
  EXPECT_TRUE(expanded->steps(1).cluster().preserve_sparsity());
  EXPECT_FALSE(NeedsCalibrationData(*ParseRecipeJson(R"({"steps": [{"prune": {}}]})", "r")));
  EXPECT_TRUE(NeedsCalibrationData(
      *ExpandRecipe(*ParseRecipeJson(R"({"steps": [{"prune": {"repair": true}}]})", "r"))));
}

}  // namespace
}  // namespace shrink::engine
