// Helpers shared by kernels: axis handling, broadcasting, dtype dispatch.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "common/status.h"
#include "engine/ir/tensor.h"
#include "engine/runtime/kernel.h"

namespace shrink::engine {

// Maps a possibly negative axis into [0, rank); error names the node.
StatusOr<int> NormalizeAxis(int64_t axis, int rank, const Node& node);
// Numpy-style multidirectional broadcast of two or more shapes.
StatusOr<Shape> BroadcastShapes(const std::vector<Shape>& shapes);
// Row-major strides of `shape` (elements).
std::vector<int64_t> Strides(const Shape& shape);
// Strides of `input` seen through `output_shape` (0 on broadcast dims); input rank <= output rank.
std::vector<int64_t> BroadcastStrides(const Shape& input, const Shape& output_shape);

// Error helpers that name the node.
Status KernelError(const Node& node, const std::string& message);
Status UnsupportedType(const Node& node, DataType type, const char* what = "input");
// Checks the input count range of a node.
Status ExpectInputs(const KernelContext& context, int min_count, int max_count);

// A float value stored as T (float16/bfloat16 rounded to nearest even).
template <typename T>
T FromFloat(float value) {
  if constexpr (std::is_same_v<T, Float16>) {
    return Float16{FloatToHalf(value)};
  } else if constexpr (std::is_same_v<T, BFloat16>) {
    return BFloat16{FloatToBFloat16(value)};
  } else {
    return T(value);
  }
}

// Calls fn with a T value for each numeric dtype (float16/bfloat16 use the storage structs).
// Usage: return DispatchNumeric(type, [&](auto tag) { using T = decltype(tag); ... });
template <typename Fn>
Status DispatchNumeric(DataType type, Fn&& fn) {
  switch (type) {
    case DataType::kFloat32: return fn(float{});
    case DataType::kFloat64: return fn(double{});
    case DataType::kInt8: return fn(int8_t{});
    case DataType::kUint8: return fn(uint8_t{});
    case DataType::kInt16: return fn(int16_t{});
    case DataType::kUint16: return fn(uint16_t{});
    case DataType::kInt32: return fn(int32_t{});
    case DataType::kUint32: return fn(uint32_t{});
    case DataType::kInt64: return fn(int64_t{});
    case DataType::kUint64: return fn(uint64_t{});
    case DataType::kBool: return fn(bool{});
    case DataType::kFloat16: return fn(Float16{});
    case DataType::kBFloat16: return fn(BFloat16{});
    default: return Unimplemented(std::string("dtype ") + DataTypeName(type) + " not supported");
  }
}

}  // namespace shrink::engine
