// The weights that pruning works on: which nodes carry a prunable weight (Conv, ConvTranspose,
// Gemm, MatMul with a float32 initializer weight) and how its axes map to input and output
// channels. Shared by pruning, sensitivity-aware allocation and repair.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/ir/graph.h"

namespace shrink::engine::sparsity {

struct PrunableWeight {
  Node* node = nullptr;
  Graph* node_graph = nullptr;    // the graph holding the node
  Graph* weight_graph = nullptr;  // the graph holding the initializer (an enclosing scope)
  std::string weight;             // initializer name
  int in_axis = 1;                // input-channel axis of the weight
  int out_axis = 0;               // output-channel axis
  bool main_graph = true;         // node and weight are in the main graph
  int uses = 1;                   // nodes of any kind reading the weight (shared weights > 1)
};

// Layers in the main graph's topological order, a subgraph's layers at its parent node's
// position. A weight read by several layers is listed once (its first reader) with uses > 1.
StatusOr<std::vector<PrunableWeight>> FindPrunableWeights(Model* model);

// The weight of a Conv (groups = 1), Gemm or MatMul seen as a K x O matrix, K the inputs of one
// output (for Conv: input channel x kernel positions, in the tensor's order) and O the outputs.
struct MatrixView {
  int64_t k = 0;
  int64_t o = 0;
  bool o_major = true;  // element (k, o) at o * K + k (Conv, Gemm transB), else at k * O + o
  int64_t Index(int64_t row, int64_t col) const { return o_major ? col * k + row : row * o + col; }
};
// Fails (Unimplemented) for ConvTranspose, grouped Conv and batched MatMul weights.
StatusOr<MatrixView> ViewAsMatrix(const Node& node, const Tensor& weight);

// Node name, or the weight name when the node has none: the key of per-layer options.
std::string LayerName(const PrunableWeight& layer);

}  // namespace shrink::engine::sparsity
