// The LSTM cell (gate rows i, o, f, c in W, R and B; peepholes i, o, f in P):
//   it = f(Xt*Wi^T + Ht-1*Ri^T + Pi (.) Ct-1 + Wbi + Rbi)
//   ft = f(Xt*Wf^T + Ht-1*Rf^T + Pf (.) Ct-1 + Wbf + Rbf)      (1 - it with input_forget)
//   ct = g(Xt*Wc^T + Ht-1*Rc^T + Wbc + Rbc)
//   Ct = ft (.) Ct-1 + it (.) ct
//   ot = f(Xt*Wo^T + Ht-1*Ro^T + Po (.) Ct + Wbo + Rbo)
//   Ht = ot (.) h(Ct)
// clip bounds every gate pre-activation (not the cell state), as ONNX Runtime does.
#include <cstring>
#include <vector>

#include "engine/kernels/linalg_internal.h"

namespace shrink::engine::rnn {
namespace {

struct LstmWeights {
  const float* w;     // [4H, I]
  const float* r;     // [4H, H]
  const float* wb;    // [8H] (Wb then Rb) or null
  const float* peep;  // [3H] (i, o, f) or null
};

LstmWeights WeightsOf(const Problem& p, int d) {
  const int64_t H = p.hidden;
  LstmWeights lw;
  lw.w = p.w + int64_t(d) * 4 * H * p.input_size;
  lw.r = p.r + int64_t(d) * 4 * H * H;
  lw.wb = p.bias ? p.bias + int64_t(d) * 8 * H : nullptr;
  lw.peep = p.peephole ? p.peephole + int64_t(d) * 3 * H : nullptr;
  return lw;
}

// One step for one batch entry from the gate pre-activations `pre` (without peepholes).
void ReferenceCell(const Attributes& attrs, int d, int64_t H, const float* pre, const float* peep,
                   float* h, float* c) {
  const Activation& f = attrs.act(d, 0);
  const Activation& g = attrs.act(d, 1);
  const Activation& h_act = attrs.act(d, 2);
  for (int64_t j = 0; j < H; ++j) {
    float pi = pre[j] + (peep ? peep[j] * c[j] : 0.0f);
    float i = Activate(f, ClipValue(attrs.clip, pi));
    float forget;
    if (attrs.input_forget) {
      forget = 1.0f - i;
    } else {
      float pf = pre[2 * H + j] + (peep ? peep[2 * H + j] * c[j] : 0.0f);
      forget = Activate(f, ClipValue(attrs.clip, pf));
    }
    float cell = Activate(g, ClipValue(attrs.clip, pre[3 * H + j]));
    float c_new = forget * c[j] + i * cell;
    float po = pre[H + j] + (peep ? peep[H + j] * c_new : 0.0f);
    float o = Activate(f, ClipValue(attrs.clip, po));
    c[j] = c_new;
    h[j] = o * Activate(h_act, c_new);
  }
}

void LstmReference(const Problem& p, const Attributes& attrs, int d) {
  const int64_t H = p.hidden, I = p.input_size;
  const LstmWeights lw = WeightsOf(p, d);
  const bool reverse = attrs.reverse || d == 1;
  std::vector<float> h(static_cast<size_t>(H)), c(static_cast<size_t>(H)),
      pre(static_cast<size_t>(4 * H));
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t j = 0; j < H; ++j) {
      h[size_t(j)] = p.initial_h ? p.initial_h[p.StateRow(d, b) + j] : 0.0f;
      c[size_t(j)] = p.initial_c ? p.initial_c[p.StateRow(d, b) + j] : 0.0f;
    }
    const int32_t len = p.seq_lens[size_t(b)];
    for (int64_t s = 0; s < len; ++s) {
      const int64_t t = p.TimeAt(s, b, reverse);
      const float* x = p.x + p.XRow(t, b);
      for (int64_t j = 0; j < 4 * H; ++j) {
        double acc = Dot(x, lw.w + j * I, I) + Dot(h.data(), lw.r + j * H, H);
        if (lw.wb) acc += double(lw.wb[j]) + double(lw.wb[4 * H + j]);
        pre[size_t(j)] = float(acc);
      }
      ReferenceCell(attrs, d, H, pre.data(), lw.peep, h.data(), c.data());
      if (p.y) std::memcpy(p.y + p.YRow(t, d, b), h.data(), size_t(H) * sizeof(float));
    }
    for (int64_t j = 0; j < H; ++j) {
      p.y_h[p.StateRow(d, b) + j] = len > 0 ? h[size_t(j)] : 0.0f;
      p.y_c[p.StateRow(d, b) + j] = len > 0 ? c[size_t(j)] : 0.0f;
    }
  }
}

// Fast cell update for one batch entry. `g` holds the four gate blocks (already including the
// input projection, the recurrence and the biases) and is used as scratch.
void FastCell(const Attributes& attrs, int d, int64_t H, float* __restrict g,
              const float* __restrict peep, const float* __restrict c_prev,
              float* __restrict c_next, float* __restrict h_next) {
  float* gi = g;
  float* go = g + H;
  float* gf = g + 2 * H;
  float* gc = g + 3 * H;
  const Activation& f = attrs.act(d, 0);
  if (peep) {
    for (int64_t j = 0; j < H; ++j) gi[j] += peep[j] * c_prev[j];
  }
  ClipInPlace(attrs.clip, gi, H);
  ActivateInPlace(f, gi, H);
  if (attrs.input_forget) {
    for (int64_t j = 0; j < H; ++j) gf[j] = 1.0f - gi[j];
  } else {
    if (peep) {
      for (int64_t j = 0; j < H; ++j) gf[j] += peep[2 * H + j] * c_prev[j];
    }
    ClipInPlace(attrs.clip, gf, H);
    ActivateInPlace(f, gf, H);
  }
  ClipInPlace(attrs.clip, gc, H);
  ActivateInPlace(attrs.act(d, 1), gc, H);
  for (int64_t j = 0; j < H; ++j) c_next[j] = gf[j] * c_prev[j] + gi[j] * gc[j];
  if (peep) {
    for (int64_t j = 0; j < H; ++j) go[j] += peep[H + j] * c_next[j];
  }
  ClipInPlace(attrs.clip, go, H);
  ActivateInPlace(f, go, H);
  std::memcpy(gc, c_next, size_t(H) * sizeof(float));
  ActivateInPlace(attrs.act(d, 2), gc, H);
  for (int64_t j = 0; j < H; ++j) h_next[j] = go[j] * gc[j];
}

int64_t LstmWorkFloats(const Problem& p, int64_t rows) { return 8 * rows * p.hidden; }

void LstmSlice(const Problem& p, const Attributes& attrs, const Slice& sl) {
  const int64_t H = p.hidden, rows = sl.rows();
  const LstmWeights lw = WeightsOf(p, sl.d);
  float* h_prev = sl.work;
  float* h_next = h_prev + rows * H;
  float* c_prev = h_next + rows * H;
  float* c_next = c_prev + rows * H;
  float* rec = c_next + rows * H;  // [rows, 4H]
  LoadState(p, p.initial_h, sl, h_prev);
  LoadState(p, p.initial_c, sl, c_prev);
  const std::vector<float> bias = CombinedBias(p, sl.d, 4);
  const bool reverse = attrs.reverse || sl.d == 1;
  const int32_t steps = MaxLength(p, sl);
  for (int64_t s = 0; s < steps; ++s) {
    Recurrence(p, sl.d, 4, h_prev, rows, 0, 4 * H, rec, 4 * H);
    for (int64_t b = sl.b0; b < sl.b1; ++b) {
      const int64_t lb = b - sl.b0;
      if (s >= p.seq_lens[size_t(b)]) {
        std::memcpy(h_next + lb * H, h_prev + lb * H, size_t(H) * sizeof(float));
        std::memcpy(c_next + lb * H, c_prev + lb * H, size_t(H) * sizeof(float));
        continue;
      }
      const int64_t t = p.TimeAt(s, b, reverse);
      const float* in = sl.xw + p.XIndex(t, b) * 4 * H;
      float* g = rec + lb * 4 * H;
      for (int64_t j = 0; j < 4 * H; ++j) g[j] += in[j] + bias[size_t(j)];
      FastCell(attrs, sl.d, H, g, lw.peep, c_prev + lb * H, c_next + lb * H, h_next + lb * H);
      if (p.y) std::memcpy(p.y + p.YRow(t, sl.d, b), h_next + lb * H, size_t(H) * sizeof(float));
    }
    std::swap(h_prev, h_next);
    std::swap(c_prev, c_next);
  }
  StoreFinalState(p, h_prev, sl, p.y_h);
  StoreFinalState(p, c_prev, sl, p.y_c);
}

}  // namespace

const Cell& LstmCell() {
  static const Cell cell{4, &LstmWorkFloats, &LstmSlice, &LstmReference};
  return cell;
}

}  // namespace shrink::engine::rnn
