// The GRU cell (gate rows z, r, h in W, R and B):
//   zt = f(Xt*Wz^T + Ht-1*Rz^T + Wbz + Rbz)
//   rt = f(Xt*Wr^T + Ht-1*Rr^T + Wbr + Rbr)
//   ht = g(Xt*Wh^T + (rt (.) Ht-1)*Rh^T + Rbh + Wbh)        linear_before_reset = 0
//   ht = g(Xt*Wh^T + rt (.) (Ht-1*Rh^T + Rbh) + Wbh)        linear_before_reset = 1
//   Ht = (1 - zt) (.) ht + zt (.) Ht-1
// clip bounds the pre-activations of z, r and h.
#include <cstring>
#include <vector>

#include "engine/kernels/linalg_internal.h"

namespace shrink::engine::rnn {
namespace {

struct GruWeights {
  const float* w;   // [3H, I]
  const float* r;   // [3H, H]
  const float* wb;  // [3H] or null
  const float* rb;  // [3H] or null
};

GruWeights WeightsOf(const Problem& p, int d) {
  const int64_t H = p.hidden;
  GruWeights gw;
  gw.w = p.w + int64_t(d) * 3 * H * p.input_size;
  gw.r = p.r + int64_t(d) * 3 * H * H;
  gw.wb = p.bias ? p.bias + int64_t(d) * 6 * H : nullptr;
  gw.rb = p.bias ? gw.wb + 3 * H : nullptr;
  return gw;
}

// One step for one batch entry; h is updated in place.
void ReferenceStep(const Problem& p, const Attributes& attrs, int d, const GruWeights& gw,
                   const float* x, float* h, std::vector<float>* scratch) {
  const int64_t H = p.hidden, I = p.input_size;
  const Activation& f = attrs.act(d, 0);
  const Activation& g = attrs.act(d, 1);
  scratch->resize(size_t(4 * H));
  float* z = scratch->data();
  float* r = z + H;
  float* rh = r + H;
  float* next = rh + H;
  for (int64_t j = 0; j < 2 * H; ++j) {
    double acc = Dot(x, gw.w + j * I, I) + Dot(h, gw.r + j * H, H);
    if (gw.wb) acc += double(gw.wb[j]) + double(gw.rb[j]);
    z[j] = Activate(f, ClipValue(attrs.clip, float(acc)));  // z then r (contiguous)
  }
  for (int64_t j = 0; j < H; ++j) rh[j] = r[j] * h[j];
  for (int64_t j = 0; j < H; ++j) {
    const int64_t row = 2 * H + j;
    double acc = Dot(x, gw.w + row * I, I) + (gw.wb ? double(gw.wb[row]) : 0.0);
    double rbh = gw.rb ? double(gw.rb[row]) : 0.0;
    if (attrs.linear_before_reset) {
      acc += double(r[j]) * (Dot(h, gw.r + row * H, H) + rbh);
    } else {
      acc += Dot(rh, gw.r + row * H, H) + rbh;
    }
    float candidate = Activate(g, ClipValue(attrs.clip, float(acc)));
    next[j] = (1.0f - z[j]) * candidate + z[j] * h[j];
  }
  std::memcpy(h, next, size_t(H) * sizeof(float));
}

void GruReference(const Problem& p, const Attributes& attrs, int d) {
  const int64_t H = p.hidden;
  const GruWeights gw = WeightsOf(p, d);
  const bool reverse = attrs.reverse || d == 1;
  std::vector<float> h(static_cast<size_t>(H)), scratch;
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t j = 0; j < H; ++j) {
      h[size_t(j)] = p.initial_h ? p.initial_h[p.StateRow(d, b) + j] : 0.0f;
    }
    const int32_t len = p.seq_lens[size_t(b)];
    for (int64_t s = 0; s < len; ++s) {
      const int64_t t = p.TimeAt(s, b, reverse);
      ReferenceStep(p, attrs, d, gw, p.x + p.XRow(t, b), h.data(), &scratch);
      if (p.y) std::memcpy(p.y + p.YRow(t, d, b), h.data(), size_t(H) * sizeof(float));
    }
    for (int64_t j = 0; j < H; ++j) p.y_h[p.StateRow(d, b) + j] = len > 0 ? h[size_t(j)] : 0.0f;
  }
}

// Per-slice state of the fast path.
struct GruSliceState {
  const Problem* p;
  const Attributes* attrs;
  const Slice* sl;
  bool reverse;
  std::vector<float> bias;  // [3H]: Wb+Rb for z, r; for h Wbh+Rbh, or Wbh only (linear first)
  const float* rbh;         // Rbh when linear_before_reset, else null
  float* h_prev;            // [rows, H]
  float* h_next;            // [rows, H]
  float* rec;               // [rows, 3H] recurrence products, then gate values
  float* rh;                // [rows, H] rt (.) Ht-1 (linear_before_reset = 0)
};

// z and r gates; with linear_before_reset also the whole h pre-activation. Otherwise stores
// rt (.) Ht-1 for the second recurrence product.
void GatesZr(const GruSliceState& st, int64_t s) {
  const Problem& p = *st.p;
  const int64_t H = p.hidden;
  const float* bias = st.bias.data();
  for (int64_t b = st.sl->b0; b < st.sl->b1; ++b) {
    if (s >= p.seq_lens[size_t(b)]) continue;
    const int64_t lb = b - st.sl->b0;
    const float* in = st.sl->xw + p.XIndex(p.TimeAt(s, b, st.reverse), b) * 3 * H;
    float* g = st.rec + lb * 3 * H;
    for (int64_t j = 0; j < 2 * H; ++j) g[j] += in[j] + bias[j];
    ClipInPlace(st.attrs->clip, g, 2 * H);
    ActivateInPlace(st.attrs->act(st.sl->d, 0), g, 2 * H);  // z and r share f
    const float* r = g + H;
    float* gh = g + 2 * H;
    if (st.attrs->linear_before_reset) {
      const float* rbh = st.rbh;
      for (int64_t j = 0; j < H; ++j) {
        gh[j] = in[2 * H + j] + bias[2 * H + j] + r[j] * (gh[j] + (rbh ? rbh[j] : 0.0f));
      }
    } else {
      const float* h = st.h_prev + lb * H;
      float* rh = st.rh + lb * H;
      for (int64_t j = 0; j < H; ++j) rh[j] = r[j] * h[j];
    }
  }
}

// Candidate state and the new hidden state.
void Update(const GruSliceState& st, int64_t s) {
  const Problem& p = *st.p;
  const int64_t H = p.hidden;
  const int d = st.sl->d;
  for (int64_t b = st.sl->b0; b < st.sl->b1; ++b) {
    const int64_t lb = b - st.sl->b0;
    const float* h = st.h_prev + lb * H;
    float* hn = st.h_next + lb * H;
    if (s >= p.seq_lens[size_t(b)]) {
      std::memcpy(hn, h, size_t(H) * sizeof(float));
      continue;
    }
    const int64_t t = p.TimeAt(s, b, st.reverse);
    const float* z = st.rec + lb * 3 * H;
    float* gh = st.rec + lb * 3 * H + 2 * H;
    if (!st.attrs->linear_before_reset) {
      const float* in = st.sl->xw + p.XIndex(t, b) * 3 * H + 2 * H;
      const float* bias = st.bias.data() + 2 * H;
      for (int64_t j = 0; j < H; ++j) gh[j] += in[j] + bias[j];
    }
    ClipInPlace(st.attrs->clip, gh, H);
    ActivateInPlace(st.attrs->act(d, 1), gh, H);
    for (int64_t j = 0; j < H; ++j) hn[j] = (1.0f - z[j]) * gh[j] + z[j] * h[j];
    if (p.y) std::memcpy(p.y + p.YRow(t, d, b), hn, size_t(H) * sizeof(float));
  }
}

int64_t GruWorkFloats(const Problem& p, int64_t rows) { return 6 * rows * p.hidden; }

void GruSlice(const Problem& p, const Attributes& attrs, const Slice& sl) {
  const int64_t H = p.hidden, rows = sl.rows();
  GruSliceState st;
  st.p = &p;
  st.attrs = &attrs;
  st.sl = &sl;
  st.reverse = attrs.reverse || sl.d == 1;
  st.bias = CombinedBias(p, sl.d, 3);
  st.rbh = nullptr;
  const GruWeights gw = WeightsOf(p, sl.d);
  if (attrs.linear_before_reset && gw.wb) {
    for (int64_t j = 0; j < H; ++j) st.bias[size_t(2 * H + j)] = gw.wb[2 * H + j];
    st.rbh = gw.rb + 2 * H;
  }
  st.h_prev = sl.work;
  st.h_next = st.h_prev + rows * H;
  st.rec = st.h_next + rows * H;
  st.rh = st.rec + 3 * rows * H;
  LoadState(p, p.initial_h, sl, st.h_prev);
  const int32_t steps = MaxLength(p, sl);
  for (int64_t s = 0; s < steps; ++s) {
    Recurrence(p, sl.d, 3, st.h_prev, rows, 0, attrs.linear_before_reset ? 3 * H : 2 * H, st.rec,
               3 * H);
    GatesZr(st, s);
    if (!attrs.linear_before_reset)
      Recurrence(p, sl.d, 3, st.rh, rows, 2 * H, H, st.rec + 2 * H, 3 * H);
    Update(st, s);
    std::swap(st.h_prev, st.h_next);
  }
  StoreFinalState(p, st.h_prev, sl, p.y_h);
}

}  // namespace

const Cell& GruCell() {
  static const Cell cell{3, &GruWorkFloats, &GruSlice, &GruReference};
  return cell;
}

}  // namespace shrink::engine::rnn
