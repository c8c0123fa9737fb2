// Internals shared by the nn kernel group (conv.cc, conv_fast.cc, conv_transpose.cc, pool.cc,
// normalization.cc): registration of each file's kernels, the resolved shape of a convolution,
// the float32 fast paths and dtype conversion helpers. Not a public API.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

#include "common/status.h"
#include "common/thread_pool.h"
#include "engine/kernels/conv_geometry.h"
#include "engine/runtime/kernel.h"

namespace shrink::engine {

void RegisterConvKernels(KernelRegistry* registry);           // conv.cc
void RegisterConvTransposeKernels(KernelRegistry* registry);  // conv_transpose.cc
void RegisterPoolKernels(KernelRegistry* registry);           // pool.cc
void RegisterNormalizationKernels(KernelRegistry* registry);  // normalization.cc

// A convolution (or transposed convolution) resolved against concrete input and weight shapes.
// For Conv: x [batch, in_channels, in...], w [out_channels, in_per_group, kernel...].
// For ConvTranspose: x [batch, in_channels, in...], w [in_channels, out_per_group, kernel...].
struct ConvShape {
  ConvGeometry geo;
  int64_t batch = 0;
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t group = 1;
  int64_t in_per_group = 0;
  int64_t out_per_group = 0;
  int64_t in_size = 1;      // product of the input spatial extents
  int64_t out_size = 1;     // product of the output spatial extents
  int64_t kernel_size = 1;  // product of the kernel extents
  Shape output_shape;       // [batch, out_channels, out...]
};

// Validates x/w/bias against each other and the node's attributes and resolves the geometry.
// Errors name the node and both shapes (e.g. channel count vs weight shape).
StatusOr<ConvShape> ResolveConvShape(const Node& node, const Shape& x, const Shape& w,
                                     const Tensor* bias, bool transposed);

// Which Conv fast path ConvForwardFast takes:
//  kPointwise: 1x1, stride 1, unpadded: one GEMM per spatial tile straight on the input.
//  kDepthwise: one input channel per group: the direct SIMD kernel of conv_depthwise.cc.
//  kShifted: stride 1 with enough channels per group: one GEMM per kernel tap over a padded
//    copy of the input, accumulating (no im2col expansion); needs tap-major weights.
//  kIm2col: everything else: im2col into a cache-sized column tile + Sgemm.
enum class ConvPath { kPointwise, kDepthwise, kShifted, kIm2col };
ConvPath SelectConvPath(const ConvShape& shape);

// Tap-major weights for kShifted: [group][tap][out_per_group][in_per_group] from the ONNX
// [out_channels][in_per_group][taps] layout; `packed` holds weight-size floats.
void PackTapMajorWeights(const ConvShape& shape, const float* w, float* packed);

// float32 fast paths (conv_fast.cc, conv_depthwise.cc). bias may be null. y is fully written.
// tap_major may be null; kShifted then packs the weights itself on every call.
void ConvForwardFast(const ConvShape& shape, const float* x, const float* w, const float* tap_major,
                     const float* bias, float* y, const ThreadPool& pool);
// ConvTranspose: Sgemm into columns, then col2im scatter-add.
void ConvTransposeForwardFast(const ConvShape& shape, const float* x, const float* w,
                              const float* bias, float* y, const ThreadPool& pool);

// Depthwise (in_per_group == 1) 1-D/2-D Conv with horizontal stride <= 2; any vertical stride,
// dilation and channel multiplier.
void ConvDepthwiseFast(const ConvShape& shape, const float* x, const float* w, const float* bias,
                       float* y, const ThreadPool& pool);

// C[i][j] = bias[i] (or 0) + sum_p A(i, p) * B[p * ldb + j] with A(i, p) = a[i * a_row +
// p * a_col]: a register-tiled kernel for small k (conv_simd.cc), where Sgemm mostly packs.
void ThinGemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_row, int64_t a_col,
              const float* b, int64_t ldb, const float* bias, float* c, int64_t ldc);
// Instruction set of the SIMD kernels in conv_simd.cc; kAuto takes the best the CPU has.
enum class ConvSimdIsa { kAuto, kAvx512, kAvx2, kPortable };
// For tests: forces an instruction set. Returns false (and changes nothing) when the CPU lacks
// it. Not for concurrent use with running convolutions.
bool SetConvSimdIsaForTesting(ConvSimdIsa isa);

// Below this inner dimension ThinGemm beats Sgemm on the shapes of the target models.
constexpr int64_t kThinGemmMaxK = 80;

// The geometry of a 1-D or 2-D convolution as 2-D (1-D gets a unit height). For ConvTranspose
// the output fields describe the ConvTranspose output. Returns false for other ranks.
struct Geo2D {
  int64_t ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl;
};
bool To2D(const ConvGeometry& geometry, Geo2D* out);
// Grow-only, 64-byte aligned per-thread scratch buffers (slots 0 and 1 may be held at the
// same time).
float* ConvScratch(int slot, size_t count);

// Runs fn(unit) for unit in [0, units) over the pool; inline when there is a single unit or
// too little work (multiply-adds) to pay for waking the other threads. Threads claim units
// one at a time, so a thread that starts late (a busy machine) leaves its share to the others.
constexpr int64_t kConvParallelMinMacs = 1 << 18;  // a few microseconds of work
template <typename Fn>
void ForEachConvUnit(const ThreadPool& pool, int64_t units, int64_t macs, Fn&& fn) {
  if (units <= 1 || macs < kConvParallelMinMacs || pool.num_threads() <= 1) {
    for (int64_t u = 0; u < units; ++u) fn(u);
    return;
  }
  std::atomic<int64_t> next{0};
  pool.ParallelFor(std::min<int64_t>(units, pool.num_threads()), 1, [&](int64_t, int64_t) {
    for (int64_t u = next++; u < units; u = next++) fn(u);
  });
}

// dtype helpers for kernels that compute in float: float16/bfloat16/float64 <-> float32.
Tensor ToFloat32(const Tensor& tensor);
StatusOr<Tensor> FromFloat32(const Tensor& tensor, DataType dtype);

}  // namespace shrink::engine
