// Sensitivity-aware allocation of per-layer sparsity (see prune.h).
#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/sparsity/layer_gram.h"
#include "engine/sparsity/prune.h"
#include "engine/sparsity/prune_internal.h"

namespace shrink::engine::sparsity {
namespace {

// Sparsities at which each layer's error is measured; in between it is interpolated linearly
// (0 at 0). The allocation moves on a finer grid up to kMaxSparsity.
constexpr double kMeasured[] = {0.25, 0.5, 0.7, 0.85, 0.95};
constexpr double kGridStep = 0.05;
constexpr double kMaxSparsity = 0.95;

// The weight after magnitude pruning at `sparsity` (unstructured: smallest weights; channel:
// output columns with the smallest L2 norm).
Eigen::MatrixXd Masked(const Eigen::MatrixXd& w, double sparsity, Structure structure) {
  Eigen::MatrixXd masked = w;
  if (structure == Structure::kChannel) {
    const auto remove = std::llround(sparsity * double(w.cols()));
    std::vector<std::pair<double, int64_t>> norms;
    for (int64_t o = 0; o < w.cols(); ++o) norms.push_back({w.col(o).squaredNorm(), o});
    std::sort(norms.begin(), norms.end());
    for (int64_t i = 0; i < remove && i < w.cols(); ++i)
      masked.col(norms[size_t(i)].second).setZero();
    return masked;
  }
  std::vector<float> values(w.data(), w.data() + w.size());
  internal::ZeroSmallest(values.data(), int64_t(values.size()),
                         std::llround(sparsity * double(values.size())));
  for (int64_t i = 0; i < w.size(); ++i) {
    if (values[size_t(i)] == 0.0f) masked.data()[i] = 0.0;
  }
  return masked;
}

struct Curve {
  std::vector<double> errors;  // relative output error at kMeasured
  double At(double s) const {
    double s0 = 0, e0 = 0;
    for (size_t i = 0; i < errors.size(); ++i) {
      if (s <= kMeasured[i]) return e0 + (errors[i] - e0) * (s - s0) / (kMeasured[i] - s0);
      s0 = kMeasured[i], e0 = errors[i];
    }
    return e0;
  }
};

// Greedy: each step raises by one grid step the layer whose error grows least per pruned
// weight, until the pruned weights reach `needed`; the last step is cut to hit it exactly.
std::vector<double> Greedy(const std::vector<Curve>& curves, const std::vector<int64_t>& sizes,
                           double needed) {
  std::vector<double> sparsity(curves.size(), 0.0);
  double pruned = 0;
  while (pruned < needed) {
    size_t best = curves.size();
    double best_cost = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < curves.size(); ++i) {
      const double next = sparsity[i] + kGridStep;
      if (next > kMaxSparsity + 1e-9 || sizes[i] == 0) continue;
      const double cost =
          (curves[i].At(next) - curves[i].At(sparsity[i])) / (kGridStep * double(sizes[i]));
      if (cost < best_cost) best_cost = cost, best = i;
    }
    if (best == curves.size()) {  // every layer at the cap: fall back to uniform
      double total = 0;
      for (int64_t size : sizes) total += double(size);
      return std::vector<double>(curves.size(), needed / std::max(1.0, total));
    }
    const double step_weights = kGridStep * double(sizes[best]);
    const double used = std::min(step_weights, needed - pruned);
    sparsity[best] += kGridStep * used / step_weights;
    pruned += used;
  }
  return sparsity;
}

}  // namespace

StatusOr<std::map<std::string, double>> AllocateSparsity(const Model& model,
                                                         const std::string& data,
                                                         const PruneOptions& options, int threads) {
  RETURN_IF_ERROR(internal::CheckOptions(options));
  if (options.structure == Structure::kNOfM) {
    return InvalidArgument(
        "sensitivity-aware allocation does not apply to N:M pruning (its "
        "sparsity is fixed at 1 - N/M)");
  }
  Model copy = CloneModel(model);
  ASSIGN_OR_RETURN(std::vector<PrunableWeight> layers, FindPrunableWeights(&copy));
  PruneOptions uniform = options;
  uniform.layer_sparsity.clear();
  const std::vector<double> targets = internal::LayerTargets(layers, uniform);
  std::map<std::string, double> result;
  std::vector<size_t> measured;
  std::vector<const Node*> nodes;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (targets[i] <= 0) continue;
    const Tensor& weight = *layers[i].weight_graph->FindInitializer(layers[i].weight);
    const bool measurable = layers[i].main_graph && layers[i].uses == 1 &&
                            ViewAsMatrix(*layers[i].node, weight).ok() && weight.rank() <= 4;
    result[LayerName(layers[i])] = options.target_sparsity;
    if (measurable) measured.push_back(i), nodes.push_back(layers[i].node);
  }
  if (nodes.empty() || options.target_sparsity == 0) return result;
  GramOptions gram_options;
  gram_options.max_samples = 64;  // the first batch (of up to 64 samples)
  gram_options.threads = threads;
  ASSIGN_OR_RETURN(auto grams, CollectGrams(copy, nodes, data, gram_options));
  std::vector<Curve> curves;
  std::vector<int64_t> sizes;
  double total = 0;
  for (size_t i : measured) {
    const Tensor& weight = *copy.graph.FindInitializer(layers[i].weight);
    const LayerGram& stats = grams.at(layers[i].weight);
    ASSIGN_OR_RETURN(Eigen::MatrixXd w, WeightMatrix(*layers[i].node, weight));
    const double energy = OutputEnergy(stats, w, BiasVector(*layers[i].node, copy.graph, w.cols()));
    Curve& curve = curves.emplace_back();
    for (double s : kMeasured) {
      const double change = ChangeEnergy(stats, w - Masked(w, s, options.structure));
      curve.errors.push_back(energy > 0 ? std::sqrt(std::max(0.0, change) / energy) : 0.0);
    }
    sizes.push_back(weight.size());
    total += double(weight.size());
  }
  const std::vector<double> sparsity = Greedy(curves, sizes, options.target_sparsity * total);
  for (size_t j = 0; j < measured.size(); ++j) {
    result[LayerName(layers[measured[j]])] = std::min(sparsity[j], 0.999);
  }
  return result;
}

}  // namespace shrink::engine::sparsity
