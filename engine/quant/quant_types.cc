#include "engine/quant/quant_types.h"

namespace shrink::engine::quant {

DataType ToDataType(QuantType type) {
  switch (type) {
    case QuantType::kUint8:
      return DataType::kUint8;
    case QuantType::kInt8:
      return DataType::kInt8;
    case QuantType::kUint16:
      return DataType::kUint16;
    case QuantType::kInt16:
      return DataType::kInt16;
  }
  return DataType::kUndefined;
}

const char* QuantTypeName(QuantType type) { return DataTypeName(ToDataType(type)); }

int QuantBits(QuantType type) {
  return type == QuantType::kUint16 || type == QuantType::kInt16 ? 16 : 8;
}

static bool IsSigned(QuantType type) {
  return type == QuantType::kInt8 || type == QuantType::kInt16;
}

// Signed types keep their sign bit and lose the top magnitude bit: int8 [-64, 63].
int32_t QuantMin(QuantType type, bool reduce_range) {
  if (!IsSigned(type)) return 0;
  int bits = QuantBits(type) - (reduce_range ? 1 : 0);
  return -(int32_t(1) << (bits - 1));
}

int32_t QuantMax(QuantType type, bool reduce_range) {
  int bits = QuantBits(type) - (reduce_range ? 1 : 0);
  return IsSigned(type) ? (int32_t(1) << (bits - 1)) - 1 : (int32_t(1) << bits) - 1;
}

const char* ActionName(NodeDecision::Action action) {
  switch (action) {
    case NodeDecision::Action::kQuantized:
      return "quantized";
    case NodeDecision::Action::kConverted:
      return "converted";
    case NodeDecision::Action::kFloat:
      return "float";
    case NodeDecision::Action::kExcluded:
      return "excluded";
  }
  return "unknown";
}

void NoteScale(double scale, ScaleSummary* summary) {
  const bool none = summary->min_scale == 0 && summary->max_scale == 0;
  if (none || scale < summary->min_scale) summary->min_scale = scale;
  if (none || scale > summary->max_scale) summary->max_scale = scale;
}

}  // namespace shrink::engine::quant
