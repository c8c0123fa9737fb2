// RNN, GRU and LSTM kernels: attribute parsing, input validation, dtype conversion and output
// layout shared by the three cells, plus the simple RNN cell itself. The GRU and LSTM cells live
// in gru.cc and lstm.cc, their arithmetic helpers in recurrent_math.cc. Every cell has a fast
// path (one GEMM for the input projection of all time steps, one small GEMM per step for the
// recurrence, vectorizable gate loops; batch slices and directions run on separate threads) and
// a reference path (plain loops, double accumulation).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>

#include "engine/kernels/gemm.h"
#include "engine/kernels/kernel_util.h"
#include "engine/kernels/kernels.h"
#include "engine/kernels/linalg_internal.h"

namespace shrink::engine {
namespace rnn {

int GateCount(CellKind kind) {
  switch (kind) {
    case CellKind::kRnn:
      return 1;
    case CellKind::kGru:
      return 3;
    case CellKind::kLstm:
      return 4;
  }
  return 1;
}

StatusOr<Tensor> Scratch(int64_t elements) {
  return Tensor::Allocate(DataType::kFloat32, {std::max<int64_t>(elements, 0)});
}

StatusOr<Attributes> ParseAttributes(const Node& node, CellKind kind, int64_t opset) {
  Attributes attrs;
  std::string direction = node.GetString("direction", "forward");
  if (direction == "bidirectional") {
    attrs.num_directions = 2;
  } else if (direction == "reverse") {
    attrs.reverse = true;
  } else if (direction != "forward") {
    return KernelError(node, "unknown direction '" + direction + "'");
  }
  if (node.HasAttribute("hidden_size")) {
    attrs.hidden_size = node.GetInt("hidden_size", -1);
    if (attrs.hidden_size <= 0) {
      return KernelError(node,
                         "hidden_size must be positive, got " + std::to_string(attrs.hidden_size));
    }
  }
  if (opset >= 14) attrs.layout = int(node.GetInt("layout", 0));
  if (attrs.layout != 0 && attrs.layout != 1) {
    return KernelError(node, "layout must be 0 or 1, got " + std::to_string(attrs.layout));
  }
  if (node.HasAttribute("clip")) {
    attrs.clip = node.GetFloat("clip", 0);
    if (!(attrs.clip > 0)) {
      return KernelError(node, "clip must be positive, got " + std::to_string(attrs.clip));
    }
  }
  if (kind == CellKind::kLstm) attrs.input_forget = node.GetInt("input_forget", 0) != 0;
  if (kind == CellKind::kGru) {
    attrs.linear_before_reset = node.GetInt("linear_before_reset", 0) != 0;
  }
  attrs.per_direction = kind == CellKind::kLstm ? 3 : kind == CellKind::kGru ? 2 : 1;
  ASSIGN_OR_RETURN(attrs.activations, ParseActivations(node, kind, attrs.num_directions));
  return attrs;
}

// ---- Shared fast-path pieces ----

namespace {

// X * W_d^T for every row of X ([T*B, I] in either layout) into out [T*B, gates*H].
void Project(const Problem& p, int d, int gates, float* out) {
  const int64_t rows = p.seq_length * p.batch, cols = gates * p.hidden;
  const float* w = p.w + int64_t(d) * cols * p.input_size;
  Sgemm(DenseGemm(rows, cols, p.input_size, false, true), 1.0f, p.x, w, 0.0f, out);
}

}  // namespace

void Recurrence(const Problem& p, int d, int gates, const float* h, int64_t rows, int64_t row_begin,
                int64_t n, float* out, int64_t ldc) {
  const int64_t H = p.hidden;
  const float* r = p.r + (int64_t(d) * gates * H + row_begin) * H;
  GemmShape s = DenseGemm(rows, n, H, false, true);
  s.ldc = ldc;
  Sgemm(s, 1.0f, h, r, 0.0f, out);
}

void LoadState(const Problem& p, const float* initial, const Slice& s, float* state) {
  for (int64_t b = s.b0; b < s.b1; ++b) {
    float* dst = state + (b - s.b0) * p.hidden;
    if (initial) {
      std::memcpy(dst, initial + p.StateRow(s.d, b), size_t(p.hidden) * sizeof(float));
    } else {
      std::fill(dst, dst + p.hidden, 0.0f);
    }
  }
}

void StoreFinalState(const Problem& p, const float* state, const Slice& s, float* out) {
  for (int64_t b = s.b0; b < s.b1; ++b) {
    float* dst = out + p.StateRow(s.d, b);
    if (p.seq_lens[size_t(b)] == 0) {
      std::fill(dst, dst + p.hidden, 0.0f);
    } else {
      std::memcpy(dst, state + (b - s.b0) * p.hidden, size_t(p.hidden) * sizeof(float));
    }
  }
}

int32_t MaxLength(const Problem& p, const Slice& s) {
  int32_t longest = 0;
  for (int64_t b = s.b0; b < s.b1; ++b) longest = std::max(longest, p.seq_lens[size_t(b)]);
  return longest;
}

std::vector<float> CombinedBias(const Problem& p, int d, int gates) {
  int64_t n = gates * p.hidden;
  std::vector<float> bias(size_t(n), 0.0f);
  if (p.bias) {
    const float* wb = p.bias + int64_t(d) * 2 * n;
    for (int64_t i = 0; i < n; ++i) bias[size_t(i)] = wb[i] + wb[n + i];
  }
  return bias;
}

// The fast path: the input projections of all steps (one GEMM per direction, threaded by
// oneDNN), then every (direction, batch slice) pair runs the whole sequence on one thread.
Status RunCell(const Cell& cell, const Problem& p, const Attributes& attrs, bool reference,
               const ThreadPool* pool) {
  if (reference) {
    for (int d = 0; d < p.directions; ++d) cell.reference(p, attrs, d);
    return OkStatus();
  }
  const int64_t D = p.directions, B = p.batch, H = p.hidden;
  // Small problems run on the calling thread only: a parallel region costs more than they do.
  const int64_t threads = pool ? pool->num_threads() : 1;
  const int64_t macs = D * p.seq_length * B * cell.gates * H * (p.input_size + H);
  const bool single_threaded = threads == 1 || macs < kParallelMacs;
  std::optional<SingleThreadedGemm> single;
  if (single_threaded) single.emplace();

  const int64_t projection = p.seq_length * B * cell.gates * H;
  ASSIGN_OR_RETURN(Tensor xw, Scratch(D * projection));
  for (int d = 0; d < p.directions; ++d)
    Project(p, d, cell.gates, xw.data<float>() + d * projection);

  // Slices: one per thread (directions count), never empty.
  int64_t slices = single_threaded ? 1 : std::max<int64_t>(1, (threads + D - 1) / D);
  slices = std::max<int64_t>(1, std::min(slices, B));
  const int64_t rows = (B + slices - 1) / slices;
  const int64_t work = cell.work_floats(p, rows);
  ASSIGN_OR_RETURN(Tensor scratch, Scratch(D * slices * work));
  auto run = [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      Slice s;
      s.d = int(item / slices);
      s.b0 = (item % slices) * rows;
      s.b1 = std::min(B, s.b0 + rows);
      s.xw = xw.data<float>() + s.d * projection;
      s.work = scratch.data<float>() + item * work;
      if (s.b0 < s.b1) cell.run_slice(p, attrs, s);
    }
  };
  if (!single_threaded && D * slices > 1) {
    pool->ParallelFor(D * slices, 1, run);  // oneDNN runs single-threaded inside the region
  } else {
    // One slice on this thread: its per-step GEMMs stay single-threaded unless the recurrent
    // matrix itself is large enough to split.
    if (!single && cell.gates * H * H < kParallelMacs) single.emplace();
    run(0, D * slices);
  }
  return OkStatus();
}

// ---- Simple RNN cell: Ht = f(Xt*Wi^T + Ht-1*Ri^T + Wbi + Rbi) ----

namespace {

void RnnReference(const Problem& p, const Attributes& attrs, int d) {
  const int64_t H = p.hidden, I = p.input_size;
  const float* w = p.w + int64_t(d) * H * I;
  const float* r = p.r + int64_t(d) * H * H;
  const float* wb = p.bias ? p.bias + int64_t(d) * 2 * H : nullptr;
  const bool reverse = attrs.reverse || d == 1;
  std::vector<float> h(static_cast<size_t>(H)), next(static_cast<size_t>(H));
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t j = 0; j < H; ++j) {
      h[size_t(j)] = p.initial_h ? p.initial_h[p.StateRow(d, b) + j] : 0.0f;
    }
    const int32_t len = p.seq_lens[size_t(b)];
    for (int64_t s = 0; s < len; ++s) {
      const int64_t t = p.TimeAt(s, b, reverse);
      const float* x = p.x + p.XRow(t, b);
      for (int64_t j = 0; j < H; ++j) {
        double acc = Dot(x, w + j * I, I) + Dot(h.data(), r + j * H, H);
        if (wb) acc += double(wb[j]) + double(wb[H + j]);
        next[size_t(j)] = Activate(attrs.act(d, 0), ClipValue(attrs.clip, float(acc)));
      }
      h.swap(next);
      if (p.y) std::copy(h.begin(), h.end(), p.y + p.YRow(t, d, b));
    }
    float* out = p.y_h + p.StateRow(d, b);
    for (int64_t j = 0; j < H; ++j) out[j] = len > 0 ? h[size_t(j)] : 0.0f;
  }
}

int64_t RnnWorkFloats(const Problem& p, int64_t rows) { return 3 * rows * p.hidden; }

void RnnSlice(const Problem& p, const Attributes& attrs, const Slice& sl) {
  const int64_t H = p.hidden, rows = sl.rows();
  float* h_prev = sl.work;
  float* h_next = h_prev + rows * H;
  float* rec = h_next + rows * H;
  LoadState(p, p.initial_h, sl, h_prev);
  const std::vector<float> bias = CombinedBias(p, sl.d, 1);
  const bool reverse = attrs.reverse || sl.d == 1;
  const Activation& f = attrs.act(sl.d, 0);
  const int32_t steps = MaxLength(p, sl);
  for (int64_t s = 0; s < steps; ++s) {
    Recurrence(p, sl.d, 1, h_prev, rows, 0, H, rec, H);
    for (int64_t b = sl.b0; b < sl.b1; ++b) {
      const int64_t lb = b - sl.b0;
      float* hn = h_next + lb * H;
      if (s >= p.seq_lens[size_t(b)]) {
        std::memcpy(hn, h_prev + lb * H, size_t(H) * sizeof(float));
        continue;
      }
      const int64_t t = p.TimeAt(s, b, reverse);
      const float* in = sl.xw + p.XIndex(t, b) * H;
      const float* g = rec + lb * H;
      for (int64_t j = 0; j < H; ++j) hn[j] = in[j] + g[j] + bias[size_t(j)];
      ClipInPlace(attrs.clip, hn, H);
      ActivateInPlace(f, hn, H);
      if (p.y) std::memcpy(p.y + p.YRow(t, sl.d, b), hn, size_t(H) * sizeof(float));
    }
    std::swap(h_prev, h_next);
  }
  StoreFinalState(p, h_prev, sl, p.y_h);
}

}  // namespace

const Cell& RnnCell() {
  static const Cell cell{1, &RnnWorkFloats, &RnnSlice, &RnnReference};
  return cell;
}

}  // namespace rnn

namespace {

using rnn::CellKind;

// Keeps float copies of non-float32 inputs alive while a Problem points into them.
class FloatInputs {
 public:
  StatusOr<const float*> Get(const Tensor* tensor) {
    if (!tensor) return static_cast<const float*>(nullptr);
    if (tensor->dtype() == DataType::kFloat32) return tensor->data<float>();
    ASSIGN_OR_RETURN(Tensor copy, rnn::Scratch(tensor->size()));
    float* out = copy.data<float>();
    if (tensor->dtype() == DataType::kFloat16) {
      const uint16_t* in = tensor->data<uint16_t>();
      for (int64_t i = 0; i < tensor->size(); ++i) out[i] = HalfToFloat(in[i]);
    } else {
      const double* in = tensor->data<double>();
      for (int64_t i = 0; i < tensor->size(); ++i) out[i] = float(in[i]);
    }
    held_.push_back(copy);
    return static_cast<const float*>(copy.data<float>());
  }

 private:
  std::vector<Tensor> held_;
};

Status CheckShape(const Node& node, const char* what, const Tensor& tensor, const Shape& want,
                  const char* formula) {
  if (tensor.shape() == want) return OkStatus();
  return KernelError(node, std::string("input ") + what + " has shape " +
                               ShapeToString(tensor.shape()) + ", expected " + formula + " = " +
                               ShapeToString(want));
}

class RecurrentKernel : public OpKernel {
 public:
  RecurrentKernel(CellKind kind, rnn::Attributes attrs, bool reference)
      : kind_(kind), attrs_(std::move(attrs)), reference_(reference) {}
  Status Compute(KernelContext& context) override;

 private:
  Status BuildProblem(const KernelContext& context, FloatInputs* floats, rnn::Problem* p) const;
  Status CheckSequenceLens(const KernelContext& context, rnn::Problem* p) const;
  const rnn::Cell& cell() const {
    switch (kind_) {
      case CellKind::kRnn:
        return rnn::RnnCell();
      case CellKind::kGru:
        return rnn::GruCell();
      case CellKind::kLstm:
        return rnn::LstmCell();
    }
    return rnn::RnnCell();
  }

  CellKind kind_;
  rnn::Attributes attrs_;
  bool reference_;
};

Status RecurrentKernel::BuildProblem(const KernelContext& context, FloatInputs* floats,
                                     rnn::Problem* p) const {
  const Node& node = context.node;
  const Tensor& x = context.input(0);
  const Tensor& w = context.input(1);
  const Tensor& r = context.input(2);
  if (x.rank() != 3 || w.rank() != 3 || r.rank() != 3) {
    return KernelError(node, "X, W and R must have rank 3, got X " + ShapeToString(x.shape()) +
                                 ", W " + ShapeToString(w.shape()) + ", R " +
                                 ShapeToString(r.shape()));
  }
  DataType type = x.dtype();
  if (type != DataType::kFloat32 && type != DataType::kFloat16 && type != DataType::kFloat64) {
    return UnsupportedType(node, type, "X");
  }
  for (int i = 1; i < context.num_inputs(); ++i) {
    if (i == 4 || !context.has_input(i) || context.input(i).dtype() == type) continue;
    return KernelError(node, "input " + std::to_string(i) + " has dtype " +
                                 DataTypeName(context.input(i).dtype()) + ", X has " +
                                 DataTypeName(type));
  }
  const int64_t D = attrs_.num_directions, G = rnn::GateCount(kind_);
  p->layout = attrs_.layout;
  p->directions = int(D);
  p->seq_length = x.dim(attrs_.layout == 0 ? 0 : 1);
  p->batch = x.dim(attrs_.layout == 0 ? 1 : 0);
  p->input_size = x.dim(2);
  p->hidden = attrs_.hidden_size > 0 ? attrs_.hidden_size : r.dim(2);
  const int64_t H = p->hidden, B = p->batch;
  RETURN_IF_ERROR(CheckShape(node, "W", w, {D, G * H, p->input_size},
                             "[num_directions, gates*hidden_size, input_size]"));
  RETURN_IF_ERROR(
      CheckShape(node, "R", r, {D, G * H, H}, "[num_directions, gates*hidden_size, hidden_size]"));
  Shape state_shape = attrs_.layout == 0 ? Shape{D, B, H} : Shape{B, D, H};
  const char* state_formula = attrs_.layout == 0 ? "[num_directions, batch, hidden_size]"
                                                 : "[batch, num_directions, hidden_size]";
  if (context.has_input(3)) {
    RETURN_IF_ERROR(CheckShape(node, "B", context.input(3), {D, 2 * G * H},
                               "[num_directions, 2*gates*hidden_size]"));
  }
  if (context.has_input(5)) {
    RETURN_IF_ERROR(CheckShape(node, "initial_h", context.input(5), state_shape, state_formula));
  }
  if (kind_ == CellKind::kLstm && context.has_input(6)) {
    RETURN_IF_ERROR(CheckShape(node, "initial_c", context.input(6), state_shape, state_formula));
  }
  if (kind_ == CellKind::kLstm && context.has_input(7)) {
    RETURN_IF_ERROR(
        CheckShape(node, "P", context.input(7), {D, 3 * H}, "[num_directions, 3*hidden_size]"));
  }
  RETURN_IF_ERROR(CheckSequenceLens(context, p));
  auto get = [&](int i) { return floats->Get(context.has_input(i) ? &context.input(i) : nullptr); };
  ASSIGN_OR_RETURN(p->x, get(0));
  ASSIGN_OR_RETURN(p->w, get(1));
  ASSIGN_OR_RETURN(p->r, get(2));
  ASSIGN_OR_RETURN(p->bias, get(3));
  ASSIGN_OR_RETURN(p->initial_h, get(5));
  if (kind_ == CellKind::kLstm) {
    ASSIGN_OR_RETURN(p->initial_c, get(6));
    ASSIGN_OR_RETURN(p->peephole, get(7));
  }
  return OkStatus();
}

Status RecurrentKernel::CheckSequenceLens(const KernelContext& context, rnn::Problem* p) const {
  if (p->batch > (int64_t(1) << 31) || p->seq_length > std::numeric_limits<int32_t>::max()) {
    return KernelError(context.node,
                       "X of shape " + ShapeToString(context.input(0).shape()) + " is too large");
  }
  p->seq_lens.assign(size_t(p->batch), int32_t(p->seq_length));
  if (!context.has_input(4)) return OkStatus();
  const Tensor& lens = context.input(4);
  if (lens.dtype() != DataType::kInt32 && lens.dtype() != DataType::kInt64) {
    return UnsupportedType(context.node, lens.dtype(), "sequence_lens");
  }
  if (lens.rank() != 1 || lens.dim(0) != p->batch) {
    return KernelError(context.node, "sequence_lens has shape " + ShapeToString(lens.shape()) +
                                         ", expected [" + std::to_string(p->batch) + "]");
  }
  for (int64_t b = 0; b < p->batch; ++b) {
    int64_t len = lens.GetAsInt64(b);
    if (len < 0 || len > p->seq_length) {
      return KernelError(context.node, "sequence_lens[" + std::to_string(b) +
                                           "] = " + std::to_string(len) + " is outside [0, " +
                                           std::to_string(p->seq_length) + "]");
    }
    p->seq_lens[size_t(b)] = int32_t(len);
  }
  return OkStatus();
}

// Allocates output i in the input dtype; returns where the float results go (the output itself
// for float32, else a float scratch converted afterwards by FinishOutput).
StatusOr<float*> PrepareOutput(KernelContext& context, int i, DataType type, const Shape& shape,
                               Tensor* scratch) {
  ASSIGN_OR_RETURN(Tensor out, Tensor::Allocate(type, shape));
  if (type == DataType::kFloat32) {
    *scratch = out;
  } else {
    ASSIGN_OR_RETURN(*scratch, rnn::Scratch(out.size()));
  }
  if (context.wants_output(i)) context.output(i) = out;
  return scratch->data<float>();
}

void FinishOutput(KernelContext& context, int i, const Tensor& scratch) {
  if (!context.wants_output(i)) return;
  Tensor& out = context.output(i);
  if (out.dtype() == DataType::kFloat32) return;
  const float* in = scratch.data<float>();
  if (out.dtype() == DataType::kFloat16) {
    uint16_t* dst = out.data<uint16_t>();
    for (int64_t k = 0; k < out.size(); ++k) dst[k] = FloatToHalf(in[k]);
  } else {
    double* dst = out.data<double>();
    for (int64_t k = 0; k < out.size(); ++k) dst[k] = double(in[k]);
  }
}

Status RecurrentKernel::Compute(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 3, kind_ == CellKind::kLstm ? 8 : 6));
  FloatInputs floats;
  rnn::Problem p;
  RETURN_IF_ERROR(BuildProblem(context, &floats, &p));
  const DataType type = context.input(0).dtype();
  const int64_t T = p.seq_length, B = p.batch, D = p.directions, H = p.hidden;
  Shape y_shape = p.layout == 0 ? Shape{T, D, B, H} : Shape{B, T, D, H};
  Shape state_shape = p.layout == 0 ? Shape{D, B, H} : Shape{B, D, H};
  Tensor y, y_h, y_c;
  if (context.wants_output(0)) {
    ASSIGN_OR_RETURN(p.y, PrepareOutput(context, 0, type, y_shape, &y));
  }
  ASSIGN_OR_RETURN(p.y_h, PrepareOutput(context, 1, type, state_shape, &y_h));
  if (kind_ == CellKind::kLstm) {
    ASSIGN_OR_RETURN(p.y_c, PrepareOutput(context, 2, type, state_shape, &y_c));
  }
  RETURN_IF_ERROR(rnn::RunCell(cell(), p, attrs_, reference_, &context.pool));
  if (p.y) FinishOutput(context, 0, y);
  FinishOutput(context, 1, y_h);
  if (kind_ == CellKind::kLstm) FinishOutput(context, 2, y_c);
  return OkStatus();
}

KernelFactory RecurrentFactory(CellKind kind) {
  return [kind](const KernelConfig& config) -> StatusOr<std::unique_ptr<OpKernel>> {
    ASSIGN_OR_RETURN(rnn::Attributes attrs, rnn::ParseAttributes(config.node, kind, config.opset));
    return std::unique_ptr<OpKernel>(new RecurrentKernel(kind, std::move(attrs), config.reference));
  };
}

}  // namespace

void RegisterRecurrentKernels(KernelRegistry* registry) {
  registry->Register(OpType::kRNN, RecurrentFactory(CellKind::kRnn));
  registry->Register(OpType::kGRU, RecurrentFactory(CellKind::kGru));
  registry->Register(OpType::kLSTM, RecurrentFactory(CellKind::kLstm));
}

}  // namespace shrink::engine
