// Element types of tensors. Values equal ONNX TensorProto.DataType so conversion is a cast.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace shrink::engine {

enum class DataType : int32_t {
  kUndefined = 0,
  kFloat32 = 1,
  kUint8 = 2,
  kInt8 = 3,
  kUint16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,
  kBool = 9,
  kFloat16 = 10,
  kFloat64 = 11,
  kUint32 = 12,
  kUint64 = 13,
  kComplex64 = 14,
  kComplex128 = 15,
  kBFloat16 = 16,
};

// Bytes per element; 0 for kString and kUndefined.
size_t DataTypeSize(DataType type);
// Short lowercase name: "float32", "int8", "bfloat16", ...
const char* DataTypeName(DataType type);
// True for the values listed above (ONNX types from newer opsets are not known).
bool IsKnownDataType(int32_t value);
bool IsFloatingPoint(DataType type);

// IEEE binary16 and bfloat16 storage types; arithmetic happens in float.
struct Float16 {
  uint16_t bits = 0;
};
struct BFloat16 {
  uint16_t bits = 0;
};

float HalfToFloat(uint16_t bits);
uint16_t FloatToHalf(float value);  // round to nearest even, overflow to inf
inline float BFloat16ToFloat(uint16_t bits) {
  uint32_t word = uint32_t(bits) << 16;
  float value;
  std::memcpy(&value, &word, 4);
  return value;
}
uint16_t FloatToBFloat16(float value);  // round to nearest even, NaN kept

// Maps C++ element types to DataType at compile time.
template <typename T>
struct DataTypeOf;
#define SHRINK_DATATYPE_OF(T, V) \
  template <>                    \
  struct DataTypeOf<T> {         \
    static constexpr DataType value = DataType::V; \
  }
SHRINK_DATATYPE_OF(float, kFloat32);
SHRINK_DATATYPE_OF(double, kFloat64);
SHRINK_DATATYPE_OF(int8_t, kInt8);
SHRINK_DATATYPE_OF(uint8_t, kUint8);
SHRINK_DATATYPE_OF(int16_t, kInt16);
SHRINK_DATATYPE_OF(uint16_t, kUint16);
SHRINK_DATATYPE_OF(int32_t, kInt32);
SHRINK_DATATYPE_OF(uint32_t, kUint32);
SHRINK_DATATYPE_OF(int64_t, kInt64);
SHRINK_DATATYPE_OF(uint64_t, kUint64);
SHRINK_DATATYPE_OF(bool, kBool);
SHRINK_DATATYPE_OF(Float16, kFloat16);
SHRINK_DATATYPE_OF(BFloat16, kBFloat16);
SHRINK_DATATYPE_OF(std::string, kString);
#undef SHRINK_DATATYPE_OF

}  // namespace shrink::engine
