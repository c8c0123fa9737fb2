// Fixture models for the opset upgrade rules, one per rule and form: a tiny model at the old
// opset with its feeds. Shared by engine/passes/opset_upgrade_test.cc (old vs upgraded in our
// executor) and tests/opset_ort_test.cc (old and upgraded in ONNX Runtime). Test-only code.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/ir/graph.h"

namespace shrink::engine::testing_models {

struct UpgradeCase {
  std::string name;
  int64_t opset;                 // of the old model
  std::vector<int64_t> targets;  // upgrade to each of these
  std::string expected_rule;     // a substring of one recorded rule
  std::function<void(Graph*)> build;
  std::vector<NamedTensor> feeds;
};

std::vector<UpgradeCase> UpgradeCases();
// The case's model at its old opset (IR 4), graph outputs as built (possibly unshaped).
Model OldModel(const UpgradeCase& c);

}  // namespace shrink::engine::testing_models
