// `shrink infer MODEL.onnx --input DATA --out OUT.npz [--threads N]`: runs the engine's own
// runtime over DATA and writes one array per model output, batch axis kept.
#include <algorithm>
#include <cstdio>

#include "client/commands.h"
#include "client/flags.h"
#include "client/progress.h"
#include "engine/io/data_loader.h"
#include "engine/io/npy.h"
#include "engine/io/onnx_import.h"
#include "engine/runtime/executor.h"

namespace shrink::cli {
namespace {

using engine::NamedTensor;
using engine::Tensor;

constexpr const char* kUsage =
    "usage: shrink infer MODEL.onnx --input DATA --out OUT.npz [--threads N] [--batch N]\n"
    "                    [--reference] [--compress] [--json] [--profile]\n"
    "  DATA: .npy (one input), .npz (arrays named after the inputs), or a directory of .npz\n";

struct InferResult {
  std::vector<NamedTensor> outputs;
  int64_t batches = 0;
  int64_t samples = 0;
};

// Prints the nodes that took the most time, summed over all batches.
void PrintProfile(const engine::NodeProfile& profile) {
  std::vector<engine::NodeProfile::Entry> entries = profile.entries;
  double total = 0;
  for (const auto& e : entries) total += e.seconds;
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.seconds > b.seconds; });
  std::fprintf(stderr, "profile: %.3f ms in kernels; slowest nodes:\n", total * 1e3);
  for (size_t i = 0; i < entries.size() && i < 15; ++i) {
    std::fprintf(stderr, "  %8.3f ms %5.1f%%  %s\n", entries[i].seconds * 1e3,
                 100 * entries[i].seconds / std::max(total, 1e-12),
                 entries[i].node->Describe().c_str());
  }
}

StatusOr<InferResult> RunAll(engine::Executor& executor, engine::DataReader& reader,
                             engine::NodeProfile* profile) {
  const auto& output_infos = executor.outputs();
  std::vector<std::vector<Tensor>> parts(output_infos.size());
  InferResult result;
  Progress progress("infer", reader.num_batches());
  engine::DataBatch batch;
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader.Next(&batch));
    if (!more) break;
    engine::RunOptions run_options;
    run_options.profile = profile;
    auto outputs = executor.Run(batch.inputs, run_options);
    if (!outputs.ok()) return outputs.status().WithContext(batch.source);
    for (size_t i = 0; i < outputs->size(); ++i) parts[i].push_back(std::move((*outputs)[i]));
    ++result.batches;
    result.samples += batch.samples;
    progress.Update(result.batches, batch.source);
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    ASSIGN_OR_RETURN(Tensor joined,
                     engine::ConcatenateBatches(parts[i], "output '" + output_infos[i].name + "'"));
    result.outputs.push_back({output_infos[i].name, std::move(joined)});
  }
  progress.Finish(std::to_string(result.samples) + " samples in " +
                  std::to_string(result.batches) + " batches");
  return result;
}

std::string JsonEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
      out += buffer;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

int InferCommand(const std::vector<std::string>& args) {
  FlagSpec spec{{"input", "out", "threads", "batch"},
                {"reference", "compress", "json", "profile", "help"}};
  auto flags = ParseFlags(args, spec);
  if (!flags.ok()) {
    std::fprintf(stderr, "shrink infer: %s\n%s", flags.status().message().c_str(), kUsage);
    return kExitUsage;
  }
  if (flags->Has("help")) {
    std::fprintf(stdout, "%s", kUsage);
    return kExitOk;
  }
  if (flags->positional.size() != 1 || !flags->Has("input") || !flags->Has("out")) {
    std::fprintf(stderr, "shrink infer: needs MODEL.onnx, --input and --out\n%s", kUsage);
    return kExitUsage;
  }
  auto threads = flags->GetInt("threads", 0);
  if (!threads.ok()) return ReportError(threads.status());
  auto max_batch = flags->GetInt("batch", 64);
  if (!max_batch.ok()) return ReportError(max_batch.status());

  const std::string& model_path = flags->positional[0];
  auto model = engine::LoadModel(model_path);
  if (!model.ok()) return ReportError(model.status());
  engine::ExecutorOptions options;
  options.threads = *threads;
  options.reference_kernels = flags->Has("reference");
  auto executor = engine::Executor::Create(*model, options);
  if (!executor.ok()) return ReportError(executor.status().WithContext(model_path));
  auto reader = engine::DataReader::Open(flags->Get("input"), (*executor)->required_inputs(),
                                         {std::max(1, *max_batch)});
  if (!reader.ok()) return ReportError(reader.status());
  engine::NodeProfile profile;
  auto result = RunAll(**executor, **reader, flags->Has("profile") ? &profile : nullptr);
  if (!result.ok()) return ReportError(result.status());
  if (flags->Has("profile")) PrintProfile(profile);
  auto compression =
      flags->Has("compress") ? engine::NpzCompression::kDeflate : engine::NpzCompression::kStored;
  Status written = engine::WriteNpz(flags->Get("out"), result->outputs, compression);
  if (!written.ok()) return ReportError(written);

  for (const auto& output : result->outputs) {
    std::fprintf(stderr, "  %s: %s %s\n", output.name.c_str(),
                 engine::DataTypeName(output.tensor.dtype()),
                 engine::ShapeToString(output.tensor.shape()).c_str());
  }
  std::fprintf(stderr, "wrote %s (%d threads)\n", flags->Get("out").c_str(),
               (*executor)->threads());
  if (flags->Has("json")) {
    std::string json = "{\"model\":\"" + JsonEscape(model_path) + "\",\"out\":\"" +
                       JsonEscape(flags->Get("out")) + "\",\"samples\":" +
                       std::to_string(result->samples) + ",\"batches\":" +
                       std::to_string(result->batches) + ",\"outputs\":[";
    for (size_t i = 0; i < result->outputs.size(); ++i) {
      const auto& output = result->outputs[i];
      json += std::string(i ? "," : "") + "{\"name\":\"" + JsonEscape(output.name) +
              "\",\"dtype\":\"" + engine::DataTypeName(output.tensor.dtype()) + "\",\"shape\":" +
              engine::ShapeToString(output.tensor.shape()) + "}";
    }
    std::printf("%s]}\n", json.c_str());
  }
  return kExitOk;
}

}  // namespace shrink::cli
