// Post-training magnitude pruning of Conv, ConvTranspose, Gemm and MatMul weights (float32
// initializers, in the main graph and in subgraphs), no fine-tuning.
//
// Structures: UNSTRUCTURED (any weight may become zero; per layer or with one global magnitude
// threshold), N:M (in every group of M consecutive input channels the N largest stay) and
// CHANNEL (whole output channels are removed: the producer's weight and bias lose rows, the
// consumer's weight the matching inputs, so the shapes really shrink).
//
// Weight layouts (input-channel axis used by N:M): Conv W [O, I/g, k...] axis 1; ConvTranspose
// W [I, O/g, k...] axis 0; MatMul B [K, N] axis 0; Gemm B [K, N] axis 0 or [N, K] (transB)
// axis 1.
//
// Errors (InvalidArgument naming the value): a sparsity outside [0, 1) (target or per layer),
// N:M with N >= M, N < 1 or M < 2. Documented adjustments (strings in PruneSummary, the layer
// left dense or untouched): an input-channel axis not divisible by M; a CHANNEL layer whose
// consumers cannot be adjusted; a weight shared by several nodes (CHANNEL).
//
// Not thread safe on one model; weights are replaced by new tensors (buffers are never written
// in place), so clones of the model made before pruning are unaffected.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/ir/graph.h"
#include "shrink/v1/report.pb.h"

namespace shrink::engine::sparsity {

enum class Structure { kUnstructured, kNOfM, kChannel };

struct PruneOptions {
  double target_sparsity = 0.5;  // [0, 1); ignored by N:M (1 - N/M)
  Structure structure = Structure::kUnstructured;
  bool global = false;  // one magnitude threshold across layers (UNSTRUCTURED)
  int n = 2, m = 4;     // N of M along the input-channel axis
  std::set<std::string> exclude_nodes;
  bool keep_first_last = true;  // first and last weighted layers (topological order) stay dense
  // Per-node target overriding target_sparsity (UNSTRUCTURED and CHANNEL; exclusions still
  // apply). Keys are node names (the weight name for unnamed nodes).
  std::map<std::string, double> layer_sparsity;
};

struct PruneSummary {
  // One entry per prunable layer, dense ones included (target 0). `elements` is the weight's
  // element count before pruning and `zeros` counts zeros plus elements removed by CHANNEL
  // pruning (of this layer's outputs or, as a consumer, of its inputs).
  std::vector<v1::LayerSparsity> layers;
  double overall = 0;  // sum of zeros / sum of elements over all entries
  std::vector<std::string> adjustments;
};

StatusOr<PruneSummary> Prune(Model* model, const PruneOptions& options);

// Sensitivity-aware allocation: on the first batch of DATA (a .npy/.npz/directory as read by
// DataReader) our runtime runs the model once; for each prunable layer the relative output
// error ||X dW|| / ||X W + b|| of that layer alone is computed from its input Gram matrix at a
// few sparsities (magnitude masks of the chosen structure), and per-layer sparsities are
// assigned greedily by the smallest error increase per pruned weight, so that the
// weight-count-weighted mean over the layers Prune would prune equals target_sparsity.
// Layers whose error cannot be measured this way (ConvTranspose, grouped Conv, batched MatMul,
// subgraphs) get target_sparsity. Returns node name -> sparsity, to pass as layer_sparsity.
// N:M has a fixed sparsity: InvalidArgument.
StatusOr<std::map<std::string, double>> AllocateSparsity(const Model& model,
                                                         const std::string& data,
                                                         const PruneOptions& options, int threads);

}  // namespace shrink::engine::sparsity
