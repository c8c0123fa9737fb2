// Post-training repair of pruned layers (OBS-style least squares, layer by layer). The ORIGINAL
// float model runs on DATA; for every pruned layer the Gram matrix G = X^T X of its inputs is
// collected (layer_gram.h), and each output channel's remaining (nonzero) weights w_S are refit
// to reproduce the float layer's output without its bias, X w (the bias is unchanged):
//   minimize ||X_S w_S - X w||^2 + lambda ||w_S||^2  =>  (G_SS + lambda I) w_S = G_S: w
// with lambda = ridge * trace(G_SS) / |S| (relative, so it does not depend on the input scale;
// it keeps the solve stable when inputs are collinear or constant, e.g. zero padding or dead
// ReLUs). Zeros stay zero. A layer is never made worse: when the refit's relative output error
// is not lower, the pruned weights are kept.
//
// Supported: main-graph Conv (groups = 1, 1-D/2-D), Gemm and MatMul (2-D weight) whose pruned
// weight has the original's shape. Others (CHANNEL-pruned shapes, ConvTranspose, subgraphs)
// are left as they are with repair_error_before/after unset (0).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/ir/graph.h"
#include "shrink/v1/report.pb.h"

namespace shrink::engine::sparsity {

struct RepairOptions {
  int64_t max_samples = 256;  // samples of DATA the statistics are taken on
  int threads = 0;            // 0 = one per core
  double ridge = 1e-3;        // relative ridge term (see above)
};

// `layers`: the entries Prune returned for `pruned` (matched by weight name); layers with zeros
// are repaired and get repair_error_before/after (relative output error ||X (W' - W)|| /
// ||X W + b|| of the layer on the same data, before and after the refit).
Status RepairPrunedLayers(Model* pruned, const Model& original, const std::string& data,
                          const RepairOptions& options, std::vector<v1::LayerSparsity>* layers);

}  // namespace shrink::engine::sparsity
