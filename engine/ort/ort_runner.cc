#include "engine/ort/ort_runner.h"

#include <onnxruntime_cxx_api.h>

#include <cstring>
#include <exception>
#include <utility>

namespace shrink::ort {
namespace {

using engine::DataType;
using engine::NamedTensor;
using engine::Tensor;

// ONNXTensorElementDataType uses the ONNX TensorProto numbering, as DataType does, so the
// mapping is a cast restricted to the types both sides handle as plain bytes.
bool IsSupported(DataType type) {
  switch (type) {
    case DataType::kFloat32:
    case DataType::kFloat64:
    case DataType::kFloat16:
    case DataType::kInt8:
    case DataType::kUint8:
    case DataType::kInt16:
    case DataType::kUint16:
    case DataType::kInt32:
    case DataType::kInt64:
    case DataType::kBool:
      return true;
    default:
      return false;
  }
}

ONNXTensorElementDataType ToOrt(DataType type) {
  return static_cast<ONNXTensorElementDataType>(static_cast<int>(type));
}

StatusCode FromOrtCode(OrtErrorCode code) {
  switch (code) {
    case ORT_INVALID_ARGUMENT:
    case ORT_INVALID_PROTOBUF:
    case ORT_INVALID_GRAPH:
      return StatusCode::kInvalidArgument;
    case ORT_NO_SUCHFILE:
    case ORT_NO_MODEL:
    case ORT_NOT_FOUND:
      return StatusCode::kNotFound;
    case ORT_NOT_IMPLEMENTED:
      return StatusCode::kUnimplemented;
    default:
      return StatusCode::kInternal;
  }
}

// Runs fn and turns whatever it throws into a Status naming the model.
template <typename Fn>
auto Guard(const std::string& model_path, const char* what, Fn&& fn) -> decltype(fn()) {
  const std::string prefix = std::string("ONNX Runtime ") + what + " '" + model_path + "': ";
  try {
    return fn();
  } catch (const Ort::Exception& e) {
    return Status(FromOrtCode(e.GetOrtErrorCode()), prefix + e.what());
  } catch (const std::exception& e) {
    return Internal(prefix + e.what());
  } catch (...) {
    return Internal(prefix + "unknown exception");
  }
}

// One ORT environment per process (ORT's recommendation); built on first use.
Ort::Env& SharedEnv() {
  static Ort::Env* env = new Ort::Env(ORT_LOGGING_LEVEL_ERROR, "shrink-ort-judge");
  return *env;
}

}  // namespace

struct OrtRunner::Impl {
  std::string path;
  std::unique_ptr<Ort::Session> session;
  std::vector<std::string> input_names;
  std::vector<std::string> output_names;
  Ort::MemoryInfo memory_info{nullptr};

  StatusOr<std::vector<Tensor>> Run(const std::vector<NamedTensor>& feeds);
  StatusOr<Tensor> ToTensor(const Ort::Value& value, const std::string& name) const;
};

OrtRunner::OrtRunner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OrtRunner::~OrtRunner() = default;

StatusOr<std::unique_ptr<OrtRunner>> OrtRunner::Create(const std::string& model_path,
                                                       const OrtRunnerOptions& options) {
  return Guard(model_path, "could not load", [&]() -> StatusOr<std::unique_ptr<OrtRunner>> {
    auto impl = std::make_unique<Impl>();
    impl->path = model_path;
    Ort::SessionOptions session_options;
    session_options.SetIntraOpNumThreads(options.threads);
    session_options.SetInterOpNumThreads(1);
    session_options.SetExecutionMode(ORT_SEQUENTIAL);
    session_options.SetGraphOptimizationLevel(options.optimize
                                                  ? GraphOptimizationLevel::ORT_ENABLE_ALL
                                                  : GraphOptimizationLevel::ORT_DISABLE_ALL);
    session_options.AddConfigEntry("session.intra_op.allow_spinning",
                                   options.allow_spinning ? "1" : "0");
    if (!options.optimized_model_path.empty()) {
      session_options.SetOptimizedModelFilePath(options.optimized_model_path.c_str());
    }
    impl->session =
        std::make_unique<Ort::Session>(SharedEnv(), model_path.c_str(), session_options);
    Ort::AllocatorWithDefaultOptions allocator;
    for (size_t i = 0; i < impl->session->GetInputCount(); ++i) {
      impl->input_names.push_back(impl->session->GetInputNameAllocated(i, allocator).get());
    }
    for (size_t i = 0; i < impl->session->GetOutputCount(); ++i) {
      impl->output_names.push_back(impl->session->GetOutputNameAllocated(i, allocator).get());
    }
    impl->memory_info = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    return std::unique_ptr<OrtRunner>(new OrtRunner(std::move(impl)));
  });
}

StatusOr<std::vector<Tensor>> OrtRunner::Run(const std::vector<NamedTensor>& feeds) {
  return Guard(impl_->path, "failed to run",
               [&]() -> StatusOr<std::vector<Tensor>> { return impl_->Run(feeds); });
}

StatusOr<std::vector<Tensor>> OrtRunner::Impl::Run(const std::vector<NamedTensor>& feeds) {
  static char empty_buffer[8];  // ORT wants a non-null pointer even for zero-element tensors
  std::vector<const char*> feed_names;
  std::vector<Ort::Value> feed_values;
  for (const NamedTensor& feed : feeds) {
    const Tensor& tensor = feed.tensor;
    if (!IsSupported(tensor.dtype())) {
      return Unimplemented("ONNX Runtime judge '" + path + "': input '" + feed.name +
                           "' has dtype " + engine::DataTypeName(tensor.dtype()) +
                           ", which the runner does not map");
    }
    void* data = tensor.nbytes() > 0 ? const_cast<void*>(tensor.raw_data()) : empty_buffer;
    feed_names.push_back(feed.name.c_str());
    feed_values.push_back(Ort::Value::CreateTensor(memory_info, data, tensor.nbytes(),
                                                   tensor.shape().data(), tensor.shape().size(),
                                                   ToOrt(tensor.dtype())));
  }
  std::vector<const char*> fetch_names;
  for (const std::string& name : output_names) fetch_names.push_back(name.c_str());
  std::vector<Ort::Value> results =
      session->Run(Ort::RunOptions{nullptr}, feed_names.data(), feed_values.data(),
                   feed_values.size(), fetch_names.data(), fetch_names.size());
  std::vector<Tensor> outputs;
  for (size_t i = 0; i < results.size(); ++i) {
    ASSIGN_OR_RETURN(Tensor tensor, ToTensor(results[i], output_names[i]));
    outputs.push_back(std::move(tensor));
  }
  return outputs;
}

StatusOr<Tensor> OrtRunner::Impl::ToTensor(const Ort::Value& value, const std::string& name) const {
  const std::string where = "ONNX Runtime judge '" + path + "': output '" + name + "'";
  if (!value.IsTensor()) return Unimplemented(where + " is not a tensor");
  Ort::TensorTypeAndShapeInfo info = value.GetTensorTypeAndShapeInfo();
  const auto dtype = static_cast<DataType>(static_cast<int>(info.GetElementType()));
  if (!IsSupported(dtype)) {
    return Unimplemented(where + " has ORT element type " +
                         std::to_string(int(info.GetElementType())) + ", not mapped");
  }
  ASSIGN_OR_RETURN(Tensor tensor, Tensor::Allocate(dtype, info.GetShape()));
  if (tensor.nbytes() > 0)
    std::memcpy(tensor.raw_data(), value.GetTensorRawData(), tensor.nbytes());
  return tensor;
}

const std::vector<std::string>& OrtRunner::input_names() const { return impl_->input_names; }
const std::vector<std::string>& OrtRunner::output_names() const { return impl_->output_names; }
const std::string& OrtRunner::model_path() const { return impl_->path; }

}  // namespace shrink::ort

namespace shrink::ort {

std::string OrtVersion() { return Ort::GetVersionString(); }

}  // namespace shrink::ort
