// Einsum with numpy semantics: explicit ("ij,jk->ik") and implicit ("ij,jk") outputs,
// ellipsis broadcasting, repeated labels (diagonals), size-1 broadcasting. The reference path
// is one loop over every label combination. The float32 fast path contracts operands pairwise:
// each pair becomes a batched GEMM after summing out labels needed nowhere else.
#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <optional>
#include <type_traits>

#include "engine/kernels/gemm.h"
#include "engine/kernels/kernel_util.h"
#include "engine/kernels/linalg_internal.h"

namespace shrink::engine {
namespace {

using Labels = std::vector<int>;

// Letters are labels 0..51 ('A'..'Z', 'a'..'z': sorted by id is sorted in ASCII order, as the
// implicit output wants); ellipsis dimensions are labels 52, 53, ...
constexpr int kEllipsisLabel = 52;

struct Equation {
  std::vector<Labels> inputs;  // one label per axis of each input
  Labels output;
  std::vector<int64_t> size;  // per label (after broadcasting)
};

int LetterLabel(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return 26 + (c - 'a');
  return -1;
}

// Parses one term into letters and the position of "..." (-1 if absent).
Status ParseTerm(const Node& node, const std::string& term, Labels* letters, int* ellipsis) {
  *ellipsis = -1;
  for (size_t i = 0; i < term.size(); ++i) {
    if (term[i] == '.') {
      if (*ellipsis >= 0 || term.compare(i, 3, "...") != 0) {
        return KernelError(node, "malformed ellipsis in equation term '" + term + "'");
      }
      *ellipsis = int(letters->size());
      i += 2;
      continue;
    }
    int label = LetterLabel(term[i]);
    if (label < 0) return KernelError(node, "invalid character in equation term '" + term + "'");
    letters->push_back(label);
  }
  return OkStatus();
}

// The term's labels with "..." expanded to `count` ellipsis labels, right-aligned among the
// `total` ellipsis dimensions of the equation.
Labels WithEllipsis(const Labels& letters, int ellipsis, int count, int total) {
  if (ellipsis < 0) return letters;
  Labels labels(letters.begin(), letters.begin() + ellipsis);
  for (int q = 0; q < count; ++q) labels.push_back(kEllipsisLabel + total - count + q);
  labels.insert(labels.end(), letters.begin() + ellipsis, letters.end());
  return labels;
}

StatusOr<Equation> ParseEquation(const Node& node, const std::vector<const Tensor*>& inputs) {
  std::string text;
  for (char c : node.GetString("equation", "")) {
    if (c != ' ') text += c;
  }
  size_t arrow = text.find("->");
  std::string lhs = text.substr(0, arrow);
  std::vector<std::string> terms(1);
  for (char c : lhs) {
    if (c == ',') {
      terms.emplace_back();
    } else {
      terms.back().push_back(c);
    }
  }
  if (terms.size() != inputs.size()) {
    return KernelError(node, "equation '" + text + "' has " + std::to_string(terms.size()) +
                                 " input terms for " + std::to_string(inputs.size()) + " inputs");
  }
  Equation eq;
  std::vector<Labels> letters(terms.size());
  std::vector<int> ellipsis(terms.size()), ell_rank(terms.size(), 0);
  int total_ell = 0;
  for (size_t i = 0; i < terms.size(); ++i) {
    RETURN_IF_ERROR(ParseTerm(node, terms[i], &letters[i], &ellipsis[i]));
    int rank = inputs[i]->rank();
    int extra = rank - int(letters[i].size());
    if (extra < 0 || (extra > 0 && ellipsis[i] < 0)) {
      return KernelError(node, "term '" + terms[i] + "' does not match input " + std::to_string(i) +
                                   " of shape " + ShapeToString(inputs[i]->shape()));
    }
    ell_rank[i] = extra;
    total_ell = std::max(total_ell, extra);
  }
  eq.size.assign(size_t(kEllipsisLabel + total_ell), -1);
  std::vector<int> count(eq.size.size(), 0);
  for (size_t i = 0; i < terms.size(); ++i) {
    eq.inputs.push_back(WithEllipsis(letters[i], ellipsis[i], ell_rank[i], total_ell));
    for (size_t axis = 0; axis < eq.inputs[i].size(); ++axis) {
      int label = eq.inputs[i][axis];
      int64_t dim = inputs[i]->dim(int(axis));
      int64_t& size = eq.size[size_t(label)];
      if (size == -1 || size == 1) {
        size = dim;
      } else if (dim != size && dim != 1) {
        return KernelError(node, "dimension " + std::to_string(dim) + " of input " +
                                     std::to_string(i) + " does not match " + std::to_string(size) +
                                     " for the same label");
      }
      count[size_t(label)]++;
    }
  }
  if (arrow == std::string::npos) {  // implicit: ellipsis dims, then labels seen once, sorted
    for (int q = 0; q < total_ell; ++q) eq.output.push_back(kEllipsisLabel + q);
    for (int label = 0; label < kEllipsisLabel; ++label) {
      if (count[size_t(label)] == 1) eq.output.push_back(label);
    }
    return eq;
  }
  Labels out_letters;
  int out_ellipsis = -1;
  RETURN_IF_ERROR(ParseTerm(node, text.substr(arrow + 2), &out_letters, &out_ellipsis));
  if (total_ell > 0 && out_ellipsis < 0) {
    return KernelError(node, "output of '" + text + "' needs '...' for the broadcast dimensions");
  }
  eq.output = WithEllipsis(out_letters, out_ellipsis, total_ell, total_ell);
  std::vector<int> seen(eq.size.size(), 0);
  for (int label : out_letters) {
    if (count[size_t(label)] == 0 || seen[size_t(label)]++) {
      return KernelError(node, "output label of '" + text + "' is repeated or not in any input");
    }
  }
  return eq;
}

Shape SizesOf(const Equation& eq, const Labels& labels) {
  Shape shape;
  for (int label : labels) shape.push_back(eq.size[size_t(label)]);
  return shape;
}

// Element stride of every label in a tensor with these axis labels and dims: strides of
// repeated labels add up (diagonals), size-1 dims broadcast (stride 0).
std::vector<int64_t> LabelStrides(const Labels& labels, const Shape& dims, size_t num_labels) {
  std::vector<int64_t> strides(num_labels, 0);
  std::vector<int64_t> own = Strides(dims);
  for (size_t axis = 0; axis < labels.size(); ++axis) {
    if (dims[axis] != 1) strides[size_t(labels[axis])] += own[axis];
  }
  return strides;
}

// Calls fn(offsets) for every index of `sizes`, where offsets[i] advances by strides[i][axis].
template <size_t N, typename Fn>
void ForEachIndex(const Shape& sizes, const std::array<std::vector<int64_t>, N>& strides, Fn&& fn) {
  for (int64_t dim : sizes) {
    if (dim == 0) return;
  }
  std::vector<int64_t> index(sizes.size(), 0);
  std::array<int64_t, N> offsets{};
  while (true) {
    fn(offsets);
    int axis = int(sizes.size()) - 1;
    for (; axis >= 0; --axis) {
      size_t a = size_t(axis);
      for (size_t i = 0; i < N; ++i) offsets[i] += strides[i][a];
      if (++index[a] < sizes[a]) break;
      for (size_t i = 0; i < N; ++i) offsets[i] -= strides[i][a] * sizes[a];
      index[a] = 0;
    }
    if (axis < 0) return;
  }
}

// ---- Reference: one loop over every label ----

template <typename T>
using EinsumAcc = std::conditional_t<std::is_floating_point_v<T>, double,
                                     std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>;

template <typename T>
void EinsumReference(const Equation& eq, const std::vector<const Tensor*>& inputs, Tensor* out) {
  using Acc = EinsumAcc<T>;
  const size_t num_labels = eq.size.size();
  Labels summed;
  for (size_t label = 0; label < num_labels; ++label) {
    bool used = false;
    for (const Labels& in : eq.inputs) used |= std::count(in.begin(), in.end(), int(label)) > 0;
    if (used && std::count(eq.output.begin(), eq.output.end(), int(label)) == 0) {
      summed.push_back(int(label));
    }
  }
  std::vector<std::vector<int64_t>> label_strides;
  for (size_t i = 0; i < inputs.size(); ++i) {
    label_strides.push_back(LabelStrides(eq.inputs[i], inputs[i]->shape(), num_labels));
  }
  // Strides along output labels and along summed labels, per input; input 0 carries the
  // output position itself (a dense row-major output).
  const size_t n = inputs.size();
  std::vector<std::vector<int64_t>> out_strides(n), sum_strides(n);
  for (size_t i = 0; i < n; ++i) {
    for (int label : eq.output) out_strides[i].push_back(label_strides[i][size_t(label)]);
    for (int label : summed) sum_strides[i].push_back(label_strides[i][size_t(label)]);
  }
  Shape out_sizes = SizesOf(eq, eq.output), sum_sizes = SizesOf(eq, summed);
  T* dst = out->data<T>();
  int64_t position = 0;
  std::vector<int64_t> base(n, 0);
  for (int64_t o = 0; o < out->size(); ++o) {
    // Base offsets of this output element in every input.
    int64_t rem = o;
    std::fill(base.begin(), base.end(), 0);
    for (int axis = int(out_sizes.size()) - 1; axis >= 0; --axis) {
      int64_t idx = rem % out_sizes[size_t(axis)];
      rem /= out_sizes[size_t(axis)];
      for (size_t i = 0; i < n; ++i) base[i] += idx * out_strides[i][size_t(axis)];
    }
    Acc acc = 0;
    std::vector<int64_t> sum_index(sum_sizes.size(), 0);
    bool empty = std::find(sum_sizes.begin(), sum_sizes.end(), 0) != sum_sizes.end();
    while (!empty) {
      Acc product = 1;
      for (size_t i = 0; i < n; ++i) {
        int64_t offset = base[i];
        for (size_t s = 0; s < summed.size(); ++s) offset += sum_index[s] * sum_strides[i][s];
        product *= Acc(inputs[i]->data<T>()[offset]);
      }
      acc += product;
      int axis = int(sum_sizes.size()) - 1;
      for (; axis >= 0; --axis) {
        if (++sum_index[size_t(axis)] < sum_sizes[size_t(axis)]) break;
        sum_index[size_t(axis)] = 0;
      }
      if (axis < 0) break;
    }
    dst[position++] = T(acc);
  }
}

// ---- Fast path (float32): pairwise contraction into batched GEMMs ----

struct Operand {
  Labels labels;  // unique after Reduce
  Tensor data;    // float32, dims = sizes of labels (or 1 where broadcast)
};

bool Contains(const Labels& labels, int label) {
  return std::find(labels.begin(), labels.end(), label) != labels.end();
}

// Sums out every label not in `keep` and takes diagonals of repeated labels; the result has
// the kept labels once each, in first-appearance order (`order` overrides the order).
StatusOr<Operand> Reduce(const Equation& eq, const Operand& in, const Labels& keep,
                         const Labels* order = nullptr) {
  Labels kept, dropped;
  for (int label : in.labels) {
    Labels& list = Contains(keep, label) ? kept : dropped;
    if (!Contains(list, label)) list.push_back(label);
  }
  if (order) kept = *order;
  Shape out_dims = SizesOf(eq, kept), inner_dims = SizesOf(eq, dropped);
  if (dropped.empty() && kept == in.labels && out_dims == in.data.shape()) return in;  // as is
  const std::vector<int64_t> strides = LabelStrides(in.labels, in.data.shape(), eq.size.size());
  ASSIGN_OR_RETURN(Tensor data, Tensor::Allocate(DataType::kFloat32, out_dims));
  Operand out{kept, data};
  std::array<std::vector<int64_t>, 2> outer_strides;
  std::vector<int64_t> out_own = Strides(out_dims);
  for (size_t a = 0; a < kept.size(); ++a) {
    outer_strides[0].push_back(strides[size_t(kept[a])]);
    outer_strides[1].push_back(out_own[a]);
  }
  std::array<std::vector<int64_t>, 1> inner_strides;
  for (int label : dropped) inner_strides[0].push_back(strides[size_t(label)]);
  const float* src = in.data.data<float>();
  float* dst = out.data.data<float>();
  ForEachIndex<2>(out_dims, outer_strides, [&](const std::array<int64_t, 2>& at) {
    double sum = 0;
    ForEachIndex<1>(inner_dims, inner_strides,
                    [&](const std::array<int64_t, 1>& inner) { sum += src[at[0] + inner[0]]; });
    dst[at[1]] = float(sum);
  });
  return out;
}

int64_t Product(const Equation& eq, const Labels& labels) {
  int64_t p = 1;
  for (int label : labels) p *= eq.size[size_t(label)];
  return p;
}

// `op` as a batch of [rows, cols] matrices (labels batch + rows + cols), or of [cols, rows]
// matrices with *transposed set when its data is already laid out that way (no copy).
StatusOr<Operand> AsMatrices(const Equation& eq, const Operand& op, const Labels& batch,
                             const Labels& rows, const Labels& cols, bool* transposed) {
  Labels straight = batch, swapped = batch;
  straight.insert(straight.end(), rows.begin(), rows.end());
  straight.insert(straight.end(), cols.begin(), cols.end());
  swapped.insert(swapped.end(), cols.begin(), cols.end());
  swapped.insert(swapped.end(), rows.begin(), rows.end());
  const bool dense = op.data.shape() == SizesOf(eq, op.labels);
  *transposed = dense && op.labels == swapped && op.labels != straight;
  if (*transposed || (dense && op.labels == straight)) return op;
  return Reduce(eq, op, straight, &straight);
}

// a x b keeping the `keep` labels, as a batched GEMM [batch, m, k] x [batch, k, n].
StatusOr<Operand> Contract(const Equation& eq, const Operand& a_in, const Operand& b_in,
                           const Labels& keep, const ThreadPool& pool) {
  Labels a_keep = keep, b_keep = keep;
  a_keep.insert(a_keep.end(), b_in.labels.begin(), b_in.labels.end());
  b_keep.insert(b_keep.end(), a_in.labels.begin(), a_in.labels.end());
  ASSIGN_OR_RETURN(Operand a0, Reduce(eq, a_in, a_keep));
  ASSIGN_OR_RETURN(Operand b0, Reduce(eq, b_in, b_keep));
  Labels batch, m, k, n;
  for (int label : a0.labels) {
    if (!Contains(b0.labels, label)) {
      m.push_back(label);
    } else {
      (Contains(keep, label) ? batch : k).push_back(label);
    }
  }
  for (int label : b0.labels) {
    if (!Contains(a0.labels, label)) n.push_back(label);
  }
  Labels c_labels = batch;
  c_labels.insert(c_labels.end(), m.begin(), m.end());
  c_labels.insert(c_labels.end(), n.begin(), n.end());
  bool trans_a = false, trans_b = false;
  ASSIGN_OR_RETURN(Operand a, AsMatrices(eq, a0, batch, m, k, &trans_a));
  ASSIGN_OR_RETURN(Operand b, AsMatrices(eq, b0, batch, k, n, &trans_b));
  const int64_t nb = Product(eq, batch), nm = Product(eq, m), nk = Product(eq, k),
                nn = Product(eq, n);
  ASSIGN_OR_RETURN(Tensor c_data, Tensor::Allocate(DataType::kFloat32, SizesOf(eq, c_labels)));
  const float* ad = a.data.data<float>();
  const float* bd = b.data.data<float>();
  float* cd = c_data.data<float>();
  const GemmShape shape = DenseGemm(nm, nn, nk, trans_a, trans_b);
  auto run = [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      Sgemm(shape, 1.0f, ad + i * nm * nk, bd + i * nk * nn, 0.0f, cd + i * nm * nn);
    }
  };
  const bool big = nb * nm * nn * nk >= kParallelMacs;
  if (big && nb > 1) {
    pool.ParallelFor(nb, 1, run);  // one region; oneDNN runs single-threaded inside
  } else {
    std::optional<SingleThreadedGemm> single;
    if (!big) single.emplace();
    run(0, nb);
  }
  return Operand{c_labels, c_data};
}

StatusOr<Tensor> EinsumFast(const Equation& eq, const std::vector<const Tensor*>& inputs,
                            const ThreadPool& pool) {
  std::vector<Operand> ops;
  for (size_t i = 0; i < inputs.size(); ++i) ops.push_back({eq.inputs[i], *inputs[i]});
  while (ops.size() > 1) {
    Labels keep = eq.output;
    for (size_t i = 2; i < ops.size(); ++i) {
      keep.insert(keep.end(), ops[i].labels.begin(), ops[i].labels.end());
    }
    ASSIGN_OR_RETURN(Operand c, Contract(eq, ops[0], ops[1], keep, pool));
    ops.erase(ops.begin(), ops.begin() + 2);
    ops.insert(ops.begin(), std::move(c));
  }
  // Sums what is left, takes diagonals, broadcasts size-1 dims and orders as the output.
  ASSIGN_OR_RETURN(Operand result, Reduce(eq, ops[0], eq.output, &eq.output));
  return result.data;
}

Status ComputeEinsum(const KernelContext& context, const Equation& eq, bool reference,
                     Tensor* out) {
  const DataType type = context.input(0).dtype();
  std::vector<const Tensor*> inputs(context.inputs.begin(), context.inputs.end());
  if (type == DataType::kFloat32 && !reference) {
    ASSIGN_OR_RETURN(*out, EinsumFast(eq, inputs, context.pool));
    return OkStatus();
  }
  if (type == DataType::kFloat16 || type == DataType::kBFloat16) {
    bool bf16 = type == DataType::kBFloat16;
    std::vector<Tensor> floats;
    for (const Tensor* t : inputs) {
      Tensor f(DataType::kFloat32, t->shape());
      for (int64_t i = 0; i < t->size(); ++i) {
        uint16_t bits = t->data<uint16_t>()[i];
        f.data<float>()[i] = bf16 ? BFloat16ToFloat(bits) : HalfToFloat(bits);
      }
      floats.push_back(f);
    }
    std::vector<const Tensor*> pointers;
    for (const Tensor& f : floats) pointers.push_back(&f);
    Tensor result(DataType::kFloat32, out->shape());
    if (reference) {
      EinsumReference<float>(eq, pointers, &result);
    } else {
      ASSIGN_OR_RETURN(result, EinsumFast(eq, pointers, context.pool));
    }
    for (int64_t i = 0; i < out->size(); ++i) {
      float v = result.data<float>()[i];
      out->data<uint16_t>()[i] = bf16 ? FloatToBFloat16(v) : FloatToHalf(v);
    }
    return OkStatus();
  }
  return DispatchNumeric(type, [&](auto tag) -> Status {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, Float16> ||
                  std::is_same_v<T, BFloat16>) {
      return UnsupportedType(context.node, type);
    } else {
      EinsumReference<T>(eq, inputs, out);
      return OkStatus();
    }
  });
}

class EinsumKernel : public OpKernel {
 public:
  explicit EinsumKernel(bool reference) : reference_(reference) {}

  Status Compute(KernelContext& context) override {
    const Node& node = context.node;
    if (context.num_inputs() == 0) return KernelError(node, "needs at least one input");
    for (int i = 0; i < context.num_inputs(); ++i) {
      if (!context.has_input(i))
        return KernelError(node, "input " + std::to_string(i) + " is missing");
      if (context.input(i).dtype() != context.input(0).dtype()) {
        return KernelError(node, "inputs must share one dtype");
      }
    }
    ASSIGN_OR_RETURN(Equation eq, ParseEquation(node, context.inputs));
    ASSIGN_OR_RETURN(Tensor out,
                     Tensor::Allocate(context.input(0).dtype(), SizesOf(eq, eq.output)));
    RETURN_IF_ERROR(ComputeEinsum(context, eq, reference_, &out));
    context.output(0) = std::move(out);
    return OkStatus();
  }

 private:
  bool reference_;
};

}  // namespace

void RegisterEinsumKernel(KernelRegistry* registry) {
  registry->Register(OpType::kEinsum,
                     [](const KernelConfig& config) -> StatusOr<std::unique_ptr<OpKernel>> {
                       return std::unique_ptr<OpKernel>(new EinsumKernel(config.reference));
                     });
}

}  // namespace shrink::engine
