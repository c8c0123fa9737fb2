// shrink-bench quant: the post-training quantization targets, measured on real models.
//   mnist   top-1 of every preset on the MNIST eval subset (first 1000 test images) against
//           float, agreement with float, size ratios, ORT latency ratio (batch 1)
//   dev     SQNR of int8 / float16 / int8-dynamic against float on the dev-set models, over
//           held-out realistic data (scripts/make-dev-data.sh), size and latency ratios
//   speed   calibration time of static int8 with 100 samples against ORT's 100 forward passes
//   memory  peak RSS of `shrink run` with 500 and with 50 calibration samples, per calibrator
// All ratios are printed; nothing is asserted (the numbers go into the issue note).
#include "tests/bench/quant_bench.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "engine/io/npy.h"
#include "tests/bench/quant_bench_util.h"
#include "tests/test_inputs.h"

namespace shrink::testing {
namespace {

using engine::Tensor;

const char kUsage[] =
    "usage: shrink-bench quant [mnist] [dev] [speed] [memory] [--threads N] [--runs R]\n"
    "                          [--dev-data DIR] [--work DIR] [--recipe R.json ...]\n"
    "  No section = all. --dev-data: what scripts/make-dev-data.sh made\n"
    "  (default ~/.cache/shrink-data). Models come from shared/models and the asset kit.\n";

const char* kPresets[] = {"float16", "int8-dynamic", "int8", "int16x8", "size", "latency"};

bool NeedsCalib(const std::string& preset) {
  return preset == "int8" || preset == "int16x8" || preset == "latency";
}

}  // namespace

StatusOr<std::string> MnistData(const QuantBenchOptions& options, const std::string& set,
                                int64_t count, const engine::Shape& per_image,
                                const std::string& name) {
  std::string path = JoinPath(options.work, name);
  if (FileExists(path)) return path;
  ASSIGN_OR_RETURN(MnistSubset subset,
                   LoadMnistSet(JoinPath(AssetKitRoot(), "data/mnist"), set, count));
  engine::Shape shape = {count};
  shape.insert(shape.end(), per_image.begin(), per_image.end());
  ASSIGN_OR_RETURN(Tensor images, MnistImages(subset, 0, count, shape));
  std::vector<int64_t> labels(subset.labels.begin(), subset.labels.end());
  RETURN_IF_ERROR(engine::WriteNpz(
      path, {{"input", images}, {"labels", Tensor::FromVector<int64_t>({count}, labels)}},
      engine::NpzCompression::kStored));
  return path;
}

namespace {

std::string PresetRecipe(const std::string& preset) { return "{\"preset\": \"" + preset + "\"}"; }

}  // namespace

Status MnistSection(const QuantBenchOptions& options) {
  struct Entry {
    const char* name;
    engine::Shape per_image;
  };
  const Entry models[] = {
      {"mnist_mlp", {1, 28, 28}}, {"mnist_cnn", {1, 28, 28}}, {"digits_gru", {28, 28}}};
  std::printf(
      "\n== mnist: top-1 on the eval subset (1000 test images), calibration on train "
      "images 0..499 ==\n");
  std::printf("%-11s %-13s %8s %8s %7s %9s %7s %7s %9s %7s\n", "model", "preset", "float%", "opt%",
              "drop", "agree%", "size_x", "zstd_x", "ort_lat_x", "job_s");
  for (const Entry& entry : models) {
    std::string model = JoinPath(SharedModelsDir(), std::string(entry.name) + ".onnx");
    std::string rank = std::to_string(entry.per_image.size());
    ASSIGN_OR_RETURN(std::string calib, MnistData(options, "train", 500, entry.per_image,
                                                  "mnist_calib_" + rank + "d.npz"));
    ASSIGN_OR_RETURN(std::string eval, MnistData(options, "t10k", 1000, entry.per_image,
                                                 "mnist_eval_" + rank + "d.npz"));
    ASSIGN_OR_RETURN(Evaluation reference, EvaluateInOrt(model, eval, {}, options.threads));
    std::vector<int64_t> float_top1 = Argmax(reference.outputs[0]);
    for (const char* preset : kPresets) {
      std::string out = JoinPath(options.work, std::string(entry.name) + "." + preset + ".onnx");
      auto start = std::chrono::steady_clock::now();
      auto report = OptimizeModel(
          {model, PresetRecipe(preset), NeedsCalib(preset) ? calib : "", out, options.threads});
      double job_s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (!report.ok()) {
        std::printf("%-11s %-13s FAILED: %s\n", entry.name, preset,
                    report.status().ToString().c_str());
        continue;
      }
      ASSIGN_OR_RETURN(Evaluation optimized, EvaluateInOrt(out, eval, {}, options.threads));
      std::vector<int64_t> top1 = Argmax(optimized.outputs[0]);
      double float_acc = Accuracy(float_top1, reference.labels);
      double acc = Accuracy(top1, reference.labels);
      ASSIGN_OR_RETURN(LatencyPair latency,
                       CompareLatency(model, out, eval, options.threads, options.runs));
      std::printf("%-11s %-13s %8.2f %8.2f %7.2f %9.2f %7.2f %7.2f %9.2f %7.2f\n", entry.name,
                  preset, float_acc, acc, float_acc - acc, Agreement(top1, float_top1),
                  report->size().raw_ratio(), report->size().zstd_ratio(), latency.ratio(), job_s);
    }
  }
  return OkStatus();
}

int QuantMain(int argc, char** argv) {
  QuantBenchOptions options;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--threads") {
      options.threads = std::atoi(next().c_str());
    } else if (arg == "--runs") {
      options.runs = std::atoi(next().c_str());
    } else if (arg == "--dev-data") {
      options.dev_data = next();
    } else if (arg == "--recipe") {
      options.recipes.push_back(next());
    } else if (arg == "--work") {
      options.work = next();
    } else if (arg == "mnist" || arg == "dev" || arg == "speed" || arg == "memory") {
      options.sections.push_back(arg);
    } else {
      std::fprintf(stderr, "shrink-bench quant: unknown argument %s\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  if (options.threads < 1 || options.runs < 1) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  if (options.sections.empty()) options.sections = {"mnist", "dev", "speed", "memory"};
  if (options.dev_data.empty()) {
    const char* home = std::getenv("HOME");
    options.dev_data = std::string(home ? home : ".") + "/.cache/shrink-data";
  }
  if (options.work.empty()) {
    auto dir = MakeTempDir("shrink-bench-quant");
    if (!dir.ok()) return 1;
    options.work = *dir;
  }
  options.shrink_binary = JoinPath(DirName(argv[0]), "shrink");
  int failures = 0;
  for (const std::string& section : options.sections) {
    Status status = OkStatus();
    if (section == "mnist") status = MnistSection(options);
    if (section == "dev") status = DevSection(options);
    if (section == "speed") status = SpeedSection(options);
    if (section == "memory") status = MemorySection(options);
    if (!status.ok()) {
      std::fprintf(stderr, "shrink-bench quant %s: %s\n", section.c_str(),
                   status.ToString().c_str());
      ++failures;
    }
  }
  std::printf("\nwork files in %s\n", options.work.c_str());
  return failures ? 1 : 0;
}

}  // namespace shrink::testing
