#include "engine/ort/ort_validation.h"

#include "engine/io/data_loader.h"
#include "engine/io/onnx_import.h"
#include "engine/ir/graph_utils.h"
#include "engine/ort/ort_runner.h"

namespace shrink::ort {
namespace {

// Zeros for inputs the data leaves out (stateful models), unknown dims set to the batch size.
Status AddMissingInputs(const std::vector<engine::ValueInfo>& inputs, int64_t batch,
                        std::vector<engine::NamedTensor>* feeds) {
  for (const engine::ValueInfo& input : inputs) {
    bool fed = false;
    for (const auto& feed : *feeds) fed = fed || feed.name == input.name;
    if (fed) continue;
    ASSIGN_OR_RETURN(engine::Tensor zeros, engine::ZeroStateFor(input, batch));
    feeds->push_back({input.name, zeros});
  }
  return OkStatus();
}

StatusOr<std::string> LoadAndRun(const std::string& model_path, const std::string& data_path,
                                 int threads, const std::vector<std::string>& state_inputs) {
  OrtRunnerOptions options;
  options.threads = threads > 0 ? threads : 1;
  ASSIGN_OR_RETURN(auto runner, OrtRunner::Create(model_path, options));
  const std::string loaded = "ONNX Runtime " + OrtVersion() + " loaded the model";
  if (data_path.empty()) return loaded + " (not run: no data given)";
  ASSIGN_OR_RETURN(engine::Model model, engine::LoadModel(model_path));
  const std::vector<engine::ValueInfo> inputs = engine::RequiredInputs(model.graph);
  engine::DataOptions data_options;
  data_options.optional_inputs = state_inputs;
  auto reader = engine::DataReader::Open(data_path, inputs, data_options);
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
  RETURN_IF_ERROR(AddMissingInputs(inputs, batch.samples, &batch.inputs));
  auto outputs = runner->Run(batch.inputs);
  if (!outputs.ok()) return outputs.status();
  return loaded + " and ran " + batch.source;
}

}  // namespace

engine::OutputValidator MakeOrtValidator(const std::string& data_path, int threads,
                                         const std::vector<std::string>& state_inputs) {
  return [data_path, threads, state_inputs](const std::string& model_path) {
    return LoadAndRun(model_path, data_path, threads, state_inputs);
  };
}

}  // namespace shrink::ort
