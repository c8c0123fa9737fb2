// Test-only: checks that a graph pass keeps a model's outputs. The model runs before and after
// the pass on the same deterministic random inputs (built from the graph inputs' ValueInfo
// types; symbolic or unknown dims take a given size) with engine::Executor, and every output is
// compared. The caller states the tolerance; the tester reports the errors it measured.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/ir/graph.h"

namespace shrink::engine::testing {

struct PassTestOptions {
  int64_t symbolic_dim = 2;              // size of every symbolic or unknown dim
  std::map<std::string, Shape> shapes;   // full shapes by input name (override the above)
  std::map<std::string, double> values;  // constant fill by input name (e.g. sr=16000)
  uint64_t seed = 0x5eedULL;
  float low = -1.0f;  // floating-point inputs are uniform in [low, high]
  float high = 1.0f;  // integer inputs without a value are zero
};

// Deterministic feeds for the inputs that have no initializer.
StatusOr<std::vector<NamedTensor>> MakePassTestInputs(const Model& model,
                                                      const PassTestOptions& options);

struct OutputError {
  std::string name;
  double max_abs_error = 0;      // max |after - before| (infinite on shape, dtype or NaN mismatch)
  double max_abs_reference = 0;  // max |before|, the scale of the output
};

struct PassCheck {
  int rewrites = 0;  // what the pass returned
  std::vector<OutputError> outputs;
  double max_abs_error = 0;  // over all outputs
  // max over outputs of max_abs_error / max(1, max_abs_reference)
  double max_scaled_error = 0;
};

// Ok when every output's max_abs_error is within `tolerance`; otherwise names each output over
// it with its error and scale.
Status ExpectWithin(const PassCheck& check, double tolerance);

// Runs both models on `feeds` and compares output by output.
StatusOr<std::vector<OutputError>> CompareModelOutputs(const Model& before, const Model& after,
                                                       const std::vector<NamedTensor>& feeds);

// Applies `pass` to `model` (in place) and compares the outputs of a copy taken before with the
// outputs after, on MakePassTestInputs(model, options).
StatusOr<PassCheck> CheckPass(Model* model, const std::function<StatusOr<int>(Model*)>& pass,
                              const PassTestOptions& options = {});

}  // namespace shrink::engine::testing
