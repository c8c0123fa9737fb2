// Internals of the linear-algebra kernel group (matmul.cc, einsum.cc, recurrent.cc,
// recurrent_math.cc, lstm.cc, gru.cc): cross-file registration, the single-threaded GEMM guard
// and the pieces the recurrent kernels share. Not a public API.
#pragma once

#include <omp.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/thread_pool.h"
#include "engine/ir/graph.h"
#include "engine/ir/tensor.h"
#include "engine/runtime/kernel.h"

namespace shrink::engine {

void RegisterEinsumKernel(KernelRegistry* registry);      // einsum.cc
void RegisterRecurrentKernels(KernelRegistry* registry);  // recurrent.cc (RNN, GRU, LSTM)

// Limits oneDNN (OpenMP) to the calling thread while alive. For GEMMs too small to split: a
// parallel region costs more than they do, and far more when the cores are busy elsewhere.
class SingleThreadedGemm {
 public:
  SingleThreadedGemm() : saved_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~SingleThreadedGemm() { omp_set_num_threads(saved_); }
  SingleThreadedGemm(const SingleThreadedGemm&) = delete;
  SingleThreadedGemm& operator=(const SingleThreadedGemm&) = delete;

 private:
  int saved_;
};

// Below this many multiply-adds a GEMM (or a whole recurrent node) stays on one thread.
constexpr int64_t kParallelMacs = int64_t(1) << 20;

namespace rnn {

enum class CellKind { kRnn, kGru, kLstm };

// Gate blocks per cell in W/R rows: RNN 1, GRU 3 (z, r, h), LSTM 4 (i, o, f, c).
int GateCount(CellKind kind);

// One activation function of the ONNX RNN family with its alpha/beta.
struct Activation {
  enum class Kind {
    kSigmoid,
    kTanh,
    kRelu,
    kHardSigmoid,
    kAffine,
    kLeakyRelu,
    kThresholdedRelu,
    kScaledTanh,
    kElu,
    kSoftsign,
    kSoftplus,
  };
  Kind kind = Kind::kTanh;
  float alpha = 0;
  float beta = 0;
};

// Scalar evaluation (reference path) and an in-place loop over n values (fast path).
float Activate(const Activation& f, float x);
void ActivateInPlace(const Activation& f, float* x, int64_t n);

// Node attributes, parsed once per kernel.
struct Attributes {
  int num_directions = 1;
  bool reverse = false;       // direction == "reverse" (bidirectional: direction 1 is reverse)
  int64_t hidden_size = -1;   // -1 when the attribute is absent (inferred from R)
  int layout = 0;             // 0: [T, B, ...] (time major); 1: [B, T, ...] (opset >= 14)
  float clip = 0;             // > 0: clip gate pre-activations to [-clip, clip]
  bool input_forget = false;  // LSTM: couple the input and forget gates
  bool linear_before_reset = false;  // GRU
  // Activations per direction (RNN: f; GRU: f, g; LSTM: f, g, h), num_directions blocks.
  std::vector<Activation> activations;
  int per_direction = 1;
  const Activation& act(int direction, int index) const {
    return activations[size_t(direction * per_direction + index)];
  }
};

StatusOr<Attributes> ParseAttributes(const Node& node, CellKind kind, int64_t opset);

// Validated problem with every tensor as float32 data; rows addressed through the layout.
struct Problem {
  int64_t seq_length = 0, batch = 0, input_size = 0, hidden = 0;
  int directions = 1;
  int layout = 0;
  const float* x = nullptr;          // [T, B, I] or [B, T, I]
  const float* w = nullptr;          // [D, G*H, I]
  const float* r = nullptr;          // [D, G*H, H]
  const float* bias = nullptr;       // [D, 2*G*H] or null
  const float* initial_h = nullptr;  // [D, B, H] or [B, D, H], or null
  const float* initial_c = nullptr;  // LSTM only, like initial_h
  const float* peephole = nullptr;   // LSTM only: [D, 3*H] or null
  std::vector<int32_t> seq_lens;     // per batch entry, in [0, T]
  float* y = nullptr;                // [T, D, B, H] or [B, T, D, H]; null when not wanted
  float* y_h = nullptr;              // [D, B, H] or [B, D, H]; always set
  float* y_c = nullptr;              // LSTM only, like y_h

  // Element offsets of rows.
  int64_t XIndex(int64_t t, int64_t b) const {  // row of X seen as [T*B, I]
    return layout == 0 ? t * batch + b : b * seq_length + t;
  }
  int64_t XRow(int64_t t, int64_t b) const { return XIndex(t, b) * input_size; }
  int64_t YRow(int64_t t, int d, int64_t b) const {
    return (layout == 0 ? (t * directions + d) * batch + b
                        : (b * seq_length + t) * directions + d) *
           hidden;
  }
  int64_t StateRow(int d, int64_t b) const {
    return (layout == 0 ? d * batch + b : b * directions + d) * hidden;
  }
  // Time index of step s for batch entry b when running in the given direction.
  int64_t TimeAt(int64_t step, int64_t b, bool reverse) const {
    return reverse ? seq_lens[size_t(b)] - 1 - step : step;
  }
};

// Activations of a node (RNN: f; GRU: f, g; LSTM: f, g, h; per direction), with alpha/beta
// taken in order from activation_alpha/activation_beta and ONNX Runtime's defaults otherwise.
StatusOr<std::vector<Activation>> ParseActivations(const Node& node, CellKind kind, int directions);

// A batch slice [b0, b1) of one direction: the fast path runs each slice over the whole
// sequence on one thread (one parallel region per node instead of one per step).
struct Slice {
  int d = 0;
  int64_t b0 = 0, b1 = 0;
  const float* xw = nullptr;  // X * W_d^T: [T*B, gates*H], rows indexed by Problem::XIndex
  float* work = nullptr;      // Cell::work_floats(p, rows()) floats of scratch
  int64_t rows() const { return b1 - b0; }
};

// One cell type: its gate count, its fast path over a slice and its reference path over a
// whole direction. Both write y (if set), y_h and y_c (LSTM) for their batch entries.
struct Cell {
  int gates;
  int64_t (*work_floats)(const Problem& p, int64_t rows);
  void (*run_slice)(const Problem& p, const Attributes& attrs, const Slice& s);
  void (*reference)(const Problem& p, const Attributes& attrs, int d);
};
const Cell& RnnCell();   // recurrent.cc
const Cell& GruCell();   // gru.cc
const Cell& LstmCell();  // lstm.cc

// Runs every direction of a cell: the fast path when !reference, else the reference loops.
Status RunCell(const Cell& cell, const Problem& p, const Attributes& attrs, bool reference,
               const ThreadPool* pool);

// Clips x[0..n) to [-c, c] when c > 0.
inline void ClipInPlace(float c, float* x, int64_t n) {
  if (c <= 0) return;
  for (int64_t i = 0; i < n; ++i) x[i] = x[i] < -c ? -c : (x[i] > c ? c : x[i]);
}
inline float ClipValue(float c, float x) {
  if (c <= 0) return x;
  return x < -c ? -c : (x > c ? c : x);
}

// Float scratch buffer with a size check (no std::bad_alloc on absurd shapes).
StatusOr<Tensor> Scratch(int64_t elements);

// ---- Fast-path pieces shared by the cells (recurrent.cc) ----

// out[rows, n] (row stride ldc) = h[rows, H] * R_d[row_begin : row_begin + n, :]^T.
void Recurrence(const Problem& p, int d, int gates, const float* h, int64_t rows, int64_t row_begin,
                int64_t n, float* out, int64_t ldc);
// Copies the initial state of the slice's entries (or zeros) into a dense [rows, H] buffer.
void LoadState(const Problem& p, const float* initial, const Slice& s, float* state);
// Writes a dense [rows, H] final state to out (Y_h / Y_c layout); zero for empty sequences.
void StoreFinalState(const Problem& p, const float* state, const Slice& s, float* out);
// Longest sequence among the slice's entries.
int32_t MaxLength(const Problem& p, const Slice& s);
// Wb + Rb of direction d for every gate row (zeros without B).
std::vector<float> CombinedBias(const Problem& p, int d, int gates);
// Reference-path dot product with double accumulation.
double Dot(const float* a, const float* b, int64_t n);

}  // namespace rnn
}  // namespace shrink::engine
