#include "engine/kernels/kernels.h"
namespace shrink::engine {
void RegisterTensorKernels(KernelRegistry*) {}
}  // namespace shrink::engine
