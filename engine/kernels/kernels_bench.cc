// Kernel micro-benchmarks (Google Benchmark): the fast Conv / ConvTranspose paths on the layer
// shapes of the target models against their reference versions, plus whole-model conv stacks
// (every Conv layer of a model run back to back) to compare with ONNX Runtime's per-node
// profile. Run e.g.
//   build/bin/kernels_bench --benchmark_min_time=0.05 --benchmark_filter=Model
// Arguments of each benchmark: threads.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/kernels/kernel_test_util.h"
#include "engine/runtime/kernel.h"

namespace shrink::engine {
namespace {

using testing::IntAttr;
using testing::IntsAttr;

struct ConvLayer {
  int64_t c, m, h, w, kh, kw, sh, sw, pt, pl, pb, pr, group;
  bool transposed = false;
};

Tensor RandomTensor(Shape shape, uint32_t seed) {
  Tensor t(DataType::kFloat32, std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int64_t i = 0; i < t.size(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

// One kernel instance with its inputs, created once and computed many times.
class PreparedConv {
 public:
  PreparedConv(const ConvLayer& l, int threads, bool reference) : pool_(threads) {
    node_.op = l.transposed ? OpType::kConvTranspose : OpType::kConv;
    node_.op_type = l.transposed ? "ConvTranspose" : "Conv";
    node_.name = "bench";
    node_.inputs = {"x", "w", "b"};
    node_.outputs = {"y"};
    node_.attributes = {IntsAttr("strides", {l.sh, l.sw}),
                        IntsAttr("pads", {l.pt, l.pl, l.pb, l.pr}), IntAttr("group", l.group)};
    x_ = RandomTensor({1, l.c, l.h, l.w}, 1);
    w_ = l.transposed ? RandomTensor({l.c, l.m / l.group, l.kh, l.kw}, 2)
                      : RandomTensor({l.m, l.c / l.group, l.kh, l.kw}, 2);
    b_ = RandomTensor({l.m}, 3);
    KernelConfig config{node_, 17, {nullptr, &w_, &b_}, &pool_, reference};
    auto kernel = (*KernelRegistry::Default().Find(node_.op))(config);
    if (kernel.ok()) kernel_ = std::move(kernel).value();
    outputs_.resize(1);
  }

  bool Run() {
    ThreadPool::Binding binding(pool_);
    KernelContext context{node_, 17, {&x_, &w_, &b_}, &outputs_, pool_};
    return kernel_ && kernel_->Compute(context).ok();
  }

 private:
  Node node_;
  ThreadPool pool_;
  Tensor x_, w_, b_;
  std::unique_ptr<OpKernel> kernel_;
  std::vector<Tensor> outputs_;
};

double Macs(const ConvLayer& l) {
  int64_t oh = l.transposed ? l.h * l.sh : (l.h + l.pt + l.pb - l.kh) / l.sh + 1;
  int64_t ow = l.transposed ? l.w * l.sw : (l.w + l.pl + l.pr - l.kw) / l.sw + 1;
  if (l.transposed) return double(l.c) * l.m / l.group * l.kh * l.kw * l.h * l.w;
  return double(l.m) * oh * ow * (l.c / l.group) * l.kh * l.kw;
}

void RunLayers(benchmark::State& state, const std::vector<ConvLayer>& layers, bool reference) {
  std::vector<std::unique_ptr<PreparedConv>> convs;
  double macs = 0;
  for (const ConvLayer& l : layers) {
    convs.push_back(std::make_unique<PreparedConv>(l, int(state.range(0)), reference));
    macs += Macs(l);
  }
  for (auto _ : state) {
    for (auto& conv : convs) {
      if (!conv->Run()) {
        state.SkipWithError("kernel failed");
        return;
      }
    }
  }
  state.counters["GFLOPS"] =
      benchmark::Counter(2 * macs * double(state.iterations()), benchmark::Counter::kIsRate);
}

// Single layers: {c, m, h, w, kh, kw, sh, sw, pt, pl, pb, pr, group}.
const ConvLayer kConv3x3 = {32, 32, 80, 80, 3, 3, 1, 1, 1, 1, 1, 1, 1};
const ConvLayer kOcrHead3x3 = {96, 24, 80, 80, 3, 3, 1, 1, 1, 1, 1, 1, 1};
const ConvLayer kDepthwise3x3 = {32, 32, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 32};
const ConvLayer kDepthwise3x3S2 = {32, 32, 160, 160, 3, 3, 2, 2, 1, 1, 1, 1, 32};
const ConvLayer kDepthwise5x5 = {192, 192, 20, 20, 5, 5, 1, 1, 2, 2, 2, 2, 192};
const ConvLayer kPointwise = {48, 48, 80, 80, 1, 1, 1, 1, 0, 0, 0, 0, 1};
const ConvLayer kStem = {3, 16, 320, 320, 3, 3, 2, 2, 1, 1, 1, 1, 1};
const ConvLayer kTranspose2x2 = {24, 24, 80, 80, 2, 2, 2, 2, 0, 0, 0, 0, 1, true};
const ConvLayer kSmall3x3 = {16, 16, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1};

void BM_Conv3x3_32x80x80(benchmark::State& s) { RunLayers(s, {kConv3x3}, false); }
void BM_Conv3x3_96to24x80x80(benchmark::State& s) { RunLayers(s, {kOcrHead3x3}, false); }
void BM_Depthwise3x3_32x64x64(benchmark::State& s) { RunLayers(s, {kDepthwise3x3}, false); }
void BM_Depthwise3x3s2_32x160x160(benchmark::State& s) { RunLayers(s, {kDepthwise3x3S2}, false); }
void BM_Depthwise5x5_192x20x20(benchmark::State& s) { RunLayers(s, {kDepthwise5x5}, false); }
void BM_Pointwise_48x80x80(benchmark::State& s) { RunLayers(s, {kPointwise}, false); }
void BM_Stem3x3s2_3to16x320x320(benchmark::State& s) { RunLayers(s, {kStem}, false); }
void BM_ConvTranspose2x2s2_24x80x80(benchmark::State& s) { RunLayers(s, {kTranspose2x2}, false); }
void BM_Conv3x3_16x16x16(benchmark::State& s) { RunLayers(s, {kSmall3x3}, false); }
void BM_Reference_Conv3x3_16x16x16(benchmark::State& s) { RunLayers(s, {kSmall3x3}, true); }
void BM_Reference_Depthwise3x3_32x64x64(benchmark::State& s) {
  RunLayers(s, {kDepthwise3x3}, true);
}
void BM_Reference_ConvTranspose2x2s2_24x80x80(benchmark::State& s) {
  RunLayers(s, {kTranspose2x2}, true);
}

BENCHMARK(BM_Conv3x3_32x80x80)->Arg(1)->Arg(2);
BENCHMARK(BM_Conv3x3_96to24x80x80)->Arg(1)->Arg(2);
BENCHMARK(BM_Depthwise3x3_32x64x64)->Arg(1)->Arg(2);
BENCHMARK(BM_Depthwise3x3s2_32x160x160)->Arg(1)->Arg(2);
BENCHMARK(BM_Depthwise5x5_192x20x20)->Arg(1)->Arg(2);
BENCHMARK(BM_Pointwise_48x80x80)->Arg(1)->Arg(2);
BENCHMARK(BM_Stem3x3s2_3to16x320x320)->Arg(1)->Arg(2);
BENCHMARK(BM_ConvTranspose2x2s2_24x80x80)->Arg(1)->Arg(2);
BENCHMARK(BM_Conv3x3_16x16x16)->Arg(1)->Arg(2);
BENCHMARK(BM_Reference_Conv3x3_16x16x16)->Arg(1);
BENCHMARK(BM_Reference_Depthwise3x3_32x64x64)->Arg(1);
BENCHMARK(BM_Reference_ConvTranspose2x2s2_24x80x80)->Arg(1);

// --- whole-model conv stacks (layer shapes from the models, batch 1) ------------------------

std::vector<ConvLayer> OcrDetLayers() {
  std::vector<ConvLayer> l = {
      {3, 16, 320, 320, 3, 3, 2, 2, 1, 1, 1, 1, 1},  {16, 16, 160, 160, 3, 3, 1, 1, 1, 1, 1, 1, 16},
      {16, 32, 160, 160, 1, 1, 1, 1, 0, 0, 0, 0, 1}, {32, 32, 160, 160, 3, 3, 2, 2, 1, 1, 1, 1, 32},
      {32, 48, 80, 80, 1, 1, 1, 1, 0, 0, 0, 0, 1},   {48, 48, 80, 80, 3, 3, 1, 1, 1, 1, 1, 1, 48},
      {48, 48, 80, 80, 1, 1, 1, 1, 0, 0, 0, 0, 1},   {48, 48, 80, 80, 3, 3, 2, 2, 1, 1, 1, 1, 48},
      {48, 96, 40, 40, 1, 1, 1, 1, 0, 0, 0, 0, 1},   {96, 96, 40, 40, 3, 3, 1, 1, 1, 1, 1, 1, 96},
      {96, 96, 40, 40, 1, 1, 1, 1, 0, 0, 0, 0, 1},   {96, 96, 40, 40, 3, 3, 2, 2, 1, 1, 1, 1, 96},
      {96, 192, 20, 20, 1, 1, 1, 1, 0, 0, 0, 0, 1},
  };
  for (int i = 0; i < 4; ++i) {
    l.push_back({192, 192, 20, 20, 5, 5, 1, 1, 2, 2, 2, 2, 192});
    l.push_back({192, 192, 20, 20, 1, 1, 1, 1, 0, 0, 0, 0, 1});
  }
  l.push_back({192, 192, 20, 20, 5, 5, 2, 2, 2, 2, 2, 2, 192});
  l.push_back({192, 48, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1});
  l.push_back({48, 192, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1});
  l.push_back({192, 384, 10, 10, 1, 1, 1, 1, 0, 0, 0, 0, 1});
  l.push_back({384, 384, 10, 10, 5, 5, 1, 1, 2, 2, 2, 2, 384});
  l.push_back({384, 96, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1});
  l.push_back({96, 384, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1});
  for (int i = 0; i < 3; ++i) {
    l.push_back({384, 384, 10, 10, 1, 1, 1, 1, 0, 0, 0, 0, 1});
    if (i < 2) l.push_back({384, 384, 10, 10, 5, 5, 1, 1, 2, 2, 2, 2, 384});
  }
  // Neck and head.
  const std::vector<ConvLayer> neck = {
      {48, 12, 80, 80, 1, 1, 1, 1, 0, 0, 0, 0, 1},  {96, 18, 40, 40, 1, 1, 1, 1, 0, 0, 0, 0, 1},
      {192, 42, 20, 20, 1, 1, 1, 1, 0, 0, 0, 0, 1}, {384, 360, 10, 10, 1, 1, 1, 1, 0, 0, 0, 0, 1},
      {360, 96, 10, 10, 1, 1, 1, 1, 0, 0, 0, 0, 1}, {42, 96, 20, 20, 1, 1, 1, 1, 0, 0, 0, 0, 1},
      {18, 96, 40, 40, 1, 1, 1, 1, 0, 0, 0, 0, 1},  {12, 96, 80, 80, 1, 1, 1, 1, 0, 0, 0, 0, 1},
      {96, 24, 10, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1},  {96, 24, 20, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1},
      {96, 24, 40, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1},  {96, 24, 80, 80, 3, 3, 1, 1, 1, 1, 1, 1, 1},
      {96, 24, 80, 80, 3, 3, 1, 1, 1, 1, 1, 1, 1},
  };
  l.insert(l.end(), neck.begin(), neck.end());
  for (int i = 0; i < 8; ++i) {  // squeeze-excitation 1x1 pairs
    int64_t c = i < 4 ? 96 : 24, r = i < 4 ? 24 : 6;
    l.push_back({c, r, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1});
    l.push_back({r, c, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1});
  }
  l.push_back({24, 24, 80, 80, 2, 2, 2, 2, 0, 0, 0, 0, 1, true});
  l.push_back({24, 1, 160, 160, 2, 2, 2, 2, 0, 0, 0, 0, 1, true});
  return l;
}

std::vector<ConvLayer> BlazeFaceLayers() {
  std::vector<ConvLayer> l = {{3, 24, 128, 128, 5, 5, 2, 2, 1, 1, 2, 2, 1}};
  // (channels in, channels out, size, stride-2 depthwise?) per block.
  struct Block {
    int64_t c, m, size;
    bool down;
  };
  const Block blocks[] = {
      {24, 24, 64, false}, {24, 28, 64, false}, {28, 32, 64, true},  {32, 36, 32, false},
      {36, 42, 32, false}, {42, 48, 32, true},  {48, 56, 16, false}, {56, 64, 16, false},
      {64, 72, 16, false}, {72, 80, 16, false}, {80, 88, 16, false}, {88, 96, 16, true},
      {96, 96, 8, false},  {96, 96, 8, false},  {96, 96, 8, false},  {96, 96, 8, false}};
  for (const Block& b : blocks) {
    if (b.down) {
      l.push_back({b.c, b.c, b.size, b.size, 3, 3, 2, 2, 0, 0, 1, 1, b.c});
      l.push_back({b.c, b.m, b.size / 2, b.size / 2, 1, 1, 1, 1, 0, 0, 0, 0, 1});
    } else {
      l.push_back({b.c, b.c, b.size, b.size, 3, 3, 1, 1, 1, 1, 1, 1, b.c});
      l.push_back({b.c, b.m, b.size, b.size, 1, 1, 1, 1, 0, 0, 0, 0, 1});
    }
  }
  l.push_back({96, 96, 8, 8, 1, 1, 1, 1, 0, 0, 0, 0, 1});
  l.push_back({96, 6, 8, 8, 1, 1, 1, 1, 0, 0, 0, 0, 1});
  l.push_back({88, 32, 16, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1});
  l.push_back({88, 2, 16, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1});
  return l;
}

std::vector<ConvLayer> AudioEmbeddingLayers() {
  std::vector<ConvLayer> l = {{1, 24, 76, 32, 3, 3, 1, 1, 0, 1, 0, 1, 1}};
  // Pairs of (1x3 padded, 3x1 valid) convolutions: {c, m, h, w}.
  struct Pair {
    int64_t c, m, h, w;
  };
  const Pair pairs[] = {{24, 24, 74, 32}, {24, 48, 36, 16}, {48, 48, 34, 16},
                        {48, 72, 32, 8},  {72, 72, 30, 8},  {72, 96, 14, 4},
                        {96, 96, 12, 4},  {96, 96, 10, 2},  {96, 96, 8, 2}};
  for (const Pair& p : pairs) {
    l.push_back({p.c, p.m, p.h, p.w, 1, 3, 1, 1, 0, 1, 0, 1, 1});
    l.push_back({p.m, p.m, p.h, p.w, 3, 1, 1, 1, 0, 0, 0, 0, 1});
  }
  l.push_back({96, 96, 3, 1, 3, 1, 1, 1, 0, 0, 0, 0, 1});
  return l;
}

void BM_Model_OcrDetConvs(benchmark::State& s) { RunLayers(s, OcrDetLayers(), false); }
void BM_Model_BlazeFaceConvs(benchmark::State& s) { RunLayers(s, BlazeFaceLayers(), false); }
void BM_Model_AudioEmbeddingConvs(benchmark::State& s) {
  RunLayers(s, AudioEmbeddingLayers(), false);
}
BENCHMARK(BM_Model_OcrDetConvs)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Model_BlazeFaceConvs)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Model_AudioEmbeddingConvs)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);

std::string Describe(const ConvLayer& l) {
  std::string kind =
      l.transposed ? "convT" : (l.group > 1 ? "dw" : (l.kh * l.kw == 1 ? "pw" : "conv"));
  return kind + "_" + std::to_string(l.c) + "to" + std::to_string(l.m) + "_" + std::to_string(l.h) +
         "x" + std::to_string(l.w) + "_k" + std::to_string(l.kh) + "x" + std::to_string(l.kw) +
         "s" + std::to_string(l.sh);
}

// Every layer of each model on its own (filter with --benchmark_filter=Layer/ocr).
void RegisterLayerBenchmarks() {
  const std::pair<const char*, std::vector<ConvLayer>> models[] = {
      {"ocr", OcrDetLayers()}, {"blazeface", BlazeFaceLayers()}, {"audio", AudioEmbeddingLayers()}};
  for (const auto& [model, layers] : models) {
    for (size_t i = 0; i < layers.size(); ++i) {
      const ConvLayer layer = layers[i];
      std::string name =
          std::string("Layer/") + model + "/" + std::to_string(i) + "_" + Describe(layer);
      benchmark::RegisterBenchmark(name.c_str(),
                                   [layer](benchmark::State& s) { RunLayers(s, {layer}, false); })
          ->Arg(1)
          ->Arg(2);
    }
  }
}

}  // namespace
}  // namespace shrink::engine

int main(int argc, char** argv) {
  shrink::engine::RegisterLayerBenchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
