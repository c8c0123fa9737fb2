#include "engine/passes/share_constants.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "engine/ir/graph_utils.h"

namespace shrink::engine {
namespace {

struct Copy {
  Graph* subgraph;
  std::string name;
};

uint64_t ContentHash(const Tensor& tensor) {
  uint64_t hash = 1469598103934665603ULL ^ uint64_t(tensor.dtype());
  for (int64_t dim : tensor.shape()) hash = (hash ^ uint64_t(dim)) * 1099511628211ULL;
  const auto* bytes = static_cast<const unsigned char*>(tensor.raw_data());
  for (size_t i = 0; i < tensor.nbytes(); ++i) hash = (hash ^ bytes[i]) * 1099511628211ULL;
  return hash;
}

bool Declares(const std::vector<ValueInfo>& infos, const std::string& name) {
  return std::any_of(infos.begin(), infos.end(),
                     [&](const ValueInfo& v) { return v.name == name; });
}

std::vector<Graph*> DirectSubgraphs(Graph* graph) {
  std::vector<Graph*> subgraphs;
  for (auto& node : graph->nodes) {
    for (Attribute& attribute : node->attributes) {
      if (attribute.g) subgraphs.push_back(attribute.g.get());
      for (auto& sub : attribute.graphs) subgraphs.push_back(sub.get());
    }
  }
  return subgraphs;
}

// Groups of bitwise-identical initializers over the direct subgraphs of one level.
std::vector<std::vector<Copy>> FindSharedCopies(const std::vector<Graph*>& subgraphs,
                                                size_t min_bytes) {
  std::map<uint64_t, std::vector<std::vector<Copy>>> buckets;
  for (Graph* sub : subgraphs) {
    for (const std::string& name : sub->initializer_names()) {
      const Tensor* tensor = sub->FindInitializer(name);
      if (tensor->dtype() == DataType::kString || tensor->nbytes() < min_bytes) continue;
      if (Declares(sub->inputs, name) || Declares(sub->outputs, name)) continue;
      auto& groups = buckets[ContentHash(*tensor)];
      auto same = std::find_if(groups.begin(), groups.end(), [&](const std::vector<Copy>& group) {
        return group[0].subgraph->FindInitializer(group[0].name)->BitwiseEquals(*tensor);
      });
      if (same == groups.end()) {
        groups.push_back({{sub, name}});
      } else {
        same->push_back({sub, name});
      }
    }
  }
  std::vector<std::vector<Copy>> shared;
  for (auto& [hash, groups] : buckets) {
    for (auto& group : groups) {
      if (group.size() > 1) shared.push_back(std::move(group));
    }
  }
  return shared;
}

int ShareLevel(Graph* graph, const ShareConstantsOptions& options) {
  std::vector<Graph*> subgraphs = DirectSubgraphs(graph);
  int removed = 0;
  for (Graph* sub : subgraphs) removed += ShareLevel(sub, options);
  for (const std::vector<Copy>& group : FindSharedCopies(subgraphs, options.min_bytes)) {
    // Unique across this level and everything nested in it, so no subgraph shadows it.
    std::string name = UniqueValueName(*graph, group[0].name);
    graph->SetInitializer(name, *group[0].subgraph->FindInitializer(group[0].name));
    for (const Copy& copy : group) {
      copy.subgraph->RemoveInitializer(copy.name);
      ReplaceAllUses(copy.subgraph, copy.name, name);
    }
    removed += int(group.size()) - 1;
  }
  return removed;
}

}  // namespace

StatusOr<int> ShareSubgraphConstants(Model* model, const ShareConstantsOptions& options) {
  return ShareLevel(&model->graph, options);
}

}  // namespace shrink::engine
