// Kernels that are one strided copy: Transpose, DepthToSpace, SpaceToDepth, Expand, Tile, Slice.
// They all reduce to CopyStrided, which merges dims, tiles batched 2-D transposes and splits rows
// over the thread pool.
#include <algorithm>
#include <limits>

#include "engine/kernels/tensor_internal.h"

namespace shrink::engine::tensor_internal {
namespace {

constexpr int64_t kRowChunkElements = 16384;  // elements per parallel work item, at least
constexpr int64_t kTile = 32;

// Input offset of the first element of row `row` of a row-major walk over dims[0..count).
int64_t RowOffset(int64_t row, const std::vector<int64_t>& dims,
                  const std::vector<int64_t>& strides, int count, std::vector<int64_t>* index) {
  int64_t offset = 0;
  for (int k = count - 1; k >= 0; --k) {
    int64_t i = row % dims[size_t(k)];
    row /= dims[size_t(k)];
    if (index) (*index)[size_t(k)] = i;
    offset += i * strides[size_t(k)];
  }
  return offset;
}

// dims (..., R, C) with strides (..., 1, S): out[b, r, c] = in[b_off + r + c * S]. Tiles go
// through a small buffer so every input and output cache line is used in full at once; with
// power-of-two strides the lines of a tile alias in L1 and a direct tiled loop thrashes.
template <typename T>
void TiledTranspose(const T* in, const std::vector<int64_t>& dims,
                    const std::vector<int64_t>& strides, T* out, const ThreadPool& pool) {
  int r = int(dims.size());
  int64_t rows = dims[size_t(r - 2)], cols = dims[size_t(r - 1)];
  int64_t col_stride = strides[size_t(r - 1)];
  int64_t batches = 1;
  for (int k = 0; k < r - 2; ++k) batches *= dims[size_t(k)];
  int64_t row_tiles = (rows + kTile - 1) / kTile;
  int64_t chunk = std::max<int64_t>(1, kRowChunkElements / (kTile * cols));
  pool.ParallelFor(batches * row_tiles, chunk, [&](int64_t begin, int64_t end) {
    T tile[kTile * kTile];
    for (int64_t item = begin; item < end; ++item) {
      int64_t batch = item / row_tiles;
      int64_t r0 = (item % row_tiles) * kTile;
      int64_t nr = std::min(rows, r0 + kTile) - r0;
      const T* src = in + RowOffset(batch, dims, strides, r - 2, nullptr) + r0;
      T* dst = out + (batch * rows + r0) * cols;
      for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
        int64_t nc = std::min(cols, c0 + kTile) - c0;
        for (int64_t c = 0; c < nc; ++c) {
          const T* column = src + (c0 + c) * col_stride;
          for (int64_t i = 0; i < nr; ++i) tile[c * kTile + i] = column[i];
        }
        for (int64_t i = 0; i < nr; ++i) {
          T* row = dst + i * cols + c0;
          for (int64_t c = 0; c < nc; ++c) row[c] = tile[c * kTile + i];
        }
      }
    }
  });
}

template <typename T>
void StridedRows(const T* in, const std::vector<int64_t>& dims, const std::vector<int64_t>& strides,
                 T* out, const ThreadPool& pool) {
  int r = int(dims.size());
  int64_t inner = dims[size_t(r - 1)];
  int64_t inner_stride = strides[size_t(r - 1)];
  int64_t rows = 1;
  for (int k = 0; k < r - 1; ++k) rows *= dims[size_t(k)];
  int64_t chunk = std::max<int64_t>(1, kRowChunkElements / std::max<int64_t>(inner, 1));
  pool.ParallelFor(rows, chunk, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> index(size_t(std::max(r - 1, 1)), 0);
    int64_t offset = RowOffset(begin, dims, strides, r - 1, &index);
    for (int64_t row = begin; row < end; ++row) {
      const T* src = in + offset;
      T* dst = out + row * inner;
      if (inner_stride == 1) {
        CopyElements(src, inner, dst);
      } else if (inner_stride == 0) {
        std::fill(dst, dst + inner, *src);
      } else {
        for (int64_t i = 0; i < inner; ++i) dst[i] = src[i * inner_stride];
      }
      for (int k = r - 2; k >= 0; --k) {
        offset += strides[size_t(k)];
        if (++index[size_t(k)] < dims[size_t(k)]) break;
        offset -= strides[size_t(k)] * dims[size_t(k)];
        index[size_t(k)] = 0;
      }
    }
  });
}

}  // namespace

int64_t DimProduct(const Shape& shape, int begin, int end) {
  int64_t product = 1;
  for (int i = begin; i < end; ++i) product *= shape[size_t(i)];
  return product;
}

Status CopyStrided(const Node& node, const Tensor& input, int64_t input_offset,
                   const std::vector<int64_t>& input_strides, Tensor* output,
                   const ThreadPool& pool) {
  if (output->size() == 0) return OkStatus();
  const Shape& shape = output->shape();
  if (input_strides.size() != shape.size()) return Internal("CopyStrided: stride rank mismatch");
  // Drop unit dims and merge dims that are contiguous in the input as well.
  std::vector<int64_t> dims, strides;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1) continue;
    if (!dims.empty() && strides.back() == input_strides[i] * shape[i]) {
      dims.back() *= shape[i];
      strides.back() = input_strides[i];
    } else {
      dims.push_back(shape[i]);
      strides.push_back(input_strides[i]);
    }
  }
  if (dims.empty()) {
    dims.push_back(1);
    strides.push_back(1);
  }
  return DispatchByElement(node, input.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = Elements<T>(input) + input_offset;
    T* out = MutableElements<T>(*output);
    size_t r = dims.size();
    bool transpose = r >= 2 && strides[r - 2] == 1 && strides[r - 1] != 1 && strides[r - 1] != 0 &&
                     std::is_trivially_copyable_v<T>;
    if (transpose) {
      TiledTranspose(in, dims, strides, out, pool);
    } else {
      StridedRows(in, dims, strides, out, pool);
    }
    return OkStatus();
  });
}

StatusOr<Tensor> TransposeTensor(const Node& node, const Tensor& input,
                                 const std::vector<int>& perm, const ThreadPool& pool) {
  std::vector<int64_t> in_strides = Strides(input.shape());
  Shape out_shape(perm.size());
  std::vector<int64_t> strides(perm.size());
  for (size_t k = 0; k < perm.size(); ++k) {
    out_shape[k] = input.dim(perm[k]);
    strides[k] = in_strides[size_t(perm[k])];
  }
  ASSIGN_OR_RETURN(Tensor output, Tensor::Allocate(input.dtype(), out_shape));
  RETURN_IF_ERROR(CopyStrided(node, input, 0, strides, &output, pool));
  return output;
}

namespace {

Status TransposeKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
  const Tensor& input = context.input(0);
  const Node& node = context.node;
  int rank = input.rank();
  std::vector<int64_t> attr = node.GetInts("perm");
  std::vector<int> perm(static_cast<size_t>(rank));
  if (!node.HasAttribute("perm")) {
    for (int k = 0; k < rank; ++k) perm[size_t(k)] = rank - 1 - k;
  } else {
    if (int(attr.size()) != rank) {
      return KernelError(node, "perm has " + std::to_string(attr.size()) +
                                   " entries for an input of rank " + std::to_string(rank));
    }
    std::vector<bool> seen(size_t(rank), false);
    for (int k = 0; k < rank; ++k) {
      int64_t p = attr[size_t(k)];
      if (p < 0 || p >= rank || seen[size_t(p)]) {
        return KernelError(node, "perm is not a permutation of 0.." + std::to_string(rank - 1));
      }
      seen[size_t(p)] = true;
      perm[size_t(k)] = int(p);
    }
  }
  // Zero copy when the dims larger than 1 keep their order.
  Shape out_shape(static_cast<size_t>(rank));
  int last = -1;
  bool keeps_order = true;
  for (int k = 0; k < rank; ++k) {
    out_shape[size_t(k)] = input.dim(perm[size_t(k)]);
    if (out_shape[size_t(k)] == 1) continue;
    if (perm[size_t(k)] < last) keeps_order = false;
    last = perm[size_t(k)];
  }
  if (keeps_order) {
    ASSIGN_OR_RETURN(context.output(0), input.Reshaped(out_shape));
    return OkStatus();
  }
  ASSIGN_OR_RETURN(context.output(0), TransposeTensor(node, input, perm, context.pool));
  return OkStatus();
}

// Views `input` as `view_shape`, permutes it by `perm` and stores it with `output_shape`.
Status PermutedCopy(KernelContext& context, const Shape& view_shape, const std::vector<int>& perm,
                    const Shape& output_shape) {
  const Tensor& input = context.input(0);
  std::vector<int64_t> view_strides = Strides(view_shape);
  Shape permuted(perm.size());
  std::vector<int64_t> strides(perm.size());
  for (size_t k = 0; k < perm.size(); ++k) {
    permuted[k] = view_shape[size_t(perm[k])];
    strides[k] = view_strides[size_t(perm[k])];
  }
  ASSIGN_OR_RETURN(Tensor output, Tensor::Allocate(input.dtype(), output_shape));
  ASSIGN_OR_RETURN(Tensor view, output.Reshaped(permuted));
  RETURN_IF_ERROR(CopyStrided(context.node, input, 0, strides, &view, context.pool));
  context.output(0) = std::move(output);
  return OkStatus();
}

StatusOr<int64_t> BlockSize(const KernelContext& context) {
  int64_t block = context.node.GetInt("blocksize", 0);
  if (block <= 0 || block > (int64_t(1) << 20)) {
    return KernelError(context.node, "blocksize " + std::to_string(block) + " is out of range");
  }
  if (context.input(0).rank() != 4) {
    return KernelError(context.node,
                       "expects a 4-D input, got shape " + ShapeToString(context.input(0).shape()));
  }
  return block;
}

Status DepthToSpaceKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
  ASSIGN_OR_RETURN(int64_t b, BlockSize(context));
  const Shape& s = context.input(0).shape();
  int64_t n = s[0], c = s[1], h = s[2], w = s[3];
  if (c % (b * b) != 0) {
    return KernelError(context.node,
                       "channels " + std::to_string(c) + " are not divisible by blocksize^2");
  }
  int64_t depth = c / (b * b);
  std::string mode = context.node.GetString("mode", "DCR");
  Shape out_shape = {n, depth, h * b, w * b};
  if (mode == "DCR")
    return PermutedCopy(context, {n, b, b, depth, h, w}, {0, 3, 4, 1, 5, 2}, out_shape);
  if (mode == "CRD")
    return PermutedCopy(context, {n, depth, b, b, h, w}, {0, 1, 4, 2, 5, 3}, out_shape);
  return KernelError(context.node, "unknown mode '" + mode + "'");
}

Status SpaceToDepthKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
  ASSIGN_OR_RETURN(int64_t b, BlockSize(context));
  const Shape& s = context.input(0).shape();
  int64_t n = s[0], c = s[1], h = s[2], w = s[3];
  if (h % b != 0 || w % b != 0) {
    return KernelError(context.node, "spatial dims " + ShapeToString(s) +
                                         " are not divisible by blocksize " + std::to_string(b));
  }
  return PermutedCopy(context, {n, c, h / b, b, w / b, b}, {0, 3, 5, 1, 2, 4},
                      {n, c * b * b, h / b, w / b});
}

Status ExpandKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 2, 2));
  const Tensor& input = context.input(0);
  ASSIGN_OR_RETURN(std::vector<int64_t> shape, ReadIntList(context, 1, "shape"));
  for (int64_t d : shape) {
    if (d < 0) return KernelError(context.node, "shape has a negative dim " + std::to_string(d));
  }
  auto out_shape = BroadcastShapes({input.shape(), shape});
  if (!out_shape.ok()) return KernelError(context.node, out_shape.status().message());
  if (*out_shape == input.shape()) {
    context.output(0) = input;
    return OkStatus();
  }
  ASSIGN_OR_RETURN(Tensor output, Tensor::Allocate(input.dtype(), *out_shape));
  RETURN_IF_ERROR(CopyStrided(context.node, input, 0, BroadcastStrides(input.shape(), *out_shape),
                              &output, context.pool));
  context.output(0) = std::move(output);
  return OkStatus();
}

Status TileKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 2, 3));
  const Tensor& input = context.input(0);
  ASSIGN_OR_RETURN(std::vector<int64_t> repeats, ReadIntList(context, 1, "repeats"));
  int rank = input.rank();
  if (int(repeats.size()) != rank) {
    return KernelError(context.node, "repeats has " + std::to_string(repeats.size()) +
                                         " entries for an input of rank " + std::to_string(rank));
  }
  // Output viewed as (r0, d0, r1, d1, ...) is the input broadcast along the r_k dims.
  Shape out_shape(static_cast<size_t>(rank)), view;
  std::vector<int64_t> in_strides = Strides(input.shape()), strides;
  for (int k = 0; k < rank; ++k) {
    int64_t rep = repeats[size_t(k)];
    if (rep < 0) return KernelError(context.node, "repeats has a negative entry");
    int64_t dim = input.dim(k);
    if (dim != 0 && rep > std::numeric_limits<int64_t>::max() / dim) {
      return KernelError(context.node, "tiled shape overflows");
    }
    out_shape[size_t(k)] = dim * rep;
    view.insert(view.end(), {rep, dim});
    strides.insert(strides.end(), {0, in_strides[size_t(k)]});
  }
  if (out_shape == input.shape()) {  // all repeats 1 (or an empty input): share the buffer
    context.output(0) = input;
    return OkStatus();
  }
  ASSIGN_OR_RETURN(Tensor output, Tensor::Allocate(input.dtype(), out_shape));
  if (output.size() > 0) {
    ASSIGN_OR_RETURN(Tensor target, output.Reshaped(view));
    RETURN_IF_ERROR(CopyStrided(context.node, input, 0, strides, &target, context.pool));
  }
  context.output(0) = std::move(output);
  return OkStatus();
}

struct SliceArgs {
  std::vector<int64_t> starts, ends, axes, steps;
};

StatusOr<SliceArgs> ReadSliceArgs(const KernelContext& context) {
  SliceArgs args;
  const Node& node = context.node;
  if (context.opset < 10) {
    RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
    args.starts = node.GetInts("starts");
    args.ends = node.GetInts("ends");
    args.axes = node.GetInts("axes");
    if (!node.HasAttribute("starts") || !node.HasAttribute("ends")) {
      return KernelError(node, "attributes starts and ends are required");
    }
  } else {
    RETURN_IF_ERROR(ExpectInputs(context, 3, 5));
    ASSIGN_OR_RETURN(args.starts, ReadIntList(context, 1, "starts"));
    ASSIGN_OR_RETURN(args.ends, ReadIntList(context, 2, "ends"));
    if (context.has_input(3)) {
      ASSIGN_OR_RETURN(args.axes, ReadIntList(context, 3, "axes"));
    }
    if (context.has_input(4)) {
      ASSIGN_OR_RETURN(args.steps, ReadIntList(context, 4, "steps"));
    }
  }
  size_t n = args.starts.size();
  if (args.ends.size() != n) return KernelError(node, "starts and ends differ in length");
  bool has_axes = context.opset < 10 ? node.HasAttribute("axes") : context.has_input(3);
  if (!has_axes) {
    args.axes.resize(n);
    for (size_t i = 0; i < n; ++i) args.axes[i] = int64_t(i);
  }
  if (args.steps.empty() && (context.opset < 10 || !context.has_input(4))) {
    args.steps.assign(n, 1);
  }
  if (args.axes.size() != n || args.steps.size() != n) {
    return KernelError(node, "starts, ends, axes and steps differ in length");
  }
  return args;
}

Status SliceKernel(KernelContext& context) {
  ASSIGN_OR_RETURN(SliceArgs args, ReadSliceArgs(context));
  const Tensor& input = context.input(0);
  int rank = input.rank();
  ASSIGN_OR_RETURN(std::vector<int> axes, NormalizeAxes(args.axes, rank, context.node));
  Shape out_shape = input.shape();
  std::vector<int64_t> in_strides = Strides(input.shape());
  std::vector<int64_t> strides = in_strides;
  int64_t offset = 0;
  for (size_t i = 0; i < axes.size(); ++i) {
    int axis = axes[i];
    int64_t dim = input.dim(axis), step = args.steps[i];
    if (step == 0) return KernelError(context.node, "slice step must not be 0");
    // Steps beyond the dim select at most one element; clamping keeps the arithmetic in range.
    step = std::clamp<int64_t>(step, -(dim + 1), dim + 1);
    int64_t start = args.starts[i], end = args.ends[i];
    if (start < 0) start += dim;
    if (end < 0) end += dim;
    int64_t count;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
      count = end > start ? (end - start + step - 1) / step : 0;
    } else {
      start = std::clamp<int64_t>(start, 0, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
      count = start > end ? (start - end - step - 1) / -step : 0;
    }
    if (dim == 0) count = 0;
    out_shape[size_t(axis)] = count;
    if (count > 0) offset += start * in_strides[size_t(axis)];
    strides[size_t(axis)] = in_strides[size_t(axis)] * step;
  }
  bool whole = out_shape == input.shape() && offset == 0;
  for (int k = 0; whole && k < rank; ++k)
    whole = out_shape[size_t(k)] <= 1 || strides[size_t(k)] == in_strides[size_t(k)];
  if (whole) {  // selects the entire input in order: share the buffer
    context.output(0) = input;
    return OkStatus();
  }
  ASSIGN_OR_RETURN(Tensor output, Tensor::Allocate(input.dtype(), out_shape));
  if (output.size() > 0) {
    RETURN_IF_ERROR(CopyStrided(context.node, input, offset, strides, &output, context.pool));
  }
  context.output(0) = std::move(output);
  return OkStatus();
}

}  // namespace

void RegisterCopyKernels(KernelRegistry* registry) {
  registry->RegisterFunction(OpType::kTranspose, &TransposeKernel);
  registry->RegisterFunction(OpType::kDepthToSpace, &DepthToSpaceKernel);
  registry->RegisterFunction(OpType::kSpaceToDepth, &SpaceToDepthKernel);
  registry->RegisterFunction(OpType::kExpand, &ExpandKernel);
  registry->RegisterFunction(OpType::kTile, &TileKernel);
  registry->RegisterFunction(OpType::kSlice, &SliceKernel);
}

}  // namespace shrink::engine::tensor_internal
