// Calibration cost against plain forward passes:
//   shrink-calib-bench MODEL.onnx DATA.npz [--batch N] [--threads T] [--reps R]
// Times, over the same batches of DATA: ONNX Runtime runs, shrink Executor runs without an
// observer, and Calibrate() with each calibrator observing every float tensor of the model
// (graph inputs and all node outputs, subgraphs included: the worst case). Best of R reps.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "engine/io/data_loader.h"
#include "engine/io/onnx_import.h"
#include "engine/quant/calibration.h"
#include "engine/runtime/executor.h"
#include "tests/ort_runner.h"

namespace {

using namespace shrink;          // NOLINT: small tool
using namespace shrink::engine;  // NOLINT

double Seconds(const std::function<Status()>& fn, int reps, Status* status) {
  double best = 1e30;
  for (int r = 0; r < reps && status->ok(); ++r) {
    auto start = std::chrono::steady_clock::now();
    *status = fn();
    best = std::min(
        best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

void CollectNames(const Graph& graph, std::vector<std::string>* names) {
  for (const auto& node : graph.nodes) {
    for (const auto& output : node->outputs) {
      if (!output.empty()) names->push_back(output);
    }
    for (const auto& attribute : node->attributes) {
      if (attribute.g) CollectNames(*attribute.g, names);
      for (const auto& g : attribute.graphs) CollectNames(*g, names);
    }
  }
}

StatusOr<std::vector<DataBatch>> LoadBatches(const std::string& path,
                                             const std::vector<ValueInfo>& inputs, int64_t batch) {
  DataOptions options;
  options.max_batch = batch;
  ASSIGN_OR_RETURN(auto reader, DataReader::Open(path, inputs, options));
  std::vector<DataBatch> batches;
  for (;;) {
    DataBatch b;
    ASSIGN_OR_RETURN(bool more, reader->Next(&b));
    if (!more) break;
    batches.push_back(std::move(b));
  }
  return batches;
}

int Run(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: shrink-calib-bench MODEL.onnx DATA.npz [--batch N] "
                 "[--threads T] [--reps R]\n");
    return 2;
  }
  std::string model_path = argv[1], data_path = argv[2];
  int64_t batch = 64;
  int threads = 1, reps = 3;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--batch")) batch = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
  }
  auto model = LoadModel(model_path);
  if (!model.ok()) return std::fprintf(stderr, "%s\n", model.status().ToString().c_str()), 1;
  ExecutorOptions executor_options;
  executor_options.threads = threads;
  auto executor = Executor::Create(*model, executor_options);
  if (!executor.ok()) return std::fprintf(stderr, "%s\n", executor.status().ToString().c_str()), 1;
  auto batches = LoadBatches(data_path, (*executor)->required_inputs(), batch);
  if (!batches.ok()) return std::fprintf(stderr, "%s\n", batches.status().ToString().c_str()), 1;
  int64_t samples = 0;
  for (const auto& b : *batches) samples += b.samples;

  testing::OrtRunnerOptions ort_options;
  ort_options.threads = threads;
  auto ort = testing::OrtRunner::Create(model_path, ort_options);
  if (!ort.ok()) return std::fprintf(stderr, "%s\n", ort.status().ToString().c_str()), 1;
  Status status;
  auto run_all = [&](const std::function<Status(const DataBatch&)>& fn) {
    return [&, fn]() -> Status {
      for (const auto& b : *batches) RETURN_IF_ERROR(fn(b));
      return OkStatus();
    };
  };
  (void)(*ort)->Run((*batches)[0].inputs);  // warm-up
  double ort_s = Seconds(
      run_all([&](const DataBatch& b) { return (*ort)->Run(b.inputs).status(); }), reps, &status);
  (void)(*executor)->Run((*batches)[0].inputs);
  double plain_s =
      Seconds(run_all([&](const DataBatch& b) { return (*executor)->Run(b.inputs).status(); }),
              reps, &status);
  if (!status.ok()) return std::fprintf(stderr, "%s\n", status.ToString().c_str()), 1;
  // The executor with an observer that only counts what it sees: the cost of observing itself.
  struct CountingObserver : TensorObserver {
    int64_t floats = 0;
    void OnNodeOutput(const Graph&, const Node&, int, const Tensor& value) override {
      if (value.dtype() == DataType::kFloat32) floats += value.size();
    }
  } counting;
  RunOptions counting_options;
  counting_options.observer = &counting;
  double observed_s = Seconds(run_all([&](const DataBatch& b) {
                                return (*executor)->Run(b.inputs, counting_options).status();
                              }),
                              reps, &status);

  double create_s =
      Seconds([&]() { return Executor::Create(*model, executor_options).status(); }, reps, &status);
  double load_s = Seconds(
      [&]() { return LoadBatches(data_path, (*executor)->required_inputs(), batch).status(); },
      reps, &status);
  std::vector<std::string> tensors;
  for (const auto& input : (*executor)->required_inputs()) tensors.push_back(input.name);
  CollectNames(model->graph, &tensors);
  std::printf("%s: %lld samples in %zu batches of <= %lld, %d thread(s), %zu tensors observed\n",
              model_path.c_str(), (long long)samples, batches->size(), (long long)batch, threads,
              tensors.size());
  std::printf("  %-22s %9.4f s\n", "onnxruntime runs", ort_s);
  std::printf("  %-22s %9.4f s\n", "shrink executor create", create_s);
  std::printf("  %-22s %9.4f s\n", "data open + read", load_s);
  std::printf("  %-22s %9.4f s  %.2fx ORT\n", "shrink executor runs", plain_s, plain_s / ort_s);
  std::printf("  %-22s %9.4f s  %.2fx ORT  (%.1f M float values per pass over the data)\n",
              "runs + empty observer", observed_s, observed_s / ort_s,
              double(counting.floats) / reps / 1e6);
  using quant::Calibrator;
  for (Calibrator method :
       {Calibrator::kMinMax, Calibrator::kPercentile, Calibrator::kEntropy, Calibrator::kMse}) {
    quant::CalibrationOptions options;
    options.method = method;
    options.batch_size = batch;
    options.threads = threads;
    quant::CalibrationStats stats;
    double s = Seconds(
        [&]() {
          return quant::Calibrate(*model, tensors, data_path, options, nullptr, nullptr, &stats)
              .status();
        },
        reps, &status);
    if (!status.ok()) return std::fprintf(stderr, "%s\n", status.ToString().c_str()), 1;
    std::printf("  calibrate %-12s %9.4f s  %.2fx ORT  %.2fx executor  (%zu unobserved)\n",
                quant::CalibratorName(method), s, s / ort_s, s / plain_s, stats.unobserved.size());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
