#include "engine/runtime/control_flow.h"
namespace shrink::engine {
void RegisterControlFlowKernels(KernelRegistry*) {}
}  // namespace shrink::engine
