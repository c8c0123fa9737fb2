// shrink-bench runtime: whole-model fp32 latency of our executor against ONNX Runtime, in the
// same process, with the same thread count and the same fixed-seed inputs. Runs alternate
// (ours, ORT, ours, ORT, ...) so machine noise lands on both; the table gives median and p90 of
// each and the ratio ours/ORT of the medians, closed by the geometric mean ratio.
//
//   shrink-bench runtime [--threads N] [--runs R] [--warmup W] [--reference] [--json FILE]
//                        [--value name=V,...] (--dev-set | MODEL.onnx[:name=shape,...] ...)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "common/json.h"
#include "engine/io/onnx_import.h"
#include "engine/ir/graph_utils.h"
#include "engine/runtime/executor.h"
#include "tests/bench/compress_bench.h"
#include "tests/bench/eval_bench.h"
#include "tests/bench/quant_bench.h"
#include "tests/bench/service_bench.h"
#include "tests/ort_runner.h"
#include "tests/test_inputs.h"

namespace shrink::testing {
namespace {

const char kUsage[] =
    "usage: shrink-bench runtime [--threads N] [--runs R] [--warmup W] [--reference]\n"
    "                            [--json FILE] [--value name=V,...]\n"
    "                            [--no-ort-spin] [--no-alternate]\n"
    "                            (--dev-set | MODEL.onnx[:name=shape,...] ...)\n"
    "       shrink-bench quant [mnist] [dev] [speed] [memory] (--help for details)\n"
    "       shrink-bench service [--quick] [--shrinkd PATH] [--json FILE]\n"
    "       shrink-bench eval [--samples N] [--threads T] [--reps R] [--check]\n"
    "       shrink-bench compress   (prune + cluster of ppocrv4_det vs its int8 calibration)\n"
    "  Times our executor and ONNX Runtime (fp32, same threads, alternating runs).\n"
    "  Shapes are like input=1x3x224x224 (a scalar is name=); models of the asset kit\n"
    "  default to their manifest ort_bench shapes and values. Defaults: --threads 2\n"
    "  --runs 30 --warmup 5. Kit root: $SHRINK_ASSETS or ~/.cache/shrink-assets.\n"
    "  ORT's pool threads spin after each run by default and then compete with our\n"
    "  OpenMP team on a small machine; --no-ort-spin turns ORT's spinning off, and\n"
    "  OMP_WAIT_POLICY=passive does the same for ours; --no-alternate times all our runs\n"
    "  and then all ORT runs, to see each runtime without the other's idle threads.\n";

struct BenchOptions {
  int threads = 2;
  int runs = 30;
  int warmup = 5;
  bool reference = false;
  bool alternate = true;     // --no-alternate: all our runs, then all ORT runs
  bool ort_spinning = true;  // ORT's default; --no-ort-spin turns it off (see the usage text)
  std::string json_path;
  std::map<std::string, double> values;  // --value, for every model
};

struct BenchModel {
  std::string name;
  std::string path;
  InputOptions inputs;
};

struct BenchResult {
  std::string name;
  std::string path;
  std::string inputs;
  std::string error;  // empty on success
  double ours_median = 0, ours_p90 = 0, ort_median = 0, ort_p90 = 0;
  double ratio() const { return ours_median / ort_median; }
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Nearest-rank percentile: the smallest sample with at least p of the runs at or below it.
double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t rank = size_t(std::ceil(p * double(v.size())));
  return v[std::max<size_t>(rank, 1) - 1];
}

std::string Stem(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  size_t dot = base.rfind('.');
  return dot == std::string::npos ? base : base.substr(0, dot);
}

std::string CanonicalPath(const std::string& path) {
  char* resolved = realpath(path.c_str(), nullptr);
  if (resolved == nullptr) return path;
  std::string result(resolved);
  std::free(resolved);
  return result;
}

// "MODEL.onnx[:name=shape,...]": a kit model keeps its manifest shapes unless overridden.
StatusOr<BenchModel> ParseModelSpec(const std::string& spec, const std::vector<KitModel>& kit) {
  size_t slash = spec.find_last_of('/');
  size_t colon = spec.find(':', slash == std::string::npos ? 0 : slash);
  BenchModel model;
  model.path = spec.substr(0, colon);
  model.name = Stem(model.path);
  const std::string canonical = CanonicalPath(model.path);
  for (const KitModel& entry : kit) {
    if (entry.format == "onnx" && CanonicalPath(entry.path) == canonical) {
      model.name = entry.name;
      model.inputs.shapes = entry.bench_shapes;
      model.inputs.values = entry.bench_values;
    }
  }
  if (colon != std::string::npos) {
    ASSIGN_OR_RETURN(auto shapes, ParseShapeList(spec.substr(colon + 1)));
    for (auto& [name, shape] : shapes) model.inputs.shapes[name] = shape;
  }
  return model;
}

double MillisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

template <typename Fn>
Status TimeOnce(Fn& fn, bool keep, std::vector<double>* samples) {
  StatusOr<double> elapsed = fn();
  if (!elapsed.ok()) return elapsed.status();
  if (keep) samples->push_back(*elapsed);
  return OkStatus();
}

// Loads both runtimes, then times them (alternating unless --no-alternate).
Status TimeModel(const BenchModel& spec, const BenchOptions& options, BenchResult* result) {
  auto model = engine::LoadModel(spec.path);
  if (!model.ok()) return model.status().WithContext("shrink could not load " + spec.path);
  InputOptions input_options = spec.inputs;
  for (const auto& [name, value] : options.values) input_options.values[name] = value;
  const std::vector<engine::ValueInfo> required = engine::RequiredInputs(model->graph);
  ASSIGN_OR_RETURN(auto feeds, MakeInputs(required, input_options));
  result->inputs = ShapesToString(feeds);
  auto executor = engine::Executor::Create(*model, {options.threads, options.reference});
  if (!executor.ok()) return executor.status().WithContext("shrink executor");
  ASSIGN_OR_RETURN(auto ort, OrtRunner::Create(spec.path, {options.threads, options.ort_spinning}));

  auto time_ours = [&]() -> StatusOr<double> {
    auto start = std::chrono::steady_clock::now();
    auto outputs = (*executor)->Run(feeds);
    if (!outputs.ok()) return outputs.status().WithContext("shrink run");
    return MillisecondsSince(start);
  };
  auto time_ort = [&]() -> StatusOr<double> {
    auto start = std::chrono::steady_clock::now();
    auto outputs = ort->Run(feeds);
    if (!outputs.ok()) return outputs.status();
    return MillisecondsSince(start);
  };
  std::vector<double> ours_ms, ort_ms;
  if (options.alternate) {
    for (int i = 0; i < options.warmup + options.runs; ++i) {
      RETURN_IF_ERROR(TimeOnce(time_ours, i >= options.warmup, &ours_ms));
      RETURN_IF_ERROR(TimeOnce(time_ort, i >= options.warmup, &ort_ms));
    }
  } else {
    for (int i = 0; i < options.warmup + options.runs; ++i) {
      RETURN_IF_ERROR(TimeOnce(time_ours, i >= options.warmup, &ours_ms));
    }
    for (int i = 0; i < options.warmup + options.runs; ++i) {
      RETURN_IF_ERROR(TimeOnce(time_ort, i >= options.warmup, &ort_ms));
    }
  }
  result->ours_median = Median(ours_ms);
  result->ours_p90 = Percentile(ours_ms, 0.9);
  result->ort_median = Median(ort_ms);
  result->ort_p90 = Percentile(ort_ms, 0.9);
  return OkStatus();
}

double GeometricMeanRatio(const std::vector<BenchResult>& results) {
  double log_sum = 0;
  int count = 0;
  for (const BenchResult& r : results) {
    if (!r.error.empty()) continue;
    log_sum += std::log(r.ratio());
    ++count;
  }
  return count ? std::exp(log_sum / count) : NAN;
}


std::string JsonNumber(double value) {
  if (!std::isfinite(value)) return "null";
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.6g", value);
  return buffer;
}

std::string OmpWaitPolicy() {
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  return policy ? policy : "default";
}

void PrintTable(const std::vector<BenchResult>& results, const BenchOptions& options) {
  std::printf("%-22s %-36s %3s %10s %10s %10s %10s %7s\n", "model", "inputs", "thr", "ours_med",
              "ours_p90", "ort_med", "ort_p90", "ratio");
  for (const BenchResult& r : results) {
    if (!r.error.empty()) {
      std::printf("%-22s %-36s %3d  error: %s\n", r.name.c_str(), r.inputs.c_str(), options.threads,
                  r.error.c_str());
      continue;
    }
    std::printf("%-22s %-36s %3d %10.3f %10.3f %10.3f %10.3f %7.2f\n", r.name.c_str(),
                r.inputs.c_str(), options.threads, r.ours_median, r.ours_p90, r.ort_median,
                r.ort_p90, r.ratio());
  }
  double geomean = GeometricMeanRatio(results);
  std::string geomean_text = std::isfinite(geomean) ? JsonNumber(geomean) : "n/a (no model ran)";
  std::printf(
      "geometric mean ratio ours/ORT: %s (times in ms, %d runs after %d warm-up, %s kernels, "
      "ORT spinning %s, OMP_WAIT_POLICY %s, %s)\n",
      geomean_text.c_str(), options.runs, options.warmup, options.reference ? "reference" : "fast",
      options.ort_spinning ? "on" : "off", OmpWaitPolicy().c_str(),
      options.alternate ? "alternating" : "not alternating");
}

std::string ToJson(const std::vector<BenchResult>& results, const BenchOptions& options) {
  std::ostringstream json;
  json << "{\n  \"threads\": " << options.threads << ",\n  \"runs\": " << options.runs
       << ",\n  \"warmup\": " << options.warmup
       << ",\n  \"kernels\": " << (options.reference ? "\"reference\"" : "\"fast\"")
       << ",\n  \"alternate\": " << (options.alternate ? "true" : "false")
       << ",\n  \"ort_spinning\": " << (options.ort_spinning ? "true" : "false")
       << ",\n  \"omp_wait_policy\": " << JsonQuote(OmpWaitPolicy()) << ",\n  \"models\": [";
  for (size_t i = 0; i < results.size(); ++i) {
    const BenchResult& r = results[i];
    json << (i ? ",\n" : "\n") << "    {\"model\": " << JsonQuote(r.name)
         << ", \"path\": " << JsonQuote(r.path) << ", \"inputs\": " << JsonQuote(r.inputs)
         << ", \"threads\": " << options.threads;
    if (!r.error.empty()) {
      json << ", \"error\": " << JsonQuote(r.error) << "}";
      continue;
    }
    json << ", \"ours_median_ms\": " << JsonNumber(r.ours_median)
         << ", \"ours_p90_ms\": " << JsonNumber(r.ours_p90)
         << ", \"ort_median_ms\": " << JsonNumber(r.ort_median)
         << ", \"ort_p90_ms\": " << JsonNumber(r.ort_p90)
         << ", \"ratio\": " << JsonNumber(r.ratio()) << "}";
  }
  json << "\n  ],\n  \"geomean_ratio\": " << JsonNumber(GeometricMeanRatio(results)) << "\n}\n";
  return json.str();
}

bool ParseInt(const char* text, int minimum, int* out) {
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < minimum || value > 1000000) return false;
  *out = int(value);
  return true;
}

// Parses flags after "runtime"; model specs go to `specs`.
Status ParseArgs(int argc, char** argv, BenchOptions* options, std::vector<std::string>* specs,
                 bool* dev_set) {
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (arg == "--threads" || arg == "--runs" || arg == "--warmup") {
      const char* value = next();
      int* target = arg == "--threads" ? &options->threads
                    : arg == "--runs"  ? &options->runs
                                       : &options->warmup;
      int minimum = arg == "--threads" ? 1 : arg == "--runs" ? 20 : 0;
      if (!value || !ParseInt(value, minimum, target)) {
        return InvalidArgument(arg + " needs an integer >= " + std::to_string(minimum));
      }
    } else if (arg == "--reference") {
      options->reference = true;
    } else if (arg == "--no-alternate") {
      options->alternate = false;
    } else if (arg == "--no-ort-spin") {
      options->ort_spinning = false;
    } else if (arg == "--dev-set") {
      *dev_set = true;
    } else if (arg == "--json") {
      const char* value = next();
      if (!value) return InvalidArgument("--json needs a file");
      options->json_path = value;
    } else if (arg == "--value") {
      const char* value = next();
      if (!value) return InvalidArgument("--value needs name=V");
      ASSIGN_OR_RETURN(auto values, ParseValueList(value));
      for (auto& [name, v] : values) options->values[name] = v;
    } else if (!arg.empty() && arg[0] == '-') {
      return InvalidArgument("unknown flag " + arg);
    } else {
      specs->push_back(arg);
    }
  }
  if (!*dev_set && specs->empty()) return InvalidArgument("no model given (or --dev-set)");
  return OkStatus();
}

int Main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "quant") return QuantMain(argc, argv);
  if (argc >= 2 && std::string(argv[1]) == "service") return ServiceMain(argc, argv);
  if (argc >= 2 && std::string(argv[1]) == "eval") return EvalBenchMain(argc, argv);
  if (argc >= 2 && std::string(argv[1]) == "compress") return CompressBenchMain(argc, argv);
  if (argc < 2 || std::string(argv[1]) != "runtime") {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  BenchOptions options;
  std::vector<std::string> specs;
  bool dev_set = false;
  if (Status status = ParseArgs(argc, argv, &options, &specs, &dev_set); !status.ok()) {
    std::fprintf(stderr, "shrink-bench: %s\n%s", status.message().c_str(), kUsage);
    return 2;
  }
  auto kit = LoadManifest(AssetKitRoot());
  if (!kit.ok() && dev_set) {
    std::fprintf(stderr, "shrink-bench: %s\n", kit.status().ToString().c_str());
    return 1;
  }
  std::vector<KitModel> kit_models = kit.ok() ? *kit : std::vector<KitModel>{};
  std::vector<BenchModel> models;
  if (dev_set) {
    for (const KitModel& entry : DevSetOnnxModels(kit_models)) specs.push_back(entry.path);
  }
  for (const std::string& spec : specs) {
    auto model = ParseModelSpec(spec, kit_models);
    if (!model.ok()) {
      std::fprintf(stderr, "shrink-bench: %s: %s\n", spec.c_str(),
                   model.status().ToString().c_str());
      return 2;
    }
    models.push_back(std::move(model).value());
  }
  std::vector<BenchResult> results;
  bool failed = false;
  for (const BenchModel& model : models) {
    BenchResult result;
    result.name = model.name;
    result.path = model.path;
    if (Status status = TimeModel(model, options, &result); !status.ok()) {
      result.error = status.ToString();
      failed = true;
    }
    results.push_back(result);
  }
  PrintTable(results, options);
  if (!options.json_path.empty()) {
    if (Status status = WriteFile(options.json_path, ToJson(results, options)); !status.ok()) {
      std::fprintf(stderr, "shrink-bench: %s\n", status.ToString().c_str());
      return 1;
    }
  }
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace shrink::testing

int main(int argc, char** argv) { return shrink::testing::Main(argc, argv); }
