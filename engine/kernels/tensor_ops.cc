// Tensor-manipulation kernels, part one: views that share the input buffer (Reshape, Flatten,
// Squeeze, Unsqueeze, Identity, Dropout at inference), shape queries (Shape, Size) and generators
// (Constant, ConstantOfShape, Range, EyeLike). RegisterTensorKernels also registers the kernels of
// tensor_copy.cc, concat_split_pad.cc, gather_scatter.cc, topk_cumsum.cc and resize.cc.
#include <algorithm>
#include <cmath>

#include "engine/kernels/kernels.h"
#include "engine/kernels/tensor_internal.h"

namespace shrink::engine {
namespace tensor_internal {

StatusOr<std::vector<int64_t>> ReadIntList(const KernelContext& context, int index,
                                           const char* what) {
  if (!context.has_input(index)) {
    return KernelError(context.node, std::string("input '") + what + "' is missing");
  }
  const Tensor& tensor = context.input(index);
  if (!IsIntegerIndexType(tensor.dtype())) {
    return UnsupportedType(context.node, tensor.dtype(), what);
  }
  if (tensor.rank() > 1) {
    return KernelError(context.node, std::string("input '") + what + "' must be 1-D, got shape " +
                                         ShapeToString(tensor.shape()));
  }
  return tensor.ToInt64Vector();
}

StatusOr<int64_t> ReadIntScalar(const KernelContext& context, int index, const char* what) {
  ASSIGN_OR_RETURN(std::vector<int64_t> values, ReadIntList(context, index, what));
  if (values.size() != 1) {
    return KernelError(context.node, std::string("input '") + what + "' must hold one value");
  }
  return values[0];
}

Status RequireNumeric(const Node& node, DataType type, const char* what) {
  bool numeric =
      DataTypeSize(type) > 0 && type != DataType::kComplex64 && type != DataType::kComplex128;
  return numeric ? OkStatus() : UnsupportedType(node, type, what);
}

StatusOr<std::vector<int>> NormalizeAxes(const std::vector<int64_t>& axes, int rank,
                                         const Node& node) {
  std::vector<int> result;
  std::vector<bool> seen(size_t(std::max(rank, 1)), false);
  for (int64_t axis : axes) {
    int64_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) {
      return KernelError(node, "axis " + std::to_string(axis) + " is out of range for rank " +
                                   std::to_string(rank));
    }
    if (seen[size_t(a)]) return KernelError(node, "axis " + std::to_string(axis) + " is repeated");
    seen[size_t(a)] = true;
    result.push_back(int(a));
  }
  return result;
}

namespace {

Status ReshapeKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 2, 2));
  const Tensor& input = context.input(0);
  const Node& node = context.node;
  ASSIGN_OR_RETURN(std::vector<int64_t> shape, ReadIntList(context, 1, "shape"));
  bool allow_zero = context.opset >= 14 && node.GetInt("allowzero", 0) != 0;
  if (allow_zero && std::count(shape.begin(), shape.end(), 0) > 0 &&
      std::count(shape.begin(), shape.end(), -1) > 0) {
    return KernelError(node, "shape " + ShapeToString(shape) + " has both 0 and -1 with allowzero");
  }
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t& d = shape[i];
    if (d == 0 && !allow_zero) {
      if (int(i) >= input.rank()) {
        return KernelError(node, "shape entry " + std::to_string(i) +
                                     " is 0 (copy) but the input has rank " +
                                     std::to_string(input.rank()));
      }
      d = input.dim(int(i));
    }
    if (d == -1) {
      if (infer >= 0) return KernelError(node, "shape has more than one -1");
      infer = int(i);
      continue;
    }
    if (d < 0) return KernelError(node, "shape has a negative dim " + std::to_string(d));
    known = d == 0 ? 0 : (known > (int64_t(1) << 62) / d ? -1 : known * d);
    if (known < 0) return KernelError(node, "shape " + ShapeToString(shape) + " overflows");
  }
  if (infer >= 0) {
    if (known == 0 || input.size() % known != 0) {
      if (known == 0 && input.size() == 0) {
        shape[size_t(infer)] = 0;
      } else {
        return KernelError(node, "cannot reshape " + ShapeToString(input.shape()) + " (" +
                                     std::to_string(input.size()) + " elements) to " +
                                     ShapeToString(shape));
      }
    } else {
      shape[size_t(infer)] = input.size() / known;
    }
  } else if (known != input.size()) {
    return KernelError(node, "cannot reshape " + ShapeToString(input.shape()) + " (" +
                                 std::to_string(input.size()) + " elements) to " +
                                 ShapeToString(shape) + " (" + std::to_string(known) +
                                 " elements)");
  }
  auto reshaped = input.Reshaped(shape);
  if (!reshaped.ok()) return KernelError(node, reshaped.status().message());
  context.output(0) = std::move(*reshaped);
  return OkStatus();
}

Status FlattenKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
  const Tensor& input = context.input(0);
  int rank = input.rank();
  int64_t axis = context.node.GetInt("axis", 1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis > rank) {
    return KernelError(context.node, "axis " + std::to_string(context.node.GetInt("axis", 1)) +
                                         " is out of range for rank " + std::to_string(rank));
  }
  Shape shape = {DimProduct(input.shape(), 0, int(axis)),
                 DimProduct(input.shape(), int(axis), rank)};
  ASSIGN_OR_RETURN(context.output(0), input.Reshaped(shape));
  return OkStatus();
}

// Axes from the attribute (before opset 13) or from input 1; `present` tells if any were given.
StatusOr<std::vector<int64_t>> ReadAxes(const KernelContext& context, bool* present) {
  if (context.opset < 13) {
    *present = context.node.HasAttribute("axes");
    return context.node.GetInts("axes");
  }
  *present = context.has_input(1);
  if (!*present) return std::vector<int64_t>();
  return ReadIntList(context, 1, "axes");
}

Status SqueezeKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 2));
  const Tensor& input = context.input(0);
  bool present = false;
  ASSIGN_OR_RETURN(std::vector<int64_t> raw, ReadAxes(context, &present));
  present = present && !raw.empty();  // an empty axes list squeezes every unit dim, as ORT does
  ASSIGN_OR_RETURN(std::vector<int> axes, NormalizeAxes(raw, input.rank(), context.node));
  std::vector<bool> drop(size_t(input.rank()), false);
  for (int axis : axes) {
    if (input.dim(axis) != 1) {
      return KernelError(context.node, "cannot squeeze axis " + std::to_string(axis) + " of size " +
                                           std::to_string(input.dim(axis)));
    }
    drop[size_t(axis)] = true;
  }
  Shape shape;
  for (int k = 0; k < input.rank(); ++k) {
    bool squeeze = present ? drop[size_t(k)] : input.dim(k) == 1;
    if (!squeeze) shape.push_back(input.dim(k));
  }
  ASSIGN_OR_RETURN(context.output(0), input.Reshaped(shape));
  return OkStatus();
}

Status UnsqueezeKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 2));
  const Tensor& input = context.input(0);
  bool present = false;
  ASSIGN_OR_RETURN(std::vector<int64_t> raw, ReadAxes(context, &present));
  if (!present) return KernelError(context.node, "axes are required");
  int out_rank = input.rank() + int(raw.size());
  ASSIGN_OR_RETURN(std::vector<int> axes, NormalizeAxes(raw, out_rank, context.node));
  std::vector<bool> inserted(size_t(out_rank), false);
  for (int axis : axes) inserted[size_t(axis)] = true;
  Shape shape;
  int next = 0;
  for (int k = 0; k < out_rank; ++k) shape.push_back(inserted[size_t(k)] ? 1 : input.dim(next++));
  ASSIGN_OR_RETURN(context.output(0), input.Reshaped(shape));
  return OkStatus();
}

Status IdentityKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
  context.output(0) = context.input(0);
  return OkStatus();
}

Status DropoutKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 3));
  const Tensor& input = context.input(0);
  const Node& node = context.node;
  if (context.opset >= 12) {
    bool training =
        context.has_input(2) && context.input(2).size() > 0 && context.input(2).GetAsDouble(0) != 0;
    double ratio = 0.5;
    if (context.has_input(1) && context.input(1).size() > 0) {
      ratio = context.input(1).GetAsDouble(0);
    }
    if (training && ratio > 0) {
      return Unimplemented(node.Describe() + ": training_mode=true with ratio " +
                           std::to_string(ratio) + " (random dropout) is not supported");
    }
  }
  context.output(0) = input;
  if (context.wants_output(1)) {
    // Before opset 10 the mask has the input's type; from 10 it is bool. Every element is kept.
    DataType type = context.opset < 10 ? input.dtype() : DataType::kBool;
    RETURN_IF_ERROR(RequireNumeric(node, type));
    ASSIGN_OR_RETURN(Tensor mask, Tensor::Allocate(type, input.shape()));
    RETURN_IF_ERROR(DispatchNumeric(type, [&](auto tag) {
      using T = decltype(tag);
      const T one = FromFloat<T>(1.0f);
      std::fill(mask.data<T>(), mask.data<T>() + mask.size(), one);
      return OkStatus();
    }));
    context.output(1) = std::move(mask);
  }
  return OkStatus();
}

Status ShapeKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
  const Shape& shape = context.input(0).shape();
  int64_t rank = int64_t(shape.size());
  int64_t start = 0, end = rank;
  if (context.opset >= 15) {
    start = context.node.GetInt("start", 0);
    end = context.node.GetInt("end", rank);
    if (start < 0) start += rank;
    if (end < 0) end += rank;
    start = std::clamp<int64_t>(start, 0, rank);
    end = std::clamp<int64_t>(end, 0, rank);
  }
  std::vector<int64_t> dims;
  for (int64_t i = start; i < end; ++i) dims.push_back(shape[size_t(i)]);
  context.output(0) = Tensor::FromVector<int64_t>({int64_t(dims.size())}, dims);
  return OkStatus();
}

Status SizeKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
  context.output(0) = Tensor::Scalar<int64_t>(context.input(0).size());
  return OkStatus();
}

Status ConstantKernel(KernelContext& context) {
  const Node& node = context.node;
  for (const Attribute& a : node.attributes) {
    if (a.name == "value") {
      if (a.type != AttributeType::kTensor) return KernelError(node, "value is not a tensor");
      context.output(0) = a.t;
    } else if (a.name == "sparse_value") {
      return Unimplemented(node.Describe() + ": sparse_value constants are not supported");
    } else if (a.name == "value_float") {
      context.output(0) = Tensor::Scalar<float>(a.f);
    } else if (a.name == "value_floats") {
      context.output(0) = Tensor::FromVector<float>({int64_t(a.floats.size())}, a.floats);
    } else if (a.name == "value_int") {
      context.output(0) = Tensor::Scalar<int64_t>(a.i);
    } else if (a.name == "value_ints") {
      context.output(0) = Tensor::FromVector<int64_t>({int64_t(a.ints.size())}, a.ints);
    } else if (a.name == "value_string") {
      context.output(0) = Tensor::Scalar<std::string>(a.s);
    } else if (a.name == "value_strings") {
      context.output(0) = Tensor::FromVector<std::string>({int64_t(a.strings.size())}, a.strings);
    } else {
      continue;
    }
    return OkStatus();
  }
  return KernelError(node, "has no value attribute");
}

Status ConstantOfShapeKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
  ASSIGN_OR_RETURN(std::vector<int64_t> shape, ReadIntList(context, 0, "input"));
  for (int64_t d : shape) {
    if (d < 0) return KernelError(context.node, "shape has a negative dim " + std::to_string(d));
  }
  const Tensor* attr = context.node.GetTensor("value");
  Tensor value = attr ? *attr : Tensor::Scalar<float>(0.0f);
  if (value.size() != 1) return KernelError(context.node, "value must hold one element");
  ASSIGN_OR_RETURN(Tensor output, Tensor::Allocate(value.dtype(), shape));
  RETURN_IF_ERROR(DispatchByElement(context.node, value.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* out = MutableElements<T>(output);
    std::fill(out, out + output.size(), Elements<T>(value)[0]);
    return OkStatus();
  }));
  context.output(0) = std::move(output);
  return OkStatus();
}

// ceil((limit - start) / delta), exact for integers (in 128 bits).
template <typename T>
double RangeCount(T start, T limit, T delta) {
  if constexpr (std::is_integral_v<T>) {
    __int128 diff = __int128(limit) - __int128(start), d = __int128(delta);
    __int128 q = diff / d, r = diff % d;
    if (r != 0 && ((r > 0) == (d > 0))) ++q;
    return double(q);
  } else {
    return std::ceil((double(limit) - double(start)) / double(delta));
  }
}

Status RangeKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 3, 3));
  const Node& node = context.node;
  DataType type = context.input(0).dtype();
  RETURN_IF_ERROR(RequireNumeric(node, type));
  for (int i = 0; i < 3; ++i) {
    if (context.input(i).size() != 1) return KernelError(node, "inputs must be scalars");
    if (context.input(i).dtype() != type) return KernelError(node, "inputs differ in dtype");
  }
  Tensor output;
  RETURN_IF_ERROR(DispatchNumeric(type, [&](auto tag) -> Status {
    using T = decltype(tag);
    if constexpr (!std::is_arithmetic_v<T> || std::is_same_v<T, bool>) {
      return UnsupportedType(node, type);
    } else {
      T start = context.input(0).data<T>()[0];
      T limit = context.input(1).data<T>()[0];
      T delta = context.input(2).data<T>()[0];
      if (delta == T(0)) return KernelError(node, "delta must not be zero");
      double count = RangeCount(start, limit, delta);
      if (std::isnan(count) || count > 9.2e18) {
        return KernelError(node, "range is too long or not finite");
      }
      ASSIGN_OR_RETURN(output, Tensor::Allocate(type, {count > 0 ? int64_t(count) : 0}));
      // The spec defines Range as repeated addition (a Loop), so floats accumulate as it does;
      // integers use wrapping arithmetic, which gives the same values without overflow UB.
      T* out = output.data<T>();
      if constexpr (std::is_integral_v<T>) {
        for (int64_t i = 0; i < output.size(); ++i) {
          out[i] = T(uint64_t(int64_t(start)) + uint64_t(i) * uint64_t(int64_t(delta)));
        }
      } else {
        T value = start;
        for (int64_t i = 0; i < output.size(); ++i, value = static_cast<T>(value + delta)) {
          out[i] = value;
        }
      }
      return OkStatus();
    }
  }));
  context.output(0) = std::move(output);
  return OkStatus();
}

Status EyeLikeKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
  const Tensor& input = context.input(0);
  const Node& node = context.node;
  if (input.rank() != 2) return KernelError(node, "input must be 2-D");
  DataType type = input.dtype();
  if (node.HasAttribute("dtype")) {
    int64_t raw = node.GetInt("dtype", 0);
    if (!IsKnownDataType(int32_t(raw))) {
      return KernelError(node, "unknown dtype " + std::to_string(raw));
    }
    type = DataType(raw);
  }
  RETURN_IF_ERROR(RequireNumeric(node, type, "output"));
  int64_t k = node.GetInt("k", 0);
  ASSIGN_OR_RETURN(Tensor output, Tensor::Allocate(type, input.shape()));
  int64_t rows = input.dim(0), cols = input.dim(1);
  RETURN_IF_ERROR(DispatchNumeric(type, [&](auto tag) {
    using T = decltype(tag);
    const T one = FromFloat<T>(1.0f);
    T* out = output.data<T>();
    for (int64_t i = 0; i < rows; ++i) {
      if (k > cols || k < -rows) break;
      int64_t j = i + k;
      if (j >= 0 && j < cols) out[i * cols + j] = one;
    }
    return OkStatus();
  }));
  context.output(0) = std::move(output);
  return OkStatus();
}

}  // namespace
}  // namespace tensor_internal

void RegisterTensorKernels(KernelRegistry* registry) {
  using namespace tensor_internal;  // NOLINT: the kernels of this group
  registry->RegisterFunction(OpType::kReshape, &ReshapeKernel);
  registry->RegisterFunction(OpType::kFlatten, &FlattenKernel);
  registry->RegisterFunction(OpType::kSqueeze, &SqueezeKernel);
  registry->RegisterFunction(OpType::kUnsqueeze, &UnsqueezeKernel);
  registry->RegisterFunction(OpType::kIdentity, &IdentityKernel);
  registry->RegisterFunction(OpType::kDropout, &DropoutKernel);
  registry->RegisterFunction(OpType::kShape, &ShapeKernel);
  registry->RegisterFunction(OpType::kSize, &SizeKernel);
  registry->RegisterFunction(OpType::kConstant, &ConstantKernel);
  registry->RegisterFunction(OpType::kConstantOfShape, &ConstantOfShapeKernel);
  registry->RegisterFunction(OpType::kRange, &RangeKernel);
  registry->RegisterFunction(OpType::kEyeLike, &EyeLikeKernel);
  RegisterCopyKernels(registry);
  RegisterConcatSplitPadKernels(registry);
  RegisterGatherScatterKernels(registry);
  RegisterOrderingKernels(registry);
  RegisterResizeKernels(registry);
}

}  // namespace shrink::engine
