// Registration of the built-in kernels, one function per group (one file each).
#pragma once

#include "engine/runtime/kernel.h"

namespace shrink::engine {

void RegisterElementwiseKernels(KernelRegistry* registry);  // elementwise.cc
void RegisterTensorKernels(KernelRegistry* registry);       // tensor_ops.cc, resize.cc
void RegisterNnKernels(KernelRegistry* registry);           // conv.cc, pool.cc, normalization.cc
void RegisterLinalgKernels(KernelRegistry* registry);       // matmul.cc, recurrent.cc
void RegisterReductionKernels(KernelRegistry* registry);    // reduction.cc, softmax.cc
void RegisterQuantizedKernels(KernelRegistry* registry);    // quantized.cc

inline void RegisterAllKernels(KernelRegistry* registry) {
  RegisterElementwiseKernels(registry);
  RegisterTensorKernels(registry);
  RegisterNnKernels(registry);
  RegisterLinalgKernels(registry);
  RegisterReductionKernels(registry);
  RegisterQuantizedKernels(registry);
}

}  // namespace shrink::engine
