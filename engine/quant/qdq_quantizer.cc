// Static QDQ quantization. Per graph level: plan (walk nodes in topological order, decide from
// the op table which tensors get a Q->DQ pair and with which parameters; weights and biases are
// replaced right away), then rewrite (absorb Relu/Clip, insert the activation Q/DQ pairs, sort),
// then recurse into subgraphs, which see the outer graph's decisions.
#include "engine/quant/qdq_quantizer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <unordered_map>

#include "engine/ir/graph_utils.h"
#include "engine/quant/op_quant_table.h"
#include "engine/quant/qdq_graph_edit.h"
#include "engine/quant/quant_params.h"

namespace shrink::engine::quant {

bool NodeFilter::Excluded(const Node& node) const {
  bool has_include = !include_nodes.empty() || !include_ops.empty();
  if (has_include && !include_nodes.count(node.name) && !include_ops.count(node.op_type)) {
    return true;
  }
  return exclude_nodes.count(node.name) > 0 || exclude_ops.count(node.op_type) > 0;
}

namespace {

struct WeightInfo {
  std::vector<float> scales;
  int axis = -1;
};

std::string NodeLabel(const Node& node, int index) {
  return node.name.empty() ? node.op_type + "#" + std::to_string(index) : node.name;
}

Tensor ZeroPoint(DataType type, int32_t value) {
  Tensor t(type, {});
  switch (type) {
    case DataType::kUint8:
      t.data<uint8_t>()[0] = uint8_t(value);
      break;
    case DataType::kInt8:
      t.data<int8_t>()[0] = int8_t(value);
      break;
    case DataType::kUint16:
      t.data<uint16_t>()[0] = uint16_t(value);
      break;
    default:
      t.data<int16_t>()[0] = int16_t(value);
      break;
  }
  return t;
}

class StaticQuantizer {
 public:
  StaticQuantizer(Model* model, const RangeMap& ranges, const StaticQuantOptions& options)
      : model_(model), ranges_(ranges), options_(options), names_(*model) {
    act_type_ = options.activation_type;
    qtype_ = ToDataType(act_type_);
    // 16-bit activations are symmetric by default (zero point 0 keeps int16 sums centred).
    act_symmetric_ = options.activation_symmetric || act_type_ == QuantType::kInt16;
  }

  Status Run() {
    RETURN_IF_ERROR(QuantizeGraph({&model_->graph}, "", options_.float_outputs));
    if (options_.quantize_model_io) MakeModelIoInteger();
    RemoveUnusedInitializers();
    if (used_ms_domain_ && model_->OpsetVersion("com.microsoft") == 0) {
      model_->opset_imports.push_back({"com.microsoft", 1});
    }
    int uncalibrated = 0;
    for (const NodeDecision& d : summary_.decisions) {
      uncalibrated += d.reason.rfind("no range", 0) == 0;
    }
    if (uncalibrated > 0) {
      summary_.warnings.push_back(std::to_string(uncalibrated) +
                                  " quantizable nodes stay float for lack of calibration ranges "
                                  "(e.g. an If branch the calibration data never took)");
    }
    return OkStatus();
  }
  QuantSummary& summary() { return summary_; }

 private:
  struct GraphPlan {
    std::vector<std::string> tensors;  // activations needing a Q->DQ pair, in plan order
    std::vector<std::pair<Node*, Node*>> absorbed;  // (producer, activation)
  };

  // `float_outputs`: outputs of this graph level that must stay float (see StaticQuantOptions).
  Status QuantizeGraph(ScopeChain scopes, const std::string& path,
                       const std::set<std::string>& float_outputs);
  Status PlanNode(const ScopeChain& scopes, const GraphIndex& index, Node* node, GraphPlan* plan,
                  NodeDecision* decision);
  Status PlanOwnRange(const ScopeChain& scopes, const GraphIndex& index, Node* node,
                      const OpQuantSpec& spec, GraphPlan* plan, NodeDecision* decision);
  void PlanShared(const ScopeChain& scopes, Node* node, GraphPlan* plan, NodeDecision* decision);
  // Why `node` cannot be quantized ("" when it can); fills the inputs to quantize as
  // activations and whether it has a constant weight.
  std::string OwnRangeBlocker(const ScopeChain& scopes, const Node& node, const OpQuantSpec& spec,
                              std::vector<int>* acts, bool* has_weight) const;
  Status CommitWeight(const ScopeChain& scopes, Node* node, const OpQuantSpec& spec,
                      NodeDecision* decision);
  Node* FindAbsorbable(const ScopeChain& scopes, const GraphIndex& index, const Node& node);
  StatusOr<const WeightInfo*> QuantizeInitializer(const ScopeChain& scopes, const std::string& name,
                                                  const QuantizeWeightOptions& options);
  Status QuantizeBiasInput(const ScopeChain& scopes, Node* node, int index, float input_scale,
                           const WeightInfo& weight);
  void InsertActivationQdq(Graph* graph, const std::string& name);
  void MakeModelIoInteger();
  void RemoveUnusedInitializers();
  void NoteScale(float scale);
  std::set<std::string> critical_;  // PrecisionCriticalValues of the level being planned
  std::set<std::string> carried_;   // values carried to float outputs at that level

  const AffineParams* Quantized(const ScopeChain& scopes, const std::string& name) const {
    auto found = act_params_.find(name);
    if (found == act_params_.end()) return nullptr;
    for (const Graph* graph : scopes) {
      if (graph == found->second.graph) return &found->second.params;
    }
    return nullptr;
  }
  void Register(const ScopeChain& scopes, const std::string& name, AffineParams params) {
    act_params_[name] = ActParams{params, scopes.back()};
  }

  AffineParams ActivationParams(const std::string& name) const {
    return ComputeParams(ranges_.at(name), act_type_, act_symmetric_);
  }
  // ORT's QLinearSoftmax assumes the output grid of [0, 1] that ORT's own quantizer writes
  // (quantization/operators/softmax.py): 1/256 from the type's minimum, or 1/128 about the
  // middle when symmetric. Other parameters load but give wrong probabilities in ORT.
  AffineParams SoftmaxOutputParams() const {
    const bool is_signed = act_type_ == QuantType::kInt8;
    if (act_symmetric_) return {1.0f / 128, is_signed ? 0 : 128};
    return {1.0f / 256, is_signed ? -128 : 0};
  }

  Model* model_;
  const RangeMap& ranges_;
  const StaticQuantOptions& options_;
  NameGenerator names_;
  QuantType act_type_;
  DataType qtype_;
  bool act_symmetric_ = false;
  bool used_ms_domain_ = false;
  QuantSummary summary_;
  // Quantized activations and the graph holding their Q/DQ pair (visible there and below).
  struct ActParams {
    AffineParams params;
    const Graph* graph = nullptr;
  };
  std::unordered_map<std::string, ActParams> act_params_;
  std::unordered_map<std::string, WeightInfo> weights_;   // quantized constants
  std::vector<std::pair<Graph*, std::string>> replaced_;  // float biases maybe unused now
};

Status StaticQuantizer::QuantizeGraph(ScopeChain scopes, const std::string& path,
                                      const std::set<std::string>& float_outputs) {
  Graph* graph = scopes.back();
  ASSIGN_OR_RETURN(std::vector<Node*> order, TopologicalOrder(*graph));
  GraphPlan plan;
  {
    GraphIndex index(*graph);
    critical_ = PrecisionCriticalValues(*graph, index);
    carried_ = CarriedToOutputs(*graph, index, float_outputs);
    std::set<const Node*> absorbed;
    for (size_t i = 0; i < order.size(); ++i) {
      Node* node = order[i];
      NodeDecision decision;
      decision.node = NodeLabel(*node, int(i));
      decision.op_type = node->domain.empty() ? node->op_type : node->domain + "." + node->op_type;
      decision.graph = path;
      if (absorbed.count(node)) {
        decision.action = NodeDecision::Action::kQuantized;
        decision.activation_type = QuantTypeName(act_type_);
        decision.reason = "absorbed into the QuantizeLinear of its producer's output";
      } else {
        RETURN_IF_ERROR(PlanNode(scopes, index, node, &plan, &decision));
        if (!plan.absorbed.empty() && plan.absorbed.back().first == node) {
          absorbed.insert(plan.absorbed.back().second);
        }
      }
      summary_.decisions.push_back(decision);
    }
  }
  for (auto& [producer, activation] : plan.absorbed) {
    producer->outputs[0] = activation->outputs[0];
    RemoveNode(graph, activation);
  }
  for (const std::string& name : plan.tensors) InsertActivationQdq(graph, name);
  RETURN_IF_ERROR(SortTopologically(graph));

  const std::set<std::string> carried_at_level = carried_;
  std::vector<Node*> snapshot;
  for (const auto& node : graph->nodes) snapshot.push_back(node.get());
  for (Node* node : snapshot) {
    for (auto [attr, sub] : Subgraphs(*node)) {
      ScopeChain inner = scopes;
      inner.push_back(sub);
      std::string owner = (path.empty() ? "" : path + "/") + node->name + "/" + attr->name;
      // An If whose output must stay float passes that on to the same output of each branch.
      std::set<std::string> branch_float;
      for (size_t k = 0; node->op == OpType::kIf && k < node->outputs.size(); ++k) {
        if (carried_at_level.count(node->outputs[k]) && k < sub->outputs.size()) {
          branch_float.insert(sub->outputs[k].name);
        }
      }
      RETURN_IF_ERROR(QuantizeGraph(inner, owner, branch_float));
    }
  }
  return OkStatus();
}

Status StaticQuantizer::PlanNode(const ScopeChain& scopes, const GraphIndex& index, Node* node,
                                 GraphPlan* plan, NodeDecision* decision) {
  decision->action = NodeDecision::Action::kFloat;
  const OpQuantSpec* spec = FindOpQuantSpec(node->op);
  if (spec == nullptr) {
    float lo, hi;
    bool clamp = !node->inputs.empty() &&
                 IsAbsorbableActivation(*node, *scopes.back(), node->inputs[0], &lo, &hi);
    decision->reason = clamp ? "not absorbed: its producer is not quantized, has other "
                               "consumers, or the clamp is not exact at these parameters"
                             : "op not in the QDQ table";
    return OkStatus();
  }
  if (options_.filter.Excluded(*node)) {
    decision->action = NodeDecision::Action::kExcluded;
    decision->reason = "excluded by the node filter";
    return OkStatus();
  }
  if (Is16Bit(qtype_) && !spec->allows_16bit) {
    decision->reason = "no 16-bit form of this op";
    return OkStatus();
  }
  // A quantized reader would put a Q/DQ on its input for every reader, so reading a value that
  // must stay float keeps the node float too.
  for (const std::string& in : node->inputs) {
    if (carried_.count(in) || critical_.count(in)) {
      decision->reason = "reads '" + in + "', which must stay float (model state fed back, or " +
                         "a value that reaches a Log, Sqrt, Reciprocal or divisor)";
      return OkStatus();
    }
  }
  for (const std::string& out : node->outputs) {
    if (carried_.count(out)) {
      decision->reason =
          "its output is model state fed back into the next run (statePairs): "
          "quantizing it would accumulate error run after run";
      return OkStatus();
    }
    if (critical_.count(out)) {
      decision->reason =
          "its output reaches a Log, Sqrt, Reciprocal or divisor through "
          "value-preserving ops: small values need float precision";
      return OkStatus();
    }
  }
  if (spec->output == OutputRule::kSharedWithInput) {
    PlanShared(scopes, node, plan, decision);
    return OkStatus();
  }
  return PlanOwnRange(scopes, index, node, *spec, plan, decision);
}

void StaticQuantizer::PlanShared(const ScopeChain& scopes, Node* node, GraphPlan* plan,
                                 NodeDecision* decision) {
  const AffineParams* found = node->inputs.empty() ? nullptr : Quantized(scopes, node->inputs[0]);
  if (found == nullptr) {
    decision->reason = "its input is not quantized (passthrough ops share the input's scale)";
    return;
  }
  AffineParams params = *found;
  for (const std::string& out : node->outputs) {
    if (out.empty() || act_params_.count(out)) continue;
    Register(scopes, out, params);
    plan->tensors.push_back(out);
  }
  decision->action = NodeDecision::Action::kQuantized;
  decision->activation_type = QuantTypeName(act_type_);
}

Node* StaticQuantizer::FindAbsorbable(const ScopeChain& scopes, const GraphIndex& index,
                                      const Node& node) {
  const std::string& out = node.outputs[0];
  if (index.IsGraphOutput(out)) return nullptr;
  const std::vector<Node*>& consumers = index.Consumers(out);
  if (consumers.size() != 1) return nullptr;
  Node* act = consumers[0];
  float lo = 0, hi = 0;
  // An include list names the ops to quantize; a clamp after an included op goes with it.
  // Only an explicit exclusion keeps the clamp as a node of its own.
  const NodeFilter& filter = options_.filter;
  if (filter.exclude_nodes.count(act->name) || filter.exclude_ops.count(act->op_type)) {
    return nullptr;
  }
  if (!IsAbsorbableActivation(*act, *scopes.back(), out, &lo, &hi)) return nullptr;
  if (!ranges_.count(act->outputs[0])) return nullptr;
  // QuantizeLinear saturates, so Q(x) == Q(clamp(x, lo, hi)) for every x exactly when Q(lo) is
  // already qmin and Q(hi) qmax, i.e. when lo < rep_min + s/2 and hi > rep_max - s/2 (rep_* are
  // the ends of the representable range). A margin of 0.05 s keeps clear of rounding ties.
  AffineParams p = ActivationParams(act->outputs[0]);
  double rep_min = double(QuantMin(act_type_) - p.zero_point) * p.scale;
  double rep_max = double(QuantMax(act_type_) - p.zero_point) * p.scale;
  if (double(lo) >= rep_min + 0.45 * p.scale || double(hi) <= rep_max - 0.45 * p.scale) {
    return nullptr;
  }
  return act;
}

std::string StaticQuantizer::OwnRangeBlocker(const ScopeChain& scopes, const Node& node,
                                             const OpQuantSpec& spec, std::vector<int>* acts,
                                             bool* has_weight) const {
  *acts = ActivationInputs(spec, node);
  *has_weight = false;
  if (spec.weight_input >= 0) {
    if (!node.HasInput(spec.weight_input)) return "no weight input";
    const std::string& w = node.inputs[size_t(spec.weight_input)];
    if (weights_.count(w) || FindInitializerOwner(scopes, w) != nullptr) {
      if (!IsFloatValue(scopes, w)) return "weight is not float32";
      *has_weight = true;
    } else if (spec.weight_may_be_activation) {
      acts->push_back(spec.weight_input);  // MatMul of two activations: ORT fuses it too
    } else {
      return "weight '" + w + "' is not a constant initializer";
    }
  }
  for (int i : *acts) {
    if (!node.HasInput(i)) continue;
    const std::string& name = node.inputs[size_t(i)];
    if (Quantized(scopes, name) || weights_.count(name)) continue;
    if (!IsFloatValue(scopes, name)) return "input '" + name + "' is not float32";
    if (FindInitializerOwner(scopes, name) == nullptr && !ranges_.count(name)) {
      return "no range for input '" + name + "'";
    }
  }
  if (node.outputs.empty() || !IsFloatValue(scopes, node.outputs[0])) {
    return "output is not float32";
  }
  return "";
}

Status StaticQuantizer::PlanOwnRange(const ScopeChain& scopes, const GraphIndex& index, Node* node,
                                     const OpQuantSpec& spec, GraphPlan* plan,
                                     NodeDecision* decision) {
  std::vector<int> acts;
  bool has_weight = false;
  decision->reason = OwnRangeBlocker(scopes, *node, spec, &acts, &has_weight);
  if (!decision->reason.empty()) return OkStatus();
  Node* absorbed = FindAbsorbable(scopes, index, *node);
  const std::string& out = absorbed ? absorbed->outputs[0] : node->outputs[0];
  if (!ranges_.count(out)) {
    decision->reason = "no range for output '" + out + "'";
    return OkStatus();
  }
  for (int i : acts) {
    if (!node->HasInput(i)) continue;
    const std::string& name = node->inputs[size_t(i)];
    if (Quantized(scopes, name) || weights_.count(name)) continue;
    if (FindInitializerOwner(scopes, name) != nullptr) {
      // A constant in an activation slot (Add/Mul/Concat operand): activation type, static.
      QuantizeWeightOptions constant{act_type_, -1, act_symmetric_, false};
      RETURN_IF_ERROR(QuantizeInitializer(scopes, name, constant).status());
      continue;
    }
    Register(scopes, name, ActivationParams(name));
    plan->tensors.push_back(name);
  }
  if (has_weight) RETURN_IF_ERROR(CommitWeight(scopes, node, spec, decision));
  Register(scopes, out,
           node->op == OpType::kSoftmax && !Is16Bit(qtype_) ? SoftmaxOutputParams()
                                                            : ActivationParams(out));
  plan->tensors.push_back(out);
  if (absorbed != nullptr) plan->absorbed.emplace_back(node, absorbed);
  decision->action = NodeDecision::Action::kQuantized;
  decision->activation_type = QuantTypeName(act_type_);
  return OkStatus();
}

Status StaticQuantizer::CommitWeight(const ScopeChain& scopes, Node* node, const OpQuantSpec& spec,
                                     NodeDecision* decision) {
  const std::string& w = node->inputs[size_t(spec.weight_input)];
  const Tensor* tensor =
      weights_.count(w) ? nullptr : FindInitializerOwner(scopes, w)->FindInitializer(w);
  int axis = -1;
  if (options_.per_channel && tensor != nullptr) {
    axis = WeightChannelAxis(spec, *node, tensor->rank());
  }
  QuantizeWeightOptions wopts{options_.weight_type, axis, true, options_.reduce_range};
  ASSIGN_OR_RETURN(const WeightInfo* info, QuantizeInitializer(scopes, w, wopts));
  decision->per_channel = info->axis >= 0;
  decision->weight_type = QuantTypeName(options_.weight_type);
  const AffineParams* input = Quantized(scopes, node->inputs[0]);
  // Gemm computes beta * C: an int32 bias at s_in * s_w only stands for C when beta is 1.
  bool unit_beta = node->op != OpType::kGemm || node->GetFloat("beta", 1.0f) == 1.0f;
  if (spec.bias_input >= 0 && node->HasInput(spec.bias_input) && input != nullptr && unit_beta) {
    RETURN_IF_ERROR(QuantizeBiasInput(scopes, node, spec.bias_input, input->scale, *info));
  }
  return OkStatus();
}

StatusOr<const WeightInfo*> StaticQuantizer::QuantizeInitializer(
    const ScopeChain& scopes, const std::string& name, const QuantizeWeightOptions& options) {
  auto found = weights_.find(name);
  if (found != weights_.end()) return &found->second;
  Graph* owner = FindInitializerOwner(scopes, name);
  if (owner == nullptr) return Internal("'" + name + "' is not a constant initializer");
  Tensor weight = *owner->FindInitializer(name);
  ASSIGN_OR_RETURN(QuantizedWeight q, QuantizeWeight(weight, options));
  owner->RemoveInitializer(name);
  std::string qn = names_.Value(name + "_quantized");
  std::string sn = names_.Value(name + "_scale");
  std::string zn = names_.Value(name + "_zero_point");
  DataType qtype = q.values.dtype();
  owner->SetInitializer(qn, q.values);
  owner->SetInitializer(sn, q.scale);
  owner->SetInitializer(zn, q.zero_point);
  used_ms_domain_ |= Is16Bit(qtype);
  auto dq = MakeQuantizeNode(true, qtype, qn, sn, zn, name, q.axis,
                             names_.NodeName(name + "_DequantizeLinear"));
  InsertNode(owner, std::move(dq), owner->nodes.empty() ? nullptr : owner->nodes.front().get());
  WeightInfo info;
  info.axis = q.axis;
  info.scales.assign(q.scale.data<float>(), q.scale.data<float>() + q.scale.size());
  AddToScaleSummary(q, &summary_.scales);
  return &(weights_[name] = info);
}

Status StaticQuantizer::QuantizeBiasInput(const ScopeChain& scopes, Node* node, int index,
                                          float input_scale, const WeightInfo& weight) {
  const std::string name = node->inputs[size_t(index)];
  Graph* owner = FindInitializerOwner(scopes, name);
  if (owner == nullptr) return OkStatus();  // a computed bias stays float
  const Tensor bias = *owner->FindInitializer(name);
  if (bias.dtype() != DataType::kFloat32 || bias.rank() != 1) return OkStatus();
  if (weight.scales.size() > 1 && int64_t(weight.scales.size()) != bias.size()) return OkStatus();
  ASSIGN_OR_RETURN(QuantizedWeight q, QuantizeBias(bias, input_scale, weight.scales));
  Graph* graph = scopes.back();
  std::string qn = names_.Value(name + "_quantized");
  std::string sn = names_.Value(name + "_scale");
  std::string zn = names_.Value(name + "_zero_point");
  std::string dn = names_.Value(name + "_dequantized");
  graph->SetInitializer(qn, q.values);
  graph->SetInitializer(sn, q.scale);
  graph->SetInitializer(zn, q.zero_point);
  int axis = q.scale.rank() == 1 ? 0 : -1;
  auto dq = MakeQuantizeNode(true, DataType::kInt32, qn, sn, zn, dn, axis,
                             names_.NodeName(name + "_DequantizeLinear"));
  InsertNode(graph, std::move(dq), graph->nodes.empty() ? nullptr : graph->nodes.front().get());
  node->inputs[size_t(index)] = dn;
  replaced_.emplace_back(owner, name);
  return OkStatus();
}

void StaticQuantizer::InsertActivationQdq(Graph* graph, const std::string& name) {
  const AffineParams params = act_params_.at(name).params;
  std::string sn = names_.Value(name + "_scale");
  std::string zn = names_.Value(name + "_zero_point");
  std::string qn = names_.Value(name + "_quantized");
  graph->SetInitializer(sn, Tensor::Scalar<float>(params.scale));
  graph->SetInitializer(zn, ZeroPoint(qtype_, params.zero_point));
  used_ms_domain_ |= Is16Bit(qtype_);
  NoteScale(params.scale);
  summary_.scales.tensors += 1;

  Node* producer = nullptr;
  int slot = -1;
  for (auto& node : graph->nodes) {
    for (size_t i = 0; i < node->outputs.size(); ++i) {
      if (node->outputs[i] == name) producer = node.get(), slot = int(i);
    }
  }
  std::string q_input = name, dq_output = name;
  if (producer != nullptr) {
    // The producer writes a new name; the DQ takes over the original one, so every reader
    // (other nodes, subgraphs, graph outputs) sees the dequantized value unchanged.
    q_input = names_.Value(name + "_float");
    producer->outputs[size_t(slot)] = q_input;
  } else {
    // A graph input or an outer-scope value: readers in this graph move to the DQ output;
    // graph outputs keep reading the value itself so that the graph's interface is unchanged.
    dq_output = names_.Value(name + "_dequantized");
    ReplaceAllUses(graph, name, dq_output);
    for (ValueInfo& output : graph->outputs) {
      if (output.name == dq_output) output.name = name;
    }
  }
  graph->AddNode(MakeQuantizeNode(false, qtype_, q_input, sn, zn, qn, -1,
                                  names_.NodeName(name + "_QuantizeLinear")));
  graph->AddNode(MakeQuantizeNode(true, qtype_, qn, sn, zn, dq_output, -1,
                                  names_.NodeName(name + "_DequantizeLinear")));
}

void StaticQuantizer::NoteScale(float scale) { quant::NoteScale(scale, &summary_.scales); }

// Integer model inputs/outputs: the Q behind an input and the DQ in front of an output go away,
// and metadata_props record the parameters users need to feed/read them.
void StaticQuantizer::MakeModelIoInteger() {
  Graph& graph = model_->graph;
  auto describe = [&](const std::string& name) {
    const AffineParams p = act_params_.at(name).params;
    std::ostringstream text;
    text << "dtype=" << QuantTypeName(act_type_) << " scale=" << p.scale
         << " zero_point=" << p.zero_point;
    return text.str();
  };
  for (ValueInfo& input : graph.inputs) {
    if (!act_params_.count(input.name) || graph.HasInitializer(input.name)) continue;
    GraphIndex index(graph);
    const std::vector<Node*>& readers = index.Consumers(input.name);
    if (readers.size() != 1 || (readers[0]->op != OpType::kQuantizeLinear &&
                                readers[0]->op != OpType::kMsQuantizeLinear)) {
      continue;
    }
    Node* q = readers[0];
    std::string q_out = q->outputs[0];
    RemoveNode(&graph, q);
    ReplaceAllUses(&graph, q_out, input.name);
    input.type.elem_type = qtype_;
    model_->metadata_props.emplace_back("shrink.quantized_input." + input.name,
                                        describe(input.name));
  }
  for (ValueInfo& output : graph.outputs) {
    if (!act_params_.count(output.name)) continue;
    GraphIndex index(graph);
    Node* dq = index.Producer(output.name);
    if (dq == nullptr ||
        (dq->op != OpType::kDequantizeLinear && dq->op != OpType::kMsDequantizeLinear) ||
        !index.Consumers(output.name).empty()) {
      continue;
    }
    Node* q = index.Producer(dq->inputs[0]);
    if (q == nullptr || index.Consumers(dq->inputs[0]).size() != 1) continue;
    q->outputs[0] = output.name;
    RemoveNode(&graph, dq);
    output.type.elem_type = qtype_;
    model_->metadata_props.emplace_back("shrink.quantized_output." + output.name,
                                        describe(output.name));
  }
}

void StaticQuantizer::RemoveUnusedInitializers() {
  std::set<std::string> reads;
  CollectModelReads(model_->graph, &reads);
  for (auto& [graph, name] : replaced_) {
    if (!reads.count(name)) graph->RemoveInitializer(name);
  }
}

}  // namespace

StatusOr<QuantSummary> QuantizeStatic(Model* model, const RangeMap& ranges,
                                      const StaticQuantOptions& options) {
  RETURN_IF_ERROR(CheckStaticOpset(*model));
  if (options.weight_type != QuantType::kInt8 && options.weight_type != QuantType::kUint8) {
    return InvalidArgument("static QDQ weights must be int8 or uint8");
  }
  StaticQuantizer quantizer(model, ranges, options);
  RETURN_IF_ERROR(quantizer.Run());
  RETURN_IF_ERROR(ValidateGraph(model->graph));
  return std::move(quantizer.summary());
}
}  // namespace shrink::engine::quant
