// Inputs for whole-model tests and benchmarks: where the asset kit lives, what its manifest says
// about each model (file, benchmark shapes and values), fixed-seed random feeds built from a
// model's input ValueInfos, and the MNIST evaluation subset. Shared by ort_judge_test and
// shrink-bench so both feed models the same way.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/ir/graph.h"
#include "engine/ir/tensor.h"

namespace shrink::testing {

// $SHRINK_ASSETS, else the CMake cache value SHRINK_ASSETS baked in at build time, else
// $HOME/.cache/shrink-assets.
std::string AssetKitRoot();
// $SHRINK_SHARED_MODELS, else <shared>/models next to the source tree (found at configure time).
std::string SharedModelsDir();

// One model entry of <kit>/manifest.json.
struct KitModel {
  std::string name;
  std::string set;                                           // "dev", ...
  std::string format;                                        // "onnx" or "tflite"
  std::string path;                                          // absolute path of the model file
  std::map<std::string, engine::Shape> bench_shapes;         // ort_bench.input_shapes
  std::map<std::string, double> bench_values;                // ort_bench.args "--value name=V"
  std::map<std::string, engine::Shape> bench_output_shapes;  // ORT's, at bench_shapes
};

// Reads the manifest; fails naming the file and the problem when it is missing or malformed.
StatusOr<std::vector<KitModel>> LoadManifest(const std::string& kit_root);
// The ONNX models of the dev set, in manifest order.
std::vector<KitModel> DevSetOnnxModels(const std::vector<KitModel>& models);

struct InputOptions {
  uint64_t seed = 20240601;
  float low = -1.0f;  // floating-point inputs are uniform in [low, high]
  float high = 1.0f;
  // Concrete shapes by input name; required for inputs with symbolic or unknown dims.
  std::map<std::string, engine::Shape> shapes;
  // Constant fill by input name (e.g. sr=16000). Inputs that are not floating point and have no
  // value here are zero-filled: their meaning (indices, flags) is model specific.
  std::map<std::string, double> values;
};

// One tensor per ValueInfo, in order. The stream for each input is seeded from options.seed and
// the input's name, so feeds do not change when other inputs are added or reordered. Fails when
// a shape cannot be made concrete or a dtype cannot be generated.
StatusOr<std::vector<engine::NamedTensor>> MakeInputs(const std::vector<engine::ValueInfo>& inputs,
                                                      const InputOptions& options);
// A float32 tensor of `shape` uniform in [low, high] from `seed`.
engine::Tensor RandomFloatTensor(const engine::Shape& shape, uint64_t seed, float low, float high);

// "1x3x224x224" -> {1,3,224,224}; "" or "[]" -> scalar.
StatusOr<engine::Shape> ParseShape(const std::string& text);
// "a=1x512,b=2x1x128,c=" -> shapes. Empty text is no shapes.
StatusOr<std::map<std::string, engine::Shape>> ParseShapeList(const std::string& text);
// "sr=16000,k=3" -> values.
StatusOr<std::map<std::string, double>> ParseValueList(const std::string& text);
std::string ShapesToString(const std::vector<engine::NamedTensor>& feeds);

// The first `count` MNIST test images (IDX uint8, 28x28) with their labels.
struct MnistSubset {
  int64_t count = 0;
  std::vector<uint8_t> pixels;  // count * 784, row-major
  std::vector<uint8_t> labels;
};
StatusOr<MnistSubset> LoadMnistTest(const std::string& mnist_dir, int64_t count);
// The first `count` images of "train" or "t10k".
StatusOr<MnistSubset> LoadMnistSet(const std::string& mnist_dir, const std::string& prefix,
                                   int64_t count);
// Images [begin, begin + n) as float32 pixel / 255.0f, in `shape` (its element count must be
// n * 784, e.g. {n,1,28,28} or {n,28,28}).
StatusOr<engine::Tensor> MnistImages(const MnistSubset& subset, int64_t begin, int64_t n,
                                     const engine::Shape& shape);

}  // namespace shrink::testing
