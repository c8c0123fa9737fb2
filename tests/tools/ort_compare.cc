// shrink-ort-compare: runs any ONNX model in our runtime and in ONNX Runtime on the same inputs
// and reports, per output, how far apart they are.
//   shrink-ort-compare MODEL.onnx [--input DATA.npz|.npy] [--shape name=1x3x224x224,...]
//                      [--value name=V,...] [--seed S] [--threads N] [--tolerance T]
//                      [--no-ort-optimization]  (ORT runs the graph as written, unfused)
// Without --input, inputs are uniform in [-1, 1] (fixed seed). Exit 0 when every output is
// within T * max(1, |ORT|) per element (default T = 1e-4), 2 when not, 1 on bad input.
#include <cstdio>
#include <string>
#include <vector>

#include "client/flags.h"
#include "engine/io/data_loader.h"
#include "engine/io/onnx_import.h"
#include "engine/runtime/executor.h"
#include "tests/ort_runner.h"
#include "tests/output_compare.h"
#include "tests/test_inputs.h"

namespace shrink::testing {
namespace {

StatusOr<std::vector<engine::NamedTensor>> Feeds(const cli::ParsedFlags& flags,
                                                 const engine::Executor& executor) {
  if (flags.Has("input")) {
    ASSIGN_OR_RETURN(auto reader, engine::DataReader::Open(flags.Get("input"),
                                                           executor.required_inputs(), {1 << 30}));
    engine::DataBatch batch;
    ASSIGN_OR_RETURN(bool any, reader->Next(&batch));
    if (!any) return InvalidArgument(flags.Get("input") + " holds no samples");
    return batch.inputs;
  }
  InputOptions options;
  ASSIGN_OR_RETURN(int seed, flags.GetInt("seed", 42));
  options.seed = uint64_t(seed);
  ASSIGN_OR_RETURN(options.shapes, ParseShapeList(flags.Get("shape")));
  ASSIGN_OR_RETURN(options.values, ParseValueList(flags.Get("value")));
  return MakeInputs(executor.required_inputs(), options);
}

int Main(int argc, char** argv) {
  cli::FlagSpec spec{{"input", "shape", "value", "seed", "threads", "tolerance"},
                     {"no-ort-optimization"}};
  auto flags = cli::ParseFlags(std::vector<std::string>(argv + 1, argv + argc), spec);
  if (!flags.ok()) return cli::ReportError(flags.status());
  if (flags->positional.size() != 1) {
    std::fprintf(stderr, "usage: shrink-ort-compare MODEL.onnx [--input DATA] [--shape ...]\n");
    return cli::kExitUsage;
  }
  const std::string& path = flags->positional[0];
  auto threads = flags->GetInt("threads", 2);
  if (!threads.ok()) return cli::ReportError(threads.status());
  double tolerance = flags->Has("tolerance") ? std::stod(flags->Get("tolerance")) : 1e-4;

  auto model = engine::LoadModel(path);
  if (!model.ok()) return cli::ReportError(model.status());
  auto executor = engine::Executor::Create(*model, {*threads, false});
  if (!executor.ok()) return cli::ReportError(executor.status());
  auto feeds = Feeds(*flags, **executor);
  if (!feeds.ok()) return cli::ReportError(feeds.status());
  auto ours = (*executor)->Run(*feeds);
  if (!ours.ok()) return cli::ReportError(ours.status().WithContext("our runtime"));
  OrtRunnerOptions ort_options;
  ort_options.threads = *threads;
  ort_options.optimize = !flags->Has("no-ort-optimization");
  auto ort = OrtRunner::Create(path, ort_options);
  if (!ort.ok()) return cli::ReportError(ort.status());
  auto reference = (*ort)->Run(*feeds);
  if (!reference.ok()) return cli::ReportError(reference.status());

  std::printf("%s\ninputs: %s\n", path.c_str(), ShapesToString(*feeds).c_str());
  bool all_ok = true;
  for (size_t i = 0; i < ours->size(); ++i) {
    Difference diff = Compare((*ours)[i], (*reference)[i]);
    bool ok = diff.problem.empty() && diff.max_scaled <= tolerance;
    all_ok &= ok;
    std::printf(
        "  %-4s %-32s %-9s %-16s max_abs %.3g  max_rel %.3g  scaled %.3g  sqnr %.1f dB %s\n",
        ok ? "OK" : "DIFF", model->graph.outputs[i].name.c_str(),
        engine::DataTypeName((*ours)[i].dtype()), engine::ShapeToString((*ours)[i].shape()).c_str(),
        diff.max_abs, diff.max_rel, diff.max_scaled, diff.sqnr_db, diff.problem.c_str());
  }
  std::printf("%s (bound: |ours - ORT| <= %.0e * max(1, |ORT|))\n", all_ok ? "match" : "MISMATCH",
              tolerance);
  return all_ok ? cli::kExitOk : cli::kExitJobFailed;
}

}  // namespace
}  // namespace shrink::testing

int main(int argc, char** argv) { return shrink::testing::Main(argc, argv); }
