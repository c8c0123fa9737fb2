#include "engine/kernels/kernels.h"
namespace shrink::engine {
void RegisterQuantizedKernels(KernelRegistry*) {}
}  // namespace shrink::engine
