#include "engine/kernels/kernels.h"
namespace shrink::engine {
void RegisterNnKernels(KernelRegistry*) {}
}  // namespace shrink::engine
