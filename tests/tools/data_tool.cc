// shrink-data: small data helper for demos and tests.
//   shrink-data idx --images IDX --labels IDX --count N --layout nchw|nhw --input-name NAME
//                   --out OUT.npz          MNIST-style IDX -> npz (pixel/255 float32 + labels)
//   shrink-data accuracy --logits OUT.npz --output NAME --labels IDX --count N
//   shrink-data random --shape NAME=AxBxC[,NAME=...] --seed S --out OUT.npz   uniform [-1, 1]
//   shrink-data speech --dir DIR --rate 16000|8000 --chunk N [--context C] --input-name NAME
//                      [--sr-name sr] [--scale unit|int16] [--state-model M.onnx
//                      [--state-name state] [--state-output stateN] [--score-output output]]
//                      [--mel-model MEL.onnx [--window 76] [--hop 8] [--mel-transform oww|none]]
//                      --out OUTDIR [--files K] [--skip K] [--every K] [--max-samples N]
//                      speech WAVs -> one .npz per chunk or mel window (see speech_data.h)
//   shrink-data images --source mnist|fashion [--split train|t10k] --layout nchw|nhwc
//                      --size HxW [--channels 3] --count N --seed S --kind document|scene
//                      --normalize imagenet|minus1to1|unit --input-name NAME --out OUT.npz
//                      [--data-dir DIR]     synthetic documents / scenes (see image_data.h)
//   shrink-data stats --npz F.npz --array NAME [--above T]   shape, range, mean, share > T
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "client/flags.h"
#include "common/file_util.h"
#include "engine/io/npy.h"
#include "tests/tools/image_data.h"
#include "tests/tools/speech_data.h"

namespace shrink {
namespace {

using engine::DataType;
using engine::NamedTensor;
using engine::Tensor;

uint32_t BigEndian32(const std::string& bytes, size_t offset) {
  const auto* b = reinterpret_cast<const uint8_t*>(bytes.data() + offset);
  return uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | uint32_t(b[3]);
}

// Reads an IDX file (uint8 data): returns the dims and the payload offset.
StatusOr<std::string> ReadIdx(const std::string& path, uint32_t expected_magic,
                              std::vector<int64_t>* dims) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  if (bytes.size() < 8 || BigEndian32(bytes, 0) != expected_magic) {
    return InvalidArgument(path + " is not an uncompressed IDX file of the expected kind");
  }
  int rank = int(expected_magic & 0xff);
  size_t header = 4 + 4 * size_t(rank);
  uint64_t count = 1;
  for (int i = 0; i < rank; ++i) {
    dims->push_back(BigEndian32(bytes, 4 + 4 * size_t(i)));
    count *= uint64_t(dims->back());
  }
  if (bytes.size() < header + count) return InvalidArgument(path + " is truncated");
  return bytes.substr(header, count);
}

StatusOr<std::vector<int64_t>> ReadLabels(const std::string& path, int64_t count) {
  std::vector<int64_t> dims;
  ASSIGN_OR_RETURN(std::string labels, ReadIdx(path, 0x801, &dims));
  if (count > dims[0]) return InvalidArgument(path + " has fewer than " + std::to_string(count) + " labels");
  std::vector<int64_t> out(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) out[size_t(i)] = uint8_t(labels[size_t(i)]);
  return out;
}

Status IdxCommand(const cli::ParsedFlags& flags) {
  ASSIGN_OR_RETURN(int count, flags.GetInt("count", 1000));
  std::vector<int64_t> dims;
  ASSIGN_OR_RETURN(std::string pixels, ReadIdx(flags.Get("images"), 0x803, &dims));
  if (count > dims[0]) return InvalidArgument("the IDX file has only " + std::to_string(dims[0]) + " images");
  engine::Shape shape = flags.Get("layout", "nchw") == "nchw"
                            ? engine::Shape{count, 1, dims[1], dims[2]}
                            : engine::Shape{count, dims[1], dims[2]};
  Tensor images(DataType::kFloat32, shape);
  for (int64_t i = 0; i < images.size(); ++i) {
    images.data<float>()[i] = float(uint8_t(pixels[size_t(i)])) / 255.0f;
  }
  std::vector<NamedTensor> arrays{{flags.Get("input-name", "input"), images}};
  if (flags.Has("labels")) {
    ASSIGN_OR_RETURN(std::vector<int64_t> labels, ReadLabels(flags.Get("labels"), count));
    arrays.push_back({"labels", Tensor::FromVector<int64_t>({count}, labels)});
  }
  return engine::WriteNpz(flags.Get("out"), arrays, engine::NpzCompression::kStored);
}

Status AccuracyCommand(const cli::ParsedFlags& flags) {
  ASSIGN_OR_RETURN(int count, flags.GetInt("count", 1000));
  ASSIGN_OR_RETURN(std::vector<NamedTensor> arrays, engine::ReadNpz(flags.Get("logits")));
  const Tensor* logits = nullptr;
  for (const auto& a : arrays) {
    if (a.name == flags.Get("output", "logits")) logits = &a.tensor;
  }
  if (!logits || logits->rank() != 2 || logits->dtype() != DataType::kFloat32) {
    return InvalidArgument("no float32 [N, classes] array named '" + flags.Get("output") + "'");
  }
  ASSIGN_OR_RETURN(std::vector<int64_t> labels, ReadLabels(flags.Get("labels"), count));
  int64_t correct = 0, classes = logits->dim(1);
  for (int64_t i = 0; i < count && i < logits->dim(0); ++i) {
    const float* row = logits->data<float>() + i * classes;
    int64_t best = 0;
    for (int64_t c = 1; c < classes; ++c) best = row[c] > row[best] ? c : best;
    correct += best == labels[size_t(i)];
  }
  std::printf("top-1 accuracy: %.2f%% (%lld/%d)\n", 100.0 * double(correct) / count,
              (long long)correct, count);
  return OkStatus();
}

Status RandomCommand(const cli::ParsedFlags& flags) {
  ASSIGN_OR_RETURN(int seed, flags.GetInt("seed", 42));
  std::mt19937 random{static_cast<uint32_t>(seed)};
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<NamedTensor> arrays;
  std::stringstream specs(flags.Get("shape"));
  std::string spec;
  while (std::getline(specs, spec, ',')) {
    size_t equals = spec.find('=');
    if (equals == std::string::npos) return InvalidArgument("--shape wants NAME=AxB, got " + spec);
    engine::Shape shape;
    std::stringstream dims(spec.substr(equals + 1));
    std::string dim;
    while (std::getline(dims, dim, 'x')) shape.push_back(std::stoll(dim));
    ASSIGN_OR_RETURN(Tensor tensor, Tensor::Allocate(DataType::kFloat32, shape));
    for (int64_t i = 0; i < tensor.size(); ++i) tensor.data<float>()[i] = uniform(random);
    arrays.push_back({spec.substr(0, equals), tensor});
  }
  return engine::WriteNpz(flags.Get("out"), arrays, engine::NpzCompression::kStored);
}

StatusOr<int> PositiveInt(const cli::ParsedFlags& flags, const std::string& name, int fallback) {
  ASSIGN_OR_RETURN(int value, flags.GetInt(name, fallback));
  if (value < 0) return InvalidArgument("--" + name + " must not be negative");
  return value;
}

Status SpeechCommand(const cli::ParsedFlags& flags) {
  data::SpeechOptions options;
  options.dir = flags.Get("dir");
  ASSIGN_OR_RETURN(options.rate, PositiveInt(flags, "rate", 16000));
  ASSIGN_OR_RETURN(options.chunk, PositiveInt(flags, "chunk", 512));
  ASSIGN_OR_RETURN(options.context, PositiveInt(flags, "context", 0));
  ASSIGN_OR_RETURN(options.files, PositiveInt(flags, "files", 0));
  ASSIGN_OR_RETURN(options.skip, PositiveInt(flags, "skip", 0));
  ASSIGN_OR_RETURN(options.every, PositiveInt(flags, "every", 1));
  ASSIGN_OR_RETURN(options.max_samples, PositiveInt(flags, "max-samples", 0));
  ASSIGN_OR_RETURN(options.window_frames, PositiveInt(flags, "window", 76));
  ASSIGN_OR_RETURN(options.window_hop, PositiveInt(flags, "hop", 8));
  const std::string scale = flags.Get("scale", "unit");
  if (scale != "unit" && scale != "int16") return InvalidArgument("--scale must be unit or int16");
  options.scale = scale == "unit" ? data::SampleScale::kUnit : data::SampleScale::kInt16;
  options.input_name = flags.Get("input-name", "input");
  options.sr_name = flags.Get("sr-name");
  options.state_model = flags.Get("state-model");
  options.state_name = flags.Get("state-name", "state");
  options.state_output = flags.Get("state-output", "stateN");
  options.score_output = flags.Get("score-output", "output");
  options.mel_model = flags.Get("mel-model");
  const std::string transform = flags.Get("mel-transform", "oww");
  if (transform != "oww" && transform != "none") {
    return InvalidArgument("--mel-transform must be oww or none");
  }
  options.oww_transform = transform == "oww";
  options.out_dir = flags.Get("out");
  if (options.dir.empty()) return InvalidArgument("speech needs --dir");
  data::SpeechReport report;
  RETURN_IF_ERROR(data::MakeSpeechData(options, &report));
  std::printf("%s: %lld samples from %d WAV files (%.1f s of audio); input range [%g, %g]\n",
              options.out_dir.c_str(), static_cast<long long>(report.samples), report.files,
              report.audio_seconds, report.value_min, report.value_max);
  if (report.scores > 0) {
    std::printf("%s: '%s' > 0.5 on %lld of %lld chunks (%.1f%%)\n", options.out_dir.c_str(),
                options.score_output.c_str(), static_cast<long long>(report.scores_above),
                static_cast<long long>(report.scores),
                100.0 * double(report.scores_above) / double(report.scores));
  }
  return OkStatus();
}

StatusOr<data::Normalize> ParseNormalize(const std::string& name) {
  if (name == "imagenet") return data::Normalize::kImageNet;
  if (name == "minus1to1") return data::Normalize::kMinusOne;
  if (name == "unit") return data::Normalize::kUnit;
  return InvalidArgument("--normalize must be imagenet, minus1to1 or unit, got " + name);
}

Status ImagesCommand(const cli::ParsedFlags& flags) {
  data::ImageOptions options;
  const char* home = std::getenv("HOME");
  options.data_dir =
      flags.Get("data-dir", std::string(home ? home : "") + "/.cache/shrink-assets/data");
  options.source = flags.Get("source", "mnist");
  options.split = flags.Get("split", "train");
  const std::string layout = flags.Get("layout", "nchw");
  if (layout != "nchw" && layout != "nhwc") return InvalidArgument("--layout must be nchw|nhwc");
  options.nhwc = layout == "nhwc";
  const std::string size = flags.Get("size");
  const size_t x = size.find('x');
  char* end = nullptr;
  options.height = std::strtoll(size.c_str(), &end, 10);
  if (x == std::string::npos || end != size.c_str() + x) {
    return InvalidArgument("--size wants HxW, got '" + size + "'");
  }
  options.width = std::strtoll(size.c_str() + x + 1, &end, 10);
  if (*end != '\0') return InvalidArgument("--size wants HxW, got '" + size + "'");
  ASSIGN_OR_RETURN(options.channels, PositiveInt(flags, "channels", 3));
  ASSIGN_OR_RETURN(int count, PositiveInt(flags, "count", 16));
  ASSIGN_OR_RETURN(int seed, PositiveInt(flags, "seed", 1));
  options.count = count;
  options.seed = uint32_t(seed);
  const std::string kind = flags.Get("kind", "document");
  if (kind != "document" && kind != "scene") return InvalidArgument("--kind: document|scene");
  options.kind = kind == "document" ? data::ImageKind::kDocument : data::ImageKind::kScene;
  ASSIGN_OR_RETURN(options.normalize, ParseNormalize(flags.Get("normalize", "imagenet")));
  options.input_name = flags.Get("input-name", "x");
  options.out = flags.Get("out");
  if (options.out.empty()) return InvalidArgument("images needs --out OUT.npz");
  RETURN_IF_ERROR(data::MakeImageData(options));
  std::printf("%s: %lld %s images %lldx%lld from %s/%s\n", options.out.c_str(),
              static_cast<long long>(options.count), kind.c_str(),
              static_cast<long long>(options.height), static_cast<long long>(options.width),
              options.source.c_str(), options.split.c_str());
  return OkStatus();
}

// Summarises one float array (e.g. a model output written by `shrink infer`) on one line.
Status StatsCommand(const cli::ParsedFlags& flags) {
  ASSIGN_OR_RETURN(std::vector<NamedTensor> arrays, engine::ReadNpz(flags.Get("npz")));
  const std::string name = flags.Get("array");
  for (const auto& a : arrays) {
    if (a.name != name) continue;
    if (a.tensor.dtype() != DataType::kFloat32 || a.tensor.size() == 0) {
      return InvalidArgument("array '" + name + "' is not a non-empty float32 array");
    }
    const double threshold = std::strtod(flags.Get("above", "0.5").c_str(), nullptr);
    const float* v = a.tensor.data<float>();
    double sum = 0, lo = v[0], hi = v[0];
    int64_t above = 0;
    for (int64_t i = 0; i < a.tensor.size(); ++i) {
      sum += v[i];
      lo = std::min(lo, double(v[i]));
      hi = std::max(hi, double(v[i]));
      above += v[i] > threshold;
    }
    std::printf("%s %s: min %g max %g mean %g; %.4f of %lld values > %g\n", name.c_str(),
                engine::ShapeToString(a.tensor.shape()).c_str(), lo, hi,
                sum / double(a.tensor.size()), double(above) / double(a.tensor.size()),
                static_cast<long long>(a.tensor.size()), threshold);
    return OkStatus();
  }
  return NotFound(flags.Get("npz") + " has no array '" + name + "'");
}

}  // namespace
}  // namespace shrink

int main(int argc, char** argv) {
  using namespace shrink;
  if (argc < 2) {
    std::fprintf(stderr, "usage: shrink-data idx|accuracy|random|speech|images|stats [flags]\n");
    return 1;
  }
  cli::FlagSpec spec{{"images", "labels", "count", "layout", "input-name", "out", "logits",
                      "output", "shape", "seed", "dir", "rate", "chunk", "context", "sr-name",
                      "scale", "state-model", "state-name", "state-output", "score-output",
                      "mel-model", "window", "hop", "mel-transform", "files", "skip", "every",
                      "max-samples", "source", "split", "size", "channels", "kind", "normalize",
                      "data-dir", "npz", "array", "above"},
                     {}};
  auto flags = cli::ParseFlags(std::vector<std::string>(argv + 2, argv + argc), spec);
  if (!flags.ok()) return cli::ReportError(flags.status());
  std::string command = argv[1];
  Status status = command == "idx"        ? IdxCommand(*flags)
                  : command == "accuracy" ? AccuracyCommand(*flags)
                  : command == "random"   ? RandomCommand(*flags)
                  : command == "speech"   ? SpeechCommand(*flags)
                  : command == "images"   ? ImagesCommand(*flags)
                  : command == "stats"    ? StatsCommand(*flags)
                                          : InvalidArgument("unknown command " + command);
  return status.ok() ? 0 : cli::ReportError(status);
}
