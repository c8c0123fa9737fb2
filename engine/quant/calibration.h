// Calibration: runs the float model over DATA with the runtime's tensor observer and turns what
// it saw into one range per requested tensor. Memory is bounded by the number of tensors, not
// the number of samples: every calibrator streams (running min/max, or a fixed-size histogram
// that is re-binned when a wider value arrives).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/io/data_loader.h"
#include "engine/ir/graph.h"
#include "engine/quant/quant_types.h"

namespace shrink::engine::quant {

enum class Calibrator { kMinMax, kPercentile, kEntropy, kMse };
const char* CalibratorName(Calibrator calibrator);

struct CalibrationOptions {
  Calibrator method = Calibrator::kMinMax;
  double percentile = 99.999;  // kPercentile: keep this share of |values| (or of each tail)
  int histogram_bins = 2048;   // histogram calibrators
  // The integer type the ranges are for: entropy and MSE search clip ranges against its levels.
  QuantType target_type = QuantType::kUint8;
  bool symmetric = false;   // ranges symmetric about 0 (int8 symmetric activations)
  int64_t max_samples = 0;  // 0 = all samples in DATA
  int64_t batch_size = 64;  // upper bound per run for models with a dynamic batch axis
  int threads = 0;          // runtime threads (0 = one per core)
  // Stateful models: each pair feeds an output of one run into an input of the next (e.g.
  // {"state", "stateN"}). The first run gets the data's value for that input when the data has
  // one, else zeros shaped like the model input with unknown dims set to the batch size.
  struct StatePair {
    std::string input;
    std::string output;
  };
  std::vector<StatePair> state_pairs;
};

struct CalibrationStats {
  int64_t samples = 0;
  int64_t batches = 0;
  double seconds = 0;
  std::vector<std::string> unobserved;  // requested tensors no run produced (e.g. an If branch)
};

using ProgressFn = std::function<void(double fraction, const std::string& message)>;

// One streaming range estimator (per tensor). Not thread-safe.
class RangeCollector {
 public:
  virtual ~RangeCollector() = default;
  virtual void Observe(const float* values, int64_t count) = 0;
  virtual bool empty() const = 0;
  virtual TensorRange Compute() const = 0;
};
std::unique_ptr<RangeCollector> MakeRangeCollector(const CalibrationOptions& options);

// Ranges for `tensors` (float tensors: graph inputs, node outputs at any graph level). Tensors
// never produced are listed in stats->unobserved and left out of the map. Data that does not
// match the model's inputs is an error naming the file.
StatusOr<RangeMap> Calibrate(const Model& model, const std::vector<std::string>& tensors,
                             const std::string& data_path, const CalibrationOptions& options,
                             const ProgressFn& progress, const std::atomic<bool>* cancel,
                             CalibrationStats* stats);

}  // namespace shrink::engine::quant
