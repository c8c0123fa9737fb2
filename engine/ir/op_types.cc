#include "engine/ir/op_types.h"

#include <string>
#include <unordered_map>

namespace shrink::engine {
namespace {

const OpInfo kOpTable[] = {
    {OpType::kUnknown, "<unknown>", "", kNone},
#define SHRINK_OP_ROW(e, name, domain, flags) {OpType::k##e, name, domain, flags},
    SHRINK_ONNX_OPS(SHRINK_OP_ROW)
#undef SHRINK_OP_ROW
};
static_assert(sizeof(kOpTable) / sizeof(kOpTable[0]) == size_t(OpType::kCount),
              "op table and enum disagree");

std::string DomainKey(std::string_view domain, std::string_view op_type) {
  if (domain == "ai.onnx") domain = "";
  std::string key(domain);
  key += '\n';
  key += op_type;
  return key;
}

const std::unordered_map<std::string, OpType>& NameIndex() {
  static const auto* index = [] {
    auto* map = new std::unordered_map<std::string, OpType>();
    for (const OpInfo& info : kOpTable) {
      if (info.type != OpType::kUnknown) (*map)[DomainKey(info.domain, info.name)] = info.type;
    }
    return map;
  }();
  return *index;
}

}  // namespace

OpType LookupOpType(std::string_view domain, std::string_view op_type) {
  const auto& index = NameIndex();
  auto found = index.find(DomainKey(domain, op_type));
  return found == index.end() ? OpType::kUnknown : found->second;
}

const OpInfo& GetOpInfo(OpType type) {
  size_t index = size_t(type);
  return index < size_t(OpType::kCount) ? kOpTable[index] : kOpTable[0];
}

const char* OpTypeName(OpType type) { return GetOpInfo(type).name; }

}  // namespace shrink::engine
