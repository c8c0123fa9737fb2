// Pieces of `shrink-bench quant`: running a job, evaluating models in ONNX Runtime over DATA
// (with state carried for stateful models), and the measures the PTQ targets are stated in.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/ir/tensor.h"
#include "shrink/v1/report.pb.h"

namespace shrink::testing {

struct JobRequest {
  std::string model;
  std::string recipe_json;  // a full recipe (e.g. {"preset":"int8"})
  std::string calib;        // "" = none
  std::string out;
  int threads = 2;
};
StatusOr<v1::Report> OptimizeModel(const JobRequest& request);

struct StatePair {
  std::string input;
  std::string output;
};

// Every output of `model` (in ORT) over every batch of `data`, concatenated along axis 0, plus
// the labels when the data has them. State inputs missing from the data start at zero and are
// fed back from the paired outputs.
struct Evaluation {
  std::vector<engine::Tensor> outputs;
  std::vector<std::string> output_names;
  std::vector<int64_t> labels;
  int64_t samples = 0;
};
StatusOr<Evaluation> EvaluateInOrt(const std::string& model, const std::string& data,
                                   const std::vector<StatePair>& state, int threads);

// Top-1 over axis 1 of a [N, C] tensor.
std::vector<int64_t> Argmax(const engine::Tensor& logits);
double Accuracy(const std::vector<int64_t>& predicted, const std::vector<int64_t>& labels);
double Agreement(const std::vector<int64_t>& a, const std::vector<int64_t>& b);
// 10 log10(sum ref^2 / sum (ref - test)^2); +inf when identical.
double SqnrDb(const engine::Tensor& reference, const engine::Tensor& test);

// Share of elements (in %) on the same side of `threshold` in both tensors (e.g. speech
// probability > 0.5: the voice-activity decision).
double DecisionAgreement(const engine::Tensor& reference, const engine::Tensor& test,
                         float threshold);

// Median ORT latency of one batch, fp32 and optimized runs alternating.
struct LatencyPair {
  double reference_ms = 0;
  double optimized_ms = 0;
  double ratio() const { return optimized_ms / reference_ms; }
};
StatusOr<LatencyPair> CompareLatency(const std::string& reference, const std::string& optimized,
                                     const std::string& data, int threads, int runs);

// Runs `argv` (a `shrink run` command line ending in --report FILE) as a child process and
// returns the job's peak resident memory in KiB from the report (peakRssBytes). getrusage's
// ru_maxrss cannot be used: a child inherits the forking process's high-water mark.
StatusOr<long> PeakRssOfChild(const std::vector<std::string>& argv, const std::string& report);

}  // namespace shrink::testing
