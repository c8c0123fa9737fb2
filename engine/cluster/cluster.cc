#include "engine/cluster/cluster.h"

#include <algorithm>
#include <map>
#include <memory>
#include <utility>

#include "engine/cluster/cluster_tensor.h"
#include "engine/ir/graph_utils.h"
#include "engine/ir/op_types.h"
#include "engine/passes/opset_upgrade.h"
#include "engine/quant/op_quant_table.h"
#include "engine/quant/qdq_graph_edit.h"

namespace shrink::engine::cluster {
namespace {

using quant::ScopeChain;

// Add on int32 (the per-channel offset) exists from opset 7.
constexpr int64_t kCompactMinOpset = 7;

// One weight initializer to cluster, found through its first weight consumer.
struct Target {
  Graph* owner = nullptr;
  std::string weight;
  std::string node;  // the first consumer's name
  int axis = -1;     // per-channel axis, -1 = per tensor
};

bool IsWeightOp(OpType op) {
  return op == OpType::kConv || op == OpType::kConvTranspose || op == OpType::kGemm ||
         op == OpType::kMatMul;
}

// The innermost scope defining `name`, when that definition is an initializer. An initializer
// that is also a graph input (IR < 4 style default) counts: clustering changes its default.
Graph* FindOwner(const ScopeChain& scopes, const std::string& name) {
  for (size_t i = scopes.size(); i-- > 0;) {
    Graph* graph = scopes[i];
    if (graph->HasInitializer(name)) return graph;
    for (const auto& input : graph->inputs) {
      if (input.name == name) return nullptr;
    }
    for (const auto& node : graph->nodes) {
      if (std::find(node->outputs.begin(), node->outputs.end(), name) != node->outputs.end()) {
        return nullptr;
      }
    }
  }
  return nullptr;
}

struct Collector {
  const ClusterOptions& options;
  std::vector<Target> targets;
  std::set<std::pair<Graph*, std::string>> seen, excluded;

  void Visit(Graph* graph, ScopeChain* scopes) {
    scopes->push_back(graph);
    for (auto& node : graph->nodes) {
      if (IsWeightOp(node->op) && node->HasInput(1)) Consider(*node, *scopes);
      for (SubgraphRef sub : Subgraphs(*node)) Visit(sub.graph, scopes);
    }
    scopes->pop_back();
  }

  void Consider(const Node& node, const ScopeChain& scopes) {
    const std::string& weight = node.inputs[1];
    Graph* owner = FindOwner(scopes, weight);
    if (owner == nullptr) return;
    const Tensor* tensor = owner->FindInitializer(weight);
    if (tensor->dtype() != DataType::kFloat32 || tensor->size() == 0) return;
    auto key = std::make_pair(owner, weight);
    if (options.exclude_nodes.count(node.name)) excluded.insert(key);
    if (!seen.insert(key).second) return;
    Target target{owner, weight, node.name, -1};
    if (options.per_channel) {
      const quant::OpQuantSpec* spec = quant::FindOpQuantSpec(node.op);
      if (spec != nullptr) target.axis = quant::WeightChannelAxis(*spec, node, tensor->rank());
    }
    targets.push_back(std::move(target));
  }
};

uint64_t MixSeed(uint64_t seed, const std::string& name) {
  uint64_t hash = 14695981039346656037ULL;  // FNV-1a: stable across platforms and runs
  for (unsigned char ch : name) hash = (hash ^ ch) * 1099511628211ULL;
  return seed ^ hash;
}

std::string LayerName(const Target& t) {
  return "layer " + (t.node.empty() ? std::string("?") : t.node) + " (weight " + t.weight + ")";
}

void NoteAdjustments(const Target& t, const TensorClustering& c, const ClusterOptions& options,
                     std::vector<std::string>* adjustments) {
  std::string what = options.preserve_sparsity ? " distinct nonzero weights" : " distinct weights";
  if (options.per_channel && t.axis < 0) {
    adjustments->push_back(LayerName(t) + " has no channel axis: clustered per tensor");
  }
  if (c.capped) {
    adjustments->push_back(LayerName(t) + ": 255 clusters, the 256th uint8 index is the zero");
  }
  if (c.groups_below_clusters == 0) return;
  if (t.axis < 0) {
    adjustments->push_back(LayerName(t) + " has only " + std::to_string(c.min_group_distinct) +
                           what + ": " + std::to_string(c.clusters) + " clusters");
  } else {
    adjustments->push_back(LayerName(t) + ": " + std::to_string(c.groups_below_clusters) +
                           " channels have fewer than " + std::to_string(options.clusters) + what +
                           " (as few as " + std::to_string(c.min_group_distinct) +
                           "): they keep their distinct values");
  }
}

// Keeps the weight's name for its computed value, so consumers (also in subgraphs reading it
// from this scope) are untouched.
void WriteCompact(const Target& t, const TensorClustering& c, quant::NameGenerator* names) {
  Graph* g = t.owner;
  Shape shape = c.dense.shape();
  g->RemoveInitializer(t.weight);
  g->inputs.erase(std::remove_if(g->inputs.begin(), g->inputs.end(),
                                 [&](const ValueInfo& v) { return v.name == t.weight; }),
                  g->inputs.end());
  std::string indices = names->Value(t.weight + "_indices");
  std::string centroids = names->Value(t.weight + "_centroids");
  g->SetInitializer(indices, c.indices);
  g->SetInitializer(centroids, c.table);

  std::vector<std::unique_ptr<Node>> nodes;
  std::string base = t.node.empty() ? t.weight : t.node;
  std::string gather_index = names->Value(t.weight + "_indices_int32");
  nodes.push_back(quant::MakeNode("Cast", "", {indices}, {gather_index},
                                  names->NodeName(base + "_cluster_cast")));
  nodes.back()->SetAttribute(IntAttribute("to", int64_t(DataType::kInt32)));
  std::string table = centroids;
  if (t.axis >= 0) {
    Shape offset_shape(shape.size(), 1);
    offset_shape[size_t(t.axis)] = shape[size_t(t.axis)];
    std::vector<int32_t> offsets;
    for (int64_t ch = 0; ch < shape[size_t(t.axis)]; ++ch) {
      offsets.push_back(int32_t(ch * c.table_width));
    }
    std::string offset_name = names->Value(t.weight + "_offsets");
    g->SetInitializer(offset_name, Tensor::FromVector<int32_t>(offset_shape, offsets));
    std::string flat_shape = names->Value(t.weight + "_table_shape");
    g->SetInitializer(flat_shape, Tensor::FromVector<int64_t>({1}, {-1}));
    std::string shifted = names->Value(t.weight + "_table_index");
    nodes.push_back(quant::MakeNode("Add", "", {gather_index, offset_name}, {shifted},
                                    names->NodeName(base + "_cluster_offset")));
    gather_index = shifted;
    table = names->Value(t.weight + "_table");
    nodes.push_back(quant::MakeNode("Reshape", "", {centroids, flat_shape}, {table},
                                    names->NodeName(base + "_cluster_table")));
  }
  nodes.push_back(quant::MakeNode("Gather", "", {table, gather_index}, {t.weight},
                                  names->NodeName(base + "_cluster_gather")));

  const Node* first = g->nodes.empty() ? nullptr : g->nodes.front().get();
  for (auto& node : nodes) InsertNode(g, std::move(node), first);
  ValueInfo info;
  info.name = t.weight;
  info.type.elem_type = DataType::kFloat32;
  info.type.has_shape = true;
  for (int64_t d : shape) info.type.dims.push_back(Dim{d, "", ""});
  g->value_info.erase(std::remove_if(g->value_info.begin(), g->value_info.end(),
                                     [&](const ValueInfo& v) { return v.name == t.weight; }),
                      g->value_info.end());
  g->value_info.push_back(std::move(info));
}

v1::LayerClusters LayerReport(const Target& t, const TensorClustering& c, bool compact) {
  v1::LayerClusters layer;
  layer.set_node(t.node);
  layer.set_weight(t.weight);
  layer.set_clusters(c.clusters);
  layer.set_distinct_before(c.distinct_before);
  layer.set_distinct_after(c.distinct_after);
  layer.set_compact(compact);
  layer.set_rmse(c.rmse);
  return layer;
}

Status ValidateOptions(const ClusterOptions& options) {
  if (options.clusters < 2 || options.clusters > 256) {
    return InvalidArgument("cluster option 'clusters' must be in [2, 256], got " +
                           std::to_string(options.clusters));
  }
  if (options.iterations < 0) {
    return InvalidArgument("cluster option 'iterations' must be >= 0, got " +
                           std::to_string(options.iterations));
  }
  return OkStatus();
}

}  // namespace

StatusOr<ClusterSummary> ClusterWeights(Model* model, const ClusterOptions& options) {
  RETURN_IF_ERROR(ValidateOptions(options));
  ClusterSummary summary;
  if (options.compact && model->OpsetVersion("") < kCompactMinOpset) {
    int64_t from = model->OpsetVersion("");
    ASSIGN_OR_RETURN(OpsetUpgradeResult upgrade, UpgradeOpset(model, kCompactMinOpset));
    summary.adjustments.push_back("opset " + std::to_string(from) + " -> " +
                                  std::to_string(upgrade.to) + " for the compact form");
  }
  Collector collector{options, {}, {}, {}};
  ScopeChain scopes;
  collector.Visit(&model->graph, &scopes);

  // Cluster everything first, so that an error leaves the model as it was.
  std::vector<std::pair<Target, TensorClustering>> done;
  for (const Target& t : collector.targets) {
    if (collector.excluded.count({t.owner, t.weight})) continue;
    TensorClusterOptions tensor_options;
    tensor_options.kmeans = {options.clusters, options.init, options.iterations,
                             MixSeed(options.seed, t.weight)};
    tensor_options.axis = t.axis;
    tensor_options.preserve_sparsity = options.preserve_sparsity;
    tensor_options.compact = options.compact;
    StatusOr<TensorClustering> c =
        ClusterTensor(*t.owner->FindInitializer(t.weight), tensor_options);
    if (!c.ok()) return c.status().WithContext(LayerName(t));
    done.emplace_back(t, std::move(*c));
  }

  quant::NameGenerator names(*model);
  for (auto& [t, c] : done) {
    NoteAdjustments(t, c, options, &summary.adjustments);
    summary.layers.push_back(LayerReport(t, c, options.compact));
    if (options.compact) {
      WriteCompact(t, c, &names);
    } else {
      t.owner->SetInitializer(t.weight, c.dense);
    }
  }
  return summary;
}

}  // namespace shrink::engine::cluster
