#include "engine/sparsity/repair.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "common/thread_pool.h"
#include "engine/sparsity/layer_gram.h"
#include "engine/sparsity/weights.h"

namespace shrink::engine::sparsity {
namespace {

struct Target {
  v1::LayerSparsity* entry;
  const PrunableWeight* pruned;
  const Node* original;  // the same node in the original model
};

// Refits the nonzero weights of every column of `w` (K x O) towards the original `reference`.
Eigen::MatrixXd Refit(const LayerGram& stats, const Eigen::MatrixXd& reference,
                      const Eigen::MatrixXd& w, double ridge, const ThreadPool& pool) {
  Eigen::MatrixXd result = w;
  pool.ParallelFor(w.cols(), 1, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      std::vector<int64_t> support;
      for (int64_t k = 0; k < w.rows(); ++k) {
        if (w(k, o) != 0) support.push_back(k);
      }
      const auto s = static_cast<int64_t>(support.size());
      if (s == 0) continue;
      Eigen::MatrixXd a(s, s);
      Eigen::VectorXd rhs(s);
      const Eigen::VectorXd target = stats.gram * reference.col(o);
      for (int64_t i = 0; i < s; ++i) {
        rhs(i) = target(support[size_t(i)]);
        for (int64_t j = 0; j < s; ++j)
          a(i, j) = stats.gram(support[size_t(i)], support[size_t(j)]);
      }
      const double trace = a.trace();
      if (!(trace > 0)) continue;  // this column's inputs were all zero: nothing to fit
      a.diagonal().array() += ridge * trace / double(s);
      const Eigen::VectorXd fit = a.ldlt().solve(rhs);
      if (!fit.allFinite()) continue;
      for (int64_t i = 0; i < s; ++i) result(support[size_t(i)], o) = fit(i);
    }
  });
  return result;
}

Status RepairLayer(const Target& target, const LayerGram& stats, const Model& original,
                   const RepairOptions& options, const ThreadPool& pool) {
  const PrunableWeight& layer = *target.pruned;
  const Tensor& current = *layer.weight_graph->FindInitializer(layer.weight);
  ASSIGN_OR_RETURN(Eigen::MatrixXd w,
                   WeightMatrix(*target.original, *original.graph.FindInitializer(layer.weight)));
  ASSIGN_OR_RETURN(Eigen::MatrixXd pruned, WeightMatrix(*layer.node, current));
  const double energy =
      OutputEnergy(stats, w, BiasVector(*target.original, original.graph, w.cols()));
  auto relative = [&](const Eigen::MatrixXd& candidate) {
    const double change = std::max(0.0, ChangeEnergy(stats, candidate - w));
    return energy > 0 ? std::sqrt(change / energy) : 0.0;
  };
  const double before = relative(pruned);
  const Eigen::MatrixXd refit = Refit(stats, w, pruned, options.ridge, pool);
  double after = relative(refit);
  if (after < before) {
    ASSIGN_OR_RETURN(Tensor tensor, WeightTensor(*layer.node, current, refit));
    // float32 rounding could turn a tiny refit weight into 0; the mask must stay as it was.
    float* data = tensor.data<float>();
    const float* old = current.data<float>();
    for (int64_t i = 0; i < tensor.size(); ++i) {
      if (old[i] != 0 && data[i] == 0) data[i] = old[i] > 0 ? 1e-30f : -1e-30f;
    }
    layer.weight_graph->SetInitializer(layer.weight, std::move(tensor));
  } else {
    after = before;
  }
  target.entry->set_repair_error_before(before);
  target.entry->set_repair_error_after(after);
  return OkStatus();
}

}  // namespace

Status RepairPrunedLayers(Model* pruned, const Model& original, const std::string& data,
                          const RepairOptions& options, std::vector<v1::LayerSparsity>* layers) {
  ASSIGN_OR_RETURN(std::vector<PrunableWeight> found, FindPrunableWeights(pruned));
  std::map<std::string, const PrunableWeight*> by_weight;
  for (const PrunableWeight& layer : found) {
    if (layer.main_graph) by_weight[layer.weight] = &layer;
  }
  std::map<std::string, const Node*> original_nodes;  // weight name -> node in `original`
  for (const auto& node : original.graph.nodes) {
    if (node->inputs.size() > 1) original_nodes.emplace(node->inputs[1], node.get());
  }
  std::vector<Target> targets;
  std::vector<const Node*> nodes;
  for (v1::LayerSparsity& entry : *layers) {
    auto layer = by_weight.find(entry.weight());
    auto node = original_nodes.find(entry.weight());
    if (entry.zeros() == 0 || layer == by_weight.end() || node == original_nodes.end()) continue;
    const Tensor* before = original.graph.FindInitializer(entry.weight());
    const Tensor* now = layer->second->weight_graph->FindInitializer(entry.weight());
    if (!before || before->shape() != now->shape() || now->rank() > 4 ||
        !ViewAsMatrix(*layer->second->node, *now).ok() ||
        node->second->op != layer->second->node->op) {
      continue;
    }
    targets.push_back({&entry, layer->second, node->second});
    nodes.push_back(node->second);
  }
  if (targets.empty()) return OkStatus();
  GramOptions gram_options;
  gram_options.max_samples = std::max<int64_t>(1, options.max_samples);
  gram_options.threads = options.threads;
  ASSIGN_OR_RETURN(auto grams, CollectGrams(original, nodes, data, gram_options));
  ThreadPool pool(options.threads);
  for (const Target& target : targets) {
    RETURN_IF_ERROR(RepairLayer(target, grams.at(target.entry->weight()), original, options, pool)
                        .WithContext(target.pruned->node->Describe()));
  }
  return OkStatus();
}

}  // namespace shrink::engine::sparsity
