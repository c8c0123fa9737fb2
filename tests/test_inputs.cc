#include "tests/test_inputs.h"

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <utility>

#include "common/file_util.h"

namespace shrink::testing {
namespace {

using engine::DataType;
using engine::NamedTensor;
using engine::Shape;
using engine::Tensor;

// A minimal JSON reader for the manifest (the project has no JSON dependency). Numbers are kept
// as double; depth is bounded so a hostile file cannot overflow the stack.
struct Json {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Json> array;
  std::vector<std::pair<std::string, Json>> object;

  const Json* Find(const std::string& key) const {
    if (kind != Kind::kObject) return nullptr;
    for (const auto& [name, value] : object) {
      if (name == key) return &value;
    }
    return nullptr;
  }
  std::string StringOr(const std::string& key, const std::string& fallback) const {
    const Json* value = Find(key);
    return value && value->kind == Kind::kString ? value->string : fallback;
  }
};

class JsonParser {
 public:
  explicit JsonParser(const std::string& text) : text_(text) {}

  StatusOr<Json> ParseDocument() {
    Json value;
    RETURN_IF_ERROR(Parse(&value, 0));
    SkipSpace();
    if (pos_ != text_.size()) return Error("trailing characters");
    return value;
  }

 private:
  Status Error(const std::string& what) const {
    return InvalidArgument("JSON: " + what + " at offset " + std::to_string(pos_));
  }
  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool Consume(const char* word) {
    size_t n = std::strlen(word);
    if (text_.compare(pos_, n, word) != 0) return false;
    pos_ += n;
    return true;
  }

  Status Parse(Json* out, int depth) {
    if (depth > 64) return Error("nesting too deep");
    SkipSpace();
    if (pos_ >= text_.size()) return Error("unexpected end");
    char c = text_[pos_];
    if (c == '{') return ParseObject(out, depth);
    if (c == '[') return ParseArray(out, depth);
    if (c == '"') {
      out->kind = Json::Kind::kString;
      return ParseString(&out->string);
    }
    if (Consume("true") || Consume("false")) {
      out->kind = Json::Kind::kBool;
      out->boolean = c == 't';
      return OkStatus();
    }
    if (Consume("null")) return OkStatus();
    const char* begin = text_.c_str() + pos_;
    char* end = nullptr;
    out->number = std::strtod(begin, &end);
    if (end == begin) return Error("unexpected character");
    out->kind = Json::Kind::kNumber;
    pos_ += size_t(end - begin);
    return OkStatus();
  }

  Status ParseString(std::string* out) {
    ++pos_;  // opening quote
    while (pos_ < text_.size() && text_[pos_] != '"') {
      char c = text_[pos_++];
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= text_.size()) break;
      char e = text_[pos_++];
      if (e == 'u') {  // manifest strings are ASCII; keep other code points as '?'
        if (pos_ + 4 > text_.size()) return Error("bad \\u escape");
        unsigned code = unsigned(std::strtoul(text_.substr(pos_, 4).c_str(), nullptr, 16));
        out->push_back(code < 128 ? char(code) : '?');
        pos_ += 4;
        continue;
      }
      static const char kFrom[] = "\"\\/bfnrt";
      static const char kTo[] = "\"\\/\b\f\n\r\t";
      const char* hit = std::strchr(kFrom, e);
      if (!hit || e == '\0') return Error("bad escape");
      out->push_back(kTo[hit - kFrom]);
    }
    if (pos_ >= text_.size()) return Error("unterminated string");
    ++pos_;
    return OkStatus();
  }

  Status ParseArray(Json* out, int depth) {
    out->kind = Json::Kind::kArray;
    ++pos_;
    SkipSpace();
    if (Consume("]")) return OkStatus();
    while (true) {
      out->array.emplace_back();
      RETURN_IF_ERROR(Parse(&out->array.back(), depth + 1));
      SkipSpace();
      if (Consume("]")) return OkStatus();
      if (!Consume(",")) return Error("expected ',' or ']'");
    }
  }

  Status ParseObject(Json* out, int depth) {
    out->kind = Json::Kind::kObject;
    ++pos_;
    SkipSpace();
    if (Consume("}")) return OkStatus();
    while (true) {
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != '"') return Error("expected a key");
      std::string key;
      RETURN_IF_ERROR(ParseString(&key));
      SkipSpace();
      if (!Consume(":")) return Error("expected ':'");
      out->object.emplace_back(std::move(key), Json());
      RETURN_IF_ERROR(Parse(&out->object.back().second, depth + 1));
      SkipSpace();
      if (Consume("}")) return OkStatus();
      if (!Consume(",")) return Error("expected ',' or '}'");
    }
  }

  const std::string& text_;
  size_t pos_ = 0;
};

// "--shape a=1x2 --value sr=16000" -> {sr: 16000}.
StatusOr<std::map<std::string, double>> ValuesFromArgs(const std::string& args) {
  std::istringstream stream(args);
  std::string token;
  std::string joined;
  while (stream >> token) {
    if (token != "--value") continue;
    if (!(stream >> token))
      return InvalidArgument("'--value' without an argument in '" + args + "'");
    joined += (joined.empty() ? "" : ",") + token;
  }
  return ParseValueList(joined);
}

// {"name": [1, 3, 224, 224], ...} -> shapes; a missing object is no shapes.
Status ShapesFromJson(const Json* shapes, const std::string& model,
                      std::map<std::string, Shape>* out) {
  if (shapes == nullptr) return OkStatus();
  for (const auto& [value, dims] : shapes->object) {
    Shape shape;
    for (const Json& dim : dims.array) {
      if (dim.kind != Json::Kind::kNumber || dim.number < 0) {
        return InvalidArgument(model + ": ort_bench shape of '" + value + "' is not concrete");
      }
      shape.push_back(int64_t(dim.number));
    }
    (*out)[value] = shape;
  }
  return OkStatus();
}

StatusOr<KitModel> ModelFromJson(const Json& entry, const std::string& kit_root) {
  KitModel model;
  model.name = entry.StringOr("name", "");
  model.set = entry.StringOr("set", "");
  model.format = entry.StringOr("format", "");
  std::string file = entry.StringOr("file", "");
  if (model.name.empty() || file.empty()) return InvalidArgument("a model without name or file");
  model.path = JoinPath(kit_root, file);
  const Json* bench = entry.Find("ort_bench");
  if (bench == nullptr || bench->kind != Json::Kind::kObject) return model;
  RETURN_IF_ERROR(ShapesFromJson(bench->Find("input_shapes"), model.name, &model.bench_shapes));
  RETURN_IF_ERROR(
      ShapesFromJson(bench->Find("output_shapes"), model.name, &model.bench_output_shapes));
  auto values = ValuesFromArgs(bench->StringOr("args", ""));
  if (!values.ok()) return values.status().WithContext(model.name);
  model.bench_values = std::move(values).value();
  return model;
}

// splitmix64: tiny, fast, and identical on every platform (unlike std:: distributions).
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [low, high] on a 2^-24 grid.
  float Uniform(float low, float high) {
    float unit = float(Next() >> 40) * (1.0f / 16777216.0f);
    return low + (high - low) * unit;
  }

 private:
  uint64_t state_;
};

uint64_t NameSeed(uint64_t seed, const std::string& name) {
  uint64_t hash = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : name) hash = (hash ^ c) * 1099511628211ull;
  return seed ^ hash;
}

StatusOr<Shape> ConcreteShape(const engine::ValueInfo& info, const InputOptions& options) {
  auto it = options.shapes.find(info.name);
  if (it != options.shapes.end()) return it->second;
  if (!info.type.has_shape) {
    return InvalidArgument("input '" + info.name + "' has no shape in the model: give one");
  }
  Shape shape;
  for (const engine::Dim& dim : info.type.dims) {
    if (!dim.known()) {
      return InvalidArgument("input '" + info.name + "' has a symbolic dim '" + dim.param +
                             "': give a concrete shape (name=1x3x224x224)");
    }
    shape.push_back(dim.value);
  }
  return shape;
}

// Fills every element with `value` converted to the tensor's dtype.
Status FillConstant(Tensor* tensor, double value) {
  for (int64_t i = 0; i < tensor->size(); ++i) {
    switch (tensor->dtype()) {
      case DataType::kFloat32:
        tensor->data<float>()[i] = float(value);
        break;
      case DataType::kFloat64:
        tensor->data<double>()[i] = value;
        break;
      case DataType::kFloat16:
        tensor->data<uint16_t>()[i] = engine::FloatToHalf(float(value));
        break;
      case DataType::kInt8:
        tensor->data<int8_t>()[i] = int8_t(value);
        break;
      case DataType::kUint8:
        tensor->data<uint8_t>()[i] = uint8_t(value);
        break;
      case DataType::kInt16:
        tensor->data<int16_t>()[i] = int16_t(value);
        break;
      case DataType::kUint16:
        tensor->data<uint16_t>()[i] = uint16_t(value);
        break;
      case DataType::kInt32:
        tensor->data<int32_t>()[i] = int32_t(value);
        break;
      case DataType::kInt64:
        tensor->data<int64_t>()[i] = int64_t(value);
        break;
      case DataType::kBool:
        tensor->data<bool>()[i] = value != 0;
        break;
      default:
        return Unimplemented(std::string("cannot generate inputs of dtype ") +
                             engine::DataTypeName(tensor->dtype()));
    }
  }
  return OkStatus();
}

void FillRandom(Tensor* tensor, uint64_t seed, float low, float high) {
  Random random(seed);
  for (int64_t i = 0; i < tensor->size(); ++i) {
    float value = random.Uniform(low, high);
    if (tensor->dtype() == DataType::kFloat32) tensor->data<float>()[i] = value;
    if (tensor->dtype() == DataType::kFloat64) tensor->data<double>()[i] = value;
    if (tensor->dtype() == DataType::kFloat16) {
      tensor->data<uint16_t>()[i] = engine::FloatToHalf(value);
    }
  }
}

StatusOr<std::vector<uint8_t>> ReadIdx(const std::string& path, uint32_t magic, int64_t count,
                                       int64_t item_bytes) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  auto be32 = [&](size_t offset) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data()) + offset;
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
  };
  size_t header = magic == 0x803 ? 16 : 8;
  if (bytes.size() < header || be32(0) != magic) {
    return DataLoss(path + ": not an IDX file with magic " + std::to_string(magic));
  }
  if (int64_t(be32(4)) < count) {
    return OutOfRange(path + ": holds " + std::to_string(be32(4)) + " items, need " +
                      std::to_string(count));
  }
  if (magic == 0x803 && int64_t(be32(8)) * be32(12) != item_bytes) {
    return DataLoss(path + ": images are not 28x28");
  }
  if (bytes.size() < header + size_t(count * item_bytes)) return DataLoss(path + ": truncated");
  return std::vector<uint8_t>(bytes.begin() + long(header),
                              bytes.begin() + long(header + size_t(count * item_bytes)));
}

}  // namespace

std::string AssetKitRoot() {
  if (const char* env = std::getenv("SHRINK_ASSETS"); env && *env) return env;
#ifdef SHRINK_ASSETS_DIR
  if (std::strlen(SHRINK_ASSETS_DIR) > 0) return SHRINK_ASSETS_DIR;
#endif
  const char* home = std::getenv("HOME");
  return JoinPath(home ? home : "", ".cache/shrink-assets");
}

std::string SharedModelsDir() {
  if (const char* env = std::getenv("SHRINK_SHARED_MODELS"); env && *env) return env;
#ifdef SHRINK_SHARED_MODELS_DIR
  return SHRINK_SHARED_MODELS_DIR;
#else
  return "../shared/models";
#endif
}

StatusOr<std::vector<KitModel>> LoadManifest(const std::string& kit_root) {
  const std::string path = JoinPath(kit_root, "manifest.json");
  auto text = ReadFile(path, uint64_t(64) << 20);
  if (!text.ok()) return text.status().WithContext("asset manifest");
  auto json = JsonParser(*text).ParseDocument();
  if (!json.ok()) return json.status().WithContext(path);
  const Json* models = json->Find("models");
  if (models == nullptr || models->kind != Json::Kind::kArray) {
    return InvalidArgument(path + ": no 'models' array");
  }
  std::vector<KitModel> result;
  for (const Json& entry : models->array) {
    auto model = ModelFromJson(entry, kit_root);
    if (!model.ok()) return model.status().WithContext(path);
    result.push_back(std::move(model).value());
  }
  return result;
}

std::vector<KitModel> DevSetOnnxModels(const std::vector<KitModel>& models) {
  std::vector<KitModel> dev;
  for (const KitModel& model : models) {
    if (model.set == "dev" && model.format == "onnx") dev.push_back(model);
  }
  return dev;
}

StatusOr<std::vector<NamedTensor>> MakeInputs(const std::vector<engine::ValueInfo>& inputs,
                                              const InputOptions& options) {
  std::vector<NamedTensor> feeds;
  for (const engine::ValueInfo& info : inputs) {
    ASSIGN_OR_RETURN(Shape shape, ConcreteShape(info, options));
    auto tensor = Tensor::Allocate(info.type.elem_type, shape);
    if (!tensor.ok()) return tensor.status().WithContext("input '" + info.name + "'");
    auto value = options.values.find(info.name);
    if (value != options.values.end()) {
      Status status = FillConstant(&*tensor, value->second);
      if (!status.ok()) return status.WithContext("input '" + info.name + "'");
    } else if (engine::IsFloatingPoint(info.type.elem_type) &&
               info.type.elem_type != DataType::kBFloat16) {
      FillRandom(&*tensor, NameSeed(options.seed, info.name), options.low, options.high);
    } else {
      Status status = FillConstant(&*tensor, 0.0);
      if (!status.ok()) return status.WithContext("input '" + info.name + "'");
    }
    feeds.push_back({info.name, std::move(tensor).value()});
  }
  return feeds;
}

Tensor RandomFloatTensor(const Shape& shape, uint64_t seed, float low, float high) {
  Tensor tensor(DataType::kFloat32, shape);
  FillRandom(&tensor, seed, low, high);
  return tensor;
}

StatusOr<Shape> ParseShape(const std::string& text) {
  Shape shape;
  if (text.empty() || text == "[]") return shape;
  std::istringstream stream(text);
  std::string dim;
  while (std::getline(stream, dim, 'x')) {
    char* end = nullptr;
    long long value = std::strtoll(dim.c_str(), &end, 10);
    if (dim.empty() || *end != '\0' || value < 0) {
      return InvalidArgument("bad shape '" + text + "' (expected e.g. 1x3x224x224)");
    }
    shape.push_back(value);
  }
  return shape;
}

StatusOr<std::map<std::string, Shape>> ParseShapeList(const std::string& text) {
  std::map<std::string, Shape> shapes;
  std::istringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument("bad input shape '" + item + "' (expected name=1x3x224x224)");
    }
    ASSIGN_OR_RETURN(shapes[item.substr(0, eq)], ParseShape(item.substr(eq + 1)));
  }
  return shapes;
}

StatusOr<std::map<std::string, double>> ParseValueList(const std::string& text) {
  std::map<std::string, double> values;
  std::istringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    size_t eq = item.find('=');
    char* end = nullptr;
    double value = eq == std::string::npos ? 0 : std::strtod(item.c_str() + eq + 1, &end);
    if (eq == std::string::npos || eq == 0 || end == item.c_str() + eq + 1 || *end != '\0') {
      return InvalidArgument("bad input value '" + item + "' (expected name=16000)");
    }
    values[item.substr(0, eq)] = value;
  }
  return values;
}

std::string ShapesToString(const std::vector<NamedTensor>& feeds) {
  std::string text;
  for (const NamedTensor& feed : feeds) {
    if (!text.empty()) text += ",";
    std::string dims;
    for (int64_t dim : feed.tensor.shape()) dims += (dims.empty() ? "" : "x") + std::to_string(dim);
    text += feed.name + "=" + (dims.empty() ? "[]" : dims);
  }
  return text;
}

StatusOr<MnistSubset> LoadMnistSet(const std::string& mnist_dir, const std::string& prefix,
                                   int64_t count) {
  MnistSubset subset;
  subset.count = count;
  ASSIGN_OR_RETURN(subset.pixels, ReadIdx(JoinPath(mnist_dir, prefix + "-images-idx3-ubyte"),
                                          0x803, count, 784));
  ASSIGN_OR_RETURN(subset.labels, ReadIdx(JoinPath(mnist_dir, prefix + "-labels-idx1-ubyte"),
                                          0x801, count, 1));
  return subset;
}

StatusOr<MnistSubset> LoadMnistTest(const std::string& mnist_dir, int64_t count) {
  return LoadMnistSet(mnist_dir, "t10k", count);
}

StatusOr<Tensor> MnistImages(const MnistSubset& subset, int64_t begin, int64_t n,
                             const Shape& shape) {
  if (begin < 0 || n < 0 || begin + n > subset.count) {
    return OutOfRange("MNIST images [" + std::to_string(begin) + ", " + std::to_string(begin + n) +
                      ") outside the subset");
  }
  ASSIGN_OR_RETURN(Tensor tensor, Tensor::Allocate(DataType::kFloat32, shape));
  if (tensor.size() != n * 784) {
    return InvalidArgument("MNIST batch shape " + engine::ShapeToString(shape) + " does not hold " +
                           std::to_string(n) + " images");
  }
  const uint8_t* pixels = subset.pixels.data() + begin * 784;
  float* out = tensor.data<float>();
  // A division, as the reference numbers were made (x * (1/255) can differ in the last bit).
  for (int64_t i = 0; i < n * 784; ++i) out[i] = float(pixels[i]) / 255.0f;
  return tensor;
}

}  // namespace shrink::testing
