#include "engine/io/proto_convert.h"

#include <cstring>

#include "engine/io/external_data.h"

namespace shrink::engine {
namespace {

// Copies a repeated numeric field into the tensor buffer with an element conversion.
template <typename Out, typename Field, typename Convert>
Status CopyTyped(const Field& field, int64_t expected, const std::string& name, Tensor* tensor,
                 Convert convert) {
  if (int64_t(field.size()) != expected) {
    return InvalidArgument("tensor '" + name + "' declares " + std::to_string(expected) +
                           " elements but holds " + std::to_string(field.size()));
  }
  Out* out = tensor->data<Out>();
  for (int64_t i = 0; i < expected; ++i) out[i] = convert(field.Get(int(i)));
  return OkStatus();
}

Status FillFromTypedFields(const onnx::TensorProto& proto, Tensor* tensor) {
  const std::string& name = proto.name();
  int64_t count = tensor->size();
  switch (tensor->dtype()) {
    case DataType::kFloat32:
      return CopyTyped<float>(proto.float_data(), count, name, tensor, [](float v) { return v; });
    case DataType::kComplex64:
      return CopyTyped<float>(proto.float_data(), count * 2, name, tensor,
                              [](float v) { return v; });
    case DataType::kFloat64:
      return CopyTyped<double>(proto.double_data(), count, name, tensor,
                               [](double v) { return v; });
    case DataType::kComplex128:
      return CopyTyped<double>(proto.double_data(), count * 2, name, tensor,
                               [](double v) { return v; });
    case DataType::kInt64:
      return CopyTyped<int64_t>(proto.int64_data(), count, name, tensor,
                                [](int64_t v) { return v; });
    case DataType::kUint32:
      return CopyTyped<uint32_t>(proto.uint64_data(), count, name, tensor,
                                 [](uint64_t v) { return uint32_t(v); });
    case DataType::kUint64:
      return CopyTyped<uint64_t>(proto.uint64_data(), count, name, tensor,
                                 [](uint64_t v) { return v; });
    case DataType::kInt32:
      return CopyTyped<int32_t>(proto.int32_data(), count, name, tensor,
                                [](int32_t v) { return v; });
    case DataType::kInt16:
      return CopyTyped<int16_t>(proto.int32_data(), count, name, tensor,
                                [](int32_t v) { return int16_t(v); });
    case DataType::kUint16:
    case DataType::kFloat16:
    case DataType::kBFloat16:
      return CopyTyped<uint16_t>(proto.int32_data(), count, name, tensor,
                                 [](int32_t v) { return uint16_t(v); });
    case DataType::kInt8:
      return CopyTyped<int8_t>(proto.int32_data(), count, name, tensor,
                               [](int32_t v) { return int8_t(v); });
    case DataType::kUint8:
      return CopyTyped<uint8_t>(proto.int32_data(), count, name, tensor,
                                [](int32_t v) { return uint8_t(v); });
    case DataType::kBool:
      return CopyTyped<bool>(proto.int32_data(), count, name, tensor,
                             [](int32_t v) { return v != 0; });
    default:
      return Unimplemented("tensor '" + name + "' has unsupported dtype " +
                           DataTypeName(tensor->dtype()));
  }
}

Status CopyRawBytes(std::string_view bytes, const std::string& name, Tensor* tensor) {
  if (bytes.size() != tensor->nbytes()) {
    return InvalidArgument("tensor '" + name + "' of shape " + ShapeToString(tensor->shape()) +
                           " (" + DataTypeName(tensor->dtype()) + ") needs " +
                           std::to_string(tensor->nbytes()) + " bytes but has " +
                           std::to_string(bytes.size()));
  }
  if (!bytes.empty()) std::memcpy(tensor->raw_data(), bytes.data(), bytes.size());
  if (tensor->dtype() == DataType::kBool) {  // normalize to 0/1 so bool reads are defined
    uint8_t* b = static_cast<uint8_t*>(tensor->raw_data());
    for (int64_t i = 0; i < tensor->size(); ++i) b[i] = b[i] != 0;
  }
  return OkStatus();
}

}  // namespace

StatusOr<Tensor> TensorFromProto(const onnx::TensorProto& proto, const ExternalDataSource& source) {
  const std::string& name = proto.name();
  if (!IsKnownDataType(proto.data_type())) {
    return Unimplemented("tensor '" + name + "' has unknown data_type " +
                         std::to_string(proto.data_type()));
  }
  if (proto.has_segment()) return Unimplemented("tensor '" + name + "' uses segments");
  DataType dtype = DataType(proto.data_type());
  Shape shape(proto.dims().begin(), proto.dims().end());
  auto count = ElementCount(shape);
  if (!count.ok()) return count.status().WithContext("tensor '" + name + "'");
  bool external = proto.data_location() == onnx::TensorProto::EXTERNAL;

  // Size checks happen before allocation so absurd shapes never allocate.
  uint64_t available = 0;
  if (dtype == DataType::kString) {
    available = uint64_t(proto.string_data_size());
  } else if (external) {
    available = UINT64_MAX;
  } else if (proto.has_raw_data()) {
    available = proto.raw_data().size() / std::max<size_t>(1, DataTypeSize(dtype));
  } else {
    available = uint64_t(proto.float_data_size() + proto.int32_data_size() +
                         proto.int64_data_size() + proto.double_data_size() +
                         proto.uint64_data_size());
  }
  if (uint64_t(*count) > available && !(dtype == DataType::kComplex64 ||
                                        dtype == DataType::kComplex128)) {
    return InvalidArgument("tensor '" + name + "' declares shape " + ShapeToString(shape) + " (" +
                           std::to_string(*count) + " elements) but holds data for " +
                           std::to_string(available));
  }
  ASSIGN_OR_RETURN(Tensor tensor, Tensor::Allocate(dtype, shape));

  if (dtype == DataType::kString) {
    if (proto.string_data_size() != tensor.size()) {
      return InvalidArgument("string tensor '" + name + "' declares " +
                             std::to_string(tensor.size()) + " elements but holds " +
                             std::to_string(proto.string_data_size()));
    }
    for (int i = 0; i < proto.string_data_size(); ++i) tensor.strings()[size_t(i)] = proto.string_data(i);
    return tensor;
  }
  if (external) {
    ASSIGN_OR_RETURN(std::string bytes, ReadExternalTensorData(proto, source.base_dir,
                                                               tensor.nbytes()));
    RETURN_IF_ERROR(CopyRawBytes(bytes, name, &tensor));
    return tensor;
  }
  if (proto.has_raw_data()) {
    RETURN_IF_ERROR(CopyRawBytes(proto.raw_data(), name, &tensor));
    return tensor;
  }
  RETURN_IF_ERROR(FillFromTypedFields(proto, &tensor));
  return tensor;
}

Status TensorToProto(const Tensor& tensor, const std::string& name, TensorSink* sink,
                     onnx::TensorProto* proto) {
  proto->Clear();
  proto->set_name(name);
  proto->set_data_type(int32_t(tensor.dtype()));
  for (int64_t d : tensor.shape()) proto->add_dims(d);
  if (tensor.dtype() == DataType::kString) {
    for (const std::string& s : tensor.strings()) proto->add_string_data(s);
    return OkStatus();
  }
  const char* bytes = static_cast<const char*>(tensor.raw_data());
  if (sink && sink->external_bytes && tensor.nbytes() >= sink->external_threshold) {
    AppendExternalTensorData(std::string_view(bytes, tensor.nbytes()), sink->external_location,
                             sink->external_bytes, proto);
    return OkStatus();
  }
  proto->set_raw_data(bytes, tensor.nbytes());
  return OkStatus();
}

Status ValueTypeFromProto(const onnx::TypeProto& proto, ValueType* type) {
  *type = ValueType();
  type->denotation = proto.denotation();
  if (!proto.has_tensor_type()) {
    type->raw_non_tensor_type = proto.SerializeAsString();
    type->missing = type->raw_non_tensor_type.empty();
    return OkStatus();
  }
  const auto& tensor_type = proto.tensor_type();
  int32_t elem = tensor_type.elem_type();
  if (elem != 0 && !IsKnownDataType(elem)) {
    return Unimplemented("unknown tensor element type " + std::to_string(elem));
  }
  type->elem_type = DataType(elem);
  type->has_shape = tensor_type.has_shape();
  for (const auto& dim : tensor_type.shape().dim()) {
    Dim d;
    if (dim.has_dim_value()) {
      if (dim.dim_value() < 0) {
        return InvalidArgument("negative dimension " + std::to_string(dim.dim_value()));
      }
      d.value = dim.dim_value();
    } else {
      d.param = dim.dim_param();
    }
    d.denotation = dim.denotation();
    type->dims.push_back(std::move(d));
  }
  return OkStatus();
}

void ValueTypeToProto(const ValueType& type, onnx::TypeProto* proto) {
  proto->Clear();
  if (type.missing) return;
  if (!type.raw_non_tensor_type.empty()) {
    proto->ParseFromString(type.raw_non_tensor_type);
    return;
  }
  if (!type.denotation.empty()) proto->set_denotation(type.denotation);
  auto* tensor_type = proto->mutable_tensor_type();
  tensor_type->set_elem_type(int32_t(type.elem_type));
  if (!type.has_shape) return;
  auto* shape = tensor_type->mutable_shape();
  for (const Dim& d : type.dims) {
    auto* dim = shape->add_dim();
    if (d.known()) {
      dim->set_dim_value(d.value);
    } else if (!d.param.empty()) {
      dim->set_dim_param(d.param);
    }
    if (!d.denotation.empty()) dim->set_denotation(d.denotation);
  }
}

}  // namespace shrink::engine
