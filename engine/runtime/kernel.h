// The kernel interface. A kernel is created once per node (it may parse attributes and pre-pack
// constant weights there) and then computes the node's outputs from its inputs, many times.
// Kernels are not called concurrently; they parallelize inside Compute() with the pool.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "common/status.h"
#include "common/thread_pool.h"
#include "engine/ir/graph.h"
#include "engine/ir/tensor.h"

namespace shrink::engine {

struct KernelConfig {
  const Node& node;
  int64_t opset = 0;  // opset version of the node's domain in the model
  // Per input: the value when it is known before any run (initializer or constant), else null.
  std::vector<const Tensor*> constant_inputs;
  const ThreadPool* pool = nullptr;
  // Use the simple reference implementation instead of the fast path (the test oracle).
  bool reference = false;
};

// Runs a subgraph (If/Loop/Scan bodies) with the calling node's scope visible to it.
class SubgraphRunner {
 public:
  virtual ~SubgraphRunner() = default;
  // Binds `inputs` to body.inputs in order and returns body.outputs in order.
  virtual StatusOr<std::vector<Tensor>> Run(const Graph& body, const std::vector<Tensor>& inputs) = 0;
};

struct KernelContext {
  const Node& node;
  int64_t opset;
  std::vector<const Tensor*> inputs;  // one per node input; null for omitted optional inputs
  std::vector<Tensor>* outputs;       // one per node output; the kernel assigns them
  const ThreadPool& pool;
  SubgraphRunner* subgraphs = nullptr;  // set by the executor for nodes with subgraphs

  int num_inputs() const { return int(inputs.size()); }
  bool has_input(int i) const { return i < int(inputs.size()) && inputs[size_t(i)] != nullptr; }
  const Tensor& input(int i) const { return *inputs[size_t(i)]; }
  int num_outputs() const { return int(outputs->size()); }
  // Whether output i is consumed (its name is not empty); optional outputs can be skipped.
  bool wants_output(int i) const {
    return i < int(node.outputs.size()) && !node.outputs[size_t(i)].empty();
  }
  Tensor& output(int i) { return (*outputs)[size_t(i)]; }
};

class OpKernel {
 public:
  virtual ~OpKernel() = default;
  virtual Status Compute(KernelContext& context) = 0;
};

using KernelFactory = std::function<StatusOr<std::unique_ptr<OpKernel>>(const KernelConfig&)>;
using KernelFunction = Status (*)(KernelContext&);

class KernelRegistry {
 public:
  void Register(OpType op, KernelFactory factory);
  // For stateless kernels: a plain function, no per-node setup.
  void RegisterFunction(OpType op, KernelFunction function);
  const KernelFactory* Find(OpType op) const;
  bool Has(OpType op) const { return Find(op) != nullptr; }
  // Every built-in kernel (engine/kernels) plus control flow (engine/runtime).
  static const KernelRegistry& Default();

 private:
  std::vector<KernelFactory> factories_ = std::vector<KernelFactory>(size_t(OpType::kCount));
};

}  // namespace shrink::engine
