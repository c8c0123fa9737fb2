#include "engine/runtime/executor.h"

#include <chrono>
#include <map>
#include <unordered_map>

#include "engine/ir/graph_utils.h"
#include "engine/runtime/kernel.h"

namespace shrink::engine {

namespace {
struct ValueRef {
  int depth = 0;  // 0: the plan's own frame; 1: the enclosing frame; ...
  int slot = -1;  // -1: omitted optional value
};
}  // namespace

// A graph level compiled for execution: values are numbered slots, kernels are created.
struct Executor::Plan {
  const Graph* graph = nullptr;
  Plan* parent = nullptr;
  std::unordered_map<std::string, int> slot_of;
  std::vector<std::string> slot_names;
  std::vector<Tensor> constants;  // by slot: initializers and Constant-node outputs
  std::vector<int> input_slots;
  std::vector<ValueRef> output_refs;
  struct Step {
    const Node* node = nullptr;
    std::unique_ptr<OpKernel> kernel;
    std::vector<ValueRef> inputs;
    std::vector<int> outputs;  // -1 for unused optional outputs
    std::vector<int> release;  // own slots whose last reader is this step
  };
  std::vector<Step> steps;
  std::map<const Graph*, std::unique_ptr<Plan>> subplans;

  int AddSlot(const std::string& name) {
    auto [it, inserted] = slot_of.emplace(name, int(slot_names.size()));
    if (inserted) {
      slot_names.push_back(name);
      constants.emplace_back();
    }
    return it->second;
  }
  ValueRef Resolve(const std::string& name) const {
    int depth = 0;
    for (const Plan* p = this; p; p = p->parent, ++depth) {
      auto found = p->slot_of.find(name);
      if (found != p->slot_of.end()) return {depth, found->second};
    }
    return {0, -1};
  }
  const Tensor* Constant(ValueRef ref) const {
    const Plan* p = this;
    for (int i = 0; i < ref.depth; ++i) p = p->parent;
    const Tensor& t = p->constants[size_t(ref.slot)];
    return t.defined() ? &t : nullptr;
  }
};

// The values of one execution of a plan.
class Executor::Frame : public SubgraphRunner {
 public:
  Frame(const Plan& plan, Frame* parent, const Executor& executor, const RunOptions& run)
      : plan_(plan), parent_(parent), executor_(executor), run_(run),
        values_(plan.slot_names.size()) {}

  void Set(int slot, Tensor value) { values_[size_t(slot)] = std::move(value); }
  const Tensor* Get(ValueRef ref) const {
    const Frame* f = this;
    for (int i = 0; i < ref.depth; ++i) f = f->parent_;
    const Tensor& own = f->values_[size_t(ref.slot)];
    if (own.defined()) return &own;
    const Tensor& constant = f->plan_.constants[size_t(ref.slot)];
    return constant.defined() ? &constant : nullptr;
  }

  Status Execute() {
    for (const Plan::Step& step : plan_.steps) {
      if (run_.cancel && run_.cancel->load()) return Cancelled("the run was cancelled");
      RETURN_IF_ERROR(ExecuteStep(step));
    }
    return OkStatus();
  }

  StatusOr<std::vector<Tensor>> Outputs() const {
    std::vector<Tensor> outputs;
    for (size_t i = 0; i < plan_.output_refs.size(); ++i) {
      const Tensor* t = plan_.output_refs[i].slot < 0 ? nullptr : Get(plan_.output_refs[i]);
      if (!t) {
        return Internal("graph output '" + plan_.graph->outputs[i].name + "' was not computed");
      }
      outputs.push_back(*t);
    }
    return outputs;
  }

  StatusOr<std::vector<Tensor>> Run(const Graph& body,
                                    const std::vector<Tensor>& inputs) override {
    auto found = plan_.subplans.find(&body);
    if (found == plan_.subplans.end()) return Internal("subgraph was not planned");
    const Plan& sub = *found->second;
    if (inputs.size() != sub.input_slots.size()) {
      return InvalidArgument("subgraph '" + body.name + "' takes " +
                             std::to_string(sub.input_slots.size()) + " inputs, got " +
                             std::to_string(inputs.size()));
    }
    Frame frame(sub, this, executor_, run_);
    for (size_t i = 0; i < inputs.size(); ++i) frame.Set(sub.input_slots[i], inputs[i]);
    RETURN_IF_ERROR(frame.Execute());
    return frame.Outputs();
  }

 private:
  Status ExecuteStep(const Plan::Step& step) {
    const Node& node = *step.node;
    std::vector<const Tensor*> inputs(step.inputs.size(), nullptr);
    for (size_t i = 0; i < step.inputs.size(); ++i) {
      if (step.inputs[i].slot < 0) continue;
      inputs[i] = Get(step.inputs[i]);
      if (!inputs[i]) {
        return Internal(node.Describe() + ": input '" + node.inputs[i] + "' was not computed");
      }
    }
    std::vector<Tensor> outputs(step.outputs.size());
    KernelContext context{node, 0, std::move(inputs), &outputs, executor_.pool_, this};
    context.opset = executor_.model_.OpsetVersion(node.domain);
    auto start = run_.profile ? std::chrono::steady_clock::now()
                              : std::chrono::steady_clock::time_point();
    Status status = step.kernel->Compute(context);
    if (run_.profile) {
      run_.profile->Add(&node, std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                             start).count());
    }
    if (!status.ok()) return status.code() == StatusCode::kCancelled ? status
                                : status.WithContext("while running " + node.Describe());
    for (size_t i = 0; i < step.outputs.size(); ++i) {
      if (step.outputs[i] < 0) continue;
      if (!outputs[i].defined()) {
        return Internal(node.Describe() + " did not produce output '" + node.outputs[i] + "'");
      }
      if (run_.observer) run_.observer->OnNodeOutput(*plan_.graph, node, int(i), outputs[i]);
      values_[size_t(step.outputs[i])] = std::move(outputs[i]);
    }
    for (int slot : step.release) values_[size_t(slot)] = Tensor();
    return OkStatus();
  }

  const Plan& plan_;
  Frame* parent_;
  const Executor& executor_;
  const RunOptions& run_;
  std::vector<Tensor> values_;
};


void NodeProfile::Add(const Node* node, double seconds) {
  auto [it, inserted] = index.emplace(node, entries.size());
  if (inserted) entries.push_back({node, 0, 0});
  Entry& entry = entries[it->second];
  entry.seconds += seconds;
  ++entry.calls;
}

Executor::Executor(const Model& model, const ExecutorOptions& options)
    : model_(model), options_(options), pool_(options.threads) {}

Executor::~Executor() = default;

const std::vector<ValueInfo>& Executor::outputs() const { return model_.graph.outputs; }

// Compiles graphs into plans. Constant nodes are evaluated while planning.
struct PlanBuilder {
  using Plan = Executor::Plan;
  const Model& model;
  const ExecutorOptions& options;
  const ThreadPool& pool;
  std::map<std::string, int> missing_kernels;  // op -> node count

  Status BuildPlan(const Graph& graph, Plan* plan, Plan* parent);
  Status PlanConstantNode(const Node& node, Plan* plan, std::vector<const Tensor*> inputs);
  Status PlanStep(const Node& node, Plan* plan);
  static void PlanReleases(Plan* plan);
};

// Evaluates a node whose value is fixed at plan time (Constant, or a Cast of a constant) once;
// its outputs become constants of the plan.
Status PlanBuilder::PlanConstantNode(const Node& node, Plan* plan,
                                     std::vector<const Tensor*> inputs) {
  PlanBuilder* builder = this;
  const KernelFactory* factory = KernelRegistry::Default().Find(node.op);
  if (!factory) {
    builder->missing_kernels[node.op_type]++;
    for (const std::string& output : node.outputs) plan->AddSlot(output);
    return OkStatus();
  }
  KernelConfig config{node, builder->model.OpsetVersion(node.domain), {}, &builder->pool,
                      builder->options.reference_kernels};
  ASSIGN_OR_RETURN(auto kernel, (*factory)(config));
  std::vector<Tensor> outputs(node.outputs.size());
  KernelContext context{node, config.opset, std::move(inputs), &outputs, builder->pool, nullptr};
  RETURN_IF_ERROR(kernel->Compute(context).WithContext(node.Describe()));
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    if (node.outputs[i].empty()) continue;
    plan->constants[size_t(plan->AddSlot(node.outputs[i]))] = std::move(outputs[i]);
  }
  return OkStatus();
}

Status PlanBuilder::PlanStep(const Node& node, Plan* plan) {
  PlanBuilder* builder = this;
  Plan::Step step;
  step.node = &node;
  KernelConfig config{node, builder->model.OpsetVersion(node.domain), {}, &builder->pool,
                      builder->options.reference_kernels};
  for (const std::string& input : node.inputs) {
    ValueRef ref = input.empty() ? ValueRef{} : plan->Resolve(input);
    if (!input.empty() && ref.slot < 0) {
      return InvalidArgument(node.Describe() + " reads undefined value '" + input + "'");
    }
    step.inputs.push_back(ref);
    config.constant_inputs.push_back(ref.slot < 0 ? nullptr : plan->Constant(ref));
  }
  for (const std::string& output : node.outputs) {
    step.outputs.push_back(output.empty() ? -1 : plan->AddSlot(output));
  }
  for (const Attribute& a : node.attributes) {
    std::vector<const Graph*> subgraphs;
    if (a.type == AttributeType::kGraph && a.g) subgraphs.push_back(a.g.get());
    for (const auto& g : a.graphs) subgraphs.push_back(g.get());
    for (const Graph* sub : subgraphs) {
      auto subplan = std::make_unique<Plan>();
      RETURN_IF_ERROR(BuildPlan(*sub, subplan.get(), plan));
      plan->subplans[sub] = std::move(subplan);
    }
  }
  const KernelFactory* factory = KernelRegistry::Default().Find(node.op);
  if (!factory) {
    std::string key = node.domain.empty() ? node.op_type : node.domain + "." + node.op_type;
    builder->missing_kernels[key]++;
    return OkStatus();
  }
  auto kernel = (*factory)(config);
  if (!kernel.ok()) return kernel.status().WithContext(node.Describe());
  step.kernel = std::move(kernel).value();
  plan->steps.push_back(std::move(step));
  return OkStatus();
}

void PlanBuilder::PlanReleases(Plan* plan) {
  std::vector<int> last_reader(plan->slot_names.size(), -1);
  for (size_t s = 0; s < plan->steps.size(); ++s) {
    for (const std::string& name : NodeReads(*plan->steps[s].node)) {
      auto found = plan->slot_of.find(name);
      if (found != plan->slot_of.end()) last_reader[size_t(found->second)] = int(s);
    }
  }
  for (const ValueRef& out : plan->output_refs) {
    if (out.depth == 0 && out.slot >= 0) last_reader[size_t(out.slot)] = int(plan->steps.size());
  }
  for (size_t slot = 0; slot < last_reader.size(); ++slot) {
    int reader = last_reader[slot];
    if (reader >= 0 && reader < int(plan->steps.size()) && !plan->constants[slot].defined()) {
      plan->steps[size_t(reader)].release.push_back(int(slot));
    }
  }
}

// The constant input of a Cast node, or null when the node is not a Cast of a constant.
static const Tensor* CastOfConstant(const Node& node, const Executor::Plan& plan) {
  if (node.op != OpType::kCast || node.inputs.size() != 1 || node.inputs[0].empty()) {
    return nullptr;
  }
  ValueRef ref = plan.Resolve(node.inputs[0]);
  return ref.slot < 0 ? nullptr : plan.Constant(ref);
}

Status PlanBuilder::BuildPlan(const Graph& graph, Plan* plan, Plan* parent) {
  plan->graph = &graph;
  plan->parent = parent;
  for (const std::string& name : graph.initializer_names()) {
    plan->constants[size_t(plan->AddSlot(name))] = *graph.FindInitializer(name);
  }
  for (const ValueInfo& input : graph.inputs) {
    int slot = plan->AddSlot(input.name);
    // A fed input overrides its initializer, so it is not a constant for kernels.
    plan->constants[size_t(slot)] = Tensor();
    plan->input_slots.push_back(slot);
  }
  ASSIGN_OR_RETURN(std::vector<Node*> order, TopologicalOrder(graph));
  for (const Node* node : order) {
    if (node->op == OpType::kConstant) {
      RETURN_IF_ERROR(PlanConstantNode(*node, plan, {}));
    } else if (const Tensor* weight = CastOfConstant(*node, *plan)) {
      // Float16 weights stored behind a Cast to float: cast once, so that kernels see float
      // constants (pre-packing) and runs do not repeat the Cast.
      RETURN_IF_ERROR(PlanConstantNode(*node, plan, {weight}));
    } else {
      RETURN_IF_ERROR(PlanStep(*node, plan));
    }
  }
  for (const ValueInfo& output : graph.outputs) {
    ValueRef ref = plan->Resolve(output.name);
    if (ref.slot < 0) return InvalidArgument("graph output '" + output.name + "' is undefined");
    plan->output_refs.push_back(ref);
  }
  PlanReleases(plan);
  return OkStatus();
}

StatusOr<std::unique_ptr<Executor>> Executor::Create(const Model& model,
                                                     const ExecutorOptions& options) {
  std::unique_ptr<Executor> executor(new Executor(model, options));
  PlanBuilder builder{model, executor->options_, executor->pool_, {}};
  executor->main_plan_ = std::make_unique<Plan>();
  RETURN_IF_ERROR(builder.BuildPlan(model.graph, executor->main_plan_.get(), nullptr));
  if (!builder.missing_kernels.empty()) {
    std::string list;
    for (const auto& [op, count] : builder.missing_kernels) {
      list += (list.empty() ? "" : ", ") + op + " (" + std::to_string(count) + " node" +
              (count > 1 ? "s" : "") + ")";
    }
    return Unimplemented("the runtime has no kernel for: " + list);
  }
  executor->required_inputs_ = RequiredInputs(model.graph);
  return executor;
}

namespace {

Status CheckFeed(const ValueInfo& info, const Tensor& value,
                 std::map<std::string, int64_t>* symbols) {
  const ValueType& type = info.type;
  if (!type.is_tensor()) return OkStatus();
  if (type.elem_type != DataType::kUndefined && type.elem_type != value.dtype()) {
    return InvalidArgument("input '" + info.name + "' must be " + DataTypeName(type.elem_type) +
                           ", got " + DataTypeName(value.dtype()));
  }
  if (!type.has_shape) return OkStatus();
  std::string expected = "[";
  for (size_t i = 0; i < type.dims.size(); ++i) {
    const Dim& d = type.dims[i];
    expected += (i ? "," : "") + (d.known() ? std::to_string(d.value)
                                            : (d.param.empty() ? std::string("?") : d.param));
  }
  expected += "]";
  auto mismatch = [&](const std::string& why) {
    return InvalidArgument("input '" + info.name + "' has shape " + ShapeToString(value.shape()) +
                           " but the model expects " + expected + ": " + why);
  };
  if (int(type.dims.size()) != value.rank()) {
    return mismatch("rank " + std::to_string(value.rank()) + " instead of " +
                    std::to_string(type.dims.size()));
  }
  for (size_t i = 0; i < type.dims.size(); ++i) {
    const Dim& d = type.dims[i];
    int64_t actual = value.shape()[i];
    if (d.known() && d.value != actual) {
      return mismatch("dim " + std::to_string(i) + " must be " + std::to_string(d.value));
    }
    if (!d.known() && !d.param.empty()) {
      auto [it, inserted] = symbols->emplace(d.param, actual);
      if (!inserted && it->second != actual) {
        return mismatch("dim " + std::to_string(i) + " ('" + d.param + "') is " +
                        std::to_string(actual) + " here but " + std::to_string(it->second) +
                        " in another input");
      }
    }
  }
  return OkStatus();
}

}  // namespace

StatusOr<std::vector<Tensor>> Executor::Run(const std::vector<NamedTensor>& feeds,
                                            const RunOptions& run_options) {
  ThreadPool::Binding binding(pool_);
  const Graph& graph = model_.graph;
  Frame frame(*main_plan_, nullptr, *this, run_options);
  std::map<std::string, int64_t> symbols;
  std::vector<bool> fed(graph.inputs.size(), false);
  for (const NamedTensor& feed : feeds) {
    size_t index = 0;
    while (index < graph.inputs.size() && graph.inputs[index].name != feed.name) ++index;
    if (index == graph.inputs.size()) {
      std::string names;
      for (const auto& input : required_inputs_) names += (names.empty() ? "'" : ", '") + input.name + "'";
      return InvalidArgument("the model has no input named '" + feed.name + "' (its inputs: " +
                             names + ")");
    }
    RETURN_IF_ERROR(CheckFeed(graph.inputs[index], feed.tensor, &symbols));
    frame.Set(main_plan_->input_slots[index], feed.tensor);
    fed[index] = true;
  }
  for (size_t i = 0; i < graph.inputs.size(); ++i) {
    if (fed[i]) continue;
    const Tensor* initializer = graph.FindInitializer(graph.inputs[i].name);
    if (!initializer) return InvalidArgument("input '" + graph.inputs[i].name + "' is missing");
    frame.Set(main_plan_->input_slots[i], *initializer);
  }
  RETURN_IF_ERROR(frame.Execute());
  return frame.Outputs();
}

}  // namespace shrink::engine
