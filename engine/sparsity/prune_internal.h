// Internals shared by prune.cc, channel_prune.cc and allocate.cc (not a public API).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "engine/sparsity/prune.h"
#include "engine/sparsity/weights.h"

namespace shrink::engine::sparsity::internal {

Status CheckOptions(const PruneOptions& options);
// The sparsity asked of each layer: 0 for layers left dense (excluded, first/last), else the
// per-layer override or target_sparsity.
std::vector<double> LayerTargets(const std::vector<PrunableWeight>& layers,
                                 const PruneOptions& options);
// Zeroes the `count` smallest-magnitude elements of `values` (ties by index).
void ZeroSmallest(float* values, int64_t size, int64_t count);
// Keeps the n largest of every m consecutive elements along `axis`; false when the axis length
// is not divisible by m (values untouched).
bool ApplyNOfM(float* values, const Shape& shape, int axis, int n, int m);
// CHANNEL pruning of every layer with a positive target; appends adjustments.
Status PruneChannels(Model* model, const std::vector<PrunableWeight>& layers,
                     const std::vector<double>& targets, std::vector<std::string>* adjustments,
                     std::vector<int64_t>* channels_removed);

}  // namespace shrink::engine::sparsity::internal
