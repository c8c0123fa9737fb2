#include "engine/passes/fold_batch_norm.h"

#include <cmath>
#include <vector>

#include "engine/ir/graph_utils.h"
#include "engine/passes/pass_util.h"

namespace shrink::engine {
namespace {

// y = x * scale + shift per channel.
struct ChannelAffine {
  std::vector<double> scale;
  std::vector<double> shift;
};

struct BatchNormMatch {
  Node* bn;
  Node* producer;
  const Tensor* weight;
  const Tensor* bias;  // null when absent
  ChannelAffine affine;
};

bool IsFloatVector(const Tensor* tensor, int64_t size) {
  return tensor && tensor->dtype() == DataType::kFloat32 && tensor->size() == size &&
         tensor->rank() <= 1;
}

// The BN as a per-channel affine map; false when it is not an inference BN with constant
// float32 parameters.
bool BatchNormAffine(const Node& bn, const Scope& scope, const GraphIndex& index,
                     ChannelAffine* affine) {
  if (bn.NumInputs() != 5 || bn.GetInt("training_mode", 0) != 0) return false;
  if (bn.GetInt("spatial", 1) == 0 || bn.GetInt("is_test", 1) == 0) return false;  // opset < 9
  for (size_t i = 1; i < bn.outputs.size(); ++i) {
    if (!IsUnused(index, bn.outputs[i])) return false;
  }
  const Tensor* gamma = AsFloat(scope.Constant(bn.inputs[1]));
  if (!gamma || gamma->rank() != 1) return false;
  int64_t channels = gamma->size();
  const Tensor* beta = scope.Constant(bn.inputs[2]);
  const Tensor* mean = scope.Constant(bn.inputs[3]);
  const Tensor* var = scope.Constant(bn.inputs[4]);
  if (!IsFloatVector(beta, channels) || !IsFloatVector(mean, channels) ||
      !IsFloatVector(var, channels)) {
    return false;
  }
  double epsilon = bn.GetFloat("epsilon", 1e-5f);
  affine->scale.resize(size_t(channels));
  affine->shift.resize(size_t(channels));
  for (int64_t c = 0; c < channels; ++c) {
    double s = double(gamma->data<float>()[c]) / std::sqrt(double(var->data<float>()[c]) + epsilon);
    affine->scale[size_t(c)] = s;
    affine->shift[size_t(c)] = double(beta->data<float>()[c]) - double(mean->data<float>()[c]) * s;
  }
  return true;
}

// Output channels of the producer, or -1 when it cannot absorb a BN.
int64_t ProducerChannels(const Node& producer, const Tensor& weight, const Scope& scope,
                         const GraphIndex& index) {
  switch (producer.op) {
    case OpType::kConv:
      return weight.rank() >= 3 ? weight.dim(0) : -1;
    case OpType::kConvTranspose:
      return weight.rank() >= 3 ? weight.dim(1) * producer.GetInt("group", 1) : -1;
    case OpType::kGemm: {
      if (weight.rank() != 2) return -1;
      int64_t n = producer.GetInt("transB", 0) ? weight.dim(0) : weight.dim(1);
      if (producer.HasInput(2)) {
        // Only a bias that is constant along the rows can absorb a per-column shift.
        const Tensor* c = AsFloat(scope.Constant(producer.inputs[2]));
        bool row = c && c->size() == n && (c->rank() <= 1 || (c->rank() == 2 && c->dim(0) == 1));
        if (!c || !(c->size() == 1 || row)) return -1;
      }
      return n;
    }
    case OpType::kMatMul:
      // Gemm broadcasts its bias without the `broadcast` attribute from opset 7 on.
      if (weight.rank() != 2 || scope.opset() < 7 ||
          KnownRank(*scope.graph(), index, producer.inputs[0]) != 2) {
        return -1;
      }
      return weight.dim(1);
    default:
      return -1;
  }
}

std::vector<BatchNormMatch> MatchBatchNorms(const Scope& scope, const GraphIndex& index) {
  std::vector<BatchNormMatch> matches;
  for (const auto& owned : scope.graph()->nodes) {
    Node* bn = owned.get();
    if (bn->op != OpType::kBatchNormalization || !bn->HasInput(0)) continue;
    Node* producer = index.Producer(bn->inputs[0]);
    if (!producer || producer->outputs.empty() || producer->outputs[0] != bn->inputs[0]) continue;
    if (SoleConsumer(index, bn->inputs[0]) != bn || !producer->HasInput(1)) continue;
    const Tensor* weight = AsFloat(scope.Constant(producer->inputs[1]));
    if (!weight) continue;
    int64_t channels = ProducerChannels(*producer, *weight, scope, index);
    ChannelAffine affine;
    if (channels <= 0 || !BatchNormAffine(*bn, scope, index, &affine)) continue;
    if (int64_t(affine.scale.size()) != channels) continue;
    const Tensor* bias = nullptr;
    if (producer->HasInput(2)) {
      bias = AsFloat(scope.Constant(producer->inputs[2]));
      bool gemm_bias = producer->op == OpType::kGemm;  // checked by ProducerChannels
      if (!bias || (!gemm_bias && bias->size() != channels)) continue;
    }
    matches.push_back({bn, producer, weight, bias, std::move(affine)});
  }
  return matches;
}

// Output channel of each weight element.
std::vector<int64_t> WeightChannels(const Node& producer, const Tensor& weight) {
  std::vector<int64_t> channel(static_cast<size_t>(weight.size()));
  int64_t inner = weight.rank() >= 2 ? weight.size() / (weight.dim(0) * weight.dim(1)) : 1;
  for (int64_t i = 0; i < weight.size(); ++i) {
    int64_t d0 = i / (weight.size() / weight.dim(0));
    int64_t d1 = (i / inner) % weight.dim(1);
    switch (producer.op) {
      case OpType::kConv:
        channel[size_t(i)] = d0;
        break;
      case OpType::kConvTranspose: {  // [Cin, Cout/group, k...]
        int64_t in_per_group = weight.dim(0) / producer.GetInt("group", 1);
        channel[size_t(i)] = (d0 / in_per_group) * weight.dim(1) + d1;
        break;
      }
      case OpType::kGemm:
        channel[size_t(i)] = producer.GetInt("transB", 0) ? d0 : d1;
        break;
      default:  // MatMul [K, N]
        channel[size_t(i)] = d1;
        break;
    }
  }
  return channel;
}

void ApplyBatchNormFold(Graph* graph, const BatchNormMatch& match) {
  Node* producer = match.producer;
  const ChannelAffine& affine = match.affine;
  bool gemm = producer->op == OpType::kGemm;
  double alpha = gemm ? producer->GetFloat("alpha", 1.0f) : 1.0;
  double beta = gemm ? producer->GetFloat("beta", 1.0f) : 1.0;

  Tensor weight(DataType::kFloat32, match.weight->shape());
  std::vector<int64_t> channel = WeightChannels(*producer, *match.weight);
  const float* w = match.weight->data<float>();
  for (int64_t i = 0; i < weight.size(); ++i) {
    weight.data<float>()[i] =
        float(alpha * double(w[i]) * affine.scale[size_t(channel[size_t(i)])]);
  }
  int64_t channels = int64_t(affine.scale.size());
  Tensor bias(DataType::kFloat32, {channels});
  for (int64_t c = 0; c < channels; ++c) {
    double b = 0;
    if (match.bias) b = beta * double(match.bias->data<float>()[match.bias->size() == 1 ? 0 : c]);
    bias.data<float>()[c] = float(b * affine.scale[size_t(c)] + affine.shift[size_t(c)]);
  }

  std::string old_weight = producer->inputs[1];
  std::string old_bias = producer->HasInput(2) ? producer->inputs[2] : "";
  std::string weight_name = UniqueValueName(*graph, old_weight + "_bn");
  graph->SetInitializer(weight_name, std::move(weight));
  std::string bias_name = UniqueValueName(*graph, producer->outputs[0] + "_bias");
  graph->SetInitializer(bias_name, std::move(bias));
  if (producer->op == OpType::kMatMul) {
    producer->op_type = "Gemm";
    producer->op = OpType::kGemm;
    producer->attributes.clear();
  }
  producer->inputs.resize(3);
  producer->inputs[1] = weight_name;
  producer->inputs[2] = bias_name;
  if (producer->op == OpType::kGemm) {
    producer->SetAttribute(FloatAttribute("alpha", 1.0f));
    producer->SetAttribute(FloatAttribute("beta", 1.0f));
  }
  // The producer now computes the BN's output, under the BN's name.
  std::string folded_value = producer->outputs[0];
  producer->outputs[0] = match.bn->outputs[0];
  RemoveNode(graph, match.bn);
  RenameValueInfo(graph, folded_value, "");
  RemoveInitializerIfUnused(graph, old_weight);
  if (!old_bias.empty()) RemoveInitializerIfUnused(graph, old_bias);
}

StatusOr<int> FoldBatchNormAtLevel(const Scope& scope) {
  GraphIndex index(*scope.graph());
  std::vector<BatchNormMatch> matches = MatchBatchNorms(scope, index);
  for (const BatchNormMatch& match : matches) ApplyBatchNormFold(scope.graph(), match);
  return int(matches.size());
}

}  // namespace

StatusOr<int> FoldBatchNorm(Model* model) { return ForEachGraphLevel(model, FoldBatchNormAtLevel); }

}  // namespace shrink::engine
