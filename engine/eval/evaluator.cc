#include "engine/eval/evaluator.h"

#include <dirent.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "common/file_util.h"
#include "common/sha256.h"
#include "engine/eval/metrics.h"
#include "engine/io/data_loader.h"
#include "engine/io/model_bundle.h"
#include "engine/io/onnx_import.h"
#include "engine/runtime/executor.h"

namespace shrink::engine::eval {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

class OurRunner : public ModelRunner {
 public:
  static StatusOr<std::unique_ptr<ModelRunner>> Create(const std::string& path, int threads) {
    ASSIGN_OR_RETURN(ModelBundle bundle, ModelBundle::Open(path));
    ASSIGN_OR_RETURN(Model model, LoadModel(bundle.model_path()));
    auto runner = std::unique_ptr<OurRunner>(new OurRunner(std::move(bundle)));
    runner->model_ = std::make_unique<Model>(std::move(model));
    ExecutorOptions options;
    options.threads = threads;
    ASSIGN_OR_RETURN(runner->executor_, Executor::Create(*runner->model_, options));
    for (const ValueInfo& info : runner->executor_->required_inputs()) {
      runner->input_names_.push_back(info.name);
    }
    for (const ValueInfo& info : runner->executor_->outputs()) {
      runner->output_names_.push_back(info.name);
    }
    return std::unique_ptr<ModelRunner>(std::move(runner));
  }

  StatusOr<std::vector<Tensor>> Run(const std::vector<NamedTensor>& feeds) override {
    return executor_->Run(feeds);
  }
  const std::vector<std::string>& output_names() const override { return output_names_; }
  const std::vector<std::string>& input_names() const override { return input_names_; }
  const std::vector<ValueInfo>& inputs() const override { return executor_->required_inputs(); }
  std::string name() const override { return "shrink"; }
  int threads() const override { return executor_->threads(); }

 private:
  explicit OurRunner(ModelBundle bundle) : bundle_(std::move(bundle)) {}
  ModelBundle bundle_;  // keeps an unpacked archive alive as long as the model
  std::unique_ptr<Model> model_;
  std::unique_ptr<Executor> executor_;
  std::vector<std::string> input_names_, output_names_;
};

// sha256 of a data file; for a directory, of its sorted "name sha256" lines.
StatusOr<std::string> DataSha256(const std::string& path) {
  if (!IsDirectory(path)) return Sha256OfFile(path);
  std::vector<std::string> names;
  if (DIR* dir = opendir(path.c_str())) {
    while (dirent* entry = readdir(dir)) {
      std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    closedir(dir);
  }
  std::sort(names.begin(), names.end());
  Sha256 hash;
  for (const std::string& name : names) {
    if (IsDirectory(JoinPath(path, name))) continue;
    ASSIGN_OR_RETURN(std::string file_hash, Sha256OfFile(JoinPath(path, name)));
    hash.Update(name + " " + file_hash + "\n");
  }
  return hash.HexDigest();
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "'" : ", '") + name + "'";
  return out.empty() ? "(none)" : out;
}

// Both models must take the same inputs and give the same outputs (by name; order may differ).
Status CheckSameInterface(const ModelRunner& candidate, const ModelRunner& reference,
                          const std::string& candidate_path, const std::string& reference_path) {
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  const std::string models =
      " (candidate " + candidate_path + ", reference " + reference_path + ")";
  if (sorted(candidate.output_names()) != sorted(reference.output_names())) {
    return InvalidArgument("the models have different outputs: candidate " +
                           Join(candidate.output_names()) + ", reference " +
                           Join(reference.output_names()) + models);
  }
  if (sorted(candidate.input_names()) != sorted(reference.input_names())) {
    return InvalidArgument("the models have different inputs: candidate " +
                           Join(candidate.input_names()) + ", reference " +
                           Join(reference.input_names()) + models);
  }
  return OkStatus();
}

// Keeps the first `rows` samples of a batch (inputs whose axis 0 is the batch axis).
Status TrimBatch(DataBatch* batch, int64_t rows) {
  for (NamedTensor& input : batch->inputs) {
    const Tensor& t = input.tensor;
    if (t.rank() == 0 || t.dim(0) != batch->samples || t.dtype() == DataType::kString) continue;
    Shape shape = t.shape();
    shape[0] = rows;
    ASSIGN_OR_RETURN(Tensor slice, Tensor::Allocate(t.dtype(), shape));
    std::memcpy(slice.raw_data(), t.raw_data(), slice.nbytes());
    input.tensor = std::move(slice);
  }
  if (batch->labels.defined() && batch->labels.rank() == 1 &&
      batch->labels.dim(0) == batch->samples) {
    Tensor labels(DataType::kInt64, {rows});
    std::memcpy(labels.raw_data(), batch->labels.raw_data(), labels.nbytes());
    batch->labels = std::move(labels);
  }
  batch->samples = rows;
  return OkStatus();
}

const ValueInfo* FindInput(const ModelRunner& runner, const std::string& name) {
  for (const ValueInfo& info : runner.inputs()) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

// One model under evaluation: its runner, carried state, and the time spent in Run.
struct Side {
  std::string role;  // "candidate" | "reference"
  std::string path;
  std::unique_ptr<ModelRunner> runner;
  std::map<std::string, Tensor> carried;  // state input -> this model's previous output
  double seconds = 0;
};

// The feeds for one model: the data's inputs plus state inputs (carried or zeros).
StatusOr<std::vector<NamedTensor>> FeedsFor(const Side& side, const DataBatch& batch,
                                            const EvalOptions& options, bool first) {
  std::vector<NamedTensor> feeds = batch.inputs;
  auto add_state = [&](const std::string& name, const Tensor* carried) -> Status {
    auto fed = std::find_if(feeds.begin(), feeds.end(),
                            [&](const NamedTensor& f) { return f.name == name; });
    if (fed != feeds.end() && (first || !carried)) return OkStatus();  // the data's value
    const ValueInfo* info = FindInput(*side.runner, name);
    if (!info) {
      return InvalidArgument("state input '" + name + "' is not an input of the " + side.role +
                             " model " + side.path);
    }
    ASSIGN_OR_RETURN(Tensor zeros, ZeroStateFor(*info, std::max<int64_t>(batch.samples, 1)));
    Tensor value = carried && carried->defined() && carried->shape() == zeros.shape() &&
                           carried->dtype() == zeros.dtype()
                       ? *carried
                       : std::move(zeros);
    if (fed != feeds.end()) {
      fed->tensor = std::move(value);
    } else {
      feeds.push_back({name, std::move(value)});
    }
    return OkStatus();
  };
  for (const auto& [input, output] : options.state_pairs) {
    auto it = side.carried.find(input);
    RETURN_IF_ERROR(add_state(input, it == side.carried.end() ? nullptr : &it->second));
  }
  for (const std::string& input : options.state_inputs) {
    bool paired = std::any_of(options.state_pairs.begin(), options.state_pairs.end(),
                              [&](const auto& pair) { return pair.first == input; });
    if (!paired) RETURN_IF_ERROR(add_state(input, nullptr));
  }
  return feeds;
}

// Runs one model on a batch; outputs come back keyed by name, state outputs are kept.
StatusOr<std::map<std::string, Tensor>> RunSide(Side* side, const DataBatch& batch,
                                                const EvalOptions& options, bool first) {
  ASSIGN_OR_RETURN(std::vector<NamedTensor> feeds, FeedsFor(*side, batch, options, first));
  auto start = Clock::now();
  StatusOr<std::vector<Tensor>> outputs = side->runner->Run(feeds);
  side->seconds += SecondsSince(start);
  if (!outputs.ok()) {
    return outputs.status().WithContext(side->role + " model " + side->path + " on " +
                                        batch.source);
  }
  const std::vector<std::string>& names = side->runner->output_names();
  if (outputs->size() != names.size()) {
    return Internal(side->role + " model " + side->path + " returned " +
                    std::to_string(outputs->size()) + " outputs, expected " +
                    std::to_string(names.size()));
  }
  std::map<std::string, Tensor> by_name;
  for (size_t i = 0; i < names.size(); ++i) by_name[names[i]] = std::move((*outputs)[i]);
  for (const auto& [input, output] : options.state_pairs) {
    auto it = by_name.find(output);
    if (it == by_name.end()) {
      return InvalidArgument("state pair {" + input + ", " + output + "}: '" + output +
                             "' is not an output of the " + side->role + " model " + side->path);
    }
    side->carried[input] = it->second;
  }
  return by_name;
}

// The output labels are scored on: a classifier output, the one named `logits` if several.
StatusOr<std::string> ScoredOutput(const std::vector<std::string>& names,
                                   const std::map<std::string, Tensor>& outputs, int64_t samples) {
  std::vector<std::string> classifiers;
  std::string shapes;
  for (const std::string& name : names) {
    const Tensor& value = outputs.at(name);
    if (IsClassifierShape(value, samples)) classifiers.push_back(name);
    shapes += (shapes.empty() ? "" : ", ") + name + " " + DataTypeName(value.dtype()) +
              ShapeToString(value.shape());
  }
  if (classifiers.empty()) {
    return InvalidArgument(
        "the data has labels but no model output is a classifier "
        "(floating point [N, C>=2] with N = " +
        std::to_string(samples) + "): " + shapes);
  }
  for (const std::string& name : classifiers) {
    if (name == "logits") return name;
  }
  return classifiers.front();
}

Status CheckLabels(const DataBatch& batch, bool expect_labels) {
  if (batch.labels.defined() != expect_labels) {
    return InvalidArgument(batch.source + ": `labels` present in some batches only");
  }
  if (expect_labels && (batch.labels.rank() != 1 || batch.labels.dim(0) != batch.samples)) {
    return InvalidArgument(batch.source + ": `labels` has shape " +
                           ShapeToString(batch.labels.shape()) + " but the batch has " +
                           std::to_string(batch.samples) + " samples (one label per sample)");
  }
  return OkStatus();
}

StatusOr<Side> OpenSide(const std::string& role, const std::string& path,
                        const RunnerFactory& runners) {
  if (!FileExists(path) && !IsDirectory(path)) {
    return NotFound(role + " model " + path + ": no such file or directory");
  }
  Side side;
  side.role = role;
  side.path = path;
  StatusOr<std::unique_ptr<ModelRunner>> runner = runners(path);
  if (!runner.ok()) return runner.status().WithContext(role + " model " + path);
  side.runner = std::move(*runner);
  return side;
}

// Metrics state across batches.
struct Accumulators {
  std::vector<OutputAccumulator> outputs;
  std::unique_ptr<AccuracyAccumulator> accuracy;
  bool labeled = false;
};

Status AccumulateBatch(const DataBatch& batch, const std::vector<std::string>& names,
                       const std::map<std::string, Tensor>& reference,
                       const std::map<std::string, Tensor>& candidate, int top_k, bool first,
                       Accumulators* acc) {
  if (first) {
    acc->labeled = batch.labels.defined();
    for (const std::string& name : names) acc->outputs.emplace_back(name);
    if (acc->labeled) {
      ASSIGN_OR_RETURN(std::string scored, ScoredOutput(names, reference, batch.samples));
      acc->accuracy = std::make_unique<AccuracyAccumulator>(scored, top_k);
    }
  }
  for (OutputAccumulator& output : acc->outputs) {
    Status added =
        output.Add(reference.at(output.output()), candidate.at(output.output()), batch.samples);
    if (!added.ok()) return added.WithContext(batch.source);
  }
  if (acc->accuracy) {
    const std::string& scored = acc->accuracy->output();
    Status added = acc->accuracy->Add(reference.at(scored), candidate.at(scored), batch.labels);
    if (!added.ok()) return added.WithContext(batch.source);
  }
  return OkStatus();
}

Status CheckDataPath(const std::string& data) {
  if (!FileExists(data) && !IsDirectory(data)) {
    return NotFound("data " + data + ": no such file or directory");
  }
  return OkStatus();
}

DataOptions ReaderOptions(int64_t batch_size, int64_t max_samples,
                          const std::vector<std::string>& state_inputs,
                          const std::vector<std::pair<std::string, std::string>>& pairs) {
  DataOptions data_options(std::max<int64_t>(1, batch_size));
  if (max_samples > 0) data_options.max_batch = std::min(data_options.max_batch, max_samples);
  data_options.optional_inputs = state_inputs;
  for (const auto& pair : pairs) data_options.optional_inputs.push_back(pair.first);
  return data_options;
}

}  // namespace

WorstOutput Worst(const v1::Evaluation& evaluation) {
  WorstOutput worst;
  for (const auto& output : evaluation.outputs()) {
    worst.sqnr_db = std::min(worst.sqnr_db, output.sqnr_db());
    if (output.classifier()) worst.agreement = std::min(worst.agreement, output.agreement());
  }
  return worst;
}

RunnerFactory OurRuntime(int threads) {
  return [threads](const std::string& path) { return OurRunner::Create(path, threads); };
}

StatusOr<v1::Evaluation> Evaluate(const std::string& candidate, const std::string& reference,
                                  const std::string& data, const RunnerFactory& runners,
                                  const EvalOptions& options) {
  const auto start = Clock::now();
  RETURN_IF_ERROR(CheckDataPath(data));
  ASSIGN_OR_RETURN(Side ref, OpenSide("reference", reference, runners));
  ASSIGN_OR_RETURN(Side cand, OpenSide("candidate", candidate, runners));
  RETURN_IF_ERROR(CheckSameInterface(*cand.runner, *ref.runner, candidate, reference));
  ASSIGN_OR_RETURN(std::unique_ptr<DataReader> reader,
                   DataReader::Open(data, ref.runner->inputs(),
                                    ReaderOptions(options.batch_size, options.max_samples,
                                                  options.state_inputs, options.state_pairs)));
  int64_t total = reader->num_samples();
  if (options.max_samples > 0) total = std::min(total, options.max_samples);

  v1::Evaluation evaluation;
  evaluation.set_runtime(ref.runner->name());
  evaluation.set_data(data);
  ASSIGN_OR_RETURN(std::string sha, DataSha256(data));
  evaluation.set_data_sha256(sha);
  Accumulators acc;
  int64_t samples = 0;
  DataBatch batch;
  for (bool first = true; samples < total; first = false) {
    ASSIGN_OR_RETURN(bool more, reader->Next(&batch));
    if (!more) break;
    if (samples + batch.samples > total) RETURN_IF_ERROR(TrimBatch(&batch, total - samples));
    RETURN_IF_ERROR(CheckLabels(batch, first ? batch.labels.defined() : acc.labeled));
    ASSIGN_OR_RETURN(auto ref_out, RunSide(&ref, batch, options, first));
    ASSIGN_OR_RETURN(auto cand_out, RunSide(&cand, batch, options, first));
    RETURN_IF_ERROR(AccumulateBatch(batch, ref.runner->output_names(), ref_out, cand_out,
                                    std::max(1, options.top_k), first, &acc));
    samples += batch.samples;
  }
  if (samples == 0) return InvalidArgument("data " + data + ": no samples");
  evaluation.set_samples(samples);
  if (acc.accuracy) *evaluation.mutable_accuracy() = acc.accuracy->Result();
  for (const OutputAccumulator& output : acc.outputs) *evaluation.add_outputs() = output.Result();
  evaluation.set_inference_seconds(ref.seconds + cand.seconds);
  evaluation.set_seconds(SecondsSince(start));
  return evaluation;
}

namespace {

bool HasDynamicBatch(const std::vector<ValueInfo>& inputs,
                     const std::vector<std::string>& state_inputs) {
  for (const ValueInfo& info : inputs) {
    if (std::count(state_inputs.begin(), state_inputs.end(), info.name)) continue;
    if (!info.type.has_shape || info.type.dims.empty()) continue;
    if (!info.type.dims[0].known()) return true;
  }
  return false;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Nearest rank: the smallest time with at least 90% of the runs at or below it.
double Percentile90(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t rank = size_t(std::ceil(0.9 * double(v.size())));
  return v[std::max<size_t>(rank, 1) - 1];
}

}  // namespace

StatusOr<v1::Latency> MeasureLatency(const std::string& model, const std::string& data,
                                     const RunnerFactory& runners, int runs,
                                     const LatencyOptions& options, std::string* batch_note) {
  RETURN_IF_ERROR(CheckDataPath(data));
  ASSIGN_OR_RETURN(Side side, OpenSide("model", model, runners));
  const bool dynamic = HasDynamicBatch(side.runner->inputs(), options.state_inputs);
  ASSIGN_OR_RETURN(std::unique_ptr<DataReader> reader,
                   DataReader::Open(data, side.runner->inputs(),
                                    ReaderOptions(dynamic ? 1 : 64, 0, options.state_inputs, {})));
  DataBatch batch;
  ASSIGN_OR_RETURN(bool got, reader->Next(&batch));
  if (!got) return InvalidArgument("data " + data + ": no samples");
  EvalOptions feed_options;
  feed_options.state_inputs = options.state_inputs;
  ASSIGN_OR_RETURN(std::vector<NamedTensor> feeds, FeedsFor(side, batch, feed_options, true));
  for (int i = 0; i < std::max(0, options.warmup_runs); ++i) {
    StatusOr<std::vector<Tensor>> out = side.runner->Run(feeds);
    if (!out.ok()) return out.status().WithContext("model " + model + " on " + batch.source);
  }
  std::vector<double> times_ms;
  for (int i = 0; i < std::max(1, runs); ++i) {
    auto start = Clock::now();
    StatusOr<std::vector<Tensor>> out = side.runner->Run(feeds);
    times_ms.push_back(1e3 * SecondsSince(start));
    if (!out.ok()) return out.status().WithContext("model " + model + " on " + batch.source);
  }
  v1::Latency latency;
  const std::string name = side.runner->name();
  latency.set_runtime(name.substr(0, name.find(' ')));
  latency.set_model(options.model_label);
  latency.set_threads(side.runner->threads());
  latency.set_runs(int32_t(times_ms.size()));
  latency.set_median_ms(Median(times_ms));
  latency.set_p90_ms(Percentile90(times_ms));
  if (batch_note) {
    *batch_note = std::to_string(batch.samples) + (batch.samples == 1 ? " sample" : " samples") +
                  " of " + batch.source +
                  (dynamic ? " (dynamic batch axis: batch 1)" : " (the model's fixed batch)");
  }
  return latency;
}

}  // namespace shrink::engine::eval
