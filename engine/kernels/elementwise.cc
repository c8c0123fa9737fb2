#include "engine/kernels/kernels.h"
namespace shrink::engine {
void RegisterElementwiseKernels(KernelRegistry*) {}
}  // namespace shrink::engine
