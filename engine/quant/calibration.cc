#include "engine/quant/calibration.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "common/thread_pool.h"
#include "engine/quant/histogram.h"
#include "engine/runtime/executor.h"

namespace shrink::engine::quant {
namespace {

class MinMaxCollector : public RangeCollector {
 public:
  void Observe(const float* values, int64_t count) override {
    // Large tensors are scanned by the runtime's threads (the observer runs inside Run, where
    // the executor's pool is bound); each chunk keeps its own finite min/max.
    const ThreadPool* pool = ThreadPool::Current();
    constexpr int64_t kChunk = int64_t(1) << 16;
    if (pool == nullptr || pool->num_threads() < 2 || count < 4 * kChunk) {
      Merge(values, count);
      return;
    }
    const int64_t chunks = (count + kChunk - 1) / kChunk;
    std::vector<float> lows(size_t(chunks), 0), highs(size_t(chunks), 0);
    std::vector<char> found(size_t(chunks), 0);
    pool->ParallelFor(chunks, 1, [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        const int64_t offset = c * kChunk;
        found[size_t(c)] = FiniteMinMax(values + offset, std::min(kChunk, count - offset),
                                        &lows[size_t(c)], &highs[size_t(c)]);
      }
    });
    for (int64_t c = 0; c < chunks; ++c) {
      if (found[size_t(c)]) Update(lows[size_t(c)], highs[size_t(c)]);
    }
  }
  bool empty() const override { return empty_; }
  TensorRange Compute() const override { return range_; }

 private:
  void Merge(const float* values, int64_t count) {
    float lo = 0, hi = 0;
    if (FiniteMinMax(values, count, &lo, &hi)) Update(lo, hi);
  }
  void Update(float lo, float hi) {
    range_.min = empty_ ? lo : std::min(range_.min, lo);
    range_.max = empty_ ? hi : std::max(range_.max, hi);
    empty_ = false;
  }

  TensorRange range_;
  bool empty_ = true;
};

class HistogramCollector : public RangeCollector {
 public:
  explicit HistogramCollector(const CalibrationOptions& options)
      : options_(options), histogram_(options.histogram_bins, options.symmetric) {}
  void Observe(const float* values, int64_t count) override { histogram_.Add(values, count); }
  bool empty() const override { return histogram_.empty(); }
  TensorRange Compute() const override {
    int64_t levels = SearchLevels(options_.target_type, options_.symmetric);
    switch (options_.method) {
      case Calibrator::kPercentile:
        return PercentileRange(histogram_, options_.percentile);
      case Calibrator::kEntropy:
        return EntropyRange(histogram_, levels);
      case Calibrator::kMse:
        return MseRange(histogram_, levels);
      case Calibrator::kMinMax:
        break;
    }
    return {histogram_.data_min(), histogram_.data_max()};
  }

 private:
  CalibrationOptions options_;
  StreamingHistogram histogram_;
};

// Routes the tensors a run produces (and the feeds) to their collectors and keeps the outputs
// that feed the next run's state inputs. One hash lookup per node output; runs on the thread
// calling Executor::Run.
class CalibrationObserver : public TensorObserver {
 public:
  CalibrationObserver(const std::vector<std::string>& tensors, const CalibrationOptions& options)
      : states_(options.state_pairs.size()) {
    for (size_t i = 0; i < tensors.size(); ++i) {
      if (slots_[tensors[i]].collector >= 0) continue;  // asked twice: one collector
      slots_[tensors[i]].collector = int(collectors_.size());
      collectors_.push_back(MakeRangeCollector(options));
      collector_names_.push_back(tensors[i]);
    }
    for (size_t i = 0; i < options.state_pairs.size(); ++i) {
      slots_[options.state_pairs[i].output].state = int(i);
    }
  }

  void OnNodeOutput(const Graph&, const Node& node, int output_index,
                    const Tensor& value) override {
    Observe(node.outputs[size_t(output_index)], value);
  }

  void Observe(const std::string& name, const Tensor& value) {
    auto found = slots_.find(name);
    if (found == slots_.end()) return;
    const Slot& slot = found->second;
    if (slot.collector >= 0 && value.dtype() == DataType::kFloat32 && value.size() > 0) {
      collectors_[size_t(slot.collector)]->Observe(value.data<float>(), value.size());
    }
    // The executor may reuse the buffer after the call: keep a copy of the (small) state.
    if (slot.state >= 0) states_[size_t(slot.state)] = value.Clone();
  }

  Tensor TakeState(size_t pair) { return std::move(states_[pair]); }

  // Searches run in parallel over tensors (entropy costs ~1 ms per tensor); Compute() only
  // reads its collector.
  RangeMap Ranges(int threads, std::vector<std::string>* unobserved) const {
    std::vector<TensorRange> computed(collectors_.size());
    ThreadPool pool(threads);
    pool.ParallelFor(int64_t(collectors_.size()), 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        if (!collectors_[size_t(i)]->empty())
          computed[size_t(i)] = collectors_[size_t(i)]->Compute();
      }
    });
    RangeMap ranges;
    for (size_t i = 0; i < collectors_.size(); ++i) {
      if (collectors_[i]->empty()) {
        unobserved->push_back(collector_names_[i]);
      } else {
        ranges[collector_names_[i]] = computed[i];
      }
    }
    return ranges;
  }

 private:
  struct Slot {
    int collector = -1;
    int state = -1;
  };
  std::unordered_map<std::string, Slot> slots_;
  std::vector<std::unique_ptr<RangeCollector>> collectors_;
  std::vector<std::string> collector_names_;
  std::vector<Tensor> states_;
};

// Keeps the first `rows` samples of a batch (inputs whose axis 0 is the batch axis).
Status TrimBatch(DataBatch* batch, int64_t rows, const CalibrationOptions& options) {
  for (NamedTensor& input : batch->inputs) {
    bool is_state = std::any_of(options.state_pairs.begin(), options.state_pairs.end(),
                                [&](const auto& pair) { return pair.input == input.name; });
    const Tensor& t = input.tensor;
    if (is_state || t.rank() == 0 || t.dim(0) != batch->samples) continue;
    Shape shape = t.shape();
    shape[0] = rows;
    ASSIGN_OR_RETURN(Tensor slice, Tensor::Allocate(t.dtype(), shape));
    if (t.dtype() == DataType::kString) {
      std::copy_n(t.strings().begin(), slice.size(), slice.strings().begin());
    } else {
      std::memcpy(slice.raw_data(), t.raw_data(), slice.nbytes());
    }
    input.tensor = std::move(slice);
  }
  batch->samples = rows;
  return OkStatus();
}

// Feeds each state input: the data's value on the first run, then the previous run's output
// (zeros when there is neither, or when the batch size changed the state's shape).
Status FeedStates(const CalibrationOptions& options, const std::vector<ValueInfo>& model_inputs,
                  bool first_run, CalibrationObserver* observer, DataBatch* batch) {
  for (size_t i = 0; i < options.state_pairs.size(); ++i) {
    const std::string& name = options.state_pairs[i].input;
    auto info = std::find_if(model_inputs.begin(), model_inputs.end(),
                             [&](const ValueInfo& v) { return v.name == name; });
    auto fed = std::find_if(batch->inputs.begin(), batch->inputs.end(),
                            [&](const NamedTensor& t) { return t.name == name; });
    Tensor carried = observer->TakeState(i);
    if (first_run && fed != batch->inputs.end()) continue;
    ASSIGN_OR_RETURN(Tensor zeros, ZeroStateFor(*info, std::max<int64_t>(batch->samples, 1)));
    Tensor value =
        carried.defined() && carried.shape() == zeros.shape() && carried.dtype() == zeros.dtype()
            ? std::move(carried)
            : std::move(zeros);
    if (fed != batch->inputs.end()) {
      fed->tensor = std::move(value);
    } else {
      batch->inputs.push_back({name, std::move(value)});
    }
  }
  return OkStatus();
}

Status CheckStatePairs(const Model& model, const CalibrationOptions& options,
                       const std::vector<ValueInfo>& model_inputs) {
  for (const auto& pair : options.state_pairs) {
    bool found = std::any_of(model_inputs.begin(), model_inputs.end(),
                             [&](const ValueInfo& v) { return v.name == pair.input; });
    if (!found) {
      return InvalidArgument("calibration state pair {" + pair.input + ", " + pair.output + "}: '" +
                             pair.input + "' is not an input of model graph '" + model.graph.name +
                             "'");
    }
    bool produced =
        std::any_of(model.graph.nodes.begin(), model.graph.nodes.end(), [&](const auto& node) {
          return std::count(node->outputs.begin(), node->outputs.end(), pair.output) > 0;
        });
    if (!produced) {
      return InvalidArgument("calibration state pair {" + pair.input + ", " + pair.output +
                             "}: no node of model graph '" + model.graph.name + "' produces '" +
                             pair.output + "'");
    }
  }
  return OkStatus();
}

}  // namespace

const char* CalibratorName(Calibrator calibrator) {
  switch (calibrator) {
    case Calibrator::kMinMax:
      return "minmax";
    case Calibrator::kPercentile:
      return "percentile";
    case Calibrator::kEntropy:
      return "entropy";
    case Calibrator::kMse:
      return "mse";
  }
  return "unknown";
}

std::unique_ptr<RangeCollector> MakeRangeCollector(const CalibrationOptions& options) {
  if (options.method == Calibrator::kMinMax) return std::make_unique<MinMaxCollector>();
  return std::make_unique<HistogramCollector>(options);
}

StatusOr<RangeMap> Calibrate(const Model& model, const std::vector<std::string>& tensors,
                             const std::string& data_path, const CalibrationOptions& options,
                             const ProgressFn& progress, const std::atomic<bool>* cancel,
                             CalibrationStats* stats) {
  auto start = std::chrono::steady_clock::now();
  CalibrationStats local_stats;
  if (!stats) stats = &local_stats;
  *stats = CalibrationStats();
  ExecutorOptions executor_options;
  executor_options.threads = options.threads;
  ASSIGN_OR_RETURN(std::unique_ptr<Executor> executor, Executor::Create(model, executor_options));
  const std::vector<ValueInfo>& model_inputs = executor->required_inputs();
  RETURN_IF_ERROR(CheckStatePairs(model, options, model_inputs));

  DataOptions data_options;
  data_options.max_batch = std::max<int64_t>(1, options.batch_size);
  if (options.max_samples > 0) {
    data_options.max_batch = std::min(data_options.max_batch, options.max_samples);
  }
  for (const auto& pair : options.state_pairs) data_options.optional_inputs.push_back(pair.input);
  ASSIGN_OR_RETURN(std::unique_ptr<DataReader> reader,
                   DataReader::Open(data_path, model_inputs, data_options));
  int64_t total = reader->num_samples();
  if (options.max_samples > 0) total = std::min(total, options.max_samples);

  CalibrationObserver observer(tensors, options);
  RunOptions run_options;
  run_options.observer = &observer;
  run_options.cancel = cancel;
  DataBatch batch;
  while (stats->samples < total) {
    if (cancel && cancel->load()) break;
    ASSIGN_OR_RETURN(bool more, reader->Next(&batch));
    if (!more) break;
    if (stats->samples + batch.samples > total) {
      RETURN_IF_ERROR(TrimBatch(&batch, total - stats->samples, options));
    }
    RETURN_IF_ERROR(FeedStates(options, model_inputs, stats->batches == 0, &observer, &batch));
    for (const NamedTensor& feed : batch.inputs) observer.Observe(feed.name, feed.tensor);
    StatusOr<std::vector<Tensor>> outputs = executor->Run(batch.inputs, run_options);
    if (!outputs.ok() && outputs.status().code() != StatusCode::kCancelled) {
      return outputs.status().WithContext("calibration on " + batch.source);
    }
    if (!outputs.ok()) break;
    stats->samples += batch.samples;
    ++stats->batches;
    if (progress) {
      progress(double(stats->samples) / double(std::max<int64_t>(total, 1)),
               "calibration: " + std::to_string(stats->samples) + " of " + std::to_string(total) +
                   " samples");
    }
  }
  stats->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (cancel && cancel->load()) {
    return Cancelled("calibration cancelled after " + std::to_string(stats->samples) + " of " +
                     std::to_string(total) + " samples");
  }
  RangeMap ranges = observer.Ranges(executor->threads(), &stats->unobserved);
  stats->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return ranges;
}

}  // namespace shrink::engine::quant
