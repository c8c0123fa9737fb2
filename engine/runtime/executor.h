// Executes a model's graph on the CPU with the built-in kernels. The executor is built once per
// model (kernels created, weights pre-packed, Constant nodes evaluated) and run many times.
// Intermediate tensors are freed after their last use, so memory stays at the live set.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "common/thread_pool.h"
#include "engine/ir/graph.h"
#include "engine/ir/tensor.h"

namespace shrink::engine {

// Sees every intermediate tensor of a run as it is produced (calibration, debugging). The tensor
// is only valid during the call: copy what must be kept. Called from the thread that calls Run.
class TensorObserver {
 public:
  virtual ~TensorObserver() = default;
  // `scope` is the graph holding `node` (the main graph or a subgraph).
  virtual void OnNodeOutput(const Graph& scope, const Node& node, int output_index,
                            const Tensor& value) = 0;
};

struct ExecutorOptions {
  int threads = 0;                 // 0 = one per core
  bool reference_kernels = false;  // run the simple reference kernels (test oracle)
};

struct PlanBuilder;

// Time spent per node during runs (accumulates over runs).
struct NodeProfile {
  struct Entry {
    const Node* node = nullptr;
    double seconds = 0;
    int64_t calls = 0;
  };
  std::vector<Entry> entries;  // in first-execution order
  std::unordered_map<const Node*, size_t> index;
  void Add(const Node* node, double seconds);
};

struct RunOptions {
  TensorObserver* observer = nullptr;
  NodeProfile* profile = nullptr;
  const std::atomic<bool>* cancel = nullptr;  // checked between nodes
};

class Executor {
 public:
  struct Plan;  // internal
  // The model must outlive the executor. Fails when an op has no kernel (naming every such op)
  // or when a kernel rejects its attributes.
  static StatusOr<std::unique_ptr<Executor>> Create(const Model& model,
                                                    const ExecutorOptions& options = {});
  ~Executor();

  // Feeds are matched to graph inputs by name; dtypes and static dims are checked, and symbolic
  // dims must bind consistently. Returns the graph outputs in order.
  StatusOr<std::vector<Tensor>> Run(const std::vector<NamedTensor>& feeds,
                                    const RunOptions& run_options = {});

  // Graph inputs that must be fed (those without an initializer).
  const std::vector<ValueInfo>& required_inputs() const { return required_inputs_; }
  const std::vector<ValueInfo>& outputs() const;
  int threads() const { return pool_.num_threads(); }

 private:
  class Frame;
  friend struct PlanBuilder;
  Executor(const Model& model, const ExecutorOptions& options);

  const Model& model_;
  ExecutorOptions options_;
  ThreadPool pool_;
  std::unique_ptr<Plan> main_plan_;
  std::vector<ValueInfo> required_inputs_;
};

}  // namespace shrink::engine
