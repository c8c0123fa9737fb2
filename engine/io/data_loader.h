// Reads DATA for a model (the CLI's data format, see design.md): a .npy file (the model's single
// input, batch on axis 0), a .npz file with one array per model input plus optional `labels`, or
// a directory of .npz files (one sample or batch each; shapes may differ between files).
// Arrays are handed out in batches the model can take, so memory stays bounded.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/ir/graph.h"
#include "engine/ir/tensor.h"

namespace shrink::engine {

struct DataBatch {
  std::vector<NamedTensor> inputs;  // one per model input that the data provides
  Tensor labels;                    // undefined when the data has no labels
  std::string source;               // "data.npz[0:64]" or "dir/sample3.npz", for messages
  int64_t samples = 0;              // batch size (1 for unbatched samples)
};

struct DataOptions {
  // `DataOptions{1}` sets the batch bound and keeps every other default.
  DataOptions(int64_t batch_bound = 64) : max_batch(batch_bound) {}  // NOLINT: brace init
  int64_t max_batch = 64;  // upper bound for models with a dynamic batch dimension
  // Model inputs the data may leave out (e.g. the state of a stateful model, which the caller
  // feeds itself). Batches then simply lack them; any other missing input is still an error.
  std::vector<std::string> optional_inputs;
};

class DataReader {
 public:
  // `model_inputs`: the inputs the model needs fed (graph inputs without initializers).
  // Checks names now: unknown arrays and missing inputs are errors naming the file.
  static StatusOr<std::unique_ptr<DataReader>> Open(const std::string& path,
                                                    const std::vector<ValueInfo>& model_inputs,
                                                    const DataOptions& options = {});
  virtual ~DataReader() = default;
  // Fills the next batch; returns false when the data is exhausted.
  virtual StatusOr<bool> Next(DataBatch* batch) = 0;
  // Total number of batches, known up front.
  virtual int64_t num_batches() const = 0;
  virtual int64_t num_samples() const = 0;
};

// The first value of a state input the data leaves out: zeros shaped like the model input, with
// unknown dims set to `batch`. Fails when the model gives the input no shape.
StatusOr<Tensor> ZeroStateFor(const ValueInfo& input, int64_t batch);

// Concatenates tensors along axis 0 (all other dims equal).
StatusOr<Tensor> ConcatenateBatches(const std::vector<Tensor>& parts, const std::string& what);

}  // namespace shrink::engine
