// Tests of RNN, GRU and LSTM: hand-computed single steps, fast path vs reference path over
// random configurations (directions, layouts, sequence lengths, peepholes, clip, activations),
// structural identities (layout 1 = transposed layout 0, reverse = forward on reversed input)
// and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "engine/kernels/kernel_test_util.h"
#include "engine/kernels/linalg_internal.h"

namespace shrink::engine {
namespace {

using testing::FloatAttr;
using testing::FloatsAttr;
using testing::IntAttr;
using testing::KernelRun;
using testing::RunKernel;
using testing::StringAttr;

constexpr double kEps = std::numeric_limits<float>::epsilon();
// Largest difference between the vectorizable activations and their std:: forms, checked by
// ActivationTest below (the rational tanh approximation is accurate to a few float ulps).
constexpr double kActivationError = 4e-7;

Attribute StringsAttr(const std::string& name, std::vector<std::string> values) {
  Attribute a;
  a.name = name;
  a.type = AttributeType::kStrings;
  a.strings = std::move(values);
  return a;
}

double Sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

TEST(ActivationTest, VectorizedMatchesScalarForms) {
  using Kind = rnn::Activation::Kind;
  const std::vector<rnn::Activation> all = {{Kind::kSigmoid, 0, 0},
                                            {Kind::kTanh, 0, 0},
                                            {Kind::kRelu, 0, 0},
                                            {Kind::kHardSigmoid, 0.2f, 0.5f},
                                            {Kind::kAffine, 2, 1},
                                            {Kind::kLeakyRelu, 0.1f, 0},
                                            {Kind::kThresholdedRelu, 1.0f, 0},
                                            {Kind::kScaledTanh, 1.5f, 0.7f},
                                            {Kind::kElu, 1.0f, 0},
                                            {Kind::kSoftsign, 0, 0},
                                            {Kind::kSoftplus, 0, 0}};
  std::vector<float> xs;
  for (float x = -25; x <= 25; x += 0.001f) xs.push_back(x);
  for (const rnn::Activation& f : all) {
    std::vector<float> fast = xs;
    rnn::ActivateInPlace(f, fast.data(), int64_t(fast.size()));
    double scale = f.kind == Kind::kScaledTanh ? f.alpha : 1.0;
    for (size_t i = 0; i < xs.size(); ++i) {
      float want = rnn::Activate(f, xs[i]);
      ASSERT_NEAR(fast[i], want, kActivationError * scale + 4 * kEps * std::fabs(want))
          << "kind " << int(f.kind) << " x=" << xs[i];
    }
  }
  EXPECT_NEAR(rnn::Activate({Kind::kSigmoid, 0, 0}, 0.3f), Sigmoid(0.3), 1e-7);
  EXPECT_NEAR(rnn::Activate({Kind::kHardSigmoid, 0.2f, 0.5f}, 1.0f), 0.7, 1e-7);
  EXPECT_EQ(rnn::Activate({Kind::kThresholdedRelu, 1.0f, 0}, 1.0f), 0.0f);
}

// ---- Building inputs ----

struct Config {
  OpType op = OpType::kLSTM;
  int64_t T = 1, B = 1, I = 1, H = 1;
  std::string direction = "forward";
  int layout = 0;
  bool bias = false, seq_lens = false, initial_h = false, initial_c = false, peephole = false;
  float clip = 0;
  bool input_forget = false, linear_before_reset = false;
  std::vector<std::string> activations;
  std::vector<float> alphas, betas;
  std::string Describe() const {
    return std::string(OpTypeName(op)) + " T=" + std::to_string(T) + " B=" + std::to_string(B) +
           " I=" + std::to_string(I) + " H=" + std::to_string(H) + " " + direction +
           " layout=" + std::to_string(layout) + (bias ? " bias" : "") +
           (seq_lens ? " seq_lens" : "") + (initial_h ? " h0" : "") + (initial_c ? " c0" : "") +
           (peephole ? " P" : "") + (clip > 0 ? " clip" : "") +
           (input_forget ? " input_forget" : "") + (linear_before_reset ? " lbr" : "") +
           (activations.empty() ? "" : " " + activations[0] + "...");
  }
  int gates() const { return op == OpType::kLSTM ? 4 : op == OpType::kGRU ? 3 : 1; }
  int64_t D() const { return direction == "bidirectional" ? 2 : 1; }
  int outputs() const { return op == OpType::kLSTM ? 3 : 2; }
};

Tensor Uniform(const Shape& shape, float scale, std::mt19937* rng) {
  Tensor t(DataType::kFloat32, shape);
  std::uniform_real_distribution<float> dist(-scale, scale);
  for (int64_t i = 0; i < t.size(); ++i) t.data<float>()[i] = dist(*rng);
  return t;
}

KernelRun MakeRun(const Config& c, std::mt19937* rng) {
  KernelRun run;
  run.op = c.op;
  run.opset = 14;
  run.num_outputs = c.outputs();
  const int64_t D = c.D(), G = c.gates();
  // Weights ~ U(-0.5/sqrt(n), 0.5/sqrt(n)) keep the recurrence contractive (see Tolerance).
  const float w_scale = 0.5f / std::sqrt(float(c.I)), r_scale = 0.5f / std::sqrt(float(c.H));
  Shape state = c.layout == 0 ? Shape{D, c.B, c.H} : Shape{c.B, D, c.H};
  run.inputs.push_back(
      Uniform(c.layout == 0 ? Shape{c.T, c.B, c.I} : Shape{c.B, c.T, c.I}, 1, rng));
  run.inputs.push_back(Uniform({D, G * c.H, c.I}, w_scale, rng));
  run.inputs.push_back(Uniform({D, G * c.H, c.H}, r_scale, rng));
  run.inputs.push_back(c.bias ? Uniform({D, 2 * G * c.H}, 0.5f, rng) : Tensor());
  Tensor lens;
  if (c.seq_lens) {
    lens = Tensor(DataType::kInt32, {c.B});
    std::uniform_int_distribution<int32_t> len_dist(0, int32_t(c.T));
    for (int64_t b = 0; b < c.B; ++b) lens.data<int32_t>()[b] = len_dist(*rng);
    lens.data<int32_t>()[0] = int32_t(c.T);  // the longest sequence fills the tensor
  }
  run.inputs.push_back(lens);
  run.inputs.push_back(c.initial_h ? Uniform(state, 1, rng) : Tensor());
  if (c.op == OpType::kLSTM) {
    run.inputs.push_back(c.initial_c ? Uniform(state, 1, rng) : Tensor());
    run.inputs.push_back(c.peephole ? Uniform({D, 3 * c.H}, 0.5f, rng) : Tensor());
  }
  while (!run.inputs.empty() && !run.inputs.back().defined()) run.inputs.pop_back();
  run.attributes = {StringAttr("direction", c.direction), IntAttr("hidden_size", c.H),
                    IntAttr("layout", c.layout)};
  if (c.clip > 0) run.attributes.push_back(FloatAttr("clip", c.clip));
  if (c.input_forget) run.attributes.push_back(IntAttr("input_forget", 1));
  if (c.linear_before_reset) run.attributes.push_back(IntAttr("linear_before_reset", 1));
  if (!c.activations.empty()) run.attributes.push_back(StringsAttr("activations", c.activations));
  if (!c.alphas.empty()) run.attributes.push_back(FloatsAttr("activation_alpha", c.alphas));
  if (!c.betas.empty()) run.attributes.push_back(FloatsAttr("activation_beta", c.betas));
  return run;
}

double MaxAbs(const Tensor& t) {
  double m = 0;
  for (int64_t i = 0; i < t.size(); ++i) m = std::max(m, double(std::fabs(t.data<float>()[i])));
  return m;
}

// Bound on |fast - reference| for every output. One gate pre-activation is a dot product of
// length n = I + H + 2 (+1 with peepholes); Sgemm in float vs double accumulation differ by
// at most n * eps * S with S = sum of |terms| <= I*|x|*|w| + H*|h|*|r| + |biases| + |P*c|.
// The activations add kActivationError each; an LSTM state update combines up to 4 gate values
// and |c| multiplies gate errors. With the contractive weights of MakeRun errors of earlier
// steps do not grow, so they add up over at most T steps.
double Tolerance(const Config& c, const KernelRun& run, const std::vector<Tensor>& ref) {
  double state = 1.0;
  for (const Tensor& t : ref) state = std::max(state, MaxAbs(t));
  double x = MaxAbs(run.inputs[0]), w = MaxAbs(run.inputs[1]), r = MaxAbs(run.inputs[2]);
  double s = c.I * x * w + c.H * state * r + 2 * 0.5 + (c.peephole ? 0.5 * state : 0.0);
  double n = c.I + c.H + 3;
  double local = n * kEps * s + kActivationError + 4 * kEps * state;
  double per_step = (c.op == OpType::kLSTM ? 4 * state : 3) * local;
  return double(c.T) * per_step;
}

void ExpectFastMatchesReference(const Config& c, std::mt19937* rng) {
  KernelRun run = MakeRun(c, rng);
  auto fast = RunKernel(run);
  ASSERT_TRUE(fast.ok()) << c.Describe() << ": " << fast.status().ToString();
  run.reference = true;
  auto ref = RunKernel(run);
  ASSERT_TRUE(ref.ok()) << c.Describe() << ": " << ref.status().ToString();
  double tol = Tolerance(c, run, *ref);
  for (int o = 0; o < c.outputs(); ++o) {
    const Tensor& f = (*fast)[size_t(o)];
    const Tensor& e = (*ref)[size_t(o)];
    ASSERT_EQ(f.shape(), e.shape()) << c.Describe() << " output " << o;
    for (int64_t i = 0; i < f.size(); ++i) {
      ASSERT_NEAR(f.data<float>()[i], e.data<float>()[i], tol)
          << c.Describe() << " output " << o << " element " << i;
    }
  }
}

TEST(RecurrentTest, FastMatchesReferenceOverRandomConfigs) {
  std::mt19937 rng(20240601);
  const std::vector<std::string> directions = {"forward", "reverse", "bidirectional"};
  const std::vector<std::vector<std::string>> rnn_acts = {
      {},      {"Relu"},     {"Sigmoid"},     {"LeakyRelu"}, {"Softsign"}, {"ScaledTanh"},
      {"Elu"}, {"Softplus"}, {"HardSigmoid"}, {"Affine"}};
  auto coin = [&] { return std::uniform_int_distribution<int>(0, 1)(rng) == 1; };
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int iter = 0; iter < 120; ++iter) {
    Config c;
    c.op = iter % 3 == 0 ? OpType::kRNN : iter % 3 == 1 ? OpType::kGRU : OpType::kLSTM;
    c.T = pick(1, 7);
    c.B = pick(1, 5);
    c.I = pick(1, 9);
    c.H = pick(1, 11);
    c.direction = directions[size_t(pick(0, 2))];
    c.layout = pick(0, 1);
    c.bias = coin();
    c.seq_lens = coin();
    c.initial_h = coin();
    c.initial_c = coin();
    c.peephole = coin();
    c.clip = coin() ? 0.0f : 0.75f;
    c.input_forget = iter % 7 == 2;
    c.linear_before_reset = coin();
    if (iter % 5 == 4) {
      const auto& acts = rnn_acts[size_t(pick(0, int(rnn_acts.size()) - 1))];
      for (int i = 0; i < (c.op == OpType::kLSTM ? 3 : c.op == OpType::kGRU ? 2 : 1); ++i) {
        if (!acts.empty()) c.activations.push_back(acts[0]);
      }
      if (!c.activations.empty() && c.op != OpType::kRNN) c.activations[0] = "HardSigmoid";
      c.alphas = {0.3f, 0.4f, 0.5f};
      c.betas = {0.6f, 0.7f, 0.8f};
    }
    ExpectFastMatchesReference(c, &rng);
  }
}

TEST(RecurrentTest, FastMatchesReferenceOnModelSizedProblems) {
  std::mt19937 rng(7);
  Config gru;  // the digits GRU: 28 steps of 28 features, hidden 64, linear_before_reset
  gru.op = OpType::kGRU;
  gru.T = 28, gru.B = 16, gru.I = 28, gru.H = 64;
  gru.bias = true;
  gru.linear_before_reset = true;
  ExpectFastMatchesReference(gru, &rng);
  gru.linear_before_reset = false;
  gru.direction = "bidirectional";
  gru.layout = 1;
  ExpectFastMatchesReference(gru, &rng);
  Config lstm;  // the voice-activity LSTM: hidden 128, batch 1
  lstm.T = 3, lstm.I = 128, lstm.H = 128;
  lstm.bias = lstm.initial_h = lstm.initial_c = true;
  ExpectFastMatchesReference(lstm, &rng);
  lstm.B = 300, lstm.T = 2, lstm.peephole = true, lstm.seq_lens = true;  // parallel gate loop
  ExpectFastMatchesReference(lstm, &rng);
}

// ---- Hand-computed single steps ----

std::vector<Tensor> RunBoth(const KernelRun& base, double tol) {
  KernelRun run = base;
  auto fast = RunKernel(run);
  EXPECT_TRUE(fast.ok()) << fast.status().ToString();
  run.reference = true;
  auto ref = RunKernel(run);
  EXPECT_TRUE(ref.ok()) << ref.status().ToString();
  if (!fast.ok() || !ref.ok()) return {};
  for (size_t o = 0; o < fast->size(); ++o) {
    for (int64_t i = 0; i < (*fast)[o].size(); ++i) {
      EXPECT_NEAR((*fast)[o].data<float>()[i], (*ref)[o].data<float>()[i], tol);
    }
  }
  return *ref;
}

TEST(RecurrentTest, RnnOneStepHandComputed) {
  // I = 2, H = 2 with a non-symmetric R: Ht[j] = tanh(sum_k x[k] W[j,k] + sum_k h[k] R[j,k] + b).
  KernelRun run;
  run.op = OpType::kRNN;
  run.num_outputs = 2;
  run.inputs = {Tensor::FromVector<float>({1, 1, 2}, {1, 2}),
                Tensor::FromVector<float>({1, 2, 2}, {0.5f, -0.25f, 0.1f, 0.2f}),
                Tensor::FromVector<float>({1, 2, 2}, {0.3f, 0.0f, 0.7f, -0.6f}),
                Tensor::FromVector<float>({1, 4}, {0.1f, 0.2f, 0.01f, 0.02f}),
                Tensor(),
                Tensor::FromVector<float>({1, 1, 2}, {0.4f, 0.9f})};
  run.attributes = {IntAttr("hidden_size", 2)};
  std::vector<Tensor> out = RunBoth(run, 1e-6);
  ASSERT_EQ(out.size(), 2u);
  double h0 = std::tanh(1 * 0.5 + 2 * -0.25 + 0.4 * 0.3 + 0.9 * 0.0 + 0.1 + 0.01);
  double h1 = std::tanh(1 * 0.1 + 2 * 0.2 + 0.4 * 0.7 + 0.9 * -0.6 + 0.2 + 0.02);
  EXPECT_EQ(out[0].shape(), (Shape{1, 1, 1, 2}));
  EXPECT_NEAR(out[0].data<float>()[0], h0, 1e-6);
  EXPECT_NEAR(out[0].data<float>()[1], h1, 1e-6);
  EXPECT_NEAR(out[1].data<float>()[0], h0, 1e-6);
  EXPECT_NEAR(out[1].data<float>()[1], h1, 1e-6);
}

TEST(RecurrentTest, LstmOneStepHandComputed) {
  // H = 1, I = 1; gate rows i, o, f, c; peepholes i, o, f.
  const double x = 2, h0 = 0.5, c0 = -0.3;
  const double w[4] = {0.1, 0.2, 0.3, 0.4}, r[4] = {0.5, 0.6, 0.7, 0.8};
  const double wb[4] = {0.01, 0.02, 0.03, 0.04}, rb[4] = {0.05, 0.06, 0.07, 0.08};
  const double p[3] = {0.9, -0.4, 0.2};
  auto pre = [&](int g) { return x * w[g] + h0 * r[g] + wb[g] + rb[g]; };
  double i = Sigmoid(pre(0) + p[0] * c0);
  double f = Sigmoid(pre(2) + p[2] * c0);
  double cell = std::tanh(pre(3));
  double c1 = f * c0 + i * cell;
  double o = Sigmoid(pre(1) + p[1] * c1);
  double h1 = o * std::tanh(c1);

  KernelRun run;
  run.op = OpType::kLSTM;
  run.num_outputs = 3;
  auto f32 = [](const double* v, int n) { return std::vector<float>(v, v + n); };
  std::vector<float> bias = f32(wb, 4);
  for (double v : rb) bias.push_back(float(v));
  run.inputs = {Tensor::FromVector<float>({1, 1, 1}, {float(x)}),
                Tensor::FromVector<float>({1, 4, 1}, f32(w, 4)),
                Tensor::FromVector<float>({1, 4, 1}, f32(r, 4)),
                Tensor::FromVector<float>({1, 8}, bias),
                Tensor(),
                Tensor::FromVector<float>({1, 1, 1}, {float(h0)}),
                Tensor::FromVector<float>({1, 1, 1}, {float(c0)}),
                Tensor::FromVector<float>({1, 3}, f32(p, 3))};
  run.attributes = {IntAttr("hidden_size", 1)};
  std::vector<Tensor> out = RunBoth(run, 1e-6);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_NEAR(out[0].data<float>()[0], h1, 1e-6);
  EXPECT_NEAR(out[1].data<float>()[0], h1, 1e-6);
  EXPECT_NEAR(out[2].data<float>()[0], c1, 1e-6);

  // input_forget couples the gates: f = 1 - i (the forget peephole is unused).
  run.attributes.push_back(IntAttr("input_forget", 1));
  double c1_coupled = (1 - i) * c0 + i * cell;
  double h1_coupled = Sigmoid(pre(1) + p[1] * c1_coupled) * std::tanh(c1_coupled);
  out = RunBoth(run, 1e-6);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_NEAR(out[1].data<float>()[0], h1_coupled, 1e-6);
  EXPECT_NEAR(out[2].data<float>()[0], c1_coupled, 1e-6);
}

TEST(RecurrentTest, GruOneStepHandComputed) {
  // H = 1, I = 1; gate rows z, r, h.
  const double x = 1.5, h0 = -0.4;
  const double w[3] = {0.2, -0.3, 0.6}, r[3] = {0.5, 0.4, -0.7};
  const double wb[3] = {0.01, 0.02, 0.03}, rb[3] = {0.1, 0.2, 0.3};
  auto pre = [&](int g) { return x * w[g] + h0 * r[g] + wb[g] + rb[g]; };
  double z = Sigmoid(pre(0)), rg = Sigmoid(pre(1));
  for (int lbr = 0; lbr < 2; ++lbr) {
    double cand = lbr ? std::tanh(x * w[2] + wb[2] + rg * (h0 * r[2] + rb[2]))
                      : std::tanh(x * w[2] + (rg * h0) * r[2] + rb[2] + wb[2]);
    double h1 = (1 - z) * cand + z * h0;
    KernelRun run;
    run.op = OpType::kGRU;
    run.num_outputs = 2;
    run.inputs = {Tensor::FromVector<float>({1, 1, 1}, {float(x)}),
                  Tensor::FromVector<float>({1, 3, 1}, {0.2f, -0.3f, 0.6f}),
                  Tensor::FromVector<float>({1, 3, 1}, {0.5f, 0.4f, -0.7f}),
                  Tensor::FromVector<float>({1, 6}, {0.01f, 0.02f, 0.03f, 0.1f, 0.2f, 0.3f}),
                  Tensor(),
                  Tensor::FromVector<float>({1, 1, 1}, {float(h0)})};
    run.attributes = {IntAttr("hidden_size", 1), IntAttr("linear_before_reset", lbr)};
    std::vector<Tensor> out = RunBoth(run, 1e-6);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_NEAR(out[1].data<float>()[0], h1, 1e-6) << "linear_before_reset=" << lbr;
  }
}

// ---- Structural identities ----

// Copies the dims-[a, b, rest] tensor to [b, a, rest] (swaps the two leading axes).
Tensor SwapLeadingAxes(const Tensor& t) {
  Shape shape = t.shape();
  int64_t a = shape[0], b = shape[1], rest = t.size() / std::max<int64_t>(a * b, 1);
  std::swap(shape[0], shape[1]);
  Tensor out(DataType::kFloat32, shape);
  for (int64_t i = 0; i < a; ++i) {
    for (int64_t j = 0; j < b; ++j) {
      std::copy_n(t.data<float>() + (i * b + j) * rest, rest,
                  out.data<float>() + (j * a + i) * rest);
    }
  }
  return out;
}

// [T, D, B, H] -> [B, T, D, H].
Tensor TimeMajorToBatchMajor(const Tensor& y) {
  const int64_t T = y.dim(0), D = y.dim(1), B = y.dim(2), H = y.dim(3);
  Tensor out(DataType::kFloat32, {B, T, D, H});
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t d = 0; d < D; ++d) {
      for (int64_t b = 0; b < B; ++b) {
        std::copy_n(y.data<float>() + ((t * D + d) * B + b) * H, H,
                    out.data<float>() + ((b * T + t) * D + d) * H);
      }
    }
  }
  return out;
}

void ExpectAllNear(const Tensor& a, const Tensor& b, double tol, const std::string& what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  for (int64_t i = 0; i < a.size(); ++i) {
    ASSERT_NEAR(a.data<float>()[i], b.data<float>()[i], tol) << what << " element " << i;
  }
}

TEST(RecurrentTest, LayoutOneIsTransposedLayoutZero) {
  std::mt19937 rng(5);
  for (OpType op : {OpType::kRNN, OpType::kGRU, OpType::kLSTM}) {
    for (bool reference : {false, true}) {
      Config c;
      c.op = op;
      c.T = 4, c.B = 3, c.I = 5, c.H = 6;
      c.direction = "bidirectional";
      c.bias = c.seq_lens = c.initial_h = c.initial_c = true;
      KernelRun run = MakeRun(c, &rng);
      run.reference = reference;
      auto time_major = RunKernel(run);
      ASSERT_TRUE(time_major.ok()) << time_major.status().ToString();
      KernelRun batch_run = run;
      batch_run.attributes[2] = IntAttr("layout", 1);
      batch_run.inputs[0] = SwapLeadingAxes(run.inputs[0]);
      for (size_t i = 5; i < std::min<size_t>(7, run.inputs.size()); ++i) {
        batch_run.inputs[i] = SwapLeadingAxes(run.inputs[i]);
      }
      auto batch_major = RunKernel(batch_run);
      ASSERT_TRUE(batch_major.ok()) << batch_major.status().ToString();
      std::string what = c.Describe();
      // Same arithmetic in the same order: the results are identical.
      ExpectAllNear((*batch_major)[0], TimeMajorToBatchMajor((*time_major)[0]), 0, what + " Y");
      for (int o = 1; o < c.outputs(); ++o) {
        ExpectAllNear((*batch_major)[size_t(o)], SwapLeadingAxes((*time_major)[size_t(o)]), 0,
                      what + " state " + std::to_string(o));
      }
    }
  }
}

TEST(RecurrentTest, ReverseIsForwardOnReversedTime) {
  std::mt19937 rng(6);
  for (OpType op : {OpType::kRNN, OpType::kGRU, OpType::kLSTM}) {
    Config c;
    c.op = op;
    c.T = 5, c.B = 2, c.I = 3, c.H = 4;
    c.direction = "reverse";
    c.bias = c.initial_h = true;
    KernelRun run = MakeRun(c, &rng);
    auto reverse = RunKernel(run);
    ASSERT_TRUE(reverse.ok()) << reverse.status().ToString();
    KernelRun fwd = run;
    fwd.attributes[0] = StringAttr("direction", "forward");
    const int64_t step = c.B * c.I;
    Tensor flipped(DataType::kFloat32, run.inputs[0].shape());
    for (int64_t t = 0; t < c.T; ++t) {
      std::copy_n(run.inputs[0].data<float>() + t * step, step,
                  flipped.data<float>() + (c.T - 1 - t) * step);
    }
    fwd.inputs[0] = flipped;
    auto forward = RunKernel(fwd);
    ASSERT_TRUE(forward.ok());
    const int64_t out_step = c.B * c.H;
    for (int64_t t = 0; t < c.T; ++t) {
      for (int64_t i = 0; i < out_step; ++i) {
        EXPECT_EQ((*reverse)[0].data<float>()[t * out_step + i],
                  (*forward)[0].data<float>()[(c.T - 1 - t) * out_step + i]);
      }
    }
    ExpectAllNear((*reverse)[1], (*forward)[1], 0, c.Describe() + " Y_h");
  }
}

TEST(RecurrentTest, SequenceLengthsTruncateEachBatchEntry) {
  std::mt19937 rng(8);
  for (OpType op : {OpType::kRNN, OpType::kGRU, OpType::kLSTM}) {
    for (bool reference : {false, true}) {
      Config c;
      c.op = op;
      c.T = 5, c.B = 4, c.I = 3, c.H = 4;
      c.direction = "bidirectional";
      c.bias = c.initial_h = true;
      KernelRun run = MakeRun(c, &rng);
      run.reference = reference;
      const std::vector<int32_t> lens = {5, 2, 0, 3};
      run.inputs[4] = Tensor::FromVector<int32_t>({c.B}, lens);
      auto all = RunKernel(run);
      ASSERT_TRUE(all.ok()) << all.status().ToString();
      const Tensor& y = (*all)[0];
      const Tensor& y_h = (*all)[1];
      for (int64_t b = 0; b < c.B; ++b) {
        const int32_t len = lens[size_t(b)];
        // Steps past the end are zero, as are the final states of empty sequences.
        for (int64_t t = len; t < c.T; ++t) {
          for (int64_t d = 0; d < 2; ++d) {
            for (int64_t j = 0; j < c.H; ++j) {
              EXPECT_EQ(y.data<float>()[((t * 2 + d) * c.B + b) * c.H + j], 0.0f);
            }
          }
        }
        if (len == 0) {
          for (int64_t i = 0; i < c.H; ++i) EXPECT_EQ(y_h.data<float>()[b * c.H + i], 0.0f);
          continue;
        }
        // Entry b alone, cut to its length, gives the same outputs.
        KernelRun one = run;
        one.inputs[0] = Tensor(DataType::kFloat32, {len, 1, c.I});
        for (int64_t t = 0; t < len; ++t) {
          std::copy_n(run.inputs[0].data<float>() + (t * c.B + b) * c.I, c.I,
                      one.inputs[0].data<float>() + t * c.I);
        }
        one.inputs[4] = Tensor();
        one.inputs[5] = Tensor(DataType::kFloat32, {2, 1, c.H});
        for (int64_t d = 0; d < 2; ++d) {
          std::copy_n(run.inputs[5].data<float>() + (d * c.B + b) * c.H, c.H,
                      one.inputs[5].data<float>() + d * c.H);
        }
        auto single = RunKernel(one);
        ASSERT_TRUE(single.ok()) << single.status().ToString();
        for (int64_t d = 0; d < 2; ++d) {
          for (int64_t j = 0; j < c.H; ++j) {
            EXPECT_NEAR(y_h.data<float>()[(d * c.B + b) * c.H + j],
                        (*single)[1].data<float>()[d * c.H + j], 1e-6)
                << c.Describe() << " b=" << b;
          }
        }
      }
    }
  }
}

TEST(RecurrentTest, Float64AndFloat16Inputs) {
  std::mt19937 rng(9);
  Config c;
  c.op = OpType::kGRU;
  c.T = 3, c.B = 2, c.I = 4, c.H = 5;
  c.bias = c.initial_h = true;
  KernelRun run = MakeRun(c, &rng);
  // Round the inputs to half precision first so all three dtypes see the same values.
  for (Tensor& t : run.inputs) {
    if (!t.defined() || t.dtype() != DataType::kFloat32) continue;
    for (int64_t i = 0; i < t.size(); ++i) {
      t.data<float>()[i] = HalfToFloat(FloatToHalf(t.data<float>()[i]));
    }
  }
  auto want = RunKernel(run);
  ASSERT_TRUE(want.ok());
  for (DataType type : {DataType::kFloat64, DataType::kFloat16}) {
    KernelRun typed = run;
    for (Tensor& t : typed.inputs) {
      if (!t.defined() || t.dtype() != DataType::kFloat32) continue;
      Tensor converted(type, t.shape());
      for (int64_t i = 0; i < t.size(); ++i) {
        float v = t.data<float>()[i];
        if (type == DataType::kFloat64) converted.data<double>()[i] = v;
        if (type == DataType::kFloat16) converted.data<uint16_t>()[i] = FloatToHalf(v);
      }
      t = converted;
    }
    auto got = RunKernel(typed);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    for (int o = 0; o < 2; ++o) {
      const Tensor& g = (*got)[size_t(o)];
      ASSERT_EQ(g.dtype(), type);
      for (int64_t i = 0; i < g.size(); ++i) {
        double v =
            type == DataType::kFloat64 ? g.data<double>()[i] : HalfToFloat(g.data<uint16_t>()[i]);
        // float16 output rounding: half an ulp of a value below 1 is at most 2^-12.
        double tol = type == DataType::kFloat64 ? 0.0 : std::ldexp(1.0, -12);
        EXPECT_NEAR(v, (*want)[size_t(o)].data<float>()[i], tol);
      }
    }
  }
}

// ---- Bad input ----

std::string ErrorOf(const KernelRun& run) {
  auto out = RunKernel(run);
  return out.ok() ? "" : out.status().message();
}

TEST(RecurrentTest, BadInputsReturnErrors) {
  std::mt19937 rng(10);
  Config c;
  c.T = 2, c.B = 3, c.I = 4, c.H = 5;
  c.bias = true;
  const KernelRun good = MakeRun(c, &rng);
  ASSERT_EQ(ErrorOf(good), "");

  KernelRun run = good;  // hidden_size disagrees with W and R
  run.attributes[1] = IntAttr("hidden_size", 3);
  std::string error = ErrorOf(run);
  EXPECT_NE(error.find("W has shape [1,20,4]"), std::string::npos) << error;
  EXPECT_NE(error.find("[1,12,4]"), std::string::npos) << error;
  EXPECT_NE(error.find("LSTM"), std::string::npos) << error;

  run = good;  // W for the wrong number of gates
  run.inputs[1] = Tensor(DataType::kFloat32, {1, 3 * c.H, c.I});
  EXPECT_NE(ErrorOf(run).find("input W"), std::string::npos);

  run = good;  // R inconsistent with hidden_size
  run.inputs[2] = Tensor(DataType::kFloat32, {1, 4 * c.H, c.H + 1});
  EXPECT_NE(ErrorOf(run).find("input R"), std::string::npos);

  run = good;
  run.inputs[3] = Tensor(DataType::kFloat32, {1, 4 * c.H});
  EXPECT_NE(ErrorOf(run).find("input B"), std::string::npos);

  run = good;
  run.inputs.resize(5);
  run.inputs[4] = Tensor::FromVector<int32_t>({3}, {1, 3, 2});  // 3 > T
  EXPECT_NE(ErrorOf(run).find("sequence_lens[1] = 3"), std::string::npos) << ErrorOf(run);
  run.inputs[4] = Tensor::FromVector<int32_t>({3}, {1, -1, 2});
  EXPECT_NE(ErrorOf(run).find("sequence_lens[1] = -1"), std::string::npos);
  run.inputs[4] = Tensor::FromVector<int32_t>({2}, {1, 1});
  EXPECT_NE(ErrorOf(run).find("sequence_lens has shape"), std::string::npos);

  run = good;
  run.inputs.resize(6);
  run.inputs[5] = Tensor(DataType::kFloat32, {1, c.B + 1, c.H});
  EXPECT_NE(ErrorOf(run).find("initial_h"), std::string::npos);

  run = good;
  run.inputs[0] = Tensor(DataType::kFloat32, {c.T, c.B});
  EXPECT_NE(ErrorOf(run).find("rank 3"), std::string::npos);

  run = good;
  run.inputs[1] = Tensor(DataType::kFloat64, run.inputs[1].shape());
  EXPECT_NE(ErrorOf(run).find("dtype"), std::string::npos);

  run = good;
  run.attributes.push_back(StringsAttr("activations", {"Sigmoid", "Tanh"}));
  EXPECT_NE(ErrorOf(run).find("activations"), std::string::npos);
  run.attributes.back() = StringsAttr("activations", {"Sigmoid", "Tanh", "Gelu"});
  EXPECT_NE(ErrorOf(run).find("Gelu"), std::string::npos);

  run = good;
  run.attributes[0] = StringAttr("direction", "sideways");
  EXPECT_NE(ErrorOf(run).find("sideways"), std::string::npos);

  run = good;
  run.attributes.push_back(FloatAttr("clip", -1));
  EXPECT_NE(ErrorOf(run).find("clip"), std::string::npos);

  run = good;
  run.inputs.resize(2);
  EXPECT_NE(ErrorOf(run).find("inputs"), std::string::npos);
}

TEST(RecurrentTest, EmptyBatchAndSequence) {
  std::mt19937 rng(11);
  for (int64_t T : {0, 2}) {
    Config c;
    c.op = OpType::kGRU;
    c.T = T, c.B = T == 0 ? 2 : 0, c.I = 3, c.H = 4;
    KernelRun run = MakeRun(c, &rng);
    auto out = RunKernel(run);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ((*out)[0].shape(), (Shape{c.T, 1, c.B, c.H}));
    EXPECT_EQ((*out)[1].shape(), (Shape{1, c.B, c.H}));
    for (int64_t i = 0; i < (*out)[1].size(); ++i) EXPECT_EQ((*out)[1].data<float>()[i], 0.0f);
  }
}

}  // namespace
}  // namespace shrink::engine
