#include "client/ort_validation.h"

#include "engine/io/data_loader.h"
#include "engine/io/onnx_import.h"
#include "engine/ort/ort_runner.h"

namespace shrink::cli {
namespace {

StatusOr<std::string> LoadAndRun(const std::string& model_path, const std::string& data_path,
                                 int threads) {
  ort::OrtRunnerOptions options;
  options.threads = threads > 0 ? threads : 1;
  ASSIGN_OR_RETURN(auto runner, ort::OrtRunner::Create(model_path, options));
  const std::string loaded = "ONNX Runtime " + ort::OrtVersion() + " loaded the model";
  if (data_path.empty()) return loaded + " (not run: no data given)";
  ASSIGN_OR_RETURN(engine::Model model, engine::LoadModel(model_path));
  std::vector<engine::ValueInfo> inputs;
  for (const engine::ValueInfo& input : model.graph.inputs) {
    if (!model.graph.HasInitializer(input.name)) inputs.push_back(input);
  }
  auto reader = engine::DataReader::Open(data_path, inputs, {});
  engine::DataBatch batch;
  if (!reader.ok()) return loaded + " (not run: " + reader.status().message() + ")";
  ASSIGN_OR_RETURN(bool has_batch, (*reader)->Next(&batch));
  if (!has_batch) return loaded + " (not run: the data is empty)";
  for (const auto& feed : batch.inputs) {
    for (const auto& input : inputs) {
      if (input.name == feed.name && input.type.elem_type != feed.tensor.dtype()) {
        return loaded + " (not run: input '" + feed.name + "' is " +
               engine::DataTypeName(input.type.elem_type) + " and the data is " +
               engine::DataTypeName(feed.tensor.dtype()) + ")";
      }
    }
  }
  auto outputs = runner->Run(batch.inputs);
  if (!outputs.ok()) return outputs.status();
  return loaded + " and ran " + batch.source;
}

}  // namespace

engine::OutputValidator MakeOrtValidator(const std::string& data_path, int threads) {
  return [data_path, threads](const std::string& model_path) {
    return LoadAndRun(model_path, data_path, threads);
  };
}

}  // namespace shrink::cli
