#include "engine/sparsity/weights.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "engine/ir/graph_utils.h"

namespace shrink::engine::sparsity {
namespace {

// Input and output channel axes of the weight of a prunable node; false when it has none.
bool WeightAxes(const Node& node, const Tensor& weight, int* in_axis, int* out_axis) {
  if (weight.dtype() != DataType::kFloat32) return false;
  switch (node.op) {
    case OpType::kConv:
      if (weight.rank() < 3) return false;
      *in_axis = 1, *out_axis = 0;
      return true;
    case OpType::kConvTranspose:
      if (weight.rank() < 3) return false;
      *in_axis = 0, *out_axis = 1;
      return true;
    case OpType::kGemm: {
      if (weight.rank() != 2) return false;
      const bool trans_b = node.GetInt("transB", 0) != 0;
      *in_axis = trans_b ? 1 : 0, *out_axis = trans_b ? 0 : 1;
      return true;
    }
    case OpType::kMatMul:
      if (weight.rank() < 2) return false;
      *in_axis = weight.rank() - 2, *out_axis = weight.rank() - 1;
      return true;
    default:
      return false;
  }
}

class Finder {
 public:
  explicit Finder(Model* model) : main_(&model->graph) {}

  Status Visit(Graph* graph, std::vector<Graph*>* scopes) {
    scopes->push_back(graph);
    ASSIGN_OR_RETURN(std::vector<Node*> order, TopologicalOrder(*graph));
    for (Node* node : order) {
      for (const std::string& input : node->inputs) {
        if (Graph* owner = Owner(input, *scopes)) uses_[{owner, input}]++;
      }
      MaybeAdd(node, graph, *scopes);
      for (SubgraphRef sub : Subgraphs(*node)) RETURN_IF_ERROR(Visit(sub.graph, scopes));
    }
    scopes->pop_back();
    return OkStatus();
  }

  std::vector<PrunableWeight> Result() {
    for (PrunableWeight& layer : layers_) layer.uses = uses_[{layer.weight_graph, layer.weight}];
    return std::move(layers_);
  }

 private:
  // The innermost scope holding `value` as an initializer.
  static Graph* Owner(const std::string& value, const std::vector<Graph*>& scopes) {
    if (value.empty()) return nullptr;
    for (auto it = scopes.rbegin(); it != scopes.rend(); ++it) {
      if ((*it)->HasInitializer(value)) return *it;
    }
    return nullptr;
  }

  void MaybeAdd(Node* node, Graph* graph, const std::vector<Graph*>& scopes) {
    if (node->inputs.size() < 2 || !node->domain.empty()) return;
    Graph* owner = Owner(node->inputs[1], scopes);
    if (!owner) return;
    int in_axis = 0, out_axis = 0;
    if (!WeightAxes(*node, *owner->FindInitializer(node->inputs[1]), &in_axis, &out_axis)) return;
    if (!seen_.insert({owner, node->inputs[1]}).second) return;
    PrunableWeight layer;
    layer.node = node;
    layer.node_graph = graph;
    layer.weight_graph = owner;
    layer.weight = node->inputs[1];
    layer.in_axis = in_axis;
    layer.out_axis = out_axis;
    layer.main_graph = graph == main_ && owner == main_;
    layers_.push_back(layer);
  }

  Graph* main_;
  std::vector<PrunableWeight> layers_;
  std::set<std::pair<Graph*, std::string>> seen_;
  std::map<std::pair<Graph*, std::string>, int> uses_;
};

}  // namespace

StatusOr<std::vector<PrunableWeight>> FindPrunableWeights(Model* model) {
  Finder finder(model);
  std::vector<Graph*> scopes;
  RETURN_IF_ERROR(finder.Visit(&model->graph, &scopes));
  return finder.Result();
}

StatusOr<MatrixView> ViewAsMatrix(const Node& node, const Tensor& weight) {
  MatrixView view;
  if (node.op == OpType::kConv && node.GetInt("group", 1) == 1) {
    view.o = weight.dim(0);
    view.k = weight.size() / std::max<int64_t>(1, view.o);
    view.o_major = true;
  } else if (node.op == OpType::kGemm && weight.rank() == 2) {
    const bool trans_b = node.GetInt("transB", 0) != 0;
    view.o = weight.dim(trans_b ? 0 : 1);
    view.k = weight.dim(trans_b ? 1 : 0);
    view.o_major = trans_b;
  } else if (node.op == OpType::kMatMul && weight.rank() == 2) {
    view.k = weight.dim(0);
    view.o = weight.dim(1);
    view.o_major = false;
  } else {
    return Unimplemented(node.Describe() + ": its weight is not a plain K x O matrix");
  }
  return view;
}

std::string LayerName(const PrunableWeight& layer) {
  return layer.node->name.empty() ? layer.weight : layer.node->name;
}

}  // namespace shrink::engine::sparsity
