#include "engine/passes/prepare.h"

#include "engine/ir/graph_utils.h"
#include "engine/passes/constant_folding.h"
#include "engine/passes/fold_batch_norm.h"
#include "engine/passes/fold_fp16_casts.h"
#include "engine/passes/fuse_bias.h"
#include "engine/passes/pass_util.h"
#include "engine/passes/remove_identity.h"
#include "engine/passes/share_constants.h"

namespace shrink::engine {
namespace {

int CountConstantNodes(const Graph& graph) {
  int count = 0;
  for (const auto& node : graph.nodes) {
    if (node->op == OpType::kConstant) ++count;
    for (const Attribute& attribute : node->attributes) {
      if (attribute.g) count += CountConstantNodes(*attribute.g);
      for (const auto& sub : attribute.graphs) count += CountConstantNodes(*sub);
    }
  }
  return count;
}

void Record(PrepareReport* report, const char* name, int rewrites) {
  if (rewrites > 0) report->passes.push_back({name, rewrites});
}

Status RunFoldConstants(Model* model, PrepareReport* report) {
  int constants_before = CountConstantNodes(model->graph);
  ASSIGN_OR_RETURN(bool changed, FoldConstants(model));
  report->constant_nodes_folded += constants_before - CountConstantNodes(model->graph);
  Record(report, "fold_constants", changed ? 1 : 0);
  return OkStatus();
}

}  // namespace

int PrepareReport::Rewrites(const std::string& name) const {
  int total = 0;
  for (const PassRewrites& pass : passes) {
    if (pass.name == name) total += pass.rewrites;
  }
  return total;
}

StatusOr<PrepareReport> PrepareForQuantization(Model* model, const PrepareOptions& options) {
  PrepareReport report;
  if (options.fold_fp16_casts) {
    ASSIGN_OR_RETURN(report.casts_folded, FoldFp16Casts(model));
    Record(&report, "fold_fp16_casts", report.casts_folded);
  }
  if (options.fold_constants) RETURN_IF_ERROR(RunFoldConstants(model, &report));
  int structural = 0;  // rewrites that may expose new constant subexpressions
  if (options.remove_identity) {
    ASSIGN_OR_RETURN(int removed, RemoveIdentity(model));
    Record(&report, "remove_identity", removed);
    structural += removed;
  }
  // BN folding and bias fusion enable each other (Conv -> BN -> Add, ConvTranspose -> Add -> BN
  // as in ppocrv4_det): alternate until neither changes anything. Each round removes nodes, so
  // this ends; the bound only guards against a pass that would report work without doing it.
  for (int round = 0; round < 16; ++round) {
    int folded = 0, fused = 0;
    if (options.fold_batch_norm) {
      ASSIGN_OR_RETURN(folded, FoldBatchNorm(model));
      Record(&report, "fold_batch_norm", folded);
    }
    if (options.fuse_bias) {
      ASSIGN_OR_RETURN(fused, FuseBias(model));
      Record(&report, "fuse_bias", fused);
    }
    structural += folded + fused;
    if (folded + fused == 0) break;
  }
  if (options.fold_constants && structural > 0) {
    RETURN_IF_ERROR(RunFoldConstants(model, &report));
  }
  if (options.share_subgraph_constants) {
    ASSIGN_OR_RETURN(int shared, ShareSubgraphConstants(model));
    Record(&report, "share_subgraph_constants", shared);
  }
  if (options.eliminate_dead_nodes) {
    ASSIGN_OR_RETURN(int removed, ForEachGraphLevel(model, [](const Scope& scope) -> StatusOr<int> {
                       return EliminateDeadNodes(scope.graph());
                     }));
    Record(&report, "eliminate_dead_nodes", removed);
  }
  RETURN_IF_ERROR(ValidateGraph(model->graph).WithContext("after graph preparation"));
  return report;
}

}  // namespace shrink::engine
