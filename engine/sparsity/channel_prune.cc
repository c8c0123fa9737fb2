// CHANNEL pruning: removes whole output channels (smallest L2 norm) of a Conv, Gemm or MatMul
// and adjusts what reads them, so that shapes really shrink. The chain from the producer to its
// consumer may hold only ops that keep channels apart (activations, pooling, elementwise ops
// with scalar or per-channel constants, and one Flatten before a Gemm/MatMul consumer); any
// other reader (a second consumer, a graph output, BatchNormalization, Concat, ...) leaves the
// layer untouched, with an adjustment saying why.
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
};

bool KeepsChannelsApart(OpType op) {
  switch (op) {
    case OpType::kRelu: case OpType::kClip: case OpType::kLeakyRelu: case OpType::kSigmoid:
    case OpType::kTanh: case OpType::kHardSigmoid: case OpType::kHardSwish:
    case OpType::kIdentity: case OpType::kMaxPool: case OpType::kAveragePool:
    case OpType::kGlobalAveragePool: case OpType::kGlobalMaxPool: case OpType::kElu:
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
      if (readers.size() != 1) return Refuse(value + " has " + std::to_string(readers.size()) +
                                             " readers");
      const Node& next = *readers[0];
      plan.values.push_back(value);
      if (next.op == OpType::kConv || next.op == OpType::kGemm || next.op == OpType::kMatMul) {
        RETURN_IF_ERROR(Terminal(next, value, channels, from_right, flattened, &plan));
        return plan;
      }
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
    return index_.Consumers(name).size() == 1 ? tensor : nullptr;
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
    for (const Edit& edit : plan->edits) {
      const Tensor& current = *graph->FindInitializer(edit.initializer);
      graph->SetInitializer(edit.initializer,
                            KeepChannels(current, edit.axis, edit.block, keep));
    }
    DropValueInfo(graph, plan->values);
    (*channels_removed)[i] = remove;
  }
  return OkStatus();
}

}  // namespace shrink::engine::sparsity::internal
