// Arithmetic of the recurrent kernels: activation functions (scalar reference forms and
// vectorizable in-place loops) and the activation attribute parser.
#include <algorithm>
#include <cctype>
#include <cmath>

#include "engine/kernels/kernel_util.h"
#include "engine/kernels/linalg_internal.h"

// The clamps in the activation loops only vectorize (as compare + blend) when comparisons are
// not treated as possibly trapping; the engine never enables floating-point traps.
#pragma GCC optimize("no-trapping-math")

namespace shrink::engine::rnn {
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

}  // namespace

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
    case Kind::kSigmoid:
      return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
    case Kind::kTanh:
      return std::tanh(x);
    case Kind::kRelu:
      return x > 0 ? x : 0;
    case Kind::kHardSigmoid:
      return std::min(1.0f, std::max(0.0f, f.alpha * x + f.beta));
    case Kind::kAffine:
      return f.alpha * x + f.beta;
    case Kind::kLeakyRelu:
      return x >= 0 ? x : f.alpha * x;
    case Kind::kThresholdedRelu:
      return x > f.alpha ? x : 0;
    case Kind::kScaledTanh:
      return f.alpha * std::tanh(f.beta * x);
    case Kind::kElu:
      return x >= 0 ? x : f.alpha * (std::exp(x) - 1);
    case Kind::kSoftsign:
      return x / (1 + std::fabs(x));
    case Kind::kSoftplus:
      return x > 30 ? x : std::log1p(std::exp(x));
  }
  return x;
}

// Cloned for AVX2 so the polynomial loops run 8 floats wide where the CPU allows.
__attribute__((target_clones("avx2", "default"))) void ActivateInPlace(const Activation& f,
                                                                       float* x, int64_t n) {
  const float a = f.alpha, b = f.beta;
  switch (f.kind) {
    case Kind::kSigmoid:
      return Loop(x, n, [](float v) { return 0.5f * FastTanh(0.5f * v) + 0.5f; });
    case Kind::kTanh:
      return Loop(x, n, [](float v) { return FastTanh(v); });
    case Kind::kRelu:
      return Loop(x, n, [](float v) { return v > 0 ? v : 0.0f; });
    case Kind::kHardSigmoid:
      return Loop(x, n, [a, b](float v) {
        float y = a * v + b;
        return y < 0 ? 0.0f : (y > 1 ? 1.0f : y);
      });
    case Kind::kAffine:
      return Loop(x, n, [a, b](float v) { return a * v + b; });
    case Kind::kLeakyRelu:
      return Loop(x, n, [a](float v) { return v >= 0 ? v : a * v; });
    case Kind::kThresholdedRelu:
      return Loop(x, n, [a](float v) { return v > a ? v : 0.0f; });
    case Kind::kScaledTanh:
      return Loop(x, n, [a, b](float v) { return a * FastTanh(b * v); });
    case Kind::kSoftsign:
      return Loop(x, n, [](float v) { return v / (1 + std::fabs(v)); });
    case Kind::kElu:
    case Kind::kSoftplus:
      for (int64_t i = 0; i < n; ++i) x[i] = Activate(f, x[i]);
      return;
  }
}

double Dot(const float* a, const float* b, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += double(a[i]) * double(b[i]);
  return sum;
}

}  // namespace shrink::engine::rnn
