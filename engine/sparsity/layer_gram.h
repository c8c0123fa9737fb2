// Input statistics of linear layers for least-squares analysis of their weights. For a layer
// with weight matrix W (K x O, see MatrixView) and input rows X (a Gemm/MatMul's input rows, a
// Conv's im2col patches at sampled output positions), the layer's output is X W + b, so for any
// weight change D the output change is X D and ||X D||^2 = trace(D^T G D) with G = X^T X. The
// Gram matrix, the row sum and the row count are all that pruning analysis and repair need,
// and they take K x K memory however many samples are seen.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/ir/graph.h"

namespace shrink::engine::sparsity {

struct LayerGram {
  Eigen::MatrixXd gram;  // K x K, symmetric
  Eigen::VectorXd sum;   // K: sum of the rows
  int64_t rows = 0;
};

struct GramOptions {
  int64_t max_samples = 256;  // samples of DATA seen (whole batches; the last may exceed it)
  int64_t max_batch = 64;     // batch bound for models with a dynamic batch axis
  int threads = 0;            // executor threads (0 = one per core)
  // Conv: output positions sampled per sample (evenly spaced, shifted per sample) to bound the
  // rows; Gemm/MatMul use every row.
  int64_t positions_per_sample = 64;
  // Gram matrices of more layers than fit are collected in several runs over the data.
  int64_t max_bytes = int64_t(1) << 30;
};

// Runs `model` (our runtime) on DATA (DataReader: .npy, .npz or a directory) and collects the
// statistics of the given main-graph nodes (Conv with groups = 1 and 1-D/2-D kernels, Gemm,
// MatMul with a 2-D weight), keyed by weight name. Unsupported nodes are errors.
StatusOr<std::map<std::string, LayerGram>> CollectGrams(const Model& model,
                                                        const std::vector<const Node*>& layers,
                                                        const std::string& data,
                                                        const GramOptions& options);

// The weight as a K x O matrix (the layout of ViewAsMatrix) and back.
StatusOr<Eigen::MatrixXd> WeightMatrix(const Node& node, const Tensor& weight);
StatusOr<Tensor> WeightTensor(const Node& node, const Tensor& like, const Eigen::MatrixXd& w);
// The bias per output (zeros when absent; a scalar bias broadcast), from the node's graph.
Eigen::VectorXd BiasVector(const Node& node, const Graph& graph, int64_t outputs);

// Squared output norms: sum over outputs o of ||X d_o||^2 for a weight change D, and of
// ||X w_o + b_o||^2 for weights W.
double ChangeEnergy(const LayerGram& stats, const Eigen::MatrixXd& change);
double OutputEnergy(const LayerGram& stats, const Eigen::MatrixXd& w, const Eigen::VectorXd& b);

}  // namespace shrink::engine::sparsity
