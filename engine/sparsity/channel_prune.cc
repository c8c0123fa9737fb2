// CHANNEL pruning: removes whole output channels (smallest L2 norm) of a Conv, Gemm or MatMul
// and adjusts what reads them, so that shapes really shrink. The chain from the producer to its
// consumer may hold only ops that keep channels apart (activations, pooling, elementwise ops
// with scalar or per-channel constants, and one Flatten before a Gemm/MatMul consumer); any
// other reader (a second consumer, a graph output, BatchNormalization, Concat, ...) leaves the
// layer untouched, with an adjustment saying why. A removed channel still fed its consumer a
// constant (its bias through the chain, e.g. relu(b)); that is added to the consumer's bias.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/ir/graph_utils.h"
#include "engine/sparsity/prune_internal.h"

namespace shrink::engine::sparsity::internal {
namespace {

// One initializer losing the removed channels along `axis` (in blocks of `block` elements
// per channel after a Flatten).
struct Edit {
  std::string initializer;
  int axis = 0;
  int64_t block = 1;
};

struct ChannelPlan {
  std::vector<Edit> edits;
  std::vector<std::string> values;  // chain values whose recorded shapes become stale
  std::vector<Node*> chain;         // ops between the producer and the consumer
  Node* consumer = nullptr;
  int64_t block = 1;  // consumer inputs per channel (after a Flatten)
};

bool KeepsChannelsApart(OpType op) {
  switch (op) {
    case OpType::kRelu:
    case OpType::kClip:
    case OpType::kLeakyRelu:
    case OpType::kSigmoid:
    case OpType::kTanh:
    case OpType::kHardSigmoid:
    case OpType::kHardSwish:
    case OpType::kIdentity:
    case OpType::kMaxPool:
    case OpType::kAveragePool:
    case OpType::kGlobalAveragePool:
    case OpType::kGlobalMaxPool:
    case OpType::kElu:
      return true;
    default:
      return false;
  }
}

bool IsArithmetic(OpType op) {
  return op == OpType::kAdd || op == OpType::kSub || op == OpType::kMul || op == OpType::kDiv;
}

class Planner {
 public:
  Planner(Graph* graph, const GraphIndex& index) : graph_(graph), index_(index) {}

  // A plan for removing channels of `layer` (O outputs), or a reason why not.
  StatusOr<ChannelPlan> Plan(const PrunableWeight& layer, int64_t channels) {
    const Node& node = *layer.node;
    if (!layer.main_graph) return Refuse("it is inside a subgraph");
    if (node.op == OpType::kConvTranspose) return Refuse("ConvTranspose is not supported");
    if (node.op == OpType::kConv && node.GetInt("group", 1) != 1) return Refuse("grouped Conv");
    if (node.op == OpType::kMatMul && WeightOf(node)->rank() != 2) return Refuse("batched B");
    if (layer.uses != 1) return Refuse("its weight is shared");
    ChannelPlan plan;
    plan.edits.push_back({layer.weight, layer.out_axis, 1});
    // The channel axis counted from the output's last axis.
    const int from_right = node.op == OpType::kConv ? WeightOf(node)->rank() - 2 : 0;
    if (node.HasInput(2)) {
      const Tensor* bias = Constant(node.inputs[2]);
      if (!bias) return Refuse("its bias is not a constant used only here");
      if (bias->size() != 1) {
        if (bias->size() != channels) return Refuse("its bias is not per channel");
        plan.edits.push_back({node.inputs[2], bias->rank() - 1, 1});
      }
    }
    std::string value = node.outputs[0];
    bool flattened = false;
    for (int step = 0; step < 64; ++step) {
      if (index_.IsGraphOutput(value)) return Refuse(value + " is a graph output");
      const std::vector<Node*>& readers = index_.Consumers(value);
      if (readers.size() != 1)
        return Refuse(value + " has " + std::to_string(readers.size()) + " readers");
      const Node& next = *readers[0];
      plan.values.push_back(value);
      if (next.op == OpType::kConv || next.op == OpType::kGemm || next.op == OpType::kMatMul) {
        RETURN_IF_ERROR(Terminal(next, value, channels, from_right, flattened, &plan));
        plan.consumer = readers[0];
        plan.block = plan.edits.back().block;
        return plan;
      }
      plan.chain.push_back(readers[0]);
      if (next.op == OpType::kFlatten && !flattened && next.GetInt("axis", 1) == 1) {
        flattened = true;
      } else if (IsArithmetic(next.op) && !flattened) {
        RETURN_IF_ERROR(PerChannelConstant(next, value, channels, from_right, &plan));
      } else if (!KeepsChannelsApart(next.op) || next.outputs.size() > 1) {
        return Refuse(next.Describe() + " reads " + value + " and cannot be adjusted");
      }
      value = next.outputs[0];
    }
    return Refuse("the chain to the next layer is too long");
  }

 private:
  static Status Refuse(const std::string& why) { return FailedPrecondition(why); }

  const Tensor* WeightOf(const Node& node) const { return graph_->FindInitializer(node.inputs[1]); }

  // An initializer of the graph that only one node reads.
  const Tensor* Constant(const std::string& name) const {
    const Tensor* tensor = graph_->FindInitializer(name);
    if (!tensor || tensor->dtype() != DataType::kFloat32) return nullptr;
    return index_.Consumers(name).size() <= 1 ? tensor : nullptr;  // 0: added by this pass
  }

  Status PerChannelConstant(const Node& node, const std::string& value, int64_t channels,
                            int from_right, ChannelPlan* plan) {
    if (node.inputs.size() != 2) return Refuse(node.Describe() + " has an unexpected arity");
    const std::string& other = node.inputs[0] == value ? node.inputs[1] : node.inputs[0];
    const Tensor* constant = Constant(other);
    if (!constant) return Refuse(node.Describe() + ": " + other + " is not a private constant");
    if (constant->size() == 1) return OkStatus();
    const int axis = constant->rank() - 1 - from_right;
    if (axis < 0 || constant->dim(axis) != channels || constant->size() != channels) {
      return Refuse(node.Describe() + ": " + other + " is not per channel");
    }
    plan->edits.push_back({other, axis, 1});
    return OkStatus();
  }

  Status Terminal(const Node& next, const std::string& value, int64_t channels, int from_right,
                  bool flattened, ChannelPlan* plan) {
    if (next.inputs.empty() || next.inputs[0] != value || next.inputs.size() < 2) {
      return Refuse(next.Describe() + " does not read " + value + " as its data input");
    }
    const Tensor* weight = Constant(next.inputs[1]);
    if (!weight) return Refuse(next.Describe() + ": weight is not a private constant");
    if (next.op == OpType::kConv) {
      if (next.GetInt("group", 1) != 1 || flattened || weight->dim(1) != channels) {
        return Refuse(next.Describe() + " is grouped or its input channels differ");
      }
      plan->edits.push_back({next.inputs[1], 1, 1});
      return OkStatus();
    }
    if (next.op == OpType::kGemm && next.GetInt("transA", 0) != 0) {
      return Refuse(next.Describe() + " transposes its input");
    }
    if (weight->rank() != 2 || (from_right > 0 && !flattened)) {
      return Refuse(next.Describe() + " does not read the channels as its K axis");
    }
    const int axis = next.op == OpType::kGemm && next.GetInt("transB", 0) != 0 ? 1 : 0;
    if (weight->dim(axis) % channels != 0) {
      return Refuse(next.Describe() + ": K is not a multiple of the channels");
    }
    plan->edits.push_back({next.inputs[1], axis, weight->dim(axis) / channels});
    return OkStatus();
  }

  Graph* graph_;
  const GraphIndex& index_;
};

// The tensor without the channels not in `keep` (sorted) along `axis`, in blocks.
Tensor KeepChannels(const Tensor& tensor, int axis, int64_t block,
                    const std::vector<int64_t>& keep) {
  Shape shape = tensor.shape();
  const int64_t length = shape[size_t(axis)];
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= shape[size_t(d)];
  for (size_t d = size_t(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
  shape[size_t(axis)] = int64_t(keep.size()) * block;
  Tensor result(DataType::kFloat32, shape);
  const float* in = tensor.data<float>();
  float* out = result.data<float>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t channel : keep) {
      const float* from = in + (o * length + channel * block) * inner;
      out = std::copy(from, from + block * inner, out);
    }
  }
  return result;
}

// Output channels to keep: all but the `remove` with the smallest L2 norm (ties by index).
std::vector<int64_t> ChannelsToKeep(const Tensor& weight, int out_axis, int64_t remove) {
  const int64_t channels = weight.dim(out_axis);
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < out_axis; ++d) outer *= weight.dim(d);
  for (int d = out_axis + 1; d < weight.rank(); ++d) inner *= weight.dim(d);
  std::vector<double> norms(size_t(channels), 0.0);
  const float* w = weight.data<float>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t i = 0; i < inner; ++i) {
        const double v = w[(o * channels + c) * inner + i];
        norms[size_t(c)] += v * v;
      }
    }
  }
  std::vector<int64_t> order(static_cast<size_t>(channels));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return norms[size_t(a)] < norms[size_t(b)]; });
  std::vector<int64_t> keep(order.begin() + remove, order.end());
  std::sort(keep.begin(), keep.end());
  return keep;
}

float ScalarInput(const Node& node, int input, const Graph& graph, float fallback) {
  const Tensor* t =
      node.HasInput(input) ? graph.FindInitializer(node.inputs[size_t(input)]) : nullptr;
  return t && t->size() == 1 && t->dtype() == DataType::kFloat32 ? t->data<float>()[0] : fallback;
}

// A constant channel's value after one chain op: activations and per-channel arithmetic act on
// it as on a number; pooling keeps it.
double CarryThrough(const Node& node, const std::string& input, double v, int64_t channel,
                    const Graph& graph) {
  if (IsArithmetic(node.op)) {
    const bool first = node.inputs[0] == input;
    const Tensor& t = *graph.FindInitializer(node.inputs[first ? 1 : 0]);
    const double c = t.data<float>()[t.size() == 1 ? 0 : channel];
    switch (node.op) {
      case OpType::kAdd:
        return v + c;
      case OpType::kSub:
        return first ? v - c : c - v;
      case OpType::kMul:
        return v * c;
      default:
        return first ? v / c : c / v;
    }
  }
  switch (node.op) {
    case OpType::kRelu:
      return std::max(0.0, v);
    case OpType::kLeakyRelu:
      return v < 0 ? node.GetFloat("alpha", 0.01f) * v : v;
    case OpType::kSigmoid:
      return 1 / (1 + std::exp(-v));
    case OpType::kTanh:
      return std::tanh(v);
    case OpType::kElu:
      return v < 0 ? node.GetFloat("alpha", 1.0f) * (std::exp(v) - 1) : v;
    case OpType::kHardSigmoid:
      return std::clamp(node.GetFloat("alpha", 0.2f) * v + node.GetFloat("beta", 0.5f), 0.0, 1.0);
    case OpType::kHardSwish:
      return v * std::clamp(v / 6 + 0.5, 0.0, 1.0);
    case OpType::kClip: {
      const double low = ScalarInput(node, 1, graph, node.GetFloat("min", -3.4e38f));
      const double high = ScalarInput(node, 2, graph, node.GetFloat("max", 3.4e38f));
      return std::clamp(v, low, high);
    }
    default:
      return v;  // Identity, pooling
  }
}

// What each consumer output loses with the removed channels when every removed channel is
// taken as its bias carried through the chain (exact for a channel whose weights are zero, a
// first-order estimate otherwise; zero-padding borders of a Conv consumer see less of it).
std::vector<double> LostContribution(const Graph& graph, const Node& producer,
                                     const ChannelPlan& plan, const std::vector<int64_t>& removed) {
  const Tensor& w = *graph.FindInitializer(plan.consumer->inputs[1]);
  const bool o_major =
      plan.consumer->op == OpType::kConv ||
      (plan.consumer->op == OpType::kGemm && plan.consumer->GetInt("transB", 0) != 0);
  const int64_t outputs = o_major ? w.dim(0) : w.dim(1);
  const int64_t per_output = w.size() / outputs;  // inputs of one output
  const int64_t per_channel =
      plan.consumer->op == OpType::kConv ? w.size() / outputs / w.dim(1) : plan.block;
  std::vector<double> lost(size_t(outputs), 0.0);
  const Tensor* bias = producer.HasInput(2) ? graph.FindInitializer(producer.inputs[2]) : nullptr;
  const double beta = producer.op == OpType::kGemm ? producer.GetFloat("beta", 1.0f) : 1.0;
  for (int64_t c : removed) {
    double v = bias ? beta * bias->data<float>()[bias->size() == 1 ? 0 : c] : 0.0;
    std::string value = producer.outputs[0];
    for (const Node* op : plan.chain) {
      if (op->op != OpType::kFlatten) v = CarryThrough(*op, value, v, c, graph);
      value = op->outputs[0];
    }
    if (v == 0) continue;
    for (int64_t o = 0; o < outputs; ++o) {
      double sum = 0;
      for (int64_t j = 0; j < per_channel; ++j) {
        const int64_t k = c * per_channel + j;
        sum += w.data<float>()[o_major ? o * per_output + k : k * outputs + o];
      }
      lost[size_t(o)] += v * sum;
    }
  }
  return lost;
}

// Adds the lost contribution to the consumer's bias (creating one when it has none).
Status Compensate(Graph* graph, const GraphIndex& index, const Node& producer,
                  const ChannelPlan& plan, const std::vector<int64_t>& removed) {
  const std::vector<double> lost = LostContribution(*graph, producer, plan, removed);
  if (std::all_of(lost.begin(), lost.end(), [](double v) { return v == 0; })) return OkStatus();
  Node* consumer = plan.consumer;
  if (consumer->op == OpType::kMatMul) return FailedPrecondition("MatMul has no bias");
  const double beta = consumer->op == OpType::kGemm ? consumer->GetFloat("beta", 1.0f) : 1.0;
  if (beta == 0) return FailedPrecondition("Gemm beta is 0");
  const auto outputs = static_cast<int64_t>(lost.size());
  Tensor bias(DataType::kFloat32, {outputs});
  if (consumer->HasInput(2)) {
    const std::string& name = consumer->inputs[2];
    const Tensor* old = graph->FindInitializer(name);
    if (!old || old->dtype() != DataType::kFloat32 || index.Consumers(name).size() > 1 ||
        (old->size() != 1 && old->size() != outputs)) {
      return FailedPrecondition("its bias is not a private per-output constant");
    }
    if (old->size() == outputs) bias = old->Clone();  // keeps its shape ([O] or [1, O])
    for (int64_t o = 0; o < outputs; ++o) {
      bias.data<float>()[o] = old->data<float>()[old->size() == 1 ? 0 : o];
    }
    for (int64_t o = 0; o < outputs; ++o) bias.data<float>()[o] += float(lost[size_t(o)] / beta);
    graph->SetInitializer(name, std::move(bias));
    return OkStatus();
  }
  for (int64_t o = 0; o < outputs; ++o) bias.data<float>()[o] = float(lost[size_t(o)] / beta);
  const std::string name = UniqueValueName(*graph, consumer->inputs[1] + "_bias");
  graph->SetInitializer(name, std::move(bias));
  consumer->inputs.resize(3);
  consumer->inputs[2] = name;
  return OkStatus();
}

void DropValueInfo(Graph* graph, const std::vector<std::string>& values) {
  auto& infos = graph->value_info;
  infos.erase(std::remove_if(infos.begin(), infos.end(),
                             [&](const ValueInfo& info) {
                               return std::find(values.begin(), values.end(), info.name) !=
                                      values.end();
                             }),
              infos.end());
}

}  // namespace

Status PruneChannels(Model* model, const std::vector<PrunableWeight>& layers,
                     const std::vector<double>& targets, std::vector<std::string>* adjustments,
                     std::vector<int64_t>* channels_removed) {
  Graph* graph = &model->graph;
  const GraphIndex index(*graph);  // nodes are not edited, only initializers
  Planner planner(graph, index);
  for (size_t i = 0; i < layers.size(); ++i) {
    if (targets[i] <= 0) continue;
    const PrunableWeight& layer = layers[i];
    const Tensor weight = *layer.weight_graph->FindInitializer(layer.weight);
    const int64_t channels = weight.dim(layer.out_axis);
    const int64_t remove =
        std::clamp<int64_t>(std::llround(targets[i] * double(channels)), 0, channels - 1);
    if (remove == 0) continue;
    StatusOr<ChannelPlan> plan = planner.Plan(layer, channels);
    if (!plan.ok()) {
      adjustments->push_back(LayerName(layer) + ": channels kept (" + plan.status().message() +
                             ")");
      continue;
    }
    const std::vector<int64_t> keep = ChannelsToKeep(weight, layer.out_axis, remove);
    std::vector<int64_t> removed;
    for (int64_t c = 0, next = 0; c < channels; ++c) {
      if (next < int64_t(keep.size()) && keep[size_t(next)] == c) {
        ++next;
      } else {
        removed.push_back(c);
      }
    }
    Status compensated = Compensate(graph, index, *layer.node, *plan, removed);
    if (!compensated.ok()) {
      adjustments->push_back(LayerName(layer) + ": the removed channels' constant output is " +
                             "not compensated (" + compensated.message() + ")");
    }
    for (const Edit& edit : plan->edits) {
      const Tensor& current = *graph->FindInitializer(edit.initializer);
      graph->SetInitializer(edit.initializer, KeepChannels(current, edit.axis, edit.block, keep));
    }
    DropValueInfo(graph, plan->values);
    (*channels_removed)[i] = remove;
  }
  return OkStatus();
}

}  // namespace shrink::engine::sparsity::internal
