#include "engine/passes/pass_tester.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "engine/runtime/executor.h"

namespace shrink::engine::testing {
namespace {

uint64_t NameHash(const std::string& name) {
  uint64_t hash = 1469598103934665603ULL;  // FNV-1a: stable across platforms, unlike std::hash
  for (char c : name) hash = (hash ^ uint8_t(c)) * 1099511628211ULL;
  return hash;
}

StatusOr<Shape> ConcreteShape(const ValueInfo& info, const PassTestOptions& options) {
  auto given = options.shapes.find(info.name);
  if (given != options.shapes.end()) return given->second;
  if (!info.type.is_tensor() || !info.type.has_shape) {
    return InvalidArgument("input '" + info.name + "' has no shape: give one in options.shapes");
  }
  Shape shape;
  for (const Dim& dim : info.type.dims)
    shape.push_back(dim.known() ? dim.value : options.symbolic_dim);
  return shape;
}

StatusOr<Tensor> MakeInput(const ValueInfo& info, const PassTestOptions& options) {
  ASSIGN_OR_RETURN(Shape shape, ConcreteShape(info, options));
  ASSIGN_OR_RETURN(Tensor tensor, Tensor::Allocate(info.type.elem_type, shape));
  auto value = options.values.find(info.name);
  std::mt19937_64 rng(options.seed ^ NameHash(info.name));
  std::uniform_real_distribution<float> uniform(options.low, options.high);
  for (int64_t i = 0; i < tensor.size(); ++i) {
    bool random = value == options.values.end();
    double x = random ? 0.0 : value->second;
    switch (tensor.dtype()) {
      case DataType::kFloat32:
        tensor.data<float>()[i] = random ? uniform(rng) : float(x);
        break;
      case DataType::kFloat64:
        tensor.data<double>()[i] = random ? uniform(rng) : x;
        break;
      case DataType::kFloat16:
        tensor.data<uint16_t>()[i] = FloatToHalf(random ? uniform(rng) : float(x));
        break;
      case DataType::kInt64:
        tensor.data<int64_t>()[i] = int64_t(x);
        break;
      case DataType::kInt32:
        tensor.data<int32_t>()[i] = int32_t(x);
        break;
      case DataType::kBool:
        tensor.data<bool>()[i] = x != 0;
        break;
      default:
        return InvalidArgument("input '" + info.name + "': cannot generate dtype " +
                               std::to_string(int(tensor.dtype())));
    }
  }
  return tensor;
}

OutputError Compare(const std::string& name, const Tensor& before, const Tensor& after) {
  OutputError error{name};
  if (before.dtype() != after.dtype() || before.shape() != after.shape()) {
    error.max_abs_error = std::numeric_limits<double>::infinity();
    return error;
  }
  if (before.dtype() == DataType::kString) {
    if (before.strings() != after.strings()) {
      error.max_abs_error = std::numeric_limits<double>::infinity();
    }
    return error;
  }
  for (int64_t i = 0; i < before.size(); ++i) {
    double a = before.GetAsDouble(i), b = after.GetAsDouble(i);
    if (std::isnan(a) || std::isnan(b)) {
      if (std::isnan(a) != std::isnan(b))
        error.max_abs_error = std::numeric_limits<double>::infinity();
      continue;
    }
    double diff = a == b ? 0.0 : std::fabs(a - b);  // equal infinities differ by 0, not NaN
    error.max_abs_error = std::max(error.max_abs_error, diff);
    error.max_abs_reference = std::max(error.max_abs_reference, std::fabs(a));
  }
  return error;
}

StatusOr<std::vector<Tensor>> RunModel(const Model& model, const std::vector<NamedTensor>& feeds) {
  ASSIGN_OR_RETURN(auto executor, Executor::Create(model));
  return executor->Run(feeds);
}

}  // namespace

StatusOr<std::vector<NamedTensor>> MakePassTestInputs(const Model& model,
                                                      const PassTestOptions& options) {
  std::vector<NamedTensor> feeds;
  for (const ValueInfo& input : model.graph.inputs) {
    if (model.graph.HasInitializer(input.name)) continue;
    ASSIGN_OR_RETURN(Tensor tensor, MakeInput(input, options));
    feeds.push_back({input.name, std::move(tensor)});
  }
  return feeds;
}

StatusOr<std::vector<OutputError>> CompareModelOutputs(const Model& before, const Model& after,
                                                       const std::vector<NamedTensor>& feeds) {
  ASSIGN_OR_RETURN(std::vector<Tensor> expected, RunModel(before, feeds));
  ASSIGN_OR_RETURN(std::vector<Tensor> actual, RunModel(after, feeds));
  if (expected.size() != actual.size() || after.graph.outputs.size() != actual.size()) {
    return Internal("output count changed: " + std::to_string(expected.size()) + " -> " +
                    std::to_string(actual.size()));
  }
  std::vector<OutputError> errors;
  for (size_t i = 0; i < expected.size(); ++i) {
    if (before.graph.outputs[i].name != after.graph.outputs[i].name) {
      return Internal("output " + std::to_string(i) + " renamed: '" + before.graph.outputs[i].name +
                      "' -> '" + after.graph.outputs[i].name + "'");
    }
    errors.push_back(Compare(before.graph.outputs[i].name, expected[i], actual[i]));
  }
  return errors;
}

Status ExpectWithin(const PassCheck& check, double tolerance) {
  std::string over;
  for (const OutputError& output : check.outputs) {
    if (output.max_abs_error <= tolerance) continue;
    over += " '" + output.name + "': " + std::to_string(output.max_abs_error) + " (max |value| " +
            std::to_string(output.max_abs_reference) + ")";
  }
  if (over.empty()) return OkStatus();
  return Internal("outputs differ by more than " + std::to_string(tolerance) + ":" + over);
}

StatusOr<PassCheck> CheckPass(Model* model, const std::function<StatusOr<int>(Model*)>& pass,
                              const PassTestOptions& options) {
  ASSIGN_OR_RETURN(std::vector<NamedTensor> feeds, MakePassTestInputs(*model, options));
  Model before = CloneModel(*model);
  PassCheck check;
  ASSIGN_OR_RETURN(check.rewrites, pass(model));
  ASSIGN_OR_RETURN(check.outputs, CompareModelOutputs(before, *model, feeds));
  for (const OutputError& output : check.outputs) {
    check.max_abs_error = std::max(check.max_abs_error, output.max_abs_error);
    check.max_scaled_error = std::max(
        check.max_scaled_error, output.max_abs_error / std::max(1.0, output.max_abs_reference));
  }
  return check;
}

}  // namespace shrink::engine::testing
