#include "tests/bench/compress_bench.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/file_util.h"
#include "engine/job/pipeline.h"

namespace shrink::testing {
namespace {

// Seconds of the named stage in a report (0 when absent).
double StageSeconds(const v1::Report& report, const std::string& stage) {
  double seconds = 0;
  for (const auto& timing : report.timings()) {
    if (timing.stage() == stage) seconds += timing.seconds();
  }
  return seconds;
}

StatusOr<v1::Report> RunRecipe(const std::string& model, const std::string& data,
                               const std::string& out, v1::Recipe recipe) {
  engine::JobSpec spec;
  spec.model_path = model;
  spec.output_path = out;
  spec.calibration_data = data;
  spec.recipe = std::move(recipe);
  return engine::RunJob(spec, {});
}

}  // namespace

int CompressBenchMain(int argc, char** argv) {
  const char* home = std::getenv("HOME");
  const std::string assets = std::getenv("SHRINK_ASSETS") ? std::getenv("SHRINK_ASSETS")
                                                          : std::string(home) + "/.cache/shrink-assets";
  const std::string data_root = std::getenv("SHRINK_DATA") ? std::getenv("SHRINK_DATA")
                                                           : std::string(home) + "/.cache/shrink-data";
  const std::string model = assets + "/models/ppocrv4_det/ch_PP-OCRv4_det_infer.onnx";
  const std::string data = data_root + "/ppocrv4_det/calib";
  if (!FileExists(model) || !IsDirectory(data)) {
    std::fprintf(stderr, "shrink-bench compress: needs %s and %s (scripts/make-dev-data.sh)\n",
                 model.c_str(), data.c_str());
    return 1;
  }
  auto dir = MakeTempDir("shrink-compress-bench");
  if (!dir.ok()) return 1;
  v1::Recipe int8;
  int8.set_preset("int8");
  v1::Recipe compress;
  v1::PruneStep* prune = compress.add_steps()->mutable_prune();
  prune->set_target_sparsity(0.5);
  prune->set_repair(true);
  compress.add_steps()->mutable_cluster()->set_clusters(16);
  auto calibrated = RunRecipe(model, data, JoinPath(*dir, "int8.onnx"), int8);
  auto compressed = RunRecipe(model, data, JoinPath(*dir, "compressed.onnx"), compress);
  (void)RemoveAll(*dir);
  if (!calibrated.ok() || !compressed.ok()) {
    std::fprintf(stderr, "shrink-bench compress: %s\n",
                 (!calibrated.ok() ? calibrated.status() : compressed.status()).ToString().c_str());
    return 1;
  }
  const double calibrate = StageSeconds(*calibrated, "calibrate");
  const double pruning = StageSeconds(*compressed, "prune");
  const double clustering = StageSeconds(*compressed, "cluster");
  const double ratio = (pruning + clustering) / calibrate;
  std::printf("ppocrv4_det, data %s\n", data.c_str());
  std::printf("int8 calibration                 %8.3f s\n", calibrate);
  std::printf("prune 50%% + repair               %8.3f s\n", pruning);
  std::printf("cluster 16                       %8.3f s\n", clustering);
  std::printf("(prune + cluster) / calibration  %8.3f   (goal <= 2.0: %s)\n", ratio,
              ratio <= 2.0 ? "met" : "missed");
  std::printf("overall sparsity %.3f, %d layers clustered\n", compressed->overall_sparsity(),
              compressed->clusters_size());
  return 0;
}

}  // namespace shrink::testing
