#include "engine/passes/fuse_bias.h"

#include <vector>

#include "engine/ir/graph_utils.h"
#include "engine/passes/pass_util.h"

namespace shrink::engine {
namespace {

struct BiasMatch {
  Node* add;
  Node* producer;
  std::vector<float> bias;  // the new bias, one value per output channel
};

// Per-channel values of `addend` when it broadcasts to [1, channels, 1, ...] against an output of
// rank `rank` (aligned from the right); empty otherwise.
std::vector<float> ChannelValues(const Tensor& addend, int rank, int64_t channels,
                                 int channel_axis) {
  if (addend.rank() > rank) return {};
  for (int i = 0; i < addend.rank(); ++i) {
    int axis = rank - addend.rank() + i;
    int64_t dim = addend.dim(i);
    if (dim != 1 && !(axis == channel_axis && dim == channels)) return {};
  }
  std::vector<float> values(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    values[size_t(c)] = addend.data<float>()[addend.size() == 1 ? 0 : c];
  }
  return values;
}

// The bias the producer would have after absorbing `addend`; empty when it cannot.
std::vector<float> FusedBias(const Node& producer, const Tensor& addend, const Scope& scope,
                             const GraphIndex& index) {
  const Tensor* weight =
      AsFloat(producer.HasInput(1) ? scope.Constant(producer.inputs[1]) : nullptr);
  if (!weight) return {};
  std::vector<float> values;
  if (producer.op == OpType::kConv || producer.op == OpType::kConvTranspose) {
    if (weight->rank() < 3) return {};
    int64_t channels = producer.op == OpType::kConv ? weight->dim(0)
                                                    : weight->dim(1) * producer.GetInt("group", 1);
    values = ChannelValues(addend, weight->rank(), channels, 1);
    if (values.empty() || !producer.HasInput(2)) return values;
    const Tensor* bias = AsFloat(scope.Constant(producer.inputs[2]));
    if (!bias || bias->size() != channels) return {};
    for (int64_t c = 0; c < channels; ++c) values[size_t(c)] += bias->data<float>()[c];
    return values;
  }
  // MatMul -> Gemm needs a 2-D x: Gemm takes matrices only, and for N-D x a Reshape pair around
  // a Gemm would add two ops to save one, while ONNX Runtime quantizes MatMul + Add fine (the
  // Add as a QDQ Add or fused into MatMulIntegerToFloat), so N-D stays MatMul + Add.
  // Gemm broadcasts its bias without the `broadcast` attribute from opset 7 on.
  if (producer.op == OpType::kMatMul && weight->rank() == 2 && scope.opset() >= 7 &&
      KnownRank(*scope.graph(), index, producer.inputs[0]) == 2) {
    return ChannelValues(addend, 2, weight->dim(1), 1);
  }
  return {};
}

std::vector<BiasMatch> MatchBiasAdds(const Scope& scope, const GraphIndex& index) {
  std::vector<BiasMatch> matches;
  for (const auto& owned : scope.graph()->nodes) {
    Node* add = owned.get();
    if (add->op != OpType::kAdd || add->NumInputs() != 2 || add->outputs.size() != 1) continue;
    for (int side = 0; side < 2; ++side) {
      const std::string& computed = add->inputs[size_t(side)];
      const Tensor* addend = AsFloat(scope.Constant(add->inputs[size_t(1 - side)]));
      Node* producer = index.Producer(computed);
      if (!addend || !producer || producer->outputs.empty() || producer->outputs[0] != computed) {
        continue;
      }
      if (SoleConsumer(index, computed) != add) continue;
      std::vector<float> bias = FusedBias(*producer, *addend, scope, index);
      if (bias.empty()) continue;
      matches.push_back({add, producer, std::move(bias)});
      break;
    }
  }
  return matches;
}

void ApplyBiasFusion(Graph* graph, const BiasMatch& match) {
  Node* producer = match.producer;
  std::string old_bias = producer->HasInput(2) ? producer->inputs[2] : "";
  std::string bias_name = UniqueValueName(*graph, producer->outputs[0] + "_bias");
  graph->SetInitializer(bias_name,
                        Tensor::FromVector<float>({int64_t(match.bias.size())}, match.bias));
  if (producer->op == OpType::kMatMul) {
    producer->op_type = "Gemm";
    producer->op = OpType::kGemm;
    producer->attributes.clear();
  }
  producer->inputs.resize(3);
  producer->inputs[2] = bias_name;
  std::string fused_value = producer->outputs[0];
  producer->outputs[0] = match.add->outputs[0];
  RemoveNode(graph, match.add);
  RenameValueInfo(graph, fused_value, "");
  if (!old_bias.empty()) RemoveInitializerIfUnused(graph, old_bias);
}

StatusOr<int> FuseBiasAtLevel(const Scope& scope) {
  GraphIndex index(*scope.graph());
  std::vector<BiasMatch> matches = MatchBiasAdds(scope, index);
  for (const BiasMatch& match : matches) ApplyBiasFusion(scope.graph(), match);
  return int(matches.size());
}

}  // namespace

StatusOr<int> FuseBias(Model* model) { return ForEachGraphLevel(model, FuseBiasAtLevel); }

}  // namespace shrink::engine
