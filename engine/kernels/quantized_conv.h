// Shared by the integer convolution kernel (quantized_conv.cc) and its fast paths
// (quantized_conv_paths.cc): the resolved problem, packed weights and the path runners.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "common/thread_pool.h"
#include "engine/kernels/conv_geometry.h"
#include "engine/kernels/quantized_internal.h"

namespace shrink::engine::quant {

// Everything about one call: shapes, geometry and the per-channel parameters.
struct ConvProblem {
  ConvGeometry geo;
  int64_t batch = 0, channels = 0, out_channels = 0;
  int64_t group_in = 0, group_out = 0;  // channels per group
  int64_t kernel_size = 1;              // product of kernel extents
  int64_t k = 0;                        // group_in * kernel_size
  int64_t in_image = 1, out_image = 1;  // spatial element counts
  DataType x_type = DataType::kUndefined, w_type = DataType::kUndefined;
  DataType y_type = DataType::kInt32;
  int32_t x_zp = 0, y_zp = 0;
  std::vector<int32_t> w_zp;      // [M]
  std::vector<float> multiplier;  // [M]: x_scale * w_scale[m] / y_scale (QLinearConv)
  std::vector<int32_t> bias;      // [M] (zeros when absent)
};

// Weights packed for one of the paths; `m`, `k` and the zero points identify what was packed.
struct ConvWeights {
  int64_t m = 0, k = 0;
  std::vector<int32_t> zero_points;
  std::vector<int16_t> s16;  // [M][PadK(k)]: codes minus zero points (int16 paths)
  std::vector<int8_t> s8;    // [M][PadTo(k, 4)]: codes - ROffset (VNNI)
  std::vector<int32_t> r0;   // [M]: zero point - ROffset (VNNI)
  std::vector<int32_t> sr;   // [M]: row sums of s8 (VNNI)
};
void PackConvWeightsS16(const ConvProblem& p, const void* w, ConvWeights* out);
void PackConvWeightsVnni(const ConvProblem& p, const void* w, ConvWeights* out);

// Writes output channel m, pixels [p0, p0 + count) of image n from int32 sums.
using ConvEpilogue =
    std::function<void(int64_t n, int64_t m, int64_t p0, int64_t count, const int32_t* acc)>;

// im2row + int16 dot-product GEMM (portable or AVX2).
void RunGemmConv(const ConvProblem& p, const void* x, const ConvWeights& w, const ThreadPool& pool,
                 const ConvEpilogue& epilogue);
// One input and one output channel per group, 1-D or 2-D (int16 s16 weights).
void RunDepthwiseConv(const ConvProblem& p, const void* x, const ConvWeights& w,
                      const ThreadPool& pool, const ConvEpilogue& epilogue);
// im2col into VNNI panels + the u8 x s8 GEMM.
void RunVnniConv(const ConvProblem& p, const void* x, const ConvWeights& w, const ThreadPool& pool,
                 const ConvEpilogue& epilogue);

}  // namespace shrink::engine::quant
