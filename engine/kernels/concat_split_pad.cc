// Concat, Split, Pad and Compress: copies of blocks along one axis.
#include <algorithm>
#include <cstdlib>

#include "engine/kernels/tensor_internal.h"

namespace shrink::engine::tensor_internal {

StatusOr<Tensor> ScalarOfType(const Node& node, DataType type, double value) {
  Tensor scalar(type, {});
  if (type == DataType::kString) return scalar;
  RETURN_IF_ERROR(DispatchNumeric(type, [&](auto tag) {
    using T = decltype(tag);
    T* out = scalar.data<T>();
    if constexpr (std::is_same_v<T, Float16>) {
      out->bits = FloatToHalf(float(value));
    } else if constexpr (std::is_same_v<T, BFloat16>) {
      out->bits = FloatToBFloat16(float(value));
    } else {
      *out = static_cast<T>(value);
    }
    return OkStatus();
  }));
  return scalar;
}

namespace {

constexpr int64_t kMinChunkElements = 16384;

Status ConcatKernel(KernelContext& context) {
  const Node& node = context.node;
  int n = context.num_inputs();
  if (n < 1) return KernelError(node, "needs at least one input");
  for (int i = 0; i < n; ++i) {
    if (!context.has_input(i))
      return KernelError(node, "input " + std::to_string(i) + " is missing");
  }
  if (!node.HasAttribute("axis")) return KernelError(node, "attribute axis is required");
  const Tensor& first = context.input(0);
  int rank = first.rank();
  if (rank == 0) return KernelError(node, "cannot concatenate scalars");
  ASSIGN_OR_RETURN(int axis, NormalizeAxis(node.GetInt("axis", 0), rank, node));
  Shape out_shape = first.shape();
  out_shape[size_t(axis)] = 0;
  for (int i = 0; i < n; ++i) {
    const Tensor& t = context.input(i);
    if (t.dtype() != first.dtype()) return KernelError(node, "inputs differ in dtype");
    bool same = t.rank() == rank;
    for (int k = 0; same && k < rank; ++k) same = k == axis || t.dim(k) == first.dim(k);
    if (!same) {
      return KernelError(node, "input shapes " + ShapeToString(first.shape()) + " and " +
                                   ShapeToString(t.shape()) + " differ outside axis " +
                                   std::to_string(axis));
    }
    out_shape[size_t(axis)] += t.dim(axis);
  }
  if (n == 1) {
    context.output(0) = first;
    return OkStatus();
  }
  ASSIGN_OR_RETURN(Tensor output, Tensor::Allocate(first.dtype(), out_shape));
  int64_t outer = DimProduct(out_shape, 0, axis);
  int64_t inner = DimProduct(out_shape, axis + 1, rank);
  int64_t out_block = out_shape[size_t(axis)] * inner;
  std::vector<int64_t> blocks(static_cast<size_t>(n)), offsets(static_cast<size_t>(n));
  int64_t offset = 0;
  for (int i = 0; i < n; ++i) {
    blocks[size_t(i)] = context.input(i).dim(axis) * inner;
    offsets[size_t(i)] = offset;
    offset += blocks[size_t(i)];
  }
  RETURN_IF_ERROR(DispatchByElement(node, first.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* out = MutableElements<T>(output);
    int64_t chunk = std::max<int64_t>(1, kMinChunkElements / std::max<int64_t>(out_block / n, 1));
    context.pool.ParallelFor(outer * n, chunk, [&](int64_t begin, int64_t end) {
      for (int64_t item = begin; item < end; ++item) {
        int64_t o = item / n;
        size_t i = size_t(item % n);
        const T* in = Elements<T>(context.input(int(i)));
        CopyElements(in + o * blocks[i], blocks[i], out + o * out_block + offsets[i]);
      }
    });
    return OkStatus();
  }));
  context.output(0) = std::move(output);
  return OkStatus();
}

StatusOr<std::vector<int64_t>> SplitSizes(const KernelContext& context, int64_t dim) {
  const Node& node = context.node;
  int n = context.num_outputs();
  std::vector<int64_t> split;
  if (context.opset < 13) {
    split = node.GetInts("split");
  } else if (context.has_input(1)) {
    ASSIGN_OR_RETURN(split, ReadIntList(context, 1, "split"));
  }
  if (!split.empty()) {  // an empty list means equal parts, as in ORT
    if (int(split.size()) != n) {
      return KernelError(node, "split has " + std::to_string(split.size()) + " entries for " +
                                   std::to_string(n) + " outputs");
    }
    int64_t sum = 0;
    for (int64_t s : split) {
      if (s < 0 || s > dim) {
        return KernelError(node, "split entry " + std::to_string(s) + " is out of range");
      }
      sum += s;
    }
    if (sum != dim) {
      return KernelError(node, "split sums to " + std::to_string(sum) + " but the axis has " +
                                   std::to_string(dim) + " elements");
    }
    return split;
  }
  if (context.opset >= 18 && node.HasAttribute("num_outputs")) {
    int64_t count = node.GetInt("num_outputs", 0);
    if (count != n || n <= 0) {
      return KernelError(node, "num_outputs " + std::to_string(count) + " does not match the " +
                                   std::to_string(n) + " outputs");
    }
    int64_t chunk = (dim + n - 1) / n;
    split.assign(size_t(n), chunk);
    split.back() = dim - chunk * (n - 1);
    if (split.back() < 0)
      return KernelError(
          node, "cannot split " + std::to_string(dim) + " elements into " + std::to_string(n));
    return split;
  }
  if (n <= 0 || dim % n != 0) {
    return KernelError(node, "cannot split " + std::to_string(dim) + " elements into " +
                                 std::to_string(n) + " equal parts");
  }
  split.assign(size_t(n), dim / n);
  return split;
}

Status SplitKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 2));
  const Tensor& input = context.input(0);
  int rank = input.rank();
  if (rank == 0) return KernelError(context.node, "cannot split a scalar");
  ASSIGN_OR_RETURN(int axis, NormalizeAxis(context.node.GetInt("axis", 0), rank, context.node));
  ASSIGN_OR_RETURN(std::vector<int64_t> split, SplitSizes(context, input.dim(axis)));
  int64_t outer = DimProduct(input.shape(), 0, axis);
  int64_t inner = DimProduct(input.shape(), axis + 1, rank);
  int64_t in_block = input.dim(axis) * inner;
  int64_t start = 0;
  for (size_t i = 0; i < split.size(); ++i) {
    Shape shape = input.shape();
    shape[size_t(axis)] = split[i];
    ASSIGN_OR_RETURN(Tensor output, Tensor::Allocate(input.dtype(), shape));
    int64_t block = split[i] * inner, offset = start * inner;
    RETURN_IF_ERROR(DispatchByElement(context.node, input.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* in = Elements<T>(input);
      T* out = MutableElements<T>(output);
      int64_t chunk = std::max<int64_t>(1, kMinChunkElements / std::max<int64_t>(block, 1));
      context.pool.ParallelFor(outer, chunk, [&](int64_t begin, int64_t end) {
        for (int64_t o = begin; o < end; ++o) {
          CopyElements(in + o * in_block + offset, block, out + o * block);
        }
      });
      return OkStatus();
    }));
    start += split[i];
    context.output(int(i)) = std::move(output);
  }
  return OkStatus();
}

enum class PadMode { kConstant, kReflect, kEdge, kWrap };

// Input index for output index `o` of an axis padded by `begin` (negative pads crop); -1 marks
// the constant value.
int64_t PadSource(int64_t o, int64_t begin, int64_t dim, PadMode mode) {
  int64_t i = o - begin;
  if (i >= 0 && i < dim) return i;
  switch (mode) {
    case PadMode::kConstant:
      return -1;
    case PadMode::kEdge:
      return std::clamp<int64_t>(i, 0, dim - 1);
    case PadMode::kWrap:
      return ((i % dim) + dim) % dim;
    case PadMode::kReflect: {
      if (dim == 1) return 0;
      int64_t period = 2 * (dim - 1);
      int64_t m = ((i % period) + period) % period;
      return m < dim ? m : period - m;
    }
  }
  return -1;
}

struct PadArgs {
  PadMode mode = PadMode::kConstant;
  std::vector<int64_t> pads;  // [begin_0 .. begin_{r-1}, end_0 .. end_{r-1}]
  Tensor value;               // one element of the input's dtype
};

StatusOr<PadArgs> ReadPadArgs(const KernelContext& context) {
  const Node& node = context.node;
  const Tensor& input = context.input(0);
  int rank = input.rank();
  PadArgs args;
  std::string mode = node.GetString("mode", "constant");
  if (mode == "constant")
    args.mode = PadMode::kConstant;
  else if (mode == "reflect")
    args.mode = PadMode::kReflect;
  else if (mode == "edge")
    args.mode = PadMode::kEdge;
  else if (mode == "wrap")
    args.mode = PadMode::kWrap;
  else
    return KernelError(node, "unknown mode '" + mode + "'");
  std::vector<int64_t> pads;
  std::vector<int> axes(static_cast<size_t>(rank));
  for (int k = 0; k < rank; ++k) axes[size_t(k)] = k;
  if (context.opset < 11) {
    RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
    pads = node.GetInts("pads");
    ASSIGN_OR_RETURN(args.value, ScalarOfType(node, input.dtype(), node.GetFloat("value", 0)));
  } else {
    RETURN_IF_ERROR(ExpectInputs(context, 2, 4));
    ASSIGN_OR_RETURN(pads, ReadIntList(context, 1, "pads"));
    if (context.has_input(2) && context.input(2).size() > 0) {
      if (context.input(2).dtype() != input.dtype()) {
        return KernelError(node, "constant_value dtype differs from the data dtype");
      }
      ASSIGN_OR_RETURN(args.value, context.input(2).Reshaped({}));
      if (context.input(2).size() != 1) return KernelError(node, "constant_value is not a scalar");
    } else {
      ASSIGN_OR_RETURN(args.value, ScalarOfType(node, input.dtype(), 0));
    }
    if (context.has_input(3)) {
      ASSIGN_OR_RETURN(std::vector<int64_t> raw, ReadIntList(context, 3, "axes"));
      ASSIGN_OR_RETURN(axes, NormalizeAxes(raw, rank, node));
    }
  }
  size_t a = axes.size();
  if (pads.size() != 2 * a) {
    return KernelError(node, "pads has " + std::to_string(pads.size()) + " entries, expected " +
                                 std::to_string(2 * a));
  }
  args.pads.assign(size_t(2 * rank), 0);
  for (size_t i = 0; i < a; ++i) {
    args.pads[size_t(axes[i])] = pads[i];
    args.pads[size_t(rank + axes[i])] = pads[a + i];
  }
  return args;
}

// Output row by row; the source index of every output coordinate comes from PadSource, and the
// part of a row that is a plain copy of an input row is one block copy.
template <typename T>
void PadRows(const T* in, const Shape& in_shape, const Shape& out_shape,
             const std::vector<int64_t>& begins, PadMode mode, const T& value, T* out,
             const ThreadPool& pool) {
  int r = int(out_shape.size());
  int64_t inner = out_shape[size_t(r - 1)];
  int64_t dim = in_shape[size_t(r - 1)], begin = begins[size_t(r - 1)];
  int64_t lo = std::clamp<int64_t>(begin, 0, inner);
  int64_t hi = std::clamp<int64_t>(begin + dim, lo, inner);  // dst[j] = src[j - begin] in [lo, hi)
  std::vector<int64_t> in_strides = Strides(in_shape);
  int64_t rows = DimProduct(out_shape, 0, r - 1);
  int64_t chunk = std::max<int64_t>(1, kMinChunkElements / std::max<int64_t>(inner, 1));
  pool.ParallelFor(rows, chunk, [&](int64_t first, int64_t end) {
    for (int64_t row = first; row < end; ++row) {
      T* dst = out + row * inner;
      int64_t offset = 0, rest = row;
      bool constant = false;
      for (int k = r - 2; k >= 0 && !constant; --k) {
        int64_t pos = rest % out_shape[size_t(k)];
        rest /= out_shape[size_t(k)];
        int64_t src = PadSource(pos, begins[size_t(k)], in_shape[size_t(k)], mode);
        constant = src < 0;
        offset += src * in_strides[size_t(k)];
      }
      if (constant) {
        std::fill(dst, dst + inner, value);
        continue;
      }
      const T* src = in + offset;
      auto fill = [&](int64_t from, int64_t to) {
        for (int64_t j = from; j < to; ++j) {
          int64_t s = PadSource(j, begin, dim, mode);
          dst[j] = s < 0 ? value : src[s];
        }
      };
      fill(0, lo);
      CopyElements(src + (lo - begin), hi - lo, dst + lo);
      fill(hi, inner);
    }
  });
}

Status PadKernel(KernelContext& context) {
  if (!context.has_input(0)) return KernelError(context.node, "input 0 is missing");
  const Tensor& input = context.input(0);
  ASSIGN_OR_RETURN(PadArgs args, ReadPadArgs(context));
  int rank = input.rank();
  constexpr int64_t kMaxPad = int64_t(1) << 48;
  Shape out_shape(static_cast<size_t>(rank));
  for (int k = 0; k < rank; ++k) {
    int64_t dim = input.dim(k), begin = args.pads[size_t(k)], end = args.pads[size_t(rank + k)];
    if (std::abs(begin) > kMaxPad || std::abs(end) > kMaxPad) {
      return KernelError(context.node, "pads of axis " + std::to_string(k) + " are too large");
    }
    int64_t out_dim = dim + begin + end;
    if (out_dim < 0) {
      return KernelError(context.node, "pads crop axis " + std::to_string(k) + " below zero");
    }
    if (dim == 0 && out_dim > 0 && args.mode != PadMode::kConstant) {
      return KernelError(context.node, "cannot pad the empty axis " + std::to_string(k) +
                                           " in mode " + context.node.GetString("mode", ""));
    }
    out_shape[size_t(k)] = out_dim;
  }
  if (std::all_of(args.pads.begin(), args.pads.end(), [](int64_t p) { return p == 0; })) {
    context.output(0) = input;  // nothing to pad: share the buffer
    return OkStatus();
  }
  ASSIGN_OR_RETURN(Tensor output, Tensor::Allocate(input.dtype(), out_shape));
  if (output.size() > 0) {
    std::vector<int64_t> begins(args.pads.begin(), args.pads.begin() + rank);
    RETURN_IF_ERROR(DispatchByElement(context.node, input.dtype(), [&](auto tag) {
      using T = decltype(tag);
      PadRows(Elements<T>(input), input.shape(), out_shape, begins, args.mode,
              Elements<T>(args.value)[0], MutableElements<T>(output), context.pool);
      return OkStatus();
    }));
  }
  context.output(0) = std::move(output);
  return OkStatus();
}

Status CompressKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 2, 2));
  const Node& node = context.node;
  const Tensor& input = context.input(0);
  const Tensor& condition = context.input(1);
  if (condition.dtype() != DataType::kBool || condition.rank() != 1) {
    return KernelError(node, "condition must be a 1-D bool tensor");
  }
  Shape shape = input.shape();
  int axis = 0;
  if (node.HasAttribute("axis")) {
    ASSIGN_OR_RETURN(axis, NormalizeAxis(node.GetInt("axis", 0), input.rank(), node));
  } else {
    shape = {input.size()};
  }
  int rank = int(shape.size());
  const bool* cond = condition.data<bool>();
  std::vector<int64_t> selected;
  for (int64_t i = 0; i < condition.size(); ++i) {
    if (!cond[i]) continue;
    if (i >= shape[size_t(axis)]) {
      return KernelError(node, "condition selects index " + std::to_string(i) +
                                   " beyond the axis size " + std::to_string(shape[size_t(axis)]));
    }
    selected.push_back(i);
  }
  Shape out_shape = shape;
  out_shape[size_t(axis)] = int64_t(selected.size());
  ASSIGN_OR_RETURN(Tensor output, Tensor::Allocate(input.dtype(), out_shape));
  int64_t outer = DimProduct(shape, 0, axis), inner = DimProduct(shape, axis + 1, rank);
  int64_t in_block = shape[size_t(axis)] * inner, out_block = int64_t(selected.size()) * inner;
  RETURN_IF_ERROR(DispatchByElement(node, input.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = Elements<T>(input);
    T* out = MutableElements<T>(output);
    for (int64_t o = 0; o < outer; ++o) {
      for (size_t s = 0; s < selected.size(); ++s) {
        CopyElements(in + o * in_block + selected[s] * inner, inner,
                     out + o * out_block + int64_t(s) * inner);
      }
    }
    return OkStatus();
  }));
  context.output(0) = std::move(output);
  return OkStatus();
}

}  // namespace

void RegisterConcatSplitPadKernels(KernelRegistry* registry) {
  registry->RegisterFunction(OpType::kConcat, &ConcatKernel);
  registry->RegisterFunction(OpType::kSplit, &SplitKernel);
  registry->RegisterFunction(OpType::kPad, &PadKernel);
  registry->RegisterFunction(OpType::kCompress, &CompressKernel);
}

}  // namespace shrink::engine::tensor_internal
