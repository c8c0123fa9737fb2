// Float16 conversion in three steps: float Constant nodes become initializers; original value
// types are inferred from the ONNX schemas; then either the float weights are stored as float16
// behind one Cast each (weights-only), or nodes are converted in graph order and Casts are
// inserted wherever a value's type differs from what its consumer expects (full).
#include "engine/quant/float16.h"

#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/ir/graph_utils.h"
#include "engine/quant/float16_ops.h"
#include "engine/quant/float16_types.h"

namespace shrink::engine::quant {
namespace {

constexpr float kHalfMax = 65504.0f;

// Minimal NodeFilter semantics (qdq_quantizer.h) until NodeFilter::Excluded is merged.
bool IsExcluded(const NodeFilter& filter, const Node& node) {
  const bool include_all = filter.include_nodes.empty() && filter.include_ops.empty();
  const bool included = include_all || filter.include_nodes.count(node.name) > 0 ||
                        filter.include_ops.count(node.op_type) > 0;
  return !included || filter.exclude_nodes.count(node.name) > 0 ||
         filter.exclude_ops.count(node.op_type) > 0;
}

struct TensorStats {
  int64_t clamped = 0;
  int64_t underflowed = 0;  // nonzero values that become zero
};

Tensor ToHalf(const Tensor& source, TensorStats* stats) {
  Tensor out(DataType::kFloat16, source.shape());
  const float* in = source.data<float>();
  Float16* dst = out.data<Float16>();
  for (int64_t i = 0; i < source.size(); ++i) {
    float v = in[i];
    if (std::isfinite(v) && std::fabs(v) > kHalfMax) {
      v = v > 0 ? kHalfMax : -kHalfMax;
      ++stats->clamped;
    }
    dst[i].bits = FloatToHalf(v);
    if (v != 0.0f && (dst[i].bits & 0x7fff) == 0) ++stats->underflowed;
  }
  return out;
}

std::unique_ptr<Node> MakeCast(const std::string& name, const std::string& input,
                               const std::string& output, DataType to) {
  auto cast = std::make_unique<Node>();
  cast->name = name;
  cast->op_type = "Cast";
  cast->op = OpType::kCast;
  cast->inputs = {input};
  cast->outputs = {output};
  Attribute attr;
  attr.name = "to";
  attr.type = AttributeType::kInt;
  attr.i = int64_t(to);
  cast->attributes.push_back(attr);
  return cast;
}

// Visits every graph of the model (main graph first) with its owner path.
template <typename Fn>
void ForEachGraph(Graph* graph, const std::string& path, Fn&& fn) {
  fn(graph, path);
  for (auto& node : graph->nodes) {
    for (Attribute& attr : node->attributes) {
      std::vector<std::shared_ptr<Graph>*> subs;
      if (attr.g) subs.push_back(&attr.g);
      for (auto& g : attr.graphs) subs.push_back(&g);
      for (auto* sub : subs) {
        std::string owner = node->name.empty() ? node->op_type : node->name;
        ForEachGraph(sub->get(), (path.empty() ? "" : path + "/") + owner + "." + attr.name, fn);
      }
    }
  }
}

class Converter {
 public:
  Converter(Model* model, const Float16Options& options) : model_(model), options_(options) {}
  StatusOr<QuantSummary> Run();

 private:
  Status ConstantsToInitializers(Graph* graph);
  void ConvertWeightsOnly();
  std::set<std::string> SelectWeights();
  void StoreBehindCasts(const std::set<std::string>& weights);
  bool ReadsHalfWeight(const Node& node) const;
  Status ConvertFull();
  Status ConvertGraph(Graph* graph, const std::string& path);
  Status ConvertSubgraphNode(Graph* graph, Node* node, const std::string& path, bool convert);
  void ConvertInitializers();
  bool FollowsFloat16(const Node& node, const FloatSignature& sig) const;
  void CastInputs(Graph* graph, Node* node, const FloatSignature& sig, bool convert);
  std::string CastTo(Graph* graph, const std::string& value, DataType to, const Node* before);
  void ForceOutputs(Graph* graph, const std::vector<DataType>& targets, bool main_graph);
  void Decide(const Node& node, size_t index, const std::string& path, NodeDecision::Action action,
              const std::string& reason, bool has_weight);
  bool Eligible(const Node& node, const FloatSignature& sig) const;
  Tensor Half(const std::string& name, const Tensor& tensor);
  bool HasFloat32(const Node& node) const;
  void SyncValueInfo(Graph* graph);
  void DecideFull(const Node& node, size_t index, const std::string& path,
                  const FloatSignature& sig, bool converted);
  DataType Orig(const std::string& name) const { return types_.Original(name); }
  DataType Cur(const std::string& name) const { return types_.Current(name); }
  int64_t Opset(const Node& node) const { return model_->OpsetVersion(node.domain); }

  Model* model_;
  const Float16Options& options_;
  QuantSummary summary_;
  ValueTypes types_;
  NameGenerator names_;
  TensorStats stats_;
  // Per graph: (value, target type) -> name of the Cast output already inserted there.
  std::unordered_map<const Graph*, std::map<std::pair<std::string, DataType>, std::string>> casts_;
  std::set<std::string> half_weights_;  // initializers stored as float16, by original name
  std::unordered_map<std::string, Graph*> weight_owner_;
  int64_t restored_count_ = 0;
};

Status Converter::ConstantsToInitializers(Graph* graph) {
  std::set<std::string> outputs;
  for (const ValueInfo& output : graph->outputs) outputs.insert(output.name);
  std::vector<const Node*> folded;
  for (auto& node : graph->nodes) {
    if (node->op != OpType::kConstant || node->outputs.size() != 1) continue;
    if (outputs.count(node->outputs[0]) || graph->HasInitializer(node->outputs[0])) continue;
    Tensor value;
    if (const Tensor* t = node->GetTensor("value")) {
      value = *t;
    } else if (node->HasAttribute("value_float")) {
      value = Tensor::Scalar<float>(node->GetFloat("value_float", 0));
    } else if (node->HasAttribute("value_floats")) {
      std::vector<float> v = node->GetFloats("value_floats");
      value = Tensor::FromVector<float>({int64_t(v.size())}, v);
    }
    if (value.dtype() != DataType::kFloat32) continue;
    graph->SetInitializer(node->outputs[0], value);
    folded.push_back(node.get());
  }
  for (const Node* node : folded) RemoveNode(graph, node);
  return OkStatus();
}

// Float32 initializers (not yet converted) read only as data inputs of non-excluded nodes that
// libonnx knows: the weights that can be stored as float16 behind a Cast.
std::set<std::string> Converter::SelectWeights() {
  auto uses = CollectInitializerUses(model_, [this](const Node& node, size_t i) {
    if (IsExcluded(options_.filter, node)) return false;
    FloatSignature sig = GetFloatSignature(node, Opset(node));
    return sig.known && i < sig.input_data.size() && sig.input_data[i];
  });
  std::set<std::string> selected;
  for (const auto& [name, use] : uses) {
    const Tensor* tensor = use.owner->FindInitializer(name);
    if (use.AllData() && tensor->dtype() == DataType::kFloat32) {
      selected.insert(name);
      weight_owner_[name] = use.owner;
    }
  }
  return selected;
}

// The float16 tensor keeps the initializer's name and readers move to a short Cast output:
// long weight names then appear twice per weight instead of four times, which matters for
// the file size of models with small weights.
void Converter::StoreBehindCasts(const std::set<std::string>& weights) {
  for (const std::string& name : weights) {
    Graph* graph = weight_owner_[name];
    graph->SetInitializer(name, Half(name, *graph->FindInitializer(name)));
    for (ValueInfo& info : graph->value_info) {
      if (info.name == name && info.type.is_tensor()) info.type.elem_type = DataType::kFloat16;
    }
    const std::string restored = names_.Make("w32_" + std::to_string(restored_count_++));
    ReplaceAllUses(graph, name, restored);
    const Node* first = graph->nodes.empty() ? nullptr : graph->nodes.front().get();
    InsertNode(graph, MakeCast("", name, restored, DataType::kFloat32), first);
  }
}

// Weights-only: every selected weight is stored as float16 behind one Cast to float.
void Converter::ConvertWeightsOnly() {
  const std::set<std::string> weights = SelectWeights();
  half_weights_ = weights;
  ForEachGraph(&model_->graph, "", [&](Graph* graph, const std::string& path) {
    for (size_t i = 0; i < graph->nodes.size(); ++i) {
      const Node& node = *graph->nodes[i];
      const bool weight = ReadsHalfWeight(node);
      if (IsExcluded(options_.filter, node)) {
        Decide(node, i, path, NodeDecision::Action::kExcluded, "excluded by the recipe", false);
      } else if (weight) {
        Decide(node, i, path, NodeDecision::Action::kConverted, "", true);
      } else {
        Decide(node, i, path, NodeDecision::Action::kFloat, "no float32 weights", false);
      }
    }
  });
  StoreBehindCasts(weights);
}

bool Converter::ReadsHalfWeight(const Node& node) const {
  for (const std::string& input : node.inputs) {
    if (half_weights_.count(input)) return true;
  }
  return false;
}

void Converter::Decide(const Node& node, size_t index, const std::string& path,
                       NodeDecision::Action action, const std::string& reason, bool has_weight) {
  NodeDecision decision;
  decision.node = node.name.empty() ? node.op_type + "#" + std::to_string(index) : node.name;
  decision.op_type = node.domain.empty() || node.domain == "ai.onnx"
                         ? node.op_type
                         : node.domain + "." + node.op_type;
  decision.graph = path;
  decision.action = action;
  decision.reason = reason;
  if (has_weight) decision.weight_type = "float16";
  if (action == NodeDecision::Action::kConverted && !options_.weights_only) {
    decision.activation_type = "float16";
  }
  summary_.decisions.push_back(std::move(decision));
}

// ToHalf that names the tensor in a warning when it had to clamp.
Tensor Converter::Half(const std::string& name, const Tensor& tensor) {
  const int64_t before = stats_.clamped;
  Tensor half = ToHalf(tensor, &stats_);
  if (stats_.clamped > before) {
    summary_.warnings.push_back("'" + name + "': " + std::to_string(stats_.clamped - before) +
                                " values beyond +-65504 clamped to the float16 range");
  }
  return half;
}

bool Converter::Eligible(const Node& node, const FloatSignature& sig) const {
  return sig.known && !IsExcluded(options_.filter, node) && OrtCpuRunsFloat16(node.op, Opset(node));
}

bool Converter::HasFloat32(const Node& node) const {
  for (const auto* list : {&node.inputs, &node.outputs}) {
    for (const std::string& name : *list) {
      if (!name.empty() && Orig(name) == DataType::kFloat32) return true;
    }
  }
  return node.op == OpType::kIf || node.op == OpType::kLoop || node.op == OpType::kScan;
}

// An eligible node converts when float16 reaches it: a data input that is float16 now (a
// converted weight, producer or model input), or, for If, an outer value its branches read.
// Ops fed only by float32 (shape arithmetic behind Shape->Cast) stay float32.
bool Converter::FollowsFloat16(const Node& node, const FloatSignature& sig) const {
  auto is_half = [this](const std::string& name) {
    return !name.empty() && Cur(name) == DataType::kFloat16;  // converted, or float16 already
  };
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    if (sig.input_data[i] && is_half(node.inputs[i])) return true;
  }
  if (node.op == OpType::kIf) {
    for (const char* branch : {"then_branch", "else_branch"}) {
      const Graph* g = node.GetGraph(branch);
      if (g == nullptr) continue;
      for (const std::string& name : OuterScopeReferences(*g)) {
        if (is_half(name)) return true;
      }
    }
  }
  return false;
}

std::string Converter::CastTo(Graph* graph, const std::string& value, DataType to,
                              const Node* before) {
  auto& cache = casts_[graph];
  auto key = std::make_pair(value, to);
  auto found = cache.find(key);
  if (found != cache.end()) return found->second;
  const std::string out = names_.Make(value + (to == DataType::kFloat16 ? "_fp16" : "_fp32"));
  InsertNode(graph, MakeCast(names_.Make(out + "_cast"), value, out, to), before);
  types_.SetOriginal(out, to);
  cache[key] = out;
  return out;
}

// Gives every input the type its consumer expects: float16 for data inputs of a converted node,
// the original type otherwise.
void Converter::CastInputs(Graph* graph, Node* node, const FloatSignature& sig, bool convert) {
  for (size_t i = 0; i < node->inputs.size(); ++i) {
    const std::string name = node->inputs[i];
    if (name.empty()) continue;
    const DataType orig = Orig(name), cur = Cur(name);
    if (orig == DataType::kUndefined || cur == DataType::kUndefined) continue;
    DataType want = orig;
    if (convert && sig.input_data[i] && orig == DataType::kFloat32) want = DataType::kFloat16;
    if (convert && node->op == OpType::kCast && i == 0) want = cur;  // Cast reads any type
    if (cur != want) node->inputs[i] = CastTo(graph, name, want, node);
  }
}

// Makes graph outputs carry `targets`. Subgraph outputs are matched by position, so they may
// point at a Cast's output; the main graph's outputs keep their names (the producer is renamed).
void Converter::ForceOutputs(Graph* graph, const std::vector<DataType>& targets, bool main_graph) {
  for (size_t k = 0; k < graph->outputs.size() && k < targets.size(); ++k) {
    const std::string name = graph->outputs[k].name;
    const DataType cur = Cur(name), target = targets[k];
    if (target == DataType::kUndefined) continue;
    if (cur == target || cur == DataType::kUndefined) {
      if (graph->outputs[k].type.is_tensor()) graph->outputs[k].type.elem_type = target;
      continue;
    }
    if (!main_graph) {
      graph->outputs[k].name = CastTo(graph, name, target, nullptr);
    } else {
      const std::string renamed = names_.Make(name + (cur == DataType::kFloat16 ? "_fp16" : "_"));
      ReplaceAllUses(graph, name, renamed);
      for (auto& node : graph->nodes) {
        for (std::string& output : node->outputs) {
          if (output == name) output = renamed;
        }
      }
      types_.SetOriginal(renamed, Orig(name));
      types_.SetCurrent(renamed, cur);
      InsertNode(graph, MakeCast(names_.Make(name + "_cast"), renamed, name, target), nullptr);
      // A Cast of the same value to the same type inserted for a consumer is now redundant.
      auto& cache = casts_[graph];
      auto same = cache.find(std::make_pair(name, target));
      if (same != cache.end()) {
        for (auto& node : graph->nodes) {
          if (node->op == OpType::kCast &&
              node->outputs == std::vector<std::string>{same->second}) {
            const std::string redundant = same->second;
            RemoveNode(graph, node.get());
            ReplaceAllUses(graph, redundant, name);
            break;
          }
        }
        cache.erase(same);
      }
      for (ValueInfo& output : graph->outputs) {
        if (output.name == renamed) output.name = name;
      }
    }
    types_.SetCurrent(graph->outputs[k].name, target);
    graph->outputs[k].type.elem_type = target;
  }
}

// If, Loop and Scan: values entering a body take the node's types, the body is converted like
// any graph, and its outputs are cast to what the node's outputs become.
Status Converter::ConvertSubgraphNode(Graph* graph, Node* node, const std::string& path,
                                      bool convert) {
  auto target = [convert](DataType orig) {
    return convert && orig == DataType::kFloat32 ? DataType::kFloat16 : orig;
  };
  FloatSignature all_data;
  all_data.input_data.assign(node->inputs.size(), true);
  CastInputs(graph, node, all_data, convert);
  // Body input k is fed by node input in_offset + k; body output k is node output k - out_skip.
  int in_offset = 0, out_skip = 0;
  if (node->op == OpType::kLoop) out_skip = 1;
  if (node->op == OpType::kScan && Opset(*node) < 9) in_offset = 1;
  const std::string owner = node->name.empty() ? node->op_type : node->name;
  for (Attribute& attr : node->attributes) {
    if (!attr.g) continue;  // If/Loop/Scan bodies are single GRAPH attributes
    Graph* body = attr.g.get();
    for (size_t k = 0; k < body->inputs.size(); ++k) {
      const size_t feed = k + size_t(in_offset);
      const bool fed = node->op != OpType::kIf && (node->op != OpType::kLoop || k >= 2) &&
                       feed < node->inputs.size() && !node->inputs[feed].empty();
      if (!fed) continue;
      const DataType type = Cur(node->inputs[feed]);
      if (type == DataType::kUndefined || !body->inputs[k].type.is_tensor()) continue;
      body->inputs[k].type.elem_type = type;
      types_.SetCurrent(body->inputs[k].name, type);
    }
    RETURN_IF_ERROR(ConvertGraph(body, (path.empty() ? "" : path + "/") + owner + "." + attr.name));
    std::vector<DataType> targets;
    for (const ValueInfo& out : body->outputs) {
      DataType orig = Orig(out.name);
      targets.push_back(target(orig == DataType::kUndefined ? out.type.elem_type : orig));
    }
    if (out_skip == 1 && !targets.empty()) targets[0] = Cur(body->outputs[0].name);  // cond
    ForceOutputs(body, targets, false);
  }
  for (const std::string& output : node->outputs) {
    if (!output.empty()) types_.SetCurrent(output, target(Orig(output)));
  }
  return OkStatus();
}

void Converter::DecideFull(const Node& node, size_t index, const std::string& path,
                           const FloatSignature& sig, bool converted) {
  using Action = NodeDecision::Action;
  if (converted) {
    Decide(node, index, path, Action::kConverted, "", ReadsHalfWeight(node));
  } else if (!HasFloat32(node)) {
    Decide(node, index, path, Action::kFloat, "no float32 tensors", false);
  } else if (IsExcluded(options_.filter, node)) {
    Decide(node, index, path, Action::kExcluded, "excluded by the recipe", false);
  } else if (!sig.known) {
    Decide(node, index, path, Action::kFloat, "no ONNX schema known for it (libonnx 1.12)",
           ReadsHalfWeight(node));
  } else if (!OrtCpuRunsFloat16(node.op, Opset(node))) {
    Decide(node, index, path, Action::kFloat,
           "ONNX Runtime 1.29's CPU provider has no float16 kernel for it", ReadsHalfWeight(node));
  } else {
    Decide(node, index, path, Action::kFloat, "its float inputs stay float32",
           ReadsHalfWeight(node));
  }
}

Status Converter::ConvertGraph(Graph* graph, const std::string& path) {
  RETURN_IF_ERROR(SortTopologically(graph));
  std::vector<Node*> order;
  for (auto& node : graph->nodes) order.push_back(node.get());
  for (size_t index = 0; index < order.size(); ++index) {
    Node* node = order[index];
    const FloatSignature sig = GetFloatSignature(*node, Opset(*node));
    const bool convert = Eligible(*node, sig) && FollowsFloat16(*node, sig);
    if (HasFlag(node->op, kHasSubgraph)) {
      RETURN_IF_ERROR(ConvertSubgraphNode(graph, node, path, convert));
    } else {
      CastInputs(graph, node, sig, convert);
      for (size_t j = 0; convert && j < node->outputs.size(); ++j) {
        const std::string& out = node->outputs[j];
        if (!out.empty() && sig.output_data[j] && Orig(out) == DataType::kFloat32) {
          types_.SetCurrent(out, DataType::kFloat16);
        }
      }
      if (convert && node->op == OpType::kCast &&
          node->GetInt("to", 0) == int64_t(DataType::kFloat32)) {
        node->FindAttribute("to")->i = int64_t(DataType::kFloat16);
      }
    }
    DecideFull(*node, index, path, sig, convert);
  }
  return OkStatus();
}

// Full conversion stores a float32 initializer as float16 (same name) when every read of it is
// a data input of a node that can run in float16; such a node then converts.
void Converter::ConvertInitializers() {
  auto uses = CollectInitializerUses(model_, [this](const Node& node, size_t i) {
    FloatSignature sig = GetFloatSignature(node, Opset(node));
    return Eligible(node, sig) && i < sig.input_data.size() && sig.input_data[i];
  });
  for (const auto& [name, use] : uses) {
    const Tensor* tensor = use.owner->FindInitializer(name);
    if (!use.AllData() || tensor->dtype() != DataType::kFloat32) continue;
    use.owner->SetInitializer(name, Half(name, *tensor));
    types_.SetCurrent(name, DataType::kFloat16);
    half_weights_.insert(name);
  }
}

void Converter::SyncValueInfo(Graph* graph) {
  for (ValueInfo& info : graph->value_info) {
    const DataType cur = Cur(info.name);
    if (info.type.is_tensor() && cur != DataType::kUndefined) info.type.elem_type = cur;
  }
  for (auto& node : graph->nodes) {
    for (Attribute& attr : node->attributes) {
      if (attr.g) SyncValueInfo(attr.g.get());
      for (auto& g : attr.graphs) SyncValueInfo(g.get());
    }
  }
}

Status Converter::ConvertFull() {
  types_.Infer(*model_);
  ConvertInitializers();
  // Weights of ops that stay float32 are still stored as float16 (behind a Cast), as in
  // weights-only conversion; that happens last so that the rewrite sees them as float32.
  const std::set<std::string> float_op_weights = SelectWeights();
  half_weights_.insert(float_op_weights.begin(), float_op_weights.end());
  Graph& main = model_->graph;
  if (!options_.keep_io_float32) {
    for (ValueInfo& input : main.inputs) {
      if (main.HasInitializer(input.name) || input.type.elem_type != DataType::kFloat32) continue;
      input.type.elem_type = DataType::kFloat16;
      types_.SetCurrent(input.name, DataType::kFloat16);
    }
  }
  RETURN_IF_ERROR(ConvertGraph(&main, ""));
  std::vector<DataType> targets;
  for (const ValueInfo& out : main.outputs) {
    DataType orig = Orig(out.name);
    if (orig == DataType::kUndefined) orig = out.type.elem_type;
    const bool half = !options_.keep_io_float32 && orig == DataType::kFloat32;
    targets.push_back(half ? DataType::kFloat16 : orig);
  }
  ForceOutputs(&main, targets, true);
  StoreBehindCasts(float_op_weights);
  SyncValueInfo(&main);
  return OkStatus();
}

StatusOr<QuantSummary> Converter::Run() {
  names_.AddModel(*model_);
  // Before IR 4 every initializer had to be a graph input too (overridable): Constant nodes
  // stay nodes there.
  Status status = OkStatus();
  if (model_->ir_version >= 4) {
    ForEachGraph(&model_->graph, "", [&](Graph* graph, const std::string&) {
      if (status.ok()) status = ConstantsToInitializers(graph);
    });
  }
  RETURN_IF_ERROR(status);
  if (options_.weights_only) {
    ConvertWeightsOnly();
  } else {
    RETURN_IF_ERROR(ConvertFull());
  }
  summary_.clamped_values = stats_.clamped;
  if (stats_.underflowed > 0) {
    summary_.warnings.push_back(std::to_string(stats_.underflowed) +
                                " nonzero float32 weight values are below float16's smallest "
                                "subnormal and became 0");
  }
  RETURN_IF_ERROR(ValidateGraph(model_->graph));
  return std::move(summary_);
}

}  // namespace

StatusOr<QuantSummary> ConvertToFloat16(Model* model, const Float16Options& options) {
  if (model == nullptr) return InvalidArgument("ConvertToFloat16: null model");
  Converter converter(model, options);
  return converter.Run();
}

}  // namespace shrink::engine::quant
