#include "engine/eval/sensitivity.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>

#include "engine/io/data_loader.h"
#include "engine/ir/graph_utils.h"
#include "engine/runtime/executor.h"

namespace shrink::engine::eval {
namespace {

constexpr double kNoErrorDb = 999;  // SQNR of identical tensors
// Above this SQNR a tensor counts as exact: int8 grids sit at 40-50 dB, so error beyond 60 dB
// (e.g. an input on its own uint8 grid) must not make the next node look lossy.
constexpr double kCleanDb = 60;

// The reference model's float activations of one batch, kept by tensor name.
class Capture : public TensorObserver {
 public:
  Capture(const Graph& main, int64_t max_bytes) : main_(main), budget_(max_bytes) {}
  void OnNodeOutput(const Graph& scope, const Node& node, int index,
                    const Tensor& value) override {
    if (&scope != &main_ || index != 0 || value.dtype() != DataType::kFloat32) return;
    if (int64_t(value.nbytes()) > budget_) return;
    budget_ -= int64_t(value.nbytes());
    values[node.name] = value;
  }
  std::map<std::string, Tensor> values;  // by node name: its first output

 private:
  const Graph& main_;
  int64_t budget_;
};

struct ErrorStats {
  double signal = 0;
  double noise = 0;
  int64_t count = 0;
  double SqnrDb() const { return noise > 0 ? 10 * std::log10(signal / noise) : kNoErrorDb; }
  double Rmse() const { return count > 0 ? std::sqrt(noise / double(count)) : 0; }
};

// Compares the candidate's float activations with the captured reference as they are produced.
class Compare : public TensorObserver {
 public:
  Compare(const Graph& main, const std::map<std::string, Tensor>& reference)
      : main_(main), reference_(reference) {}
  void OnNodeOutput(const Graph& scope, const Node& node, int index,
                    const Tensor& value) override {
    if (&scope != &main_ || index != 0 || value.dtype() != DataType::kFloat32) return;
    auto found = reference_.find(node.name);
    if (found == reference_.end() || found->second.shape() != value.shape()) return;
    ErrorStats& stats = errors[node.name];
    tensors[node.name] = node.outputs[0];
    const float* ref = found->second.data<float>();
    const float* got = value.data<float>();
    for (int64_t i = 0; i < value.size(); ++i) {
      const double r = ref[i], d = double(ref[i]) - double(got[i]);
      stats.signal += r * r;
      stats.noise += d * d;
    }
    stats.count += value.size();
  }
  std::map<std::string, ErrorStats> errors;    // by node name
  std::map<std::string, std::string> tensors;  // node name -> its output in the candidate

 private:
  const Graph& main_;
  const std::map<std::string, Tensor>& reference_;
};

// The quantization step of each tensor the candidate quantizes (scalar scales only).
std::map<std::string, double> OutputScales(const Graph& graph) {
  std::map<std::string, double> scales;
  for (const auto& owned : graph.nodes) {
    const Node& node = *owned;
    if (node.op != OpType::kQuantizeLinear || node.inputs.size() < 2) continue;
    const Tensor* scale = graph.FindInitializer(node.inputs[1]);
    if (scale && scale->size() == 1 && scale->dtype() == DataType::kFloat32) {
      scales[node.inputs[0]] = scale->data<float>()[0];
    }
  }
  return scales;
}

StatusOr<DataBatch> FirstBatch(const Model& model, const std::string& data,
                               const SensitivityOptions& options) {
  DataOptions data_options{std::max<int64_t>(1, options.max_samples)};
  data_options.optional_inputs = options.state_inputs;
  std::vector<ValueInfo> inputs = RequiredInputs(model.graph);
  ASSIGN_OR_RETURN(auto reader, DataReader::Open(data, inputs, data_options));
  DataBatch batch;
  ASSIGN_OR_RETURN(bool any, reader->Next(&batch));
  if (!any) return InvalidArgument(data + ": no samples to compare the models on");
  for (const ValueInfo& input : inputs) {
    bool fed = std::any_of(batch.inputs.begin(), batch.inputs.end(),
                           [&](const NamedTensor& t) { return t.name == input.name; });
    if (fed) continue;
    ASSIGN_OR_RETURN(Tensor zeros, ZeroStateFor(input, batch.samples));
    batch.inputs.push_back({input.name, zeros});
  }
  return batch;
}

}  // namespace

StatusOr<std::vector<v1::LayerSensitivity>> RankLayerSensitivity(
    const Model& reference, const Model& candidate, const std::string& data,
    const std::set<std::string>& nodes, const SensitivityOptions& options) {
  ASSIGN_OR_RETURN(DataBatch batch, FirstBatch(reference, data, options));
  ExecutorOptions executor_options;
  executor_options.threads = options.threads;
  Capture capture(reference.graph, options.max_capture_bytes);
  {
    ASSIGN_OR_RETURN(auto executor, Executor::Create(reference, executor_options));
    RunOptions run;
    run.observer = &capture;
    RETURN_IF_ERROR(executor->Run(batch.inputs, run).status().WithContext("float model"));
  }
  Compare compare(candidate.graph, capture.values);
  {
    ASSIGN_OR_RETURN(auto executor, Executor::Create(candidate, executor_options));
    RunOptions run;
    run.observer = &compare;
    RETURN_IF_ERROR(executor->Run(batch.inputs, run).status().WithContext("optimized model"));
  }
  const std::map<std::string, double> scales = OutputScales(candidate.graph);
  std::map<std::string, const Node*> producers;  // reference tensor -> node
  for (const auto& owned : reference.graph.nodes) {
    for (const std::string& output : owned->outputs) producers[output] = owned.get();
  }
  // The SQNR a reference tensor arrives with in the candidate: that of the nearest producer
  // both models run (nodes the candidate folded away, like an absorbed Relu, pass it on).
  std::function<double(const std::string&, int)> arriving = [&](const std::string& tensor,
                                                                 int depth) {
    auto producer = producers.find(tensor);
    if (producer == producers.end() || depth > 8) return kNoErrorDb;  // input or weight
    auto stats = compare.errors.find(producer->second->name);
    if (stats != compare.errors.end()) return stats->second.SqnrDb();
    double worst = kNoErrorDb;
    for (const std::string& input : producer->second->inputs) {
      if (!input.empty()) worst = std::min(worst, arriving(input, depth + 1));
    }
    return worst;
  };
  std::vector<v1::LayerSensitivity> ranked;
  for (const auto& owned : reference.graph.nodes) {
    const Node& node = *owned;
    if (!nodes.empty() && !nodes.count(node.name)) continue;
    auto out = compare.errors.find(node.name);
    if (out == compare.errors.end()) continue;
    double input_db = kNoErrorDb;
    for (const std::string& input : node.inputs) {
      if (!input.empty()) input_db = std::min(input_db, arriving(input, 0));
    }
    const std::string& tensor = compare.tensors[node.name];
    v1::LayerSensitivity layer;
    layer.set_node(node.name);
    layer.set_op_type(node.op_type);
    layer.set_tensor(tensor);
    layer.set_rmse(out->second.Rmse());
    auto scale = scales.find(tensor);
    if (scale != scales.end() && scale->second > 0) {
      layer.set_rmse_over_scale(out->second.Rmse() / scale->second);
    }
    layer.set_sqnr_db(out->second.SqnrDb());
    layer.set_added_db(std::max(0.0, std::min(input_db, kCleanDb) - out->second.SqnrDb()));
    ranked.push_back(layer);
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    if (a.added_db() != b.added_db()) return a.added_db() > b.added_db();
    return a.sqnr_db() < b.sqnr_db();
  });
  for (size_t i = 0; i < ranked.size(); ++i) ranked[i].set_rank(int32_t(i + 1));
  return ranked;
}

}  // namespace shrink::engine::eval
