// The accuracy evaluator: a candidate (optimized) model against its reference (float) model on
// the same DATA, both run by the same runtime (ours or ONNX Runtime), and latency of one model.
//
// Evaluate streams DATA in batches and keeps only running sums (engine/eval/metrics.h), so
// memory is bounded by one batch of inputs and outputs, never by the number of samples. It
// fills v1::Evaluation (proto/shrink/v1/report.proto): per-output metrics, and when DATA has
// `labels` (one integer per sample) top-1/top-k accuracy of both models on the classifier output
// (the one named `logits` when there are several) with the drop and its 95% interval.
//
// Errors name the problem: outputs or inputs that differ between the models, a labels count
// that differs from the samples, shapes that differ, a missing file.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "engine/ir/graph.h"
#include "engine/ir/tensor.h"
#include "shrink/v1/report.pb.h"

namespace shrink::engine::eval {

// One loaded model in some runtime. Used by one thread at a time.
class ModelRunner {
 public:
  virtual ~ModelRunner() = default;
  // Feeds matched by name; returns the outputs in output_names() order.
  virtual StatusOr<std::vector<Tensor>> Run(const std::vector<NamedTensor>& feeds) = 0;
  virtual const std::vector<std::string>& output_names() const = 0;
  virtual const std::vector<std::string>& input_names() const = 0;
  // The inputs to feed (graph inputs without initializers) with their types and shapes.
  virtual const std::vector<ValueInfo>& inputs() const = 0;
  // Who runs the model, e.g. "shrink" or "onnxruntime 1.20.1".
  virtual std::string name() const = 0;
  virtual int threads() const = 0;
};

// Loads a model (an .onnx file, a directory with one, or a tar archive of one: ModelBundle).
using RunnerFactory =
    std::function<StatusOr<std::unique_ptr<ModelRunner>>(const std::string& model_path)>;

// Our Executor with `threads` threads (0 = one per core).
RunnerFactory OurRuntime(int threads);

struct EvalOptions {
  int top_k = 5;
  int64_t max_samples = 0;  // 0 = all samples in DATA
  int64_t batch_size = 64;  // upper bound per run for models with a dynamic batch axis
  // Inputs the data may leave out: fed zeros shaped like the model input (unknown dims set to
  // the batch size) on every run, unless a state pair below carries them.
  std::vector<std::string> state_inputs;
  // {input, output}: each model's output of one run is its input on the next (stateful models,
  // as in calibration); zeros on the first run or when the batch size changes the shape.
  std::vector<std::pair<std::string, std::string>> state_pairs;
};

// The worst output of an evaluation: the lowest SQNR over all outputs and the lowest top-1
// agreement over classifier outputs (999 dB and 1 when there are none).
struct WorstOutput {
  double sqnr_db = 999;
  double agreement = 1;
};
WorstOutput Worst(const v1::Evaluation& evaluation);

StatusOr<v1::Evaluation> Evaluate(const std::string& candidate, const std::string& reference,
                                  const std::string& data, const RunnerFactory& runners,
                                  const EvalOptions& options);

struct LatencyOptions {
  int warmup_runs = 3;
  std::vector<std::string> state_inputs;  // fed zeros when the data lacks them
  std::string model_label;                // Latency.model: "before" | "after"
};

// Warm-up runs, then `runs` (at least 1) timed runs of one batch of DATA: the first sample when
// the model's batch axis is dynamic, else the first batch the model takes. `batch_note` (when
// set) says which, e.g. "1 sample of data.npz (dynamic batch axis)". Latency.runtime is the
// runtime's name without its version ("onnxruntime" or "shrink").
StatusOr<v1::Latency> MeasureLatency(const std::string& model, const std::string& data,
                                     const RunnerFactory& runners, int runs,
                                     const LatencyOptions& options = {},
                                     std::string* batch_note = nullptr);

}  // namespace shrink::engine::eval
