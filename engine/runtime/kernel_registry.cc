#include "engine/kernels/kernels.h"
#include "engine/runtime/control_flow.h"
#include "engine/runtime/kernel.h"

namespace shrink::engine {
namespace {

class FunctionKernel : public OpKernel {
 public:
  explicit FunctionKernel(KernelFunction function) : function_(function) {}
  Status Compute(KernelContext& context) override { return function_(context); }

 private:
  KernelFunction function_;
};

}  // namespace

void KernelRegistry::Register(OpType op, KernelFactory factory) {
  factories_[size_t(op)] = std::move(factory);
}

void KernelRegistry::RegisterFunction(OpType op, KernelFunction function) {
  Register(op, [function](const KernelConfig&) -> StatusOr<std::unique_ptr<OpKernel>> {
    return std::unique_ptr<OpKernel>(new FunctionKernel(function));
  });
}

const KernelFactory* KernelRegistry::Find(OpType op) const {
  if (op == OpType::kUnknown || size_t(op) >= factories_.size()) return nullptr;
  const KernelFactory& factory = factories_[size_t(op)];
  return factory ? &factory : nullptr;
}

const KernelRegistry& KernelRegistry::Default() {
  static const KernelRegistry* registry = [] {
    auto* r = new KernelRegistry();
    RegisterAllKernels(r);
    RegisterControlFlowKernels(r);
    return r;
  }();
  return *registry;
}

}  // namespace shrink::engine
