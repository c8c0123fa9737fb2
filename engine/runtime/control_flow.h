// If, Loop and Scan: kernels that run subgraphs through KernelContext::subgraphs.
#pragma once

#include "engine/runtime/kernel.h"

namespace shrink::engine {

void RegisterControlFlowKernels(KernelRegistry* registry);

}  // namespace shrink::engine
