#include "engine/io/data_loader.h"

#include <dirent.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "common/file_util.h"
#include "engine/io/npy.h"

namespace shrink::engine {
namespace {

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

StatusOr<Tensor> SliceRows(const Tensor& tensor, int64_t begin, int64_t end) {
  Shape shape = tensor.shape();
  shape[0] = end - begin;
  ASSIGN_OR_RETURN(Tensor slice, Tensor::Allocate(tensor.dtype(), shape));
  int64_t row = tensor.dim(0) == 0 ? 0 : tensor.size() / tensor.dim(0);
  if (tensor.dtype() == DataType::kString) {
    for (int64_t i = 0; i < slice.size(); ++i) {
      slice.strings()[size_t(i)] = tensor.strings()[size_t(begin * row + i)];
    }
  } else if (slice.nbytes() > 0) {
    size_t element = DataTypeSize(tensor.dtype());
    std::memcpy(slice.raw_data(),
                static_cast<const char*>(tensor.raw_data()) + size_t(begin * row) * element,
                slice.nbytes());
  }
  return slice;
}

StatusOr<Tensor> LabelsAsInt64(const Tensor& labels, const std::string& what) {
  if (labels.dtype() == DataType::kInt64) return labels;
  if (IsFloatingPoint(labels.dtype()) || labels.dtype() == DataType::kString ||
      labels.dtype() == DataType::kBool) {
    return InvalidArgument(what + ": `labels` must be an integer array, got " +
                           DataTypeName(labels.dtype()));
  }
  ASSIGN_OR_RETURN(Tensor converted, Tensor::Allocate(DataType::kInt64, labels.shape()));
  for (int64_t i = 0; i < labels.size(); ++i) converted.data<int64_t>()[i] = labels.GetAsInt64(i);
  return converted;
}

// Maps arrays onto model inputs by name; `labels` is taken aside.
bool IsOptional(const std::string& name, const std::vector<std::string>& optional_inputs) {
  return std::find(optional_inputs.begin(), optional_inputs.end(), name) !=
         optional_inputs.end();
}

Status MatchArrays(std::vector<NamedTensor> arrays, const std::vector<ValueInfo>& model_inputs,
                   const std::vector<std::string>& optional_inputs, const std::string& what,
                   std::vector<NamedTensor>* inputs, Tensor* labels) {
  std::map<std::string, Tensor> by_name;
  for (auto& array : arrays) by_name[array.name] = std::move(array.tensor);
  std::string expected;
  for (const auto& input : model_inputs) expected += (expected.empty() ? "'" : ", '") + input.name + "'";
  for (const auto& input : model_inputs) {
    auto found = by_name.find(input.name);
    if (found == by_name.end()) {
      if (IsOptional(input.name, optional_inputs)) continue;
      return InvalidArgument(what + " has no array named '" + input.name +
                             "' (the model's inputs: " + expected + ")");
    }
    inputs->push_back({input.name, std::move(found->second)});
    by_name.erase(found);
  }
  auto found_labels = by_name.find("labels");
  if (found_labels != by_name.end()) {
    ASSIGN_OR_RETURN(*labels, LabelsAsInt64(found_labels->second, what));
    by_name.erase(found_labels);
  }
  if (!by_name.empty()) {
    return InvalidArgument(what + " has array '" + by_name.begin()->first +
                           "', which is not a model input (the model's inputs: " + expected +
                           "; `labels` is also accepted)");
  }
  return OkStatus();
}

// One .npy/.npz file: batched inputs are split along axis 0, the rest repeat in every batch.
class ArrayFileReader : public DataReader {
 public:
  ArrayFileReader(std::string what, std::vector<NamedTensor> inputs, Tensor labels,
                  std::vector<bool> batched, int64_t samples, int64_t batch)
      : what_(std::move(what)), inputs_(std::move(inputs)), labels_(std::move(labels)),
        batched_(std::move(batched)), samples_(samples), batch_(batch) {}

  StatusOr<bool> Next(DataBatch* out) override {
    if (position_ >= samples_) return false;
    int64_t begin = position_, end = std::min(samples_, position_ + batch_);
    out->inputs.clear();
    for (size_t i = 0; i < inputs_.size(); ++i) {
      if (!batched_[i]) {
        out->inputs.push_back(inputs_[i]);
        continue;
      }
      ASSIGN_OR_RETURN(Tensor slice, SliceRows(inputs_[i].tensor, begin, end));
      out->inputs.push_back({inputs_[i].name, std::move(slice)});
    }
    out->labels = Tensor();
    if (labels_.defined()) {
      ASSIGN_OR_RETURN(out->labels, SliceRows(labels_, begin, end));
    }
    out->samples = end - begin;
    out->source = what_ + "[" + std::to_string(begin) + ":" + std::to_string(end) + "]";
    position_ = end;
    return true;
  }
  int64_t num_batches() const override { return (samples_ + batch_ - 1) / batch_; }
  int64_t num_samples() const override { return samples_; }

 private:
  std::string what_;
  std::vector<NamedTensor> inputs_;
  Tensor labels_;
  std::vector<bool> batched_;
  int64_t samples_, batch_;
  int64_t position_ = 0;
};

StatusOr<std::unique_ptr<DataReader>> OpenArrays(const std::string& what,
                                                 std::vector<NamedTensor> inputs, Tensor labels,
                                                 const std::vector<ValueInfo>& model_inputs,
                                                 const DataOptions& options) {
  std::vector<bool> batched(inputs.size(), false);
  int64_t samples = -1, fixed_batch = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto info = std::find_if(model_inputs.begin(), model_inputs.end(),
                             [&](const ValueInfo& v) { return v.name == inputs[i].name; });
    if (info == model_inputs.end()) continue;
    const ValueType& type = info->type;
    const Tensor& array = inputs[i].tensor;
    if (!type.has_shape || type.dims.empty() || array.rank() != int(type.dims.size())) continue;
    const Dim& dim0 = type.dims[0];
    if (dim0.known() && (dim0.value == array.dim(0) || dim0.value == 0)) continue;
    if (dim0.known() && array.dim(0) % dim0.value != 0) {
      return InvalidArgument(what + ": array '" + inputs[i].name + "' has " +
                             std::to_string(array.dim(0)) + " rows, which do not divide into "
                             "the model's fixed batch of " + std::to_string(dim0.value));
    }
    if (dim0.known()) fixed_batch = dim0.value;
    if (samples >= 0 && samples != array.dim(0)) {
      return InvalidArgument(what + ": arrays disagree on the number of samples (" +
                             std::to_string(samples) + " vs " + std::to_string(array.dim(0)) +
                             " in '" + inputs[i].name + "')");
    }
    samples = array.dim(0);
    batched[i] = true;
  }
  int64_t batch = 0;
  if (samples < 0) {  // nothing to split: the whole file is one run
    samples = labels.defined() && labels.rank() >= 1 ? labels.dim(0) : 1;
    batch = std::max<int64_t>(samples, 1);
  } else {
    batch = fixed_batch > 0 ? fixed_batch : std::max<int64_t>(1, options.max_batch);
  }
  if (samples == 0) return InvalidArgument(what + " holds no samples (batch axis is empty)");
  if (labels.defined() && (labels.rank() != 1 || labels.dim(0) != samples)) {
    return InvalidArgument(what + ": `labels` has shape " + ShapeToString(labels.shape()) +
                           " but the data holds " + std::to_string(samples) + " samples");
  }
  return std::unique_ptr<DataReader>(new ArrayFileReader(what, std::move(inputs),
                                                         std::move(labels), std::move(batched),
                                                         samples, batch));
}

// A directory of .npz files: each file is fed as it is.
class DirectoryReader : public DataReader {
 public:
  DirectoryReader(std::vector<std::string> files, std::vector<ValueInfo> model_inputs,
                  std::vector<std::string> optional_inputs)
      : files_(std::move(files)), model_inputs_(std::move(model_inputs)),
        optional_inputs_(std::move(optional_inputs)) {}

  StatusOr<bool> Next(DataBatch* out) override {
    if (index_ >= files_.size()) return false;
    const std::string& path = files_[index_++];
    ASSIGN_OR_RETURN(std::vector<NamedTensor> arrays, ReadNpz(path));
    out->inputs.clear();
    out->labels = Tensor();
    RETURN_IF_ERROR(MatchArrays(std::move(arrays), model_inputs_, optional_inputs_, path,
                                &out->inputs, &out->labels));
    out->source = path;
    out->samples = out->labels.defined() && out->labels.rank() == 1 ? out->labels.dim(0) : 1;
    return true;
  }
  int64_t num_batches() const override { return int64_t(files_.size()); }
  int64_t num_samples() const override { return int64_t(files_.size()); }

 private:
  std::vector<std::string> files_;
  std::vector<ValueInfo> model_inputs_;
  std::vector<std::string> optional_inputs_;
  size_t index_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<DataReader>> DataReader::Open(const std::string& path,
                                                       const std::vector<ValueInfo>& model_inputs,
                                                       const DataOptions& options) {
  if (IsDirectory(path)) {
    std::vector<std::string> files;
    DIR* dir = opendir(path.c_str());
    if (!dir) return NotFound("cannot open data directory " + path);
    while (dirent* entry = readdir(dir)) {
      std::string name = entry->d_name;
      if (EndsWith(name, ".npz")) files.push_back(JoinPath(path, name));
    }
    closedir(dir);
    if (files.empty()) return InvalidArgument("data directory " + path + " holds no .npz files");
    std::sort(files.begin(), files.end());
    return std::unique_ptr<DataReader>(
        new DirectoryReader(std::move(files), model_inputs, options.optional_inputs));
  }
  if (!FileExists(path)) return NotFound("data file " + path + " not found");
  std::vector<NamedTensor> inputs;
  Tensor labels;
  if (EndsWith(path, ".npy")) {
    std::vector<const ValueInfo*> required;
    for (const auto& input : model_inputs) {
      if (!IsOptional(input.name, options.optional_inputs)) required.push_back(&input);
    }
    if (required.size() != 1) {
      std::string names;
      for (const auto* input : required) names += (names.empty() ? "'" : ", '") + input->name + "'";
      return InvalidArgument(path + ": a .npy file feeds a model with one input, but this model "
                             "has " + std::to_string(required.size()) + " (" + names +
                             "); use a .npz with one array per input");
    }
    ASSIGN_OR_RETURN(Tensor tensor, ReadNpy(path));
    inputs.push_back({required[0]->name, std::move(tensor)});
  } else if (EndsWith(path, ".npz")) {
    ASSIGN_OR_RETURN(std::vector<NamedTensor> arrays, ReadNpz(path));
    RETURN_IF_ERROR(MatchArrays(std::move(arrays), model_inputs, options.optional_inputs, path,
                                &inputs, &labels));
  } else {
    return InvalidArgument(path + ": data must be a .npy file, a .npz file or a directory of "
                           ".npz files");
  }
  return OpenArrays(path, std::move(inputs), std::move(labels), model_inputs, options);
}

StatusOr<Tensor> ConcatenateBatches(const std::vector<Tensor>& parts, const std::string& what) {
  if (parts.empty()) return InvalidArgument(what + ": nothing to concatenate");
  if (parts.size() == 1) return parts[0];
  const Tensor& first = parts[0];
  int64_t rows = 0;
  for (const Tensor& part : parts) {
    bool same = part.dtype() == first.dtype() && part.rank() == first.rank() && part.rank() > 0 &&
                std::equal(part.shape().begin() + 1, part.shape().end(), first.shape().begin() + 1);
    if (!same) {
      return InvalidArgument(what + ": batches have different shapes (" +
                             ShapeToString(first.shape()) + " vs " + ShapeToString(part.shape()) +
                             ") and cannot be stacked");
    }
    rows += part.dim(0);
  }
  Shape shape = first.shape();
  shape[0] = rows;
  ASSIGN_OR_RETURN(Tensor result, Tensor::Allocate(first.dtype(), shape));
  int64_t offset = 0;
  for (const Tensor& part : parts) {
    if (first.dtype() == DataType::kString) {
      for (int64_t i = 0; i < part.size(); ++i) result.strings()[size_t(offset + i)] = part.strings()[size_t(i)];
      offset += part.size();
    } else {
      std::memcpy(static_cast<char*>(result.raw_data()) + offset, part.raw_data(), part.nbytes());
      offset += int64_t(part.nbytes());
    }
  }
  return result;
}

StatusOr<Tensor> ZeroStateFor(const ValueInfo& input, int64_t batch) {
  if (!input.type.has_shape) {
    return InvalidArgument("state input '" + input.name +
                           "' has no shape in the model, so its first value cannot be made: "
                           "put it in the data");
  }
  Shape shape;
  for (const Dim& dim : input.type.dims) shape.push_back(dim.known() ? dim.value : batch);
  return Tensor::Allocate(input.type.elem_type, shape);
}

}  // namespace shrink::engine
