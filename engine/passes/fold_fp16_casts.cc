#include "engine/passes/fold_fp16_casts.h"

#include <set>
#include <vector>

#include "engine/ir/graph_utils.h"
#include "engine/passes/pass_util.h"

namespace shrink::engine {
namespace {

struct CastMatch {
  Node* cast;
  const Tensor* source;
  Node* constant_node;  // the Constant node holding `source`, or null for an initializer
};

bool IsHalf(const Tensor* tensor) {
  return tensor &&
         (tensor->dtype() == DataType::kFloat16 || tensor->dtype() == DataType::kBFloat16);
}

std::vector<CastMatch> MatchCasts(const Scope& scope, const GraphIndex& index) {
  std::vector<CastMatch> matches;
  for (const auto& owned : scope.graph()->nodes) {
    Node* cast = owned.get();
    if (cast->op != OpType::kCast || !cast->HasInput(0) || cast->outputs.size() != 1) continue;
    if (cast->GetInt("to", 0) != int64_t(DataType::kFloat32)) continue;
    if (index.IsGraphOutput(cast->outputs[0])) continue;
    const std::string& input = cast->inputs[0];
    Node* producer = index.Producer(input);
    if (producer && producer->op == OpType::kConstant) {
      const Tensor* value = producer->GetTensor("value");
      if (IsHalf(value)) matches.push_back({cast, value, producer});
      continue;
    }
    const Tensor* value = scope.Constant(input);
    if (IsHalf(value)) matches.push_back({cast, value, nullptr});
  }
  return matches;
}

Tensor Widen(const Tensor& half) {
  Tensor wide(DataType::kFloat32, half.shape());
  const uint16_t* bits = static_cast<const uint16_t*>(half.raw_data());
  float* out = wide.data<float>();
  bool bf16 = half.dtype() == DataType::kBFloat16;
  for (int64_t i = 0; i < half.size(); ++i) {
    out[i] = bf16 ? BFloat16ToFloat(bits[i]) : HalfToFloat(bits[i]);
  }
  return wide;
}

StatusOr<int> FoldCastsAtLevel(const Scope& scope) {
  Graph* graph = scope.graph();
  GraphIndex index(*graph);
  std::vector<CastMatch> matches = MatchCasts(scope, index);
  std::vector<std::string> sources;
  std::set<const Node*> constant_nodes;  // a Constant may feed several casts
  for (const CastMatch& match : matches) {
    graph->SetInitializer(match.cast->outputs[0], Widen(*match.source));
    sources.push_back(match.cast->inputs[0]);
    if (match.constant_node) constant_nodes.insert(match.constant_node);
  }
  for (const CastMatch& match : matches) RemoveNode(graph, match.cast);
  // Constant nodes and initializers that fed only folded casts go too.
  GraphIndex after(*graph);
  for (const Node* node : constant_nodes) {
    if (IsUnused(after, node->outputs[0])) RemoveNode(graph, node);
  }
  for (const std::string& source : sources) RemoveInitializerIfUnused(graph, source);
  return int(matches.size());
}

}  // namespace

StatusOr<int> FoldFp16Casts(Model* model) { return ForEachGraphLevel(model, FoldCastsAtLevel); }

}  // namespace shrink::engine
