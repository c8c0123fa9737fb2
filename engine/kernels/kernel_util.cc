#include "engine/kernels/kernel_util.h"

#include <algorithm>

namespace shrink::engine {

StatusOr<int> NormalizeAxis(int64_t axis, int rank, const Node& node) {
  int64_t normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= std::max(rank, 1)) {
    return KernelError(node, "axis " + std::to_string(axis) + " is out of range for rank " +
                                 std::to_string(rank));
  }
  return int(normalized);
}

StatusOr<Shape> BroadcastShapes(const std::vector<Shape>& shapes) {
  size_t rank = 0;
  for (const Shape& s : shapes) rank = std::max(rank, s.size());
  Shape result(rank, 1);
  for (const Shape& s : shapes) {
    size_t offset = rank - s.size();
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t& out = result[offset + i];
      int64_t dim = s[i];
      if (dim == out || dim == 1) continue;
      if (out == 1) {
        out = dim;
        continue;
      }
      std::string list;
      for (const Shape& each : shapes) list += (list.empty() ? "" : " and ") + ShapeToString(each);
      return InvalidArgument("shapes " + list + " cannot be broadcast together");
    }
  }
  return result;
}

std::vector<int64_t> Strides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (int i = int(shape.size()) - 2; i >= 0; --i) {
    strides[size_t(i)] = strides[size_t(i + 1)] * shape[size_t(i + 1)];
  }
  return strides;
}

std::vector<int64_t> BroadcastStrides(const Shape& input, const Shape& output_shape) {
  std::vector<int64_t> strides(output_shape.size(), 0);
  std::vector<int64_t> own = Strides(input);
  size_t offset = output_shape.size() - input.size();
  for (size_t i = 0; i < input.size(); ++i) {
    strides[offset + i] = input[i] == 1 ? 0 : own[i];
  }
  return strides;
}

Status KernelError(const Node& node, const std::string& message) {
  return InvalidArgument(node.Describe() + ": " + message);
}

Status UnsupportedType(const Node& node, DataType type, const char* what) {
  return Unimplemented(node.Describe() + ": " + what + " dtype " + DataTypeName(type) +
                       " is not supported");
}

Status ExpectInputs(const KernelContext& context, int min_count, int max_count) {
  int count = context.node.NumInputs();
  if (count < min_count || count > max_count) {
    return KernelError(context.node, "expects " + std::to_string(min_count) + ".." +
                                         std::to_string(max_count) + " inputs, got " +
                                         std::to_string(count));
  }
  for (int i = 0; i < min_count; ++i) {
    if (!context.has_input(i)) {
      return KernelError(context.node, "required input " + std::to_string(i) + " is missing");
    }
  }
  return OkStatus();
}

}  // namespace shrink::engine
