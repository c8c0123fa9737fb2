// Internals shared by the nn kernel group (conv.cc, conv_fast.cc, conv_transpose.cc, pool.cc,
// normalization.cc): registration of each file's kernels, the resolved shape of a convolution,
// the float32 fast paths and dtype conversion helpers. Not a public API.
#pragma once

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

// float32 fast paths (conv_fast.cc). bias may be null. y is fully written.
// Conv: pointwise GEMM, a direct SIMD depthwise kernel, or tiled im2col + Sgemm.
void ConvForwardFast(const ConvShape& shape, const float* x, const float* w, const float* bias,
                     float* y, const ThreadPool& pool);
// ConvTranspose: Sgemm into columns, then col2im scatter-add.
void ConvTransposeForwardFast(const ConvShape& shape, const float* x, const float* w,
                              const float* bias, float* y, const ThreadPool& pool);

// Which Conv fast path ConvForwardFast takes (for tests and benchmarks).
enum class ConvPath { kPointwise, kDepthwise, kIm2col };
ConvPath SelectConvPath(const ConvShape& shape);

// dtype helpers for kernels that compute in float: float16/bfloat16/float64 <-> float32.
Tensor ToFloat32(const Tensor& tensor);
StatusOr<Tensor> FromFloat32(const Tensor& tensor, DataType dtype);

}  // namespace shrink::engine
