#include "engine/ir/tensor.h"

#include "engine/ir/buffer_cache.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>

namespace shrink::engine {

struct Tensor::AlignedBuffer {
  AlignedBuffer(size_t bytes, bool zero_fill) {
    data = AcquireBuffer(bytes, &capacity);
    if (data && zero_fill) std::memset(data, 0, bytes);
  }
  ~AlignedBuffer() { ReleaseBuffer(data, capacity); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  void* data = nullptr;
  size_t capacity = 0;
};

StatusOr<int64_t> ElementCount(const Shape& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) return InvalidArgument("negative dimension in shape " + ShapeToString(shape));
    if (dim != 0 && count > std::numeric_limits<int64_t>::max() / dim) {
      return InvalidArgument("shape " + ShapeToString(shape) + " overflows int64");
    }
    count *= dim;
  }
  return count;
}

std::string ShapeToString(const Shape& shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? "," : "") << shape[i];
  out << "]";
  return out.str();
}

Tensor::Tensor(DataType dtype, Shape shape) : Tensor(dtype, std::move(shape), true) {}

Tensor::Tensor(DataType dtype, Shape shape, bool zero_fill)
    : dtype_(dtype), shape_(std::move(shape)) {
  auto count = ElementCount(shape_);
  size_ = count.ok() ? *count : 0;
  if (dtype_ == DataType::kString) {
    strings_ = std::make_shared<std::vector<std::string>>(size_t(size_));
  } else {
    buffer_ = std::make_shared<AlignedBuffer>(nbytes(), zero_fill);
  }
}

StatusOr<Tensor> Tensor::Allocate(DataType dtype, Shape shape) {
  return AllocateChecked(dtype, std::move(shape), true);
}

StatusOr<Tensor> Tensor::AllocateUninitialized(DataType dtype, Shape shape) {
  return AllocateChecked(dtype, std::move(shape), false);
}

StatusOr<Tensor> Tensor::AllocateChecked(DataType dtype, Shape shape, bool zero_fill) {
  ASSIGN_OR_RETURN(int64_t count, ElementCount(shape));
  size_t element = DataTypeSize(dtype);
  if (dtype == DataType::kUndefined) return InvalidArgument("cannot allocate undefined dtype");
  // 16 GiB per tensor is far beyond anything shrink handles on its machines.
  constexpr int64_t kMaxBytes = int64_t(16) << 30;
  if (element > 0 && count > kMaxBytes / int64_t(element)) {
    return ResourceExhausted("tensor of shape " + ShapeToString(shape) + " (" +
                             DataTypeName(dtype) + ") exceeds the 16 GiB allocation limit");
  }
  Tensor tensor(dtype, std::move(shape), zero_fill);
  if (tensor.buffer_ && tensor.buffer_->data == nullptr) {
    return ResourceExhausted("out of memory allocating tensor of shape " +
                             ShapeToString(tensor.shape_));
  }
  return tensor;
}

void* Tensor::raw_data() { return buffer_ ? buffer_->data : nullptr; }
const void* Tensor::raw_data() const { return buffer_ ? buffer_->data : nullptr; }

StatusOr<Tensor> Tensor::Reshaped(Shape shape) const {
  ASSIGN_OR_RETURN(int64_t count, ElementCount(shape));
  if (count != size_) {
    return InvalidArgument("cannot reshape " + ShapeToString(shape_) + " to " +
                           ShapeToString(shape));
  }
  Tensor view = *this;
  view.shape_ = std::move(shape);
  return view;
}

Tensor Tensor::Clone() const {
  Tensor copy(dtype_, shape_);
  if (dtype_ == DataType::kString) {
    *copy.strings_ = *strings_;
  } else if (nbytes() > 0) {
    std::memcpy(copy.raw_data(), raw_data(), nbytes());
  }
  return copy;
}

double Tensor::GetAsDouble(int64_t i) const {
  switch (dtype_) {
    case DataType::kFloat32: return data<float>()[i];
    case DataType::kFloat64: return data<double>()[i];
    case DataType::kFloat16: return HalfToFloat(data<uint16_t>()[i]);
    case DataType::kBFloat16: return BFloat16ToFloat(data<uint16_t>()[i]);
    case DataType::kInt8: return data<int8_t>()[i];
    case DataType::kUint8: return data<uint8_t>()[i];
    case DataType::kInt16: return data<int16_t>()[i];
    case DataType::kUint16: return data<uint16_t>()[i];
    case DataType::kInt32: return data<int32_t>()[i];
    case DataType::kUint32: return data<uint32_t>()[i];
    case DataType::kInt64: return double(data<int64_t>()[i]);
    case DataType::kUint64: return double(data<uint64_t>()[i]);
    case DataType::kBool: return data<bool>()[i] ? 1.0 : 0.0;
    default: return 0.0;
  }
}

int64_t Tensor::GetAsInt64(int64_t i) const {
  switch (dtype_) {
    case DataType::kInt64: return data<int64_t>()[i];
    case DataType::kInt32: return data<int32_t>()[i];
    case DataType::kUint64: return int64_t(data<uint64_t>()[i]);
    default: return int64_t(GetAsDouble(i));
  }
}

std::vector<int64_t> Tensor::ToInt64Vector() const {
  std::vector<int64_t> values(static_cast<size_t>(size_));
  for (int64_t i = 0; i < size_; ++i) values[size_t(i)] = GetAsInt64(i);
  return values;
}

bool Tensor::BitwiseEquals(const Tensor& other) const {
  if (dtype_ != other.dtype_ || shape_ != other.shape_) return false;
  if (dtype_ == DataType::kString) return *strings_ == *other.strings_;
  return nbytes() == 0 || std::memcmp(raw_data(), other.raw_data(), nbytes()) == 0;
}

}  // namespace shrink::engine
