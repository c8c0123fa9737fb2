// Internals shared by the tensor-manipulation kernels (tensor_ops.cc and the files it registers):
// per-file registration, element-type dispatch for type-agnostic copies, integer-input parsing
// and a strided copy engine used by Transpose, Slice, Expand, Tile and friends.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "common/status.h"
#include "common/thread_pool.h"
#include "engine/ir/tensor.h"
#include "engine/kernels/kernel_util.h"
#include "engine/runtime/kernel.h"

namespace shrink::engine::tensor_internal {

// Each file registers its own kernels; RegisterTensorKernels calls them all.
void RegisterCopyKernels(KernelRegistry* registry);            // tensor_copy.cc
void RegisterConcatSplitPadKernels(KernelRegistry* registry);  // concat_split_pad.cc
void RegisterGatherScatterKernels(KernelRegistry* registry);   // gather_scatter.cc
void RegisterOrderingKernels(KernelRegistry* registry);        // topk_cumsum.cc
void RegisterResizeKernels(KernelRegistry* registry);          // resize.cc

// 16-byte element (complex128), copied as raw bits.
struct Bytes16 {
  uint64_t lo;
  uint64_t hi;
};

// Calls fn(T{}) with a type that copies elements of `type` bit-exactly: an unsigned integer of the
// element's size, Bytes16, or std::string for string tensors.
template <typename Fn>
Status DispatchByElement(const Node& node, DataType type, Fn&& fn) {
  if (type == DataType::kString) return fn(std::string{});
  switch (DataTypeSize(type)) {
    case 1:
      return fn(uint8_t{});
    case 2:
      return fn(uint16_t{});
    case 4:
      return fn(uint32_t{});
    case 8:
      return fn(uint64_t{});
    case 16:
      return fn(Bytes16{});
    default:
      return UnsupportedType(node, type);
  }
}

// Element pointers that also work for string tensors.
template <typename T>
T* MutableElements(Tensor& tensor) {
  if constexpr (std::is_same_v<T, std::string>) {
    return tensor.strings().data();
  } else {
    return static_cast<T*>(tensor.raw_data());
  }
}
template <typename T>
const T* Elements(const Tensor& tensor) {
  if constexpr (std::is_same_v<T, std::string>) {
    return tensor.strings().data();
  } else {
    return static_cast<const T*>(tensor.raw_data());
  }
}

// Copies `count` elements; memcpy for plain types.
template <typename T>
inline void CopyElements(const T* from, int64_t count, T* to) {
  if constexpr (std::is_trivially_copyable_v<T>) {
    if (count > 0) std::memcpy(to, from, size_t(count) * sizeof(T));
  } else {
    for (int64_t i = 0; i < count; ++i) to[i] = from[i];
  }
}

// Product of shape[begin, end).
int64_t DimProduct(const Shape& shape, int begin, int end);
inline bool IsIntegerIndexType(DataType type) {
  return type == DataType::kInt32 || type == DataType::kInt64;
}

// Fails (naming the node) unless `type` is a real numeric or bool type.
Status RequireNumeric(const Node& node, DataType type, const char* what = "input");

// Reads input `index` (int32 or int64, rank 0 or 1) as a list; errors name the input `what`.
StatusOr<std::vector<int64_t>> ReadIntList(const KernelContext& context, int index,
                                           const char* what);
// Reads a one-element integer input (rank 0 or shape [1]).
StatusOr<int64_t> ReadIntScalar(const KernelContext& context, int index, const char* what);
// A scalar of `type` holding `value` converted to it (empty string for strings).
StatusOr<Tensor> ScalarOfType(const Node& node, DataType type, double value);
// Normalizes a list of axes for `rank`; rejects out-of-range and repeated axes.
StatusOr<std::vector<int>> NormalizeAxes(const std::vector<int64_t>& axes, int rank,
                                         const Node& node);

// Fills `output` (already allocated, same dtype as `input`) so that output[i0, i1, ...] =
// input.flat[input_offset + sum_k i_k * input_strides[k]]. Strides may be zero (broadcast) or
// negative (reversed slices); the caller guarantees every address is inside `input`.
// Adjacent dims are merged, batched 2-D transposes use a tiled loop, rows run in parallel.
Status CopyStrided(const Node& node, const Tensor& input, int64_t input_offset,
                   const std::vector<int64_t>& input_strides, Tensor* output,
                   const ThreadPool& pool);

// Copies `input` permuted by `perm` (output dim k = input dim perm[k]) into a new tensor.
StatusOr<Tensor> TransposeTensor(const Node& node, const Tensor& input,
                                 const std::vector<int>& perm, const ThreadPool& pool);

}  // namespace shrink::engine::tensor_internal
