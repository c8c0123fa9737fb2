#include "engine/kernels/kernels.h"
namespace shrink::engine {
void RegisterReductionKernels(KernelRegistry*) {}
}  // namespace shrink::engine
