#include "engine/ort/ort_eval_runner.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "engine/io/model_bundle.h"
#include "engine/io/onnx_import.h"
#include "engine/ir/graph_utils.h"
#include "engine/ort/ort_runner.h"

namespace shrink::ort {
namespace {

using engine::NamedTensor;
using engine::Tensor;
using engine::ValueInfo;

class OrtEvalRunner : public engine::eval::ModelRunner {
 public:
  static StatusOr<std::unique_ptr<engine::eval::ModelRunner>> Create(const std::string& path,
                                                                     int threads) {
    ASSIGN_OR_RETURN(engine::ModelBundle bundle, engine::ModelBundle::Open(path));
    // Input types and shapes come from our importer (ORT's session does not expose them here);
    // the graph is dropped right after.
    engine::ImportOptions import_options;
    import_options.validate = false;
    std::vector<ValueInfo> inputs;
    {
      ASSIGN_OR_RETURN(engine::Model model, engine::LoadModel(bundle.model_path(), import_options));
      inputs = engine::RequiredInputs(model.graph);
    }
    OrtRunnerOptions options;
    options.threads =
        threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
    ASSIGN_OR_RETURN(std::unique_ptr<OrtRunner> runner,
                     OrtRunner::Create(bundle.model_path(), options));
    auto result = std::unique_ptr<OrtEvalRunner>(
        new OrtEvalRunner(std::move(bundle), std::move(runner), std::move(inputs)));
    result->threads_ = options.threads;
    return std::unique_ptr<engine::eval::ModelRunner>(std::move(result));
  }

  StatusOr<std::vector<Tensor>> Run(const std::vector<NamedTensor>& feeds) override {
    return runner_->Run(feeds);
  }
  const std::vector<std::string>& output_names() const override { return runner_->output_names(); }
  const std::vector<std::string>& input_names() const override { return input_names_; }
  const std::vector<ValueInfo>& inputs() const override { return inputs_; }
  std::string name() const override { return "onnxruntime " + OrtVersion(); }
  int threads() const override { return threads_; }

 private:
  OrtEvalRunner(engine::ModelBundle bundle, std::unique_ptr<OrtRunner> runner,
                std::vector<ValueInfo> inputs)
      : bundle_(std::move(bundle)), runner_(std::move(runner)), inputs_(std::move(inputs)) {
    for (const ValueInfo& info : inputs_) input_names_.push_back(info.name);
  }
  engine::ModelBundle bundle_;  // an unpacked archive lives as long as the session
  std::unique_ptr<OrtRunner> runner_;
  std::vector<ValueInfo> inputs_;
  std::vector<std::string> input_names_;
  int threads_ = 1;
};

}  // namespace

engine::eval::RunnerFactory OrtRuntime(int threads) {
  return [threads](const std::string& path) { return OrtEvalRunner::Create(path, threads); };
}

}  // namespace shrink::ort
