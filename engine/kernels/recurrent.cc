// RNN, GRU and LSTM kernels: attribute parsing, input validation, dtype conversion and output
// layout shared by the three cells, plus the simple RNN cell itself. The GRU and LSTM cells live
// in gru.cc and lstm.cc. Every cell has a fast path (one Sgemm for the input projection of all
// time steps, one small Sgemm per step for the recurrence, vectorizable gate loops) and a
// reference path (plain loops, double accumulation).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <memory>

#include "engine/kernels/gemm.h"
#include "engine/kernels/kernel_util.h"
#include "engine/kernels/kernels.h"
#include "engine/kernels/linalg_internal.h"

namespace shrink::engine {
namespace rnn {

int GateCount(CellKind kind) {
  switch (kind) {
    case CellKind::kRnn: return 1;
    case CellKind::kGru: return 3;
    case CellKind::kLstm: return 4;
  }
  return 1;
}

StatusOr<Tensor> Scratch(int64_t elements) {
  return Tensor::Allocate(DataType::kFloat32, {std::max<int64_t>(elements, 0)});
}

int32_t Problem::MaxLength() const {
  int32_t longest = 0;
  for (int32_t len : seq_lens) longest = std::max(longest, len);
  return longest;
}

namespace {

using Kind = Activation::Kind;

struct ActivationSpec {
  const char* name;  // lower case
  Kind kind;
  bool uses_alpha, uses_beta;
  float default_alpha, default_beta;
};

// Alpha/beta usage and defaults as in ONNX Runtime (which the engine must match).
constexpr ActivationSpec kActivationSpecs[] = {
    {"sigmoid", Kind::kSigmoid, false, false, 0, 0},
    {"tanh", Kind::kTanh, false, false, 0, 0},
    {"relu", Kind::kRelu, false, false, 0, 0},
    {"hardsigmoid", Kind::kHardSigmoid, true, true, 0.2f, 0.5f},
    {"affine", Kind::kAffine, true, true, 0, 0},
    {"leakyrelu", Kind::kLeakyRelu, true, false, 0.01f, 0},
    {"thresholdedrelu", Kind::kThresholdedRelu, true, false, 0, 0},
    {"scaledtanh", Kind::kScaledTanh, true, true, 0, 0},
    {"elu", Kind::kElu, true, false, 1.0f, 0},
    {"softsign", Kind::kSoftsign, false, false, 0, 0},
    {"softplus", Kind::kSoftplus, false, false, 0, 0},
};

StatusOr<std::vector<Activation>> ParseActivations(const Node& node, CellKind kind,
                                                   int directions) {
  std::vector<std::string> names = node.GetStrings("activations");
  if (names.empty()) {
    if (kind == CellKind::kRnn) names = {"Tanh"};
    if (kind == CellKind::kGru) names = {"Sigmoid", "Tanh"};
    if (kind == CellKind::kLstm) names = {"Sigmoid", "Tanh", "Tanh"};
  }
  size_t per_direction = size_t(GateCount(kind) == 4 ? 3 : GateCount(kind) == 3 ? 2 : 1);
  if (directions == 2 && names.size() == per_direction) {
    for (size_t i = 0; i < per_direction; ++i) names.push_back(names[i]);
  }
  if (names.size() != per_direction * size_t(directions)) {
    return KernelError(node, "expects " + std::to_string(per_direction * size_t(directions)) +
                                 " activations, got " + std::to_string(names.size()));
  }
  std::vector<float> alphas = node.GetFloats("activation_alpha");
  std::vector<float> betas = node.GetFloats("activation_beta");
  size_t next_alpha = 0, next_beta = 0;
  std::vector<Activation> result;
  for (const std::string& name : names) {
    std::string lower = name;
    for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
    const ActivationSpec* spec = nullptr;
    for (const ActivationSpec& each : kActivationSpecs) {
      if (lower == each.name) spec = &each;
    }
    if (!spec) return KernelError(node, "unsupported activation '" + name + "'");
    Activation f;
    f.kind = spec->kind;
    if (spec->uses_alpha) {
      f.alpha = next_alpha < alphas.size() ? alphas[next_alpha++] : spec->default_alpha;
    }
    if (spec->uses_beta) {
      f.beta = next_beta < betas.size() ? betas[next_beta++] : spec->default_beta;
    }
    result.push_back(f);
  }
  return result;
}

}  // namespace

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
      return KernelError(node, "hidden_size must be positive, got " +
                                   std::to_string(attrs.hidden_size));
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

namespace {

// Polynomial tanh: a 13/6 rational approximation on [-9, 9] (the same
// coefficients Eigen and ONNX Runtime use). Pure arithmetic, so the loops vectorize.
constexpr float kTanhBound = 9.0f;
constexpr float kA1 = 4.89352455891786e-03f, kA3 = 6.37261928875436e-04f,
                kA5 = 1.48572235717979e-05f, kA7 = 5.12229709037114e-08f,
                kA9 = -8.60467152213735e-11f, kA11 = 2.00018790482477e-13f,
                kA13 = -2.76076847742355e-16f;
constexpr float kB0 = 4.89352518554385e-03f, kB2 = 2.26843463243900e-03f,
                kB4 = 1.18534705686654e-04f, kB6 = 1.19825839466702e-06f;

inline float FastTanh(float x) {
  x = x < -kTanhBound ? -kTanhBound : (x > kTanhBound ? kTanhBound : x);
  float x2 = x * x;
  float p = kA13;
  p = p * x2 + kA11;
  p = p * x2 + kA9;
  p = p * x2 + kA7;
  p = p * x2 + kA5;
  p = p * x2 + kA3;
  p = p * x2 + kA1;
  p = p * x;
  float q = kB6;
  q = q * x2 + kB4;
  q = q * x2 + kB2;
  q = q * x2 + kB0;
  return p / q;
}

template <typename Fn>
inline void Loop(float* __restrict x, int64_t n, Fn fn) {
  for (int64_t i = 0; i < n; ++i) x[i] = fn(x[i]);
}

}  // namespace

float Activate(const Activation& f, float x) {
  switch (f.kind) {
    case Kind::kSigmoid: return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
    case Kind::kTanh: return std::tanh(x);
    case Kind::kRelu: return x > 0 ? x : 0;
    case Kind::kHardSigmoid: return std::min(1.0f, std::max(0.0f, f.alpha * x + f.beta));
    case Kind::kAffine: return f.alpha * x + f.beta;
    case Kind::kLeakyRelu: return x >= 0 ? x : f.alpha * x;
    case Kind::kThresholdedRelu: return x > f.alpha ? x : 0;
    case Kind::kScaledTanh: return f.alpha * std::tanh(f.beta * x);
    case Kind::kElu: return x >= 0 ? x : f.alpha * (std::exp(x) - 1);
    case Kind::kSoftsign: return x / (1 + std::fabs(x));
    case Kind::kSoftplus: return x > 30 ? x : std::log1p(std::exp(x));
  }
  return x;
}

void ActivateInPlace(const Activation& f, float* x, int64_t n) {
  const float a = f.alpha, b = f.beta;
  switch (f.kind) {
    case Kind::kSigmoid: return Loop(x, n, [](float v) { return 0.5f * FastTanh(0.5f * v) + 0.5f; });
    case Kind::kTanh: return Loop(x, n, [](float v) { return FastTanh(v); });
    case Kind::kRelu: return Loop(x, n, [](float v) { return v > 0 ? v : 0.0f; });
    case Kind::kHardSigmoid:
      return Loop(x, n, [a, b](float v) {
        float y = a * v + b;
        return y < 0 ? 0.0f : (y > 1 ? 1.0f : y);
      });
    case Kind::kAffine: return Loop(x, n, [a, b](float v) { return a * v + b; });
    case Kind::kLeakyRelu: return Loop(x, n, [a](float v) { return v >= 0 ? v : a * v; });
    case Kind::kThresholdedRelu: return Loop(x, n, [a](float v) { return v > a ? v : 0.0f; });
    case Kind::kScaledTanh: return Loop(x, n, [a, b](float v) { return a * FastTanh(b * v); });
    case Kind::kSoftsign: return Loop(x, n, [](float v) { return v / (1 + std::fabs(v)); });
    case Kind::kElu:
    case Kind::kSoftplus:
      for (int64_t i = 0; i < n; ++i) x[i] = Activate(f, x[i]);
      return;
  }
}

// ---- Shared fast-path pieces ----

StatusOr<Tensor> InputProjection(const Problem& p, int d, int gates, const RunOptions& o) {
  int64_t rows = p.seq_length * p.batch;
  int64_t cols = gates * p.hidden;
  ASSIGN_OR_RETURN(Tensor out, Scratch(rows * cols));
  const float* w = p.w + int64_t(d) * cols * p.input_size;
  Sgemm(DenseGemm(rows, cols, p.input_size, false, true), 1.0f, p.x, w, 0.0f,
        out.data<float>());
  return out;
}

void RecurrentProduct(const Problem& p, int d, int gates, const float* h, int64_t row_begin,
                      int64_t rows, float* out, int64_t ldc) {
  const float* r = p.r + (int64_t(d) * gates * p.hidden + row_begin) * p.hidden;
  GemmShape s = DenseGemm(p.batch, rows, p.hidden, false, true);
  s.ldc = ldc;
  Sgemm(s, 1.0f, h, r, 0.0f, out);
}

void LoadState(const Problem& p, const float* initial, int d, float* state) {
  for (int64_t b = 0; b < p.batch; ++b) {
    float* dst = state + b * p.hidden;
    if (initial) {
      std::memcpy(dst, initial + p.StateRow(d, b), size_t(p.hidden) * sizeof(float));
    } else {
      std::fill(dst, dst + p.hidden, 0.0f);
    }
  }
}

void StoreFinalState(const Problem& p, const float* state, int d, float* out) {
  for (int64_t b = 0; b < p.batch; ++b) {
    float* dst = out + p.StateRow(d, b);
    if (p.seq_lens[size_t(b)] == 0) {
      std::fill(dst, dst + p.hidden, 0.0f);
    } else {
      std::memcpy(dst, state + b * p.hidden, size_t(p.hidden) * sizeof(float));
    }
  }
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

double Dot(const float* a, const float* b, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += double(a[i]) * double(b[i]);
  return sum;
}

void ParallelOverBatch(const Problem& p, const RunOptions& o, int64_t work_per_row,
                       const std::function<void(int64_t, int64_t)>& fn) {
  int64_t min_chunk = std::max<int64_t>(1, 16384 / std::max<int64_t>(work_per_row, 1));
  if (o.pool && p.batch > min_chunk) {
    o.pool->ParallelFor(p.batch, min_chunk, fn);
  } else {
    fn(0, p.batch);
  }
}

// ---- Simple RNN cell: Ht = f(Xt*Wi^T + Ht-1*Ri^T + Wbi + Rbi) ----

namespace {

void RnnReference(const Problem& p, const Attributes& attrs, int d) {
  const int64_t H = p.hidden, I = p.input_size;
  const float* w = p.w + int64_t(d) * H * I;
  const float* r = p.r + int64_t(d) * H * H;
  const float* wb = p.bias ? p.bias + int64_t(d) * 2 * H : nullptr;
  bool reverse = attrs.reverse || d == 1;
  std::vector<float> h(static_cast<size_t>(H)), next(static_cast<size_t>(H));
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t j = 0; j < H; ++j) {
      h[size_t(j)] = p.initial_h ? p.initial_h[p.StateRow(d, b) + j] : 0.0f;
    }
    int32_t len = p.seq_lens[size_t(b)];
    for (int64_t s = 0; s < len; ++s) {
      int64_t t = p.TimeAt(s, b, reverse);
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

Status RnnFast(const Problem& p, const Attributes& attrs, int d, const RunOptions& o) {
  const int64_t H = p.hidden;
  ASSIGN_OR_RETURN(Tensor xw, InputProjection(p, d, 1, o));
  ASSIGN_OR_RETURN(Tensor state, Scratch(3 * p.batch * H));
  float* h_prev = state.data<float>();
  float* h_next = h_prev + p.batch * H;
  float* rec = h_next + p.batch * H;
  LoadState(p, p.initial_h, d, h_prev);
  std::vector<float> bias = CombinedBias(p, d, 1);
  bool reverse = attrs.reverse || d == 1;
  const Activation& f = attrs.act(d, 0);
  int32_t steps = p.MaxLength();
  for (int64_t s = 0; s < steps; ++s) {
    RecurrentProduct(p, d, 1, h_prev, 0, H, rec, H);
    ParallelOverBatch(p, o, H, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        float* hn = h_next + b * H;
        if (s >= p.seq_lens[size_t(b)]) {
          std::memcpy(hn, h_prev + b * H, size_t(H) * sizeof(float));
          continue;
        }
        int64_t t = p.TimeAt(s, b, reverse);
        const float* in = xw.data<float>() + p.XIndex(t, b) * H;
        const float* g = rec + b * H;
        for (int64_t j = 0; j < H; ++j) hn[j] = in[j] + g[j] + bias[size_t(j)];
        ClipInPlace(attrs.clip, hn, H);
        ActivateInPlace(f, hn, H);
        if (p.y) std::memcpy(p.y + p.YRow(t, d, b), hn, size_t(H) * sizeof(float));
      }
    });
    std::swap(h_prev, h_next);
  }
  StoreFinalState(p, h_prev, d, p.y_h);
  return OkStatus();
}

Status RunRnnDirection(const Problem& p, const Attributes& attrs, int d, const RunOptions& o) {
  if (o.reference) {
    RnnReference(p, attrs, d);
    return OkStatus();
  }
  return RnnFast(p, attrs, d, o);
}

}  // namespace
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
  Status RunDirection(const rnn::Problem& p, int d, const rnn::RunOptions& o) const {
    switch (kind_) {
      case CellKind::kRnn: return rnn::RunRnnDirection(p, attrs_, d, o);
      case CellKind::kGru: return rnn::RunGruDirection(p, attrs_, d, o);
      case CellKind::kLstm: return rnn::RunLstmDirection(p, attrs_, d, o);
    }
    return OkStatus();
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
  RETURN_IF_ERROR(CheckShape(node, "R", r, {D, G * H, H},
                             "[num_directions, gates*hidden_size, hidden_size]"));
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
      return KernelError(context.node, "sequence_lens[" + std::to_string(b) + "] = " +
                                           std::to_string(len) + " is outside [0, " +
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
  rnn::RunOptions options{reference_, &context.pool};
  for (int d = 0; d < p.directions; ++d) RETURN_IF_ERROR(RunDirection(p, d, options));
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
