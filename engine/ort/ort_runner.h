// ONNX Runtime as an independent judge: loads a model file in ORT (CPU, graph optimization level
// ALL) and runs it on shrink tensors. Every ORT error, thrown or returned, comes back as a Status
// naming the model and ORT's message; no exception leaves this module. ORT headers stay in the
// .cc file so users only see shrink types.
//
// Used by the CLI and workers to check every written model, and by tests as the judge.
//
// Thread safety: one OrtRunner is used by one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/ir/tensor.h"

namespace shrink::ort {

struct OrtRunnerOptions {
  // `OrtRunnerOptions{2}` sets the threads and keeps every other default.
  OrtRunnerOptions(int intra_op_threads = 1, bool spinning = true)  // NOLINT: brace init
      : threads(intra_op_threads), allow_spinning(spinning) {}
  int threads = 1;  // intra-op threads, including the calling thread (inter-op is 1)
  // ORT's pool threads spin after a run by default; kept on so ORT runs as it does by default.
  bool allow_spinning = true;
  // Off: ORT runs the graph as written (no fusion of QDQ groups into integer kernels), which
  // separates ORT's kernel arithmetic from the model's semantics when outputs differ.
  bool optimize = true;
  // When set, ORT writes the graph it will run (after its optimizations and inserted Casts).
  std::string optimized_model_path;
};

class OrtRunner {
 public:
  // Fails when ORT cannot load the file (missing, corrupt, unsupported op or opset).
  static StatusOr<std::unique_ptr<OrtRunner>> Create(const std::string& model_path,
                                                     const OrtRunnerOptions& options = {});
  ~OrtRunner();
  OrtRunner(const OrtRunner&) = delete;
  OrtRunner& operator=(const OrtRunner&) = delete;

  // Feeds are matched by name; returns every model output in the model's order. The feed
  // tensors are read in place (not copied) and must not change during the call. Supported
  // dtypes: float32/64, float16, int8/16/32/64, uint8/16, bool.
  StatusOr<std::vector<engine::Tensor>> Run(const std::vector<engine::NamedTensor>& feeds);

  const std::vector<std::string>& input_names() const;
  const std::vector<std::string>& output_names() const;
  const std::string& model_path() const;

 private:
  struct Impl;
  explicit OrtRunner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ONNX Runtime's version string ("1.29.0").
std::string OrtVersion();

}  // namespace shrink::ort
