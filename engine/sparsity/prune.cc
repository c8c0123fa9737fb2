#include "engine/sparsity/prune.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/sparsity/prune_internal.h"

namespace shrink::engine::sparsity {
namespace internal {

Status CheckOptions(const PruneOptions& options) {
  auto in_range = [](double s) { return s >= 0 && s < 1; };
  if (!in_range(options.target_sparsity)) {
    return InvalidArgument("target_sparsity " + std::to_string(options.target_sparsity) +
                           " is outside [0, 1)");
  }
  for (const auto& [node, sparsity] : options.layer_sparsity) {
    if (!in_range(sparsity)) {
      return InvalidArgument("sparsity " + std::to_string(sparsity) + " of layer '" + node +
                             "' is outside [0, 1)");
    }
  }
  if (options.structure == Structure::kNOfM &&
      (options.m < 2 || options.n < 1 || options.n >= options.m)) {
    return InvalidArgument("N:M pruning needs 1 <= N < M and M >= 2, got " +
                           std::to_string(options.n) + ":" + std::to_string(options.m));
  }
  return OkStatus();
}

std::vector<double> LayerTargets(const std::vector<PrunableWeight>& layers,
                                 const PruneOptions& options) {
  std::vector<double> targets(layers.size(), 0.0);
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string name = LayerName(layers[i]);
    if (options.exclude_nodes.count(name)) continue;
    if (options.keep_first_last && (i == 0 || i + 1 == layers.size())) continue;
    auto found = options.layer_sparsity.find(name);
    targets[i] = found != options.layer_sparsity.end() ? found->second : options.target_sparsity;
  }
  return targets;
}

void ZeroSmallest(float* values, int64_t size, int64_t count) {
  count = std::clamp<int64_t>(count, 0, size);
  if (count == 0) return;
  std::vector<int64_t> order(static_cast<size_t>(size));
  std::iota(order.begin(), order.end(), 0);
  auto smaller = [values](int64_t a, int64_t b) {
    const float fa = std::fabs(values[a]), fb = std::fabs(values[b]);
    return fa < fb || (fa == fb && a < b);
  };
  std::nth_element(order.begin(), order.begin() + (count - 1), order.end(), smaller);
  for (int64_t i = 0; i < count; ++i) values[order[size_t(i)]] = 0.0f;
}

bool ApplyNOfM(float* values, const Shape& shape, int axis, int n, int m) {
  const int64_t length = shape[size_t(axis)];
  if (length % m != 0) return false;
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= shape[size_t(d)];
  for (size_t d = size_t(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
  std::vector<int64_t> group(static_cast<size_t>(m));
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t g = 0; g < length; g += m) {
      for (int64_t i = 0; i < inner; ++i) {
        for (int j = 0; j < m; ++j) group[size_t(j)] = ((o * length) + g + j) * inner + i;
        // Ascending by magnitude (ties: the later element first), then zero the first m - n.
        std::sort(group.begin(), group.end(), [values](int64_t a, int64_t b) {
          const float fa = std::fabs(values[a]), fb = std::fabs(values[b]);
          return fa < fb || (fa == fb && a > b);
        });
        for (int j = 0; j < m - n; ++j) values[group[size_t(j)]] = 0.0f;
      }
    }
  }
  return true;
}

}  // namespace internal

namespace {

// A writable copy of a layer's weight; `Store` puts it back.
Tensor WritableWeight(const PrunableWeight& layer) {
  return layer.weight_graph->FindInitializer(layer.weight)->Clone();
}
void Store(const PrunableWeight& layer, Tensor weight) {
  layer.weight_graph->SetInitializer(layer.weight, std::move(weight));
}

// One magnitude threshold over all layers with the default target: the k smallest magnitudes
// of their union become zero (ties broken by layer, then index, so the count is exact).
void PruneGlobal(const std::vector<PrunableWeight>& layers, const std::vector<bool>& in_pool,
                 double sparsity) {
  std::vector<Tensor> weights(layers.size());
  std::vector<std::pair<float, std::pair<size_t, int64_t>>> pool;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (!in_pool[i]) continue;
    weights[i] = WritableWeight(layers[i]);
    const float* w = weights[i].data<float>();
    for (int64_t j = 0; j < weights[i].size(); ++j) pool.push_back({std::fabs(w[j]), {i, j}});
  }
  const auto count = static_cast<int64_t>(std::llround(sparsity * double(pool.size())));
  if (count > 0) {
    std::nth_element(pool.begin(), pool.begin() + (count - 1), pool.end());
    for (int64_t p = 0; p < count; ++p) {
      const auto& [layer, index] = pool[size_t(p)].second;
      weights[layer].data<float>()[index] = 0.0f;
    }
  }
  for (size_t i = 0; i < layers.size(); ++i) {
    if (in_pool[i]) Store(layers[i], std::move(weights[i]));
  }
}

std::string StructureName(const PruneOptions& options) {
  switch (options.structure) {
    case Structure::kNOfM:
      return std::to_string(options.n) + ":" + std::to_string(options.m);
    case Structure::kChannel:
      return "channel";
    default:
      return "unstructured";
  }
}

// Masks every layer with a positive target (UNSTRUCTURED, N:M).
void PruneMasks(const std::vector<PrunableWeight>& layers, std::vector<double>* targets,
                const PruneOptions& options, std::vector<std::string>* adjustments) {
  std::vector<bool> in_pool(layers.size(), false);
  for (size_t i = 0; i < layers.size(); ++i) {
    if ((*targets)[i] <= 0) continue;
    const std::string name = LayerName(layers[i]);
    Tensor weight = WritableWeight(layers[i]);
    if (options.structure == Structure::kNOfM) {
      (*targets)[i] = 1.0 - double(options.n) / options.m;
      if (!internal::ApplyNOfM(weight.data<float>(), weight.shape(), layers[i].in_axis, options.n,
                               options.m)) {
        adjustments->push_back(name + ": input-channel axis of " + layers[i].weight + " (" +
                               std::to_string(weight.dim(layers[i].in_axis)) +
                               ") is not divisible by " + std::to_string(options.m) +
                               "; left dense");
        (*targets)[i] = 0;
        continue;
      }
    } else if (options.global && !options.layer_sparsity.count(name)) {
      in_pool[i] = true;
      continue;
    } else {
      internal::ZeroSmallest(weight.data<float>(), weight.size(),
                             std::llround((*targets)[i] * double(weight.size())));
    }
    Store(layers[i], std::move(weight));
  }
  if (options.structure == Structure::kUnstructured && options.global) {
    PruneGlobal(layers, in_pool, options.target_sparsity);
  }
}

}  // namespace

StatusOr<PruneSummary> Prune(Model* model, const PruneOptions& options) {
  RETURN_IF_ERROR(internal::CheckOptions(options));
  ASSIGN_OR_RETURN(std::vector<PrunableWeight> layers, FindPrunableWeights(model));
  std::vector<double> targets = internal::LayerTargets(layers, options);
  std::vector<int64_t> elements;
  for (const PrunableWeight& layer : layers) {
    elements.push_back(layer.weight_graph->FindInitializer(layer.weight)->size());
  }
  PruneSummary summary;
  std::vector<int64_t> channels_removed(layers.size(), 0);
  if (options.structure == Structure::kChannel) {
    RETURN_IF_ERROR(
        internal::PruneChannels(model, layers, targets, &summary.adjustments, &channels_removed));
  } else {
    PruneMasks(layers, &targets, options, &summary.adjustments);
  }
  int64_t all_elements = 0, all_zeros = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    const Tensor& weight = *layers[i].weight_graph->FindInitializer(layers[i].weight);
    const float* w = weight.data<float>();
    const int64_t nonzero = std::count_if(w, w + weight.size(), [](float v) { return v != 0; });
    v1::LayerSparsity& entry = summary.layers.emplace_back();
    entry.set_node(LayerName(layers[i]));
    entry.set_weight(layers[i].weight);
    entry.set_elements(elements[i]);
    entry.set_zeros(elements[i] - nonzero);
    entry.set_sparsity(elements[i] > 0 ? double(entry.zeros()) / double(elements[i]) : 0.0);
    entry.set_structure(StructureName(options));
    entry.set_channels_removed(channels_removed[i]);
    entry.set_target(targets[i]);
    all_elements += elements[i];
    all_zeros += entry.zeros();
  }
  summary.overall = all_elements > 0 ? double(all_zeros) / double(all_elements) : 0.0;
  return summary;
}

}  // namespace shrink::engine::sparsity
