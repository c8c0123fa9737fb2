// Helpers for the quantizer tests: ranges observed by running a float model, running a model,
// and structural lookups in quantized graphs. Test-only.
#pragma once

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/ir/graph.h"
#include "engine/quant/quant_types.h"
#include "engine/runtime/executor.h"

namespace shrink::engine::quant::testing {

class RangeObserver : public TensorObserver {
 public:
  explicit RangeObserver(RangeMap* ranges) : ranges_(ranges) {}
  void OnNodeOutput(const Graph&, const Node& node, int output_index,
                    const Tensor& value) override {
    Observe(node.outputs[size_t(output_index)], value);
  }
  void Observe(const std::string& name, const Tensor& value) {
    if (value.dtype() != DataType::kFloat32 || value.size() == 0) return;
    auto [it, inserted] =
        ranges_->try_emplace(name, TensorRange{value.data<float>()[0], value.data<float>()[0]});
    for (int64_t i = 0; i < value.size(); ++i) {
      it->second.min = std::min(it->second.min, value.data<float>()[i]);
      it->second.max = std::max(it->second.max, value.data<float>()[i]);
    }
  }

 private:
  RangeMap* ranges_;
};

// Min/max of every float tensor (feeds included) over the given feed sets.
inline StatusOr<RangeMap> ObserveRanges(const Model& model,
                                        const std::vector<std::vector<NamedTensor>>& feed_sets) {
  RangeMap ranges;
  RangeObserver observer(&ranges);
  ASSIGN_OR_RETURN(auto executor, Executor::Create(model));
  for (const auto& feeds : feed_sets) {
    for (const auto& feed : feeds) observer.Observe(feed.name, feed.tensor);
    RunOptions options;
    options.observer = &observer;
    RETURN_IF_ERROR(executor->Run(feeds, options).status());
  }
  return ranges;
}

inline StatusOr<std::vector<Tensor>> RunModel(const Model& model,
                                              const std::vector<NamedTensor>& feeds) {
  ASSIGN_OR_RETURN(auto executor, Executor::Create(model));
  return executor->Run(feeds);
}

inline Tensor RandomTensor(Shape shape, uint32_t seed, float low, float high) {
  Tensor t(DataType::kFloat32, std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(low, high);
  for (int64_t i = 0; i < t.size(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

inline const Node* Producer(const Graph& graph, const std::string& name) {
  for (const auto& node : graph.nodes) {
    for (const auto& out : node->outputs) {
      if (out == name) return node.get();
    }
  }
  return nullptr;
}

inline std::vector<const Node*> NodesOf(const Graph& graph, OpType op) {
  std::vector<const Node*> found;
  for (const auto& node : graph.nodes) {
    if (node->op == op) found.push_back(node.get());
  }
  return found;
}

// The decision recorded for a node, or null.
inline const NodeDecision* Decision(const QuantSummary& summary, const std::string& node) {
  for (const auto& d : summary.decisions) {
    if (d.node == node) return &d;
  }
  return nullptr;
}

inline double MaxAbsDiff(const Tensor& a, const Tensor& b) {
  double worst = 0;
  for (int64_t i = 0; i < a.size() && i < b.size(); ++i) {
    worst = std::max(worst, std::fabs(double(a.data<float>()[i]) - double(b.data<float>()[i])));
  }
  return worst;
}

// Largest element of a float tensor (e.g. the coarsest per-channel scale).
inline double MaxValue(const Tensor& t) {
  double best = 0;
  for (int64_t i = 0; i < t.size(); ++i) best = std::max(best, double(t.data<float>()[i]));
  return best;
}

inline double MaxAbs(const Tensor& t) {
  double worst = 0;
  for (int64_t i = 0; i < t.size(); ++i)
    worst = std::max(worst, std::fabs(double(t.data<float>()[i])));
  return worst;
}

// Max-norm error bound of y = W x + b when the integer op sees x with error at most dx (input
// rounding included), W rounded with step s_w (largest channel), b with step s_b, y with s_out:
// |dy| <= A dx + K x_max s_w/2 + K dx s_w/2 + s_b/2 + s_out/2, where A is the largest L1 norm of
// an output channel's weights, K the fan-in and x_max = max |x| of the float input.
inline double LinearErrorBound(double row_l1, int64_t fan_in, double x_max, double dx, double s_w,
                               double s_b, double s_out) {
  return row_l1 * dx + double(fan_in) * x_max * s_w / 2 + double(fan_in) * dx * s_w / 2 + s_b / 2 +
         s_out / 2;
}

// Largest L1 norm over the slices of `w` along `axis` (one output channel each).
inline double MaxChannelL1(const Tensor& w, int axis) {
  int64_t outer = 1, channels = w.dim(axis), inner = 1;
  for (int i = 0; i < axis; ++i) outer *= w.dim(i);
  for (int i = axis + 1; i < w.rank(); ++i) inner *= w.dim(i);
  double best = 0;
  for (int64_t c = 0; c < channels; ++c) {
    double sum = 0;
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i)
        sum += std::fabs(w.data<float>()[(o * channels + c) * inner + i]);
    }
    best = std::max(best, sum);
  }
  return best;
}

}  // namespace shrink::engine::quant::testing
