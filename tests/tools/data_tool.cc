// shrink-data: small data helper for demos and tests.
//   shrink-data idx --images IDX --labels IDX --count N --layout nchw|nhw --input-name NAME
//                   --out OUT.npz          MNIST-style IDX -> npz (pixel/255 float32 + labels)
//   shrink-data accuracy --logits OUT.npz --output NAME --labels IDX --count N
//   shrink-data random --shape NAME=AxBxC[,NAME=...] --seed S --out OUT.npz   uniform [-1, 1]
#include <cstdio>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "client/flags.h"
#include "common/file_util.h"
#include "engine/io/npy.h"

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

}  // namespace
}  // namespace shrink

int main(int argc, char** argv) {
  using namespace shrink;
  if (argc < 2) {
    std::fprintf(stderr, "usage: shrink-data idx|accuracy|random [flags]\n");
    return 1;
  }
  cli::FlagSpec spec{{"images", "labels", "count", "layout", "input-name", "out", "logits",
                      "output", "shape", "seed"},
                     {}};
  auto flags = cli::ParseFlags(std::vector<std::string>(argv + 2, argv + argc), spec);
  if (!flags.ok()) return cli::ReportError(flags.status());
  std::string command = argv[1];
  Status status = command == "idx"        ? IdxCommand(*flags)
                  : command == "accuracy" ? AccuracyCommand(*flags)
                  : command == "random"   ? RandomCommand(*flags)
                                          : InvalidArgument("unknown command " + command);
  return status.ok() ? 0 : cli::ReportError(status);
}
