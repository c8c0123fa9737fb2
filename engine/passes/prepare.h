// The graph preparation stage that runs before quantization: makes weights visible as float32
// initializers and folds what quantization would otherwise have to treat as separate ops.
// Order: FoldFp16Casts, FoldConstants, RemoveIdentity, then FoldBatchNorm and FuseBias in turns
// until neither changes anything (each can enable the other), FoldConstants again if anything
// changed, ShareSubgraphConstants (folding inside subgraphs copies weights into each branch),
// dead-node elimination (every graph level), ValidateGraph.
// FoldFp16Casts runs before the first FoldConstants (which would fold those casts too) so that
// the report counts them; it handles casts of Constant nodes itself.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "engine/ir/graph.h"

namespace shrink::engine {

struct PrepareOptions {
  bool fold_fp16_casts = true;
  bool fold_constants = true;
  bool remove_identity = true;
  bool fold_batch_norm = true;
  bool fuse_bias = true;
  bool share_subgraph_constants = true;
  bool eliminate_dead_nodes = true;
};

struct PassRewrites {
  std::string name;  // "fold_fp16_casts", "fold_constants", "remove_identity", ...
  int rewrites = 0;
};

struct PrepareReport {
  // One entry per pass run that changed something, in run order (fold_batch_norm and fuse_bias
  // may appear several times). FoldConstants reports 1 per run that changed the model (it does
  // not count its rewrites); eliminate_dead_nodes counts nodes removed.
  std::vector<PassRewrites> passes;
  int casts_folded = 0;           // Cast nodes folded by fold_fp16_casts
  int constant_nodes_folded = 0;  // Constant nodes (all levels) turned into initializers
  // Rewrites of the named pass summed over its runs; 0 when it changed nothing.
  int Rewrites(const std::string& name) const;
};

// Rewrites the model in place. Fails (leaving the model partly rewritten) when a pass fails
// or when the result does not validate.
StatusOr<PrepareReport> PrepareForQuantization(Model* model, const PrepareOptions& options = {});

}  // namespace shrink::engine
