#include "engine/kernels/kernels.h"
namespace shrink::engine {
void RegisterLinalgKernels(KernelRegistry*) {}
}  // namespace shrink::engine
