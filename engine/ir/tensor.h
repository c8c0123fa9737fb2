// Tensor: a dtype, a shape and a reference-counted buffer. Copies share the buffer; code that
// writes into a tensor must own it exclusively (kernels write only into outputs they allocated).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/ir/dtype.h"

namespace shrink::engine {

using Shape = std::vector<int64_t>;

// Number of elements of a shape; 1 for a scalar. Fails on negative dims or int64 overflow.
StatusOr<int64_t> ElementCount(const Shape& shape);
std::string ShapeToString(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;
  // Zero-filled storage. The shape must be valid (non-negative, no overflow): use Allocate()
  // for shapes that come from untrusted input.
  Tensor(DataType dtype, Shape shape);
  static StatusOr<Tensor> Allocate(DataType dtype, Shape shape);
  // Like Allocate, but the contents are unspecified: for outputs a kernel writes completely
  // (skips one pass over memory). String tensors are still default-constructed.
  static StatusOr<Tensor> AllocateUninitialized(DataType dtype, Shape shape);

  template <typename T>
  static Tensor FromVector(Shape shape, const std::vector<T>& values);
  template <typename T>
  static Tensor Scalar(T value) {
    return FromVector<T>({}, std::vector<T>{value});
  }

  bool defined() const { return dtype_ != DataType::kUndefined; }
  DataType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return int(shape_.size()); }
  int64_t dim(int axis) const { return shape_[size_t(axis)]; }
  int64_t size() const { return size_; }
  // Bytes of numeric data (0 for strings).
  size_t nbytes() const { return size_t(size_) * DataTypeSize(dtype_); }

  template <typename T>
  T* data() {
    return static_cast<T*>(raw_data());
  }
  template <typename T>
  const T* data() const {
    return static_cast<const T*>(raw_data());
  }
  void* raw_data();
  const void* raw_data() const;
  std::vector<std::string>& strings() { return *strings_; }
  const std::vector<std::string>& strings() const { return *strings_; }

  // Same buffer, new shape with the same element count.
  StatusOr<Tensor> Reshaped(Shape shape) const;
  // A deep copy with its own buffer.
  Tensor Clone() const;
  // Element i converted to double / int64 (any numeric dtype); for shape-like inputs.
  double GetAsDouble(int64_t index) const;
  int64_t GetAsInt64(int64_t index) const;
  // Reads a 1-D (or scalar) integer tensor into a vector.
  std::vector<int64_t> ToInt64Vector() const;
  // Bitwise equality of dtype, shape and contents.
  bool BitwiseEquals(const Tensor& other) const;

 private:
  struct AlignedBuffer;
  Tensor(DataType dtype, Shape shape, bool zero_fill);
  static StatusOr<Tensor> AllocateChecked(DataType dtype, Shape shape, bool zero_fill);
  DataType dtype_ = DataType::kUndefined;
  Shape shape_;
  int64_t size_ = 0;
  std::shared_ptr<AlignedBuffer> buffer_;
  std::shared_ptr<std::vector<std::string>> strings_;
};

// A tensor with a name: model inputs/outputs, npz members.
struct NamedTensor {
  std::string name;
  Tensor tensor;
};

template <typename T>
Tensor Tensor::FromVector(Shape shape, const std::vector<T>& values) {
  Tensor tensor(DataTypeOf<T>::value, std::move(shape));
  if constexpr (std::is_same_v<T, std::string>) {
    for (size_t i = 0; i < values.size() && i < size_t(tensor.size()); ++i) {
      tensor.strings()[i] = values[i];
    }
  } else if constexpr (std::is_same_v<T, bool>) {
    bool* out = tensor.data<bool>();
    for (size_t i = 0; i < values.size() && i < size_t(tensor.size()); ++i) out[i] = values[i];
  } else {
    T* out = tensor.data<T>();
    for (size_t i = 0; i < values.size() && i < size_t(tensor.size()); ++i) out[i] = values[i];
  }
  return tensor;
}

}  // namespace shrink::engine
