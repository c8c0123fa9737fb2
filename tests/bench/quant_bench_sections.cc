// The dev-set, speed and memory sections of `shrink-bench quant`.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "engine/io/data_loader.h"
#include "engine/io/onnx_import.h"
#include "engine/ir/graph_utils.h"
#include "engine/job/recipe.h"
#include "tests/bench/quant_bench.h"
#include "tests/bench/quant_bench_util.h"
#include "tests/ort_runner.h"
#include "tests/test_inputs.h"

namespace shrink::testing {
namespace {

// Calibration or evaluation DATA made by scripts/make-dev-data.sh for a model: a .npz file or
// a directory of them.
std::vector<StatePair> StatePairsFor(const std::string& model);

// Stateful models use the "-stream" sets (no recorded state: the state is carried over).
std::string DevData(const QuantBenchOptions& options, const std::string& model,
                    const std::string& kind) {
  const std::string set = StatePairsFor(model).empty() ? kind : kind + "-stream";
  std::string base = JoinPath(JoinPath(options.dev_data, model), set);
  if (IsDirectory(base)) return base;
  if (FileExists(base + ".npz")) return base + ".npz";
  return "";
}

std::vector<StatePair> StatePairsFor(const std::string& model) {
  if (model == "silero_vad_v5") return {{"state", "stateN"}};
  return {};
}

std::string RecipeFor(const std::string& preset, const std::vector<StatePair>& state, int samples) {
  std::string json = "{\"preset\": \"" + preset + "\"";
  if (samples > 0) {
    json +=
        ", \"steps\": [{\"quantize\": {\"calibrationSamples\": " + std::to_string(samples) + "}}]";
  }
  if (!state.empty()) {
    json += ", \"data\": {\"statePairs\": [";
    for (size_t i = 0; i < state.size(); ++i) {
      json += std::string(i ? ", " : "") + "{\"input\": \"" + state[i].input +
              "\", \"output\": \"" + state[i].output + "\"}";
    }
    json += "]}";
  }
  return json + "}";
}

struct Variant {
  std::string label;
  std::string recipe_json;
};

// The presets compared on the dev set, or the recipe files given with --recipe.
std::vector<Variant> Variants(const QuantBenchOptions& options) {
  std::vector<Variant> variants;
  for (const std::string& path : options.recipes) {
    auto json = ReadFile(path);
    if (json.ok()) variants.push_back({BaseName(path), *json});
  }
  if (!variants.empty()) return variants;
  for (const char* preset : {"int8", "int8-dynamic", "float16", "int16x8"}) {
    variants.push_back({preset, std::string("{\"preset\": \"") + preset + "\"}"});
  }
  return variants;
}

double MinSqnr(const Evaluation& reference, const Evaluation& optimized, std::string* worst) {
  double lowest = INFINITY;
  for (size_t i = 0; i < reference.outputs.size() && i < optimized.outputs.size(); ++i) {
    double sqnr = SqnrDb(reference.outputs[i], optimized.outputs[i]);
    if (sqnr < lowest || std::isnan(sqnr)) {
      lowest = sqnr;
      *worst = reference.output_names[i];
    }
  }
  return lowest;
}

Status DevModel(const QuantBenchOptions& options, const KitModel& model) {
  const std::string calib = DevData(options, model.name, "calib");
  const std::string eval = DevData(options, model.name, "eval");
  if (calib.empty() || eval.empty()) {
    std::printf("%-20s no data under %s (run scripts/make-dev-data.sh)\n", model.name.c_str(),
                options.dev_data.c_str());
    return OkStatus();
  }
  const std::vector<StatePair> state = StatePairsFor(model.name);
  ASSIGN_OR_RETURN(Evaluation reference, EvaluateInOrt(model.path, eval, state, options.threads));
  for (const Variant& variant : Variants(options)) {
    const char* preset = variant.label.c_str();
    std::string out = JoinPath(options.work, model.name + "." + variant.label + ".onnx");
    ASSIGN_OR_RETURN(v1::Recipe recipe,
                     engine::ParseRecipeJson(variant.recipe_json, variant.label));
    ASSIGN_OR_RETURN(v1::Recipe expanded, engine::ExpandRecipe(recipe));
    const bool calibrated = engine::NeedsCalibrationData(expanded);
    for (const StatePair& pair : calibrated ? state : std::vector<StatePair>{}) {
      v1::StatePair* added = recipe.mutable_data()->add_state_pairs();
      added->set_input(pair.input);
      added->set_output(pair.output);
    }
    auto report = OptimizeModel(
        {model.path, engine::RecipeToJson(recipe), calibrated ? calib : "", out, options.threads});
    if (!report.ok()) {
      std::printf("%-20s %-13s FAILED: %s\n", model.name.c_str(), preset,
                  report.status().ToString().c_str());
      continue;
    }
    auto optimized = EvaluateInOrt(out, eval, state, options.threads);
    if (!optimized.ok()) {
      std::printf("%-20s %-13s EVAL FAILED: %s\n", model.name.c_str(), preset,
                  optimized.status().ToString().c_str());
      continue;
    }
    std::string worst;
    double sqnr = MinSqnr(reference, *optimized, &worst);
    auto latency = state.empty()
                       ? CompareLatency(model.path, out, eval, options.threads, options.runs)
                       : StatusOr<LatencyPair>(LatencyPair{});
    // Stateful voice activity: the speech / non-speech decision per frame is what users see.
    double decisions =
        state.empty() ? NAN : DecisionAgreement(reference.outputs[0], optimized->outputs[0], 0.5f);
    std::printf("%-20s %-13s %9.2f %-12s %7.2f %7.2f %9.2f %6lld %9.2f\n", model.name.c_str(),
                preset, sqnr, worst.c_str(), report->size().raw_ratio(),
                report->size().zstd_ratio(), latency.ok() ? latency->ratio() : NAN,
                (long long)reference.samples, decisions);
  }
  return OkStatus();
}

double SecondsOfStage(const v1::Report& report, const std::string& stage) {
  for (const v1::StageTiming& timing : report.timings()) {
    if (timing.stage() == stage) return timing.seconds();
  }
  return 0;
}

struct OrtTimes {
  double passes = 0;      // the forward passes after a warm-up run
  double with_setup = 0;  // session creation and the first run included, as the job's are
};

// ORT's time for the same forward passes, one sample per run.
StatusOr<OrtTimes> OrtSeconds(const std::string& model_path, const std::string& data, int samples,
                              int threads) {
  ASSIGN_OR_RETURN(engine::Model model, engine::LoadModel(model_path));
  const std::vector<engine::ValueInfo> inputs = engine::RequiredInputs(model.graph);
  ASSIGN_OR_RETURN(auto reader, engine::DataReader::Open(data, inputs, {1}));
  std::vector<engine::DataBatch> batches;
  engine::DataBatch batch;
  while (int(batches.size()) < samples) {
    ASSIGN_OR_RETURN(bool more, reader->Next(&batch));
    if (!more) break;
    batches.push_back(batch);
  }
  if (batches.empty()) return InvalidArgument(data + " is empty");
  OrtRunnerOptions options;
  options.threads = threads;
  auto since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  OrtTimes times;
  auto setup = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(auto runner, OrtRunner::Create(model_path, options));
  RETURN_IF_ERROR(runner->Run(batches[0].inputs).status());  // warm-up
  const double setup_seconds = since(setup);
  auto start = std::chrono::steady_clock::now();
  for (const auto& b : batches) RETURN_IF_ERROR(runner->Run(b.inputs).status());
  times.passes = since(start);
  times.with_setup = setup_seconds + times.passes;
  return times;
}

}  // namespace

Status DevSection(const QuantBenchOptions& options) {
  ASSIGN_OR_RETURN(std::vector<KitModel> kit, LoadManifest(AssetKitRoot()));
  std::printf("\n== dev set: optimized vs float outputs in ORT on held-out data ==\n");
  std::printf("%-20s %-13s %9s %-12s %7s %7s %9s %6s %9s\n", "model", "preset", "sqnr_db",
              "worst_out", "size_x", "zstd_x", "ort_lat_x", "evals", "decide%");
  for (const KitModel& model : DevSetOnnxModels(kit)) RETURN_IF_ERROR(DevModel(options, model));
  return OkStatus();
}

Status SpeedSection(const QuantBenchOptions& options) {
  std::printf(
      "\n== speed: calibration stage of a static int8 job with 100 samples vs ORT's 100 "
      "forward passes (batch 1), without and with ORT's session setup and first run ==\n");
  std::printf("%-28s %9s %9s %9s %9s %7s %9s\n", "model", "calib_s", "job_s", "ort_s", "ort+set_s",
              "ratio", "ratio_set");
  std::vector<std::pair<std::string, std::string>> cases;
  ASSIGN_OR_RETURN(std::string mnist,
                   MnistData(options, "train", 500, {1, 28, 28}, "mnist_calib_3d.npz"));
  cases.push_back({JoinPath(SharedModelsDir(), "mnist_cnn.onnx"), mnist});
  auto kit = LoadManifest(AssetKitRoot());
  if (kit.ok()) {
    for (const KitModel& model : DevSetOnnxModels(*kit)) {
      std::string calib = DevData(options, model.name, "calib");
      if (!calib.empty() && StatePairsFor(model.name).empty()) cases.push_back({model.path, calib});
    }
  }
  for (const auto& [model, data] : cases) {
    std::string out = JoinPath(options.work, "speed.onnx");
    auto start = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(v1::Report report, OptimizeModel({model, RecipeFor("int8", {}, 100), data, out,
                                                       options.threads}));
    double job = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double calib = SecondsOfStage(report, "calibrate");
    ASSIGN_OR_RETURN(OrtTimes ort, OrtSeconds(model, data, 100, options.threads));
    std::printf("%-28s %9.3f %9.3f %9.3f %9.3f %7.2f %9.2f\n", BaseName(model).c_str(), calib, job,
                ort.passes, ort.with_setup, calib / ort.passes, calib / ort.with_setup);
  }
  return OkStatus();
}

Status MemorySection(const QuantBenchOptions& options) {
  // The same batch size (16) in both runs, so any growth comes from what calibration keeps.
  std::printf(
      "\n== memory: peak RSS of `shrink run` with 500 vs 50 calibration samples, batch 16 ==\n");
  std::printf("%-20s %-11s %12s %12s %7s\n", "model", "calibrator", "rss50_MiB", "rss500_MiB",
              "ratio");
  ASSIGN_OR_RETURN(std::string mnist,
                   MnistData(options, "train", 500, {1, 28, 28}, "mnist_calib_3d.npz"));
  std::vector<std::pair<std::string, std::string>> cases = {
      {JoinPath(SharedModelsDir(), "mnist_cnn.onnx"), mnist}};
  auto kit = LoadManifest(AssetKitRoot());
  if (kit.ok()) {
    for (const KitModel& model : DevSetOnnxModels(*kit)) {
      // A model with enough calibration samples (one .npz per window) and real activations.
      std::string calib = DevData(options, model.name, "calib");
      if (model.name == "oww_embedding" && !calib.empty()) cases.push_back({model.path, calib});
    }
  }
  for (const auto& [model, data] : cases) {
    for (const char* calibrator : {"MINMAX", "PERCENTILE", "ENTROPY", "MSE"}) {
      long rss[2] = {0, 0};
      const int samples[2] = {50, 500};
      for (int k = 0; k < 2; ++k) {
        std::string recipe = JoinPath(options.work, "memory.json");
        RETURN_IF_ERROR(WriteFile(
            recipe, std::string("{\"preset\": \"int8\", \"data\": {\"batchSize\": 16}, ") +
                        "\"steps\": [{\"quantize\": {\"calibrator\": \"" + calibrator +
                        "\", \"calibrationSamples\": " + std::to_string(samples[k]) + "}}]}"));
        const std::string report = JoinPath(options.work, "memory.report.json");
        ASSIGN_OR_RETURN(
            rss[k], PeakRssOfChild({options.shrink_binary, "run", model, "--recipe", recipe,
                                    "--calib", data, "--out", JoinPath(options.work, "memory.onnx"),
                                    "--no-ort-check", "--threads", "2", "--report", report},
                                   report));
      }
      std::printf("%-20s %-11s %12.1f %12.1f %7.3f\n", BaseName(model).c_str(), calibrator,
                  rss[0] / 1024.0, rss[1] / 1024.0, double(rss[1]) / double(rss[0]));
    }
  }
  return OkStatus();
}

}  // namespace shrink::testing
