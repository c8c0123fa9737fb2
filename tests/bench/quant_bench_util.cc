#include "tests/bench/quant_bench_util.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "common/file_util.h"
#include "engine/io/data_loader.h"
#include "engine/io/onnx_import.h"
#include "engine/ir/graph_utils.h"
#include "engine/job/pipeline.h"
#include "engine/job/recipe.h"
#include "engine/kernels/kernel_util.h"
#include "engine/ort/ort_validation.h"
#include "tests/ort_runner.h"

namespace shrink::testing {
namespace {

using engine::DataType;
using engine::NamedTensor;
using engine::Tensor;

double MillisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

StatusOr<v1::Report> OptimizeModel(const JobRequest& request) {
  engine::JobSpec spec;
  spec.model_path = request.model;
  spec.output_path = request.out;
  spec.calibration_data = request.calib;
  ASSIGN_OR_RETURN(spec.recipe, engine::ParseRecipeJson(request.recipe_json, "bench recipe"));
  spec.recipe.set_threads(request.threads);
  engine::JobHooks hooks;
  hooks.validate_output =
      ort::MakeOrtValidator(request.calib, request.threads, engine::StateInputs(spec.recipe));
  return engine::RunJob(spec, hooks);
}

StatusOr<Evaluation> EvaluateInOrt(const std::string& model_path, const std::string& data,
                                   const std::vector<StatePair>& state, int threads) {
  ASSIGN_OR_RETURN(engine::Model model, engine::LoadModel(model_path));
  std::vector<engine::ValueInfo> inputs = engine::RequiredInputs(model.graph);
  engine::DataOptions data_options;
  for (const StatePair& pair : state) data_options.optional_inputs.push_back(pair.input);
  ASSIGN_OR_RETURN(auto reader, engine::DataReader::Open(data, inputs, data_options));
  OrtRunnerOptions options;
  options.threads = threads;
  ASSIGN_OR_RETURN(auto runner, OrtRunner::Create(model_path, options));
  Evaluation evaluation;
  evaluation.output_names = runner->output_names();
  std::vector<std::vector<Tensor>> parts(evaluation.output_names.size());
  std::map<std::string, Tensor> carried;  // state input -> value for the next run
  engine::DataBatch batch;
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader->Next(&batch));
    if (!more) break;
    std::vector<NamedTensor> feeds = batch.inputs;
    for (const StatePair& pair : state) {
      bool given = std::any_of(feeds.begin(), feeds.end(),
                               [&](const NamedTensor& f) { return f.name == pair.input; });
      if (given) continue;
      if (!carried.count(pair.input)) {
        for (const auto& info : inputs) {
          if (info.name == pair.input) {
            ASSIGN_OR_RETURN(carried[pair.input], engine::ZeroStateFor(info, batch.samples));
          }
        }
      }
      feeds.push_back({pair.input, carried[pair.input]});
    }
    ASSIGN_OR_RETURN(std::vector<Tensor> outputs, runner->Run(feeds));
    for (const StatePair& pair : state) {
      for (size_t i = 0; i < outputs.size(); ++i) {
        if (evaluation.output_names[i] == pair.output) carried[pair.input] = outputs[i];
      }
    }
    for (size_t i = 0; i < outputs.size(); ++i) parts[i].push_back(std::move(outputs[i]));
    if (batch.labels.defined()) {
      const int64_t* labels = batch.labels.data<int64_t>();
      evaluation.labels.insert(evaluation.labels.end(), labels, labels + batch.labels.size());
    }
    evaluation.samples += batch.samples;
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    // Outputs with a batch axis are joined; others (e.g. a state) keep the last value.
    auto joined = engine::ConcatenateBatches(parts[i], evaluation.output_names[i]);
    evaluation.outputs.push_back(joined.ok() ? *joined : parts[i].back());
  }
  return evaluation;
}

std::vector<int64_t> Argmax(const Tensor& logits) {
  std::vector<int64_t> out;
  if (logits.shape().size() != 2) return out;
  const int64_t n = logits.shape()[0], c = logits.shape()[1];
  const float* data = logits.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    out.push_back(std::max_element(data + i * c, data + (i + 1) * c) - (data + i * c));
  }
  return out;
}

double Accuracy(const std::vector<int64_t>& predicted, const std::vector<int64_t>& labels) {
  if (predicted.empty() || predicted.size() != labels.size()) return 0;
  int64_t hits = 0;
  for (size_t i = 0; i < predicted.size(); ++i) hits += predicted[i] == labels[i];
  return 100.0 * double(hits) / double(predicted.size());
}

double Agreement(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  return Accuracy(a, b);
}

double SqnrDb(const Tensor& reference, const Tensor& test) {
  if (reference.dtype() != DataType::kFloat32 || test.dtype() != DataType::kFloat32 ||
      reference.size() != test.size()) {
    return std::nan("");
  }
  double signal = 0, noise = 0;
  const float* r = reference.data<float>();
  const float* t = test.data<float>();
  for (int64_t i = 0; i < reference.size(); ++i) {
    signal += double(r[i]) * r[i];
    noise += (double(r[i]) - t[i]) * (double(r[i]) - t[i]);
  }
  if (noise == 0) return std::numeric_limits<double>::infinity();
  return 10 * std::log10(signal / noise);
}

double DecisionAgreement(const Tensor& reference, const Tensor& test, float threshold) {
  if (reference.dtype() != DataType::kFloat32 || test.dtype() != DataType::kFloat32 ||
      reference.size() != test.size() || reference.size() == 0) {
    return std::nan("");
  }
  int64_t same = 0;
  for (int64_t i = 0; i < reference.size(); ++i) {
    same += (reference.data<float>()[i] > threshold) == (test.data<float>()[i] > threshold);
  }
  return 100.0 * double(same) / double(reference.size());
}

StatusOr<LatencyPair> CompareLatency(const std::string& reference, const std::string& optimized,
                                     const std::string& data, int threads, int runs) {
  ASSIGN_OR_RETURN(engine::Model model, engine::LoadModel(reference));
  ASSIGN_OR_RETURN(auto reader,
                   engine::DataReader::Open(data, engine::RequiredInputs(model.graph), {1}));
  engine::DataBatch batch;
  ASSIGN_OR_RETURN(bool has_batch, reader->Next(&batch));
  if (!has_batch) return InvalidArgument(data + " is empty");
  OrtRunnerOptions options;
  options.threads = threads;
  ASSIGN_OR_RETURN(auto fp32, OrtRunner::Create(reference, options));
  ASSIGN_OR_RETURN(auto quant, OrtRunner::Create(optimized, options));
  std::vector<double> fp32_ms, quant_ms;
  for (int i = -5; i < runs; ++i) {  // 5 warm-up rounds
    auto start = std::chrono::steady_clock::now();
    RETURN_IF_ERROR(fp32->Run(batch.inputs).status());
    if (i >= 0) fp32_ms.push_back(MillisecondsSince(start));
    start = std::chrono::steady_clock::now();
    RETURN_IF_ERROR(quant->Run(batch.inputs).status());
    if (i >= 0) quant_ms.push_back(MillisecondsSince(start));
  }
  return LatencyPair{Median(fp32_ms), Median(quant_ms)};
}

StatusOr<long> PeakRssOfChild(const std::vector<std::string>& argv, const std::string& report) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return Internal("fork failed");
  if (pid == 0) {
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return Internal("waitpid failed");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Internal(argv[0] + " exited with status " + std::to_string(WEXITSTATUS(status)));
  }
  ASSIGN_OR_RETURN(std::string json, ReadFile(report));
  size_t key = json.find("\"peakRssBytes\"");
  if (key == std::string::npos) return Internal(report + " has no peakRssBytes");
  size_t digits = json.find_first_of("0123456789", key + 14);
  return long(std::atoll(json.c_str() + digits) / 1024);
}

}  // namespace shrink::testing
