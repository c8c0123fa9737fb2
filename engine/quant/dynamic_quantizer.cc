// Dynamic-range quantization: weights become int8 offline, activations are quantized per run.
//   MatMul/Gemm (constant B) -> com.microsoft.DynamicQuantizeMatMul (per-column b_scale allowed
//     by its schema; Gemm's B is transposed offline, alpha folds into b_scale, beta*C into bias).
//   Conv -> DynamicQuantizeLinear + ConvInteger + Cast + Mul(x_scale * w_scale[c]) + Add(bias).
//     ConvInteger weights are uint8 (symmetric, zero point 128) whatever weight_type says: ORT
//     1.29 runs u8 x s8 ConvInteger on a slow path (mnist_cnn, batch 64, 2 threads: 17.7 ms vs
//     1.6 ms for u8 x u8, fp32 0.7 ms). The precision is the same (255 levels around 0).
//   LSTM/GRU -> W and R stored int8 behind DequantizeLinear (weight-only), per gate row (axis 1).
// Weights are symmetric, so every channel's zero point is the same and is passed as a scalar
// (ORT's ConvInteger only takes a per-tensor weight zero point).
#include <algorithm>
#include <unordered_map>

#include "engine/ir/graph_utils.h"
#include "engine/quant/op_quant_table.h"
#include "engine/quant/qdq_graph_edit.h"
#include "engine/quant/qdq_quantizer.h"
#include "engine/quant/quant_params.h"

namespace shrink::engine::quant {
namespace {

Tensor Transpose2D(const Tensor& w) {
  const int64_t rows = w.dim(0), cols = w.dim(1);
  Tensor out(DataType::kFloat32, {cols, rows});
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c)
      out.data<float>()[c * rows + r] = w.data<float>()[r * cols + c];
  }
  return out;
}

Tensor ScalarLike(const Tensor& zero_point) {
  Tensor t(zero_point.dtype(), {});
  std::copy_n(static_cast<const uint8_t*>(zero_point.raw_data()), DataTypeSize(t.dtype()),
              static_cast<uint8_t*>(t.raw_data()));
  return t;
}

class DynamicQuantizer {
 public:
  DynamicQuantizer(Model* model, const DynamicQuantOptions& options)
      : model_(model), options_(options), names_(*model) {}

  Status Run() {
    RETURN_IF_ERROR(QuantizeGraph({&model_->graph}, ""));
    if (used_ms_domain_ && model_->OpsetVersion("com.microsoft") == 0) {
      model_->opset_imports.push_back({"com.microsoft", 1});
    }
    RemoveUnusedFloatWeights();
    return OkStatus();
  }
  QuantSummary& summary() { return summary_; }

 private:
  Status QuantizeGraph(ScopeChain scopes, const std::string& path);
  // Each returns the reason the node stays float ("" when rewritten).
  StatusOr<std::string> RewriteMatMul(const ScopeChain& scopes, Node* node, NodeDecision* d);
  StatusOr<std::string> RewriteConv(const ScopeChain& scopes, Node* node, NodeDecision* d);
  StatusOr<std::string> RewriteRecurrent(const ScopeChain& scopes, Node* node, NodeDecision* d);
  StatusOr<QuantizedWeight> Quantize(const Tensor& weight, int axis, QuantType type);
  // Adds an initializer to the node's graph under a fresh name.
  std::string AddConstant(Graph* graph, const std::string& base, Tensor value) {
    std::string name = names_.Value(base);
    graph->SetInitializer(name, std::move(value));
    return name;
  }
  Node* Add(Graph* graph, const Node* before, std::unique_ptr<Node> node) {
    return InsertNode(graph, std::move(node), before);
  }
  void RemoveUnusedFloatWeights();

  Model* model_;
  const DynamicQuantOptions& options_;
  NameGenerator names_;
  QuantSummary summary_;
  bool used_ms_domain_ = false;
  std::vector<std::pair<Graph*, std::string>> replaced_;
};

StatusOr<QuantizedWeight> DynamicQuantizer::Quantize(const Tensor& weight, int axis,
                                                     QuantType type) {
  QuantizeWeightOptions wopts{type, options_.per_channel ? axis : -1, true, options_.reduce_range};
  ASSIGN_OR_RETURN(QuantizedWeight q, QuantizeWeight(weight, wopts));
  AddToScaleSummary(q, &summary_.scales);
  return q;
}

Status DynamicQuantizer::QuantizeGraph(ScopeChain scopes, const std::string& path) {
  Graph* graph = scopes.back();
  ASSIGN_OR_RETURN(std::vector<Node*> order, TopologicalOrder(*graph));
  const std::set<std::string> critical = PrecisionCriticalValues(*graph, GraphIndex(*graph));
  for (size_t i = 0; i < order.size(); ++i) {
    Node* node = order[i];
    NodeDecision d;
    d.node = node->name.empty() ? node->op_type + "#" + std::to_string(i) : node->name;
    d.op_type = node->domain.empty() ? node->op_type : node->domain + "." + node->op_type;
    d.graph = path;
    d.action = NodeDecision::Action::kFloat;
    bool handled = node->op == OpType::kMatMul || node->op == OpType::kGemm ||
                   node->op == OpType::kConv || node->op == OpType::kLSTM ||
                   node->op == OpType::kGRU;
    std::string reason = "op not quantized dynamically";
    if (handled && options_.filter.Excluded(*node)) {
      d.action = NodeDecision::Action::kExcluded;
      reason = "excluded by the node filter";
    } else if (handled && !node->outputs.empty() && critical.count(node->outputs[0])) {
      reason =
          "its output reaches a Log, Sqrt, Reciprocal or divisor through value-preserving "
          "ops: small values need float precision";
    } else if (node->op == OpType::kMatMul || node->op == OpType::kGemm) {
      ASSIGN_OR_RETURN(reason, RewriteMatMul(scopes, node, &d));
    } else if (node->op == OpType::kConv) {
      ASSIGN_OR_RETURN(reason, RewriteConv(scopes, node, &d));
    } else if (node->op == OpType::kLSTM || node->op == OpType::kGRU) {
      ASSIGN_OR_RETURN(reason, RewriteRecurrent(scopes, node, &d));
    }
    if (reason.empty()) {
      d.action = NodeDecision::Action::kQuantized;
      if (d.weight_type.empty()) d.weight_type = QuantTypeName(options_.weight_type);
    } else {
      d.reason = reason;
    }
    summary_.decisions.push_back(d);
  }
  std::vector<Node*> snapshot;
  for (const auto& node : graph->nodes) snapshot.push_back(node.get());
  for (Node* node : snapshot) {
    for (auto [attr, sub] : Subgraphs(*node)) {
      ScopeChain inner = scopes;
      inner.push_back(sub);
      std::string owner = (path.empty() ? "" : path + "/") + node->name + "/" + attr->name;
      RETURN_IF_ERROR(QuantizeGraph(inner, owner));
    }
  }
  return OkStatus();
}

StatusOr<std::string> DynamicQuantizer::RewriteMatMul(const ScopeChain& scopes, Node* node,
                                                      NodeDecision* d) {
  const bool gemm = node->op == OpType::kGemm;
  if (!node->HasInput(1)) return std::string("no B input");
  if (!IsFloatValue(scopes, node->inputs[0])) return std::string("A is not float32");
  Graph* owner = FindInitializerOwner(scopes, node->inputs[1]);
  if (owner == nullptr) return std::string("B is not a constant initializer");
  Tensor b = *owner->FindInitializer(node->inputs[1]);
  if (b.dtype() != DataType::kFloat32 || b.rank() != 2) return std::string("B is not 2-D float32");
  float alpha = 1, beta = 1;
  if (gemm) {
    if (node->GetInt("transA", 0) != 0) return std::string("Gemm with transA=1 stays float");
    alpha = node->GetFloat("alpha", 1.0f);
    beta = node->GetFloat("beta", 1.0f);
    if (!(alpha > 0)) return std::string("Gemm with alpha <= 0 stays float (b_scale must be > 0)");
    if (node->GetInt("transB", 0) != 0) b = Transpose2D(b);
  }
  const int64_t n = b.dim(1);
  Tensor bias;
  if (gemm && node->HasInput(2)) {
    Graph* c_owner = FindInitializerOwner(scopes, node->inputs[2]);
    if (c_owner == nullptr) return std::string("Gemm's C is not a constant initializer");
    const Tensor* c = c_owner->FindInitializer(node->inputs[2]);
    if (c->dtype() != DataType::kFloat32 || c->rank() < 1 || c->size() != n ||
        c->dim(c->rank() - 1) != n) {
      return std::string("Gemm's C does not broadcast as a [N] bias");
    }
    bias = Tensor(DataType::kFloat32, {n});
    for (int64_t i = 0; i < n; ++i) bias.data<float>()[i] = beta * c->data<float>()[i];
    replaced_.emplace_back(c_owner, node->inputs[2]);
  }
  ASSIGN_OR_RETURN(QuantizedWeight q, Quantize(b, 1, options_.weight_type));
  if (alpha != 1.0f) {
    q.scale = q.scale.Clone();  // own the buffer before writing
    for (int64_t i = 0; i < q.scale.size(); ++i) q.scale.data<float>()[i] *= alpha;
  }
  Graph* graph = scopes.back();
  const std::string& base = node->inputs[1];
  std::vector<std::string> inputs = {
      node->inputs[0], AddConstant(graph, base + "_quantized", q.values),
      AddConstant(graph, base + "_scale", q.scale),
      AddConstant(graph, base + "_zero_point", ScalarLike(q.zero_point))};
  if (bias.defined()) inputs.push_back(AddConstant(graph, node->inputs[2] + "_bias", bias));
  replaced_.emplace_back(owner, node->inputs[1]);
  auto fused = MakeNode("DynamicQuantizeMatMul", "com.microsoft", inputs, {node->outputs[0]},
                        names_.NodeName(node->name + "_DynamicQuantizeMatMul"));
  Add(graph, node, std::move(fused));
  RemoveNode(graph, node);
  used_ms_domain_ = true;
  d->per_channel = q.axis >= 0;
  d->activation_type = "dynamic uint8";
  d->op_type = "com.microsoft.DynamicQuantizeMatMul";
  return std::string();
}

StatusOr<std::string> DynamicQuantizer::RewriteConv(const ScopeChain& scopes, Node* node,
                                                    NodeDecision* d) {
  Graph* owner = node->HasInput(1) ? FindInitializerOwner(scopes, node->inputs[1]) : nullptr;
  if (owner == nullptr) return std::string("weight is not a constant initializer");
  const Tensor w = *owner->FindInitializer(node->inputs[1]);
  if (w.dtype() != DataType::kFloat32 || w.rank() < 3) return std::string("weight is not float32");
  if (!IsFloatValue(scopes, node->inputs[0])) return std::string("input is not float32");
  Tensor bias;
  if (node->HasInput(2)) {
    Graph* b_owner = FindInitializerOwner(scopes, node->inputs[2]);
    if (b_owner == nullptr) return std::string("bias is not a constant initializer");
    bias = *b_owner->FindInitializer(node->inputs[2]);
    replaced_.emplace_back(b_owner, node->inputs[2]);
  }
  ASSIGN_OR_RETURN(QuantizedWeight q, Quantize(w, 0, QuantType::kUint8));
  Graph* graph = scopes.back();
  const std::string& x = node->inputs[0];
  const std::string& y = node->outputs[0];
  const int64_t m = w.dim(0);
  Shape channel_shape(size_t(w.rank()), 1);
  channel_shape[1] = m;

  std::string xq = names_.Value(x + "_quantized"), xs = names_.Value(x + "_scale");
  std::string xz = names_.Value(x + "_zero_point");
  Add(graph, node,
      MakeNode("DynamicQuantizeLinear", "", {x}, {xq, xs, xz},
               names_.NodeName(node->name + "_DynamicQuantizeLinear")));
  std::string wq = AddConstant(graph, node->inputs[1] + "_quantized", q.values);
  std::string wz = AddConstant(graph, node->inputs[1] + "_zero_point", ScalarLike(q.zero_point));
  std::string acc = names_.Value(y + "_int32");
  auto conv = MakeNode("ConvInteger", "", {xq, wq, xz, wz}, {acc},
                       names_.NodeName(node->name + "_ConvInteger"));
  for (const Attribute& attr : node->attributes) conv->SetAttribute(attr);
  Add(graph, node, std::move(conv));
  std::string accf = names_.Value(y + "_int32_float");
  auto cast = MakeNode("Cast", "", {acc}, {accf}, names_.NodeName(node->name + "_Cast"));
  cast->SetAttribute(IntAttribute("to", int64_t(DataType::kFloat32)));
  Add(graph, node, std::move(cast));
  // w_scale as [1, M, 1, ...] (or a scalar) so that it broadcasts over the output channels.
  Tensor w_scale = q.scale;
  if (q.scale.rank() == 1) {
    ASSIGN_OR_RETURN(w_scale, q.scale.Reshaped(channel_shape));
  }
  std::string ws = AddConstant(graph, node->inputs[1] + "_scale", w_scale);
  std::string combined = names_.Value(y + "_scale");
  Add(graph, node,
      MakeNode("Mul", "", {xs, ws}, {combined}, names_.NodeName(node->name + "_Scale")));
  std::string scaled = bias.defined() ? names_.Value(y + "_unbiased") : y;
  Add(graph, node,
      MakeNode("Mul", "", {accf, combined}, {scaled}, names_.NodeName(node->name + "_Rescale")));
  if (bias.defined()) {
    ASSIGN_OR_RETURN(Tensor b, bias.Reshaped(channel_shape));
    std::string bn = AddConstant(graph, node->inputs[2] + "_reshaped", b);
    Add(graph, node, MakeNode("Add", "", {scaled, bn}, {y}, names_.NodeName(node->name + "_Bias")));
  }
  replaced_.emplace_back(owner, node->inputs[1]);
  RemoveNode(graph, node);
  d->per_channel = q.axis >= 0;
  d->activation_type = "dynamic uint8";
  d->weight_type = QuantTypeName(QuantType::kUint8);
  d->op_type = "ConvInteger";
  return std::string();
}

StatusOr<std::string> DynamicQuantizer::RewriteRecurrent(const ScopeChain& scopes, Node* node,
                                                         NodeDecision* d) {
  Graph* graph = scopes.back();
  bool any = false;
  for (int index : {1, 2}) {
    if (!node->HasInput(index)) continue;
    const std::string name = node->inputs[size_t(index)];
    Graph* owner = FindInitializerOwner(scopes, name);
    if (owner == nullptr) continue;
    const Tensor w = *owner->FindInitializer(name);
    if (w.dtype() != DataType::kFloat32 || w.rank() != 3) continue;
    // Axis 1 = the gate rows [num_directions, gates * hidden, input]: one scale per row
    // (per-axis DequantizeLinear needs opset 13).
    ASSIGN_OR_RETURN(QuantizedWeight q,
                     Quantize(w, model_->OpsetVersion("") >= 13 ? 1 : -1, options_.weight_type));
    std::string qn = AddConstant(graph, name + "_quantized", q.values);
    std::string sn = AddConstant(graph, name + "_scale", q.scale);
    std::string zn = AddConstant(graph, name + "_zero_point", q.zero_point);
    std::string dn = names_.Value(name + "_dequantized");
    Add(graph, node,
        MakeQuantizeNode(true, q.values.dtype(), qn, sn, zn, dn, q.axis,
                         names_.NodeName(name + "_DequantizeLinear")));
    node->inputs[size_t(index)] = dn;
    replaced_.emplace_back(owner, name);
    d->per_channel = q.axis >= 0;
    any = true;
  }
  if (!any) return std::string("W and R are not constant float32 initializers");
  d->activation_type = "";
  d->reason = "weight-only int8";
  return std::string();
}

void DynamicQuantizer::RemoveUnusedFloatWeights() {
  std::set<std::string> reads;
  CollectModelReads(model_->graph, &reads);
  for (auto& [graph, name] : replaced_) {
    if (!reads.count(name)) graph->RemoveInitializer(name);
  }
}

}  // namespace

StatusOr<QuantSummary> QuantizeDynamic(Model* model, const DynamicQuantOptions& options) {
  if (model->OpsetVersion("") < 11) {
    return FailedPrecondition(
        "dynamic quantization needs opset >= 11 (DynamicQuantizeLinear); "
        "the model has opset " +
        std::to_string(model->OpsetVersion("")));
  }
  if (options.weight_type != QuantType::kInt8 && options.weight_type != QuantType::kUint8) {
    return InvalidArgument("dynamic quantization weights must be int8 or uint8");
  }
  DynamicQuantizer quantizer(model, options);
  RETURN_IF_ERROR(quantizer.Run());
  RETURN_IF_ERROR(ValidateGraph(model->graph));
  return std::move(quantizer.summary());
}

}  // namespace shrink::engine::quant
