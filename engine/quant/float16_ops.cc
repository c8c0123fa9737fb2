#include "engine/quant/float16_ops.h"

#include <set>
#include <string>

#include "onnx/defs/schema.h"

namespace shrink::engine::quant {
namespace {

using Param = onnx::OpSchema::FormalParameter;

// The formal parameter an actual input/output index binds to (variadic last parameters repeat).
const Param* FormalAt(const std::vector<Param>& formals, size_t index) {
  if (formals.empty()) return nullptr;
  if (index < formals.size()) return &formals[index];
  const Param& last = formals.back();
  return last.GetOption() == onnx::OpSchema::Variadic ? &last : nullptr;
}

bool AllowsFloat16(const Param& param) {
  for (const std::string* type : param.GetTypes()) {
    if (*type == "tensor(float16)") return true;
  }
  return false;
}

// A type string names a constraint ("T") unless it is a fixed type ("tensor(int64)").
bool IsConstraint(const std::string& type_str) { return type_str.rfind("tensor(", 0) != 0; }

}  // namespace

FloatSignature GetFloatSignature(const Node& node, int64_t opset) {
  FloatSignature signature;
  signature.input_data.assign(node.inputs.size(), false);
  signature.output_data.assign(node.outputs.size(), false);
  if (opset <= 0) return signature;
  const onnx::OpSchema* schema =
      onnx::OpSchemaRegistry::Schema(node.op_type, int(opset), node.domain);
  if (schema == nullptr || schema->Deprecated()) return signature;
  signature.known = true;
  // Constraints that type a present output and allow float16: the node's compute type(s).
  std::set<std::string> data_constraints;
  for (size_t j = 0; j < node.outputs.size(); ++j) {
    const Param* formal = FormalAt(schema->outputs(), j);
    if (formal == nullptr || node.outputs[j].empty()) continue;
    if (IsConstraint(formal->GetTypeStr()) && AllowsFloat16(*formal)) {
      data_constraints.insert(formal->GetTypeStr());
      signature.output_data[j] = true;
    }
  }
  // Ops with no float output (Equal, ArgMax, IsNaN, Shape, ...) compute on their first input.
  const Param* first = FormalAt(schema->inputs(), 0);
  if (data_constraints.empty() && first != nullptr && IsConstraint(first->GetTypeStr()) &&
      AllowsFloat16(*first)) {
    data_constraints.insert(first->GetTypeStr());
  }
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const Param* formal = FormalAt(schema->inputs(), i);
    if (formal == nullptr) continue;
    signature.input_data[i] = data_constraints.count(formal->GetTypeStr()) > 0;
    // Cast reads any type: its input follows whatever type it is given.
    if (node.op == OpType::kCast && i == 0) signature.input_data[i] = true;
    // BatchNormalization: scale and bias are weights even where opset 15 types them apart (T1);
    // the running statistics are not data: variances beyond float16's range occur
    // (ppocrv4_det has 9.8e7) and clamping them would wreck the output.
    if (node.op == OpType::kBatchNormalization && (i == 1 || i == 2)) {
      signature.input_data[i] = AllowsFloat16(*formal);
    }
    if (node.op == OpType::kBatchNormalization && (i == 3 || i == 4)) {
      signature.input_data[i] = false;
    }
  }
  return signature;
}

std::string FormalTypeString(const Node& node, int64_t opset, bool output, size_t index) {
  if (opset <= 0) return "";
  const onnx::OpSchema* schema =
      onnx::OpSchemaRegistry::Schema(node.op_type, int(opset), node.domain);
  if (schema == nullptr) return "";
  const Param* formal = FormalAt(output ? schema->outputs() : schema->inputs(), index);
  return formal == nullptr ? "" : formal->GetTypeStr();
}

namespace {

// Opset ranges at which ORT 1.29's CPU provider (x86-64 build) runs the op with its data tensors
// in float16 without falling back. Found by tests/float16_ort_test.cc (Float16OrtProbe): a
// one-op model per op and opset is loaded in ORT and the graph ORT will run is inspected: ORT
// loads almost any float16 node, but where it has no float16 kernel it inserts Casts to float
// around it (InsertCastTransformer), so those ops are listed as not running in float16. Ops
// absent here (Conv, Relu, Add, Softmax, pools, LSTM, ...) run only in float32. The probe fails
// when ORT disagrees with this table. Comparisons and Dropout lost their float16 kernels in
// later opsets, hence the ranges.
struct OrtFloat16Row {
  OpType op;
  int64_t first_opset;
  int64_t last_opset;
};
constexpr OrtFloat16Row kOrtFloat16Table[] = {
    {OpType::kIf, 1, kFloat16ProbeMaxOpset},  // control flow: type-agnostic
    {OpType::kLoop, 1, kFloat16ProbeMaxOpset},
    {OpType::kScan, 1, kFloat16ProbeMaxOpset},
    {OpType::kCast, 7, 17},
    {OpType::kCastLike, 15, 17},
    {OpType::kCelu, 12, 17},
    {OpType::kClip, 12, 17},
    {OpType::kCompress, 9, 17},
    {OpType::kConcat, 7, 17},
    {OpType::kConstant, 7, 17},
    {OpType::kConstantOfShape, 9, 17},
    {OpType::kCumSum, 11, 13},
    {OpType::kDropout, 7, 11},
    {OpType::kEqual, 7, 10},
    {OpType::kExpand, 8, 17},
    {OpType::kFlatten, 7, 17},
    {OpType::kGather, 7, 17},
    {OpType::kGatherElements, 11, 17},
    {OpType::kGatherND, 11, 17},
    {OpType::kGemm, 7, 17},
    {OpType::kIdentity, 7, 17},
    {OpType::kIsInf, 10, 17},
    {OpType::kIsNaN, 9, 17},
    {OpType::kLayerNormalization, 17, 17},
    {OpType::kMatMul, 7, 17},
    {OpType::kMax, 12, 17},
    {OpType::kMin, 12, 17},
    {OpType::kMod, 10, 17},
    {OpType::kRange, 11, 17},
    {OpType::kReshape, 7, 17},
    {OpType::kRound, 11, 17},
    {OpType::kScatter, 9, 10},
    {OpType::kScatterElements, 11, 17},
    {OpType::kScatterND, 11, 17},
    {OpType::kShape, 7, 17},
    {OpType::kShrink, 9, 17},
    {OpType::kSign, 9, 17},
    {OpType::kSlice, 7, 17},
    {OpType::kSplit, 7, 17},
    {OpType::kSqueeze, 7, 17},
    {OpType::kTranspose, 7, 17},
    {OpType::kUnsqueeze, 7, 17},
};

}  // namespace

bool OrtCpuRunsFloat16(OpType op, int64_t opset) {
  if (opset < kFloat16ProbeMinOpset || opset > kFloat16ProbeMaxOpset) return false;
  for (const OrtFloat16Row& row : kOrtFloat16Table) {
    if (row.op == op && opset >= row.first_opset && opset <= row.last_opset) return true;
  }
  return false;
}

}  // namespace shrink::engine::quant
