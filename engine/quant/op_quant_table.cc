#include "engine/quant/op_quant_table.h"

#include <limits>

namespace shrink::engine::quant {
namespace {

// Source for `ort_fuses`: onnxruntime/core/optimizer/qdq_transformer/selectors_actions/
// qdq_selector_action_transformer.cc (CreateSelectorActionRegistry):
//   drop Q/DQ (same params in and out): Expand, Flatten, Gather, GatherElements, Reshape, Slice,
//     Squeeze, Tile, Transpose, Unsqueeze; MaxPool (no 16-bit, positive scale); Resize (no
//     16-bit); Split (equal params).
//   unary -> com.microsoft QLinear*: AveragePool, LeakyRelu, GlobalAveragePool, Sigmoid, Softmax.
//   binary -> QLinearAdd/QLinearMul: Add, Mul.   variadic -> QLinearConcat: Concat.
//   Conv -> QLinearConv; MatMul -> QLinearMatMul (or MatMulIntegerToFloat); Gemm -> QGemm.
// Not fused on CPU (kept in the table for size and accuracy, runs as DQ -> float op -> Q):
// ConvTranspose. HardSigmoid has no QDQ rule and stays float.
constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<OpQuantSpec> BuildTable() {
  using W = WeightAxis;
  std::vector<OpQuantSpec> t;
  auto own = [&](OpType op, std::vector<int> acts, bool fuses) {
    OpQuantSpec s;
    s.op = op;
    s.activation_inputs = std::move(acts);
    s.ort_fuses = fuses;
    t.push_back(s);
  };
  auto shared = [&](OpType op, bool allows_16bit = true) {
    OpQuantSpec s;
    s.op = op;
    s.activation_inputs = {0};
    s.output = OutputRule::kSharedWithInput;
    s.ort_fuses = true;
    s.allows_16bit = allows_16bit;
    t.push_back(s);
  };
  auto weighted = [&](OpType op, W axis, int bias, bool fuses, bool may_be_activation) {
    OpQuantSpec s;
    s.op = op;
    s.activation_inputs = {0};
    s.weight_input = 1;
    s.weight_axis = axis;
    s.bias_input = bias;
    s.ort_fuses = fuses;
    s.weight_may_be_activation = may_be_activation;
    t.push_back(s);
  };
  weighted(OpType::kConv, W::kAxis0, 2, true, false);
  weighted(OpType::kConvTranspose, W::kAxis1, 2, false, false);
  weighted(OpType::kGemm, W::kGemmB, 2, true, false);
  weighted(OpType::kMatMul, W::kLast, -1, true, true);
  own(OpType::kAdd, {0, 1}, true);
  own(OpType::kMul, {0, 1}, true);
  own(OpType::kAveragePool, {0}, true);
  own(OpType::kGlobalAveragePool, {0}, true);
  own(OpType::kSigmoid, {0}, true);
  own(OpType::kLeakyRelu, {0}, true);
  own(OpType::kSoftmax, {0}, true);
  OpQuantSpec concat;
  concat.op = OpType::kConcat;
  concat.all_inputs_activations = true;
  concat.ort_fuses = true;
  t.push_back(concat);
  for (OpType op : {OpType::kReshape, OpType::kTranspose, OpType::kFlatten, OpType::kSqueeze,
                    OpType::kUnsqueeze, OpType::kSlice, OpType::kGather, OpType::kSplit,
                    OpType::kExpand, OpType::kTile}) {
    shared(op);
  }
  shared(OpType::kMaxPool, /*allows_16bit=*/false);
  shared(OpType::kResize, /*allows_16bit=*/false);
  return t;
}

const std::vector<OpQuantSpec>& Table() {
  static const std::vector<OpQuantSpec>* table = new std::vector<OpQuantSpec>(BuildTable());
  return *table;
}

bool ScalarInitializer(const Graph& graph, const std::string& name, float* value) {
  const Tensor* t = graph.FindInitializer(name);
  if (t == nullptr || t->size() != 1 || t->dtype() != DataType::kFloat32) return false;
  *value = t->data<float>()[0];
  return true;
}

}  // namespace

const OpQuantSpec* FindOpQuantSpec(OpType op) {
  for (const OpQuantSpec& spec : Table()) {
    if (spec.op == op) return &spec;
  }
  return nullptr;
}

std::vector<std::string> OrtFusedOpTypes() {
  std::vector<std::string> ops;
  for (const OpQuantSpec& spec : Table()) {
    if (spec.ort_fuses) ops.push_back(OpTypeName(spec.op));
  }
  return ops;
}

int WeightChannelAxis(const OpQuantSpec& spec, const Node& node, int weight_rank) {
  switch (spec.weight_axis) {
    case WeightAxis::kNone:
      return -1;
    case WeightAxis::kAxis0:
      return weight_rank >= 1 ? 0 : -1;
    case WeightAxis::kAxis1:
      return weight_rank >= 2 ? 1 : -1;
    case WeightAxis::kGemmB:
      if (weight_rank != 2) return -1;
      return node.GetInt("transB", 0) != 0 ? 0 : 1;
    case WeightAxis::kLast:
      return weight_rank >= 2 ? weight_rank - 1 : -1;
  }
  return -1;
}

std::vector<int> ActivationInputs(const OpQuantSpec& spec, const Node& node) {
  if (!spec.all_inputs_activations) return spec.activation_inputs;
  std::vector<int> all;
  for (int i = 0; i < int(node.inputs.size()); ++i) {
    if (node.HasInput(i)) all.push_back(i);
  }
  return all;
}

bool IsAbsorbableActivation(const Node& node, const Graph& graph, const std::string& data,
                            float* lo, float* hi) {
  *lo = -kInf;
  *hi = kInf;
  if (node.inputs.empty() || node.outputs.size() != 1) return false;
  switch (node.op) {
    case OpType::kRelu:
      *lo = 0;
      return node.inputs[0] == data;
    case OpType::kClip:
      if (node.inputs[0] != data) return false;
      if (node.HasInput(1) && !ScalarInitializer(graph, node.inputs[1], lo)) return false;
      if (node.HasInput(2) && !ScalarInitializer(graph, node.inputs[2], hi)) return false;
      return true;
    case OpType::kMax:
    case OpType::kMin: {
      if (node.inputs.size() != 2) return false;
      const std::string& other = node.inputs[0] == data ? node.inputs[1] : node.inputs[0];
      if (other == data || (node.inputs[0] != data && node.inputs[1] != data)) return false;
      return ScalarInitializer(graph, other, node.op == OpType::kMax ? lo : hi);
    }
    default:
      return false;
  }
}

std::set<std::string> PrecisionCriticalValues(const Graph& graph, const GraphIndex& index) {
  std::vector<std::string> pending;
  for (const auto& node : graph.nodes) {
    const bool compresses =
        node->op == OpType::kLog || node->op == OpType::kSqrt || node->op == OpType::kReciprocal;
    if (compresses && node->HasInput(0)) pending.push_back(node->inputs[0]);
    if (node->op == OpType::kDiv && node->HasInput(1) && !graph.HasInitializer(node->inputs[1])) {
      pending.push_back(node->inputs[1]);
    }
  }
  std::set<std::string> critical;
  while (!pending.empty()) {
    std::string value = pending.back();
    pending.pop_back();
    if (!critical.insert(value).second) continue;
    const Node* producer = index.Producer(value);
    if (producer == nullptr || HasFlag(producer->op, kReduction)) continue;
    for (const std::string& input : producer->inputs) {
      if (!input.empty() && !graph.HasInitializer(input)) pending.push_back(input);
    }
  }
  return critical;
}

std::set<std::string> CarriedToOutputs(const Graph& graph, const GraphIndex& index,
                                       const std::set<std::string>& outputs) {
  std::vector<std::string> pending(outputs.begin(), outputs.end());
  std::set<std::string> carried;
  while (!pending.empty()) {
    std::string value = pending.back();
    pending.pop_back();
    if (!carried.insert(value).second) continue;
    const Node* producer = index.Producer(value);
    if (producer == nullptr) continue;
    switch (producer->op) {
      case OpType::kConcat:
      case OpType::kReshape:
      case OpType::kSqueeze:
      case OpType::kUnsqueeze:
      case OpType::kFlatten:
      case OpType::kTranspose:
      case OpType::kIdentity:
      case OpType::kSlice:
        if (producer->HasInput(0) && !graph.HasInitializer(producer->inputs[0])) {
          for (const std::string& input : producer->inputs) {
            if (!input.empty() && !graph.HasInitializer(input)) pending.push_back(input);
            if (producer->op != OpType::kConcat) break;  // only the data input
          }
        }
        break;
      default:
        break;  // the value is computed here: the producer itself stays float
    }
  }
  return carried;
}

}  // namespace shrink::engine::quant
