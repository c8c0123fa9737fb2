// shrink-quant-diff FLOAT.onnx OPTIMIZED.onnx DATA [--batches N]: runs both models in the engine's
// runtime on the first batches of DATA and prints, in execution order, the SQNR of every float
// tensor the two models share by name (where error enters, and where it grows).
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "engine/io/data_loader.h"
#include "engine/io/onnx_import.h"
#include "engine/runtime/executor.h"

namespace shrink {
namespace {

using engine::Tensor;

struct Capture : engine::TensorObserver {
  std::vector<std::string> order;
  std::map<std::string, std::vector<double>> values;
  void OnNodeOutput(const engine::Graph&, const engine::Node& node, int index,
                    const Tensor& value) override {
    if (value.dtype() != engine::DataType::kFloat32) return;
    const std::string& name = node.outputs[size_t(index)];
    auto& v = values[name];
    if (v.empty()) order.push_back(name);
    v.insert(v.end(), value.data<float>(), value.data<float>() + value.size());
  }
};

Status Main(int argc, char** argv) {
  if (argc < 4)
    return InvalidArgument("usage: shrink-quant-diff FLOAT.onnx OPT.onnx DATA [--batches N]");
  int batches = argc >= 6 && std::string(argv[4]) == "--batches" ? std::atoi(argv[5]) : 1;
  Capture captures[2];
  for (int m = 0; m < 2; ++m) {
    ASSIGN_OR_RETURN(engine::Model model, engine::LoadModel(argv[1 + m]));
    ASSIGN_OR_RETURN(auto executor, engine::Executor::Create(model, {}));
    ASSIGN_OR_RETURN(auto reader,
                     engine::DataReader::Open(argv[3], executor->required_inputs(), {}));
    engine::DataBatch batch;
    for (int b = 0; b < batches; ++b) {
      ASSIGN_OR_RETURN(bool more, reader->Next(&batch));
      if (!more) break;
      engine::RunOptions options;
      options.observer = &captures[m];
      RETURN_IF_ERROR(executor->Run(batch.inputs, options).status());
    }
  }
  std::printf("%10s %12s %12s  tensor\n", "sqnr_db", "ref_max", "max_err");
  for (const std::string& name : captures[0].order) {
    auto it = captures[1].values.find(name);
    if (it == captures[1].values.end()) continue;
    const auto& ref = captures[0].values[name];
    const auto& opt = it->second;
    if (ref.size() != opt.size()) continue;
    double signal = 0, noise = 0, ref_max = 0, err_max = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      signal += ref[i] * ref[i];
      noise += (ref[i] - opt[i]) * (ref[i] - opt[i]);
      ref_max = std::max(ref_max, std::fabs(ref[i]));
      err_max = std::max(err_max, std::fabs(ref[i] - opt[i]));
    }
    std::printf("%10.2f %12.4g %12.4g  %s\n", noise > 0 ? 10 * std::log10(signal / noise) : 999.0,
                ref_max, err_max, name.c_str());
  }
  return OkStatus();
}

}  // namespace
}  // namespace shrink

int main(int argc, char** argv) {
  shrink::Status status = shrink::Main(argc, argv);
  if (!status.ok()) {
    std::fprintf(stderr, "shrink-quant-diff: %s\n", status.message().c_str());
    return 1;
  }
  return 0;
}
