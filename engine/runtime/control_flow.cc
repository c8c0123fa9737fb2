#include "engine/runtime/control_flow.h"

#include <cstring>

#include "engine/kernels/kernel_util.h"

namespace shrink::engine {
namespace {

Status RequireRunner(KernelContext& context) {
  if (!context.subgraphs) return Internal(context.node.Describe() + ": no subgraph runner");
  return OkStatus();
}

Status IfKernel(KernelContext& context) {
  RETURN_IF_ERROR(ExpectInputs(context, 1, 1));
  RETURN_IF_ERROR(RequireRunner(context));
  const Tensor& cond = context.input(0);
  if (cond.size() != 1) return KernelError(context.node, "cond must hold one element");
  bool take_then = cond.GetAsDouble(0) != 0;
  const Graph* branch = context.node.GetGraph(take_then ? "then_branch" : "else_branch");
  if (!branch) return KernelError(context.node, "missing then_branch/else_branch");
  ASSIGN_OR_RETURN(std::vector<Tensor> outputs, context.subgraphs->Run(*branch, {}));
  if (int(outputs.size()) != context.num_outputs()) {
    return KernelError(context.node, "branch returns " + std::to_string(outputs.size()) +
                                         " values for " + std::to_string(context.num_outputs()) +
                                         " outputs");
  }
  for (size_t i = 0; i < outputs.size(); ++i) context.output(int(i)) = std::move(outputs[i]);
  return OkStatus();
}

// Stacks per-iteration tensors along a new axis `axis` (0 for Loop).
StatusOr<Tensor> Stack(const std::vector<Tensor>& parts, int axis, const Node& node,
                       bool reverse) {
  const Tensor& first = parts.front();
  for (const Tensor& part : parts) {
    if (part.shape() != first.shape() || part.dtype() != first.dtype()) {
      return KernelError(node, "scan output changes shape between iterations: " +
                                   ShapeToString(first.shape()) + " vs " +
                                   ShapeToString(part.shape()));
    }
  }
  Shape shape = first.shape();
  shape.insert(shape.begin() + axis, int64_t(parts.size()));
  ASSIGN_OR_RETURN(Tensor result, Tensor::Allocate(first.dtype(), shape));
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= first.shape()[size_t(i)];
  for (size_t i = size_t(axis); i < first.shape().size(); ++i) inner *= first.shape()[i];
  int64_t count = int64_t(parts.size());
  for (int64_t p = 0; p < count; ++p) {
    const Tensor& part = parts[size_t(reverse ? count - 1 - p : p)];
    for (int64_t o = 0; o < outer; ++o) {
      int64_t dst = (o * count + p) * inner;
      if (first.dtype() == DataType::kString) {
        for (int64_t i = 0; i < inner; ++i) {
          result.strings()[size_t(dst + i)] = part.strings()[size_t(o * inner + i)];
        }
      } else {
        size_t element = DataTypeSize(first.dtype());
        std::memcpy(static_cast<char*>(result.raw_data()) + dst * int64_t(element),
                    static_cast<const char*>(part.raw_data()) + o * inner * int64_t(element),
                    size_t(inner) * element);
      }
    }
  }
  return result;
}

// Slice index `i` along `axis` (removing the axis).
StatusOr<Tensor> TakeSlice(const Tensor& input, int axis, int64_t index) {
  Shape shape = input.shape();
  int64_t extent = shape[size_t(axis)];
  shape.erase(shape.begin() + axis);
  ASSIGN_OR_RETURN(Tensor result, Tensor::Allocate(input.dtype(), shape));
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= input.shape()[size_t(i)];
  for (size_t i = size_t(axis) + 1; i < input.shape().size(); ++i) inner *= input.shape()[i];
  for (int64_t o = 0; o < outer; ++o) {
    int64_t src = (o * extent + index) * inner;
    if (input.dtype() == DataType::kString) {
      for (int64_t i = 0; i < inner; ++i) {
        result.strings()[size_t(o * inner + i)] = input.strings()[size_t(src + i)];
      }
    } else {
      size_t element = DataTypeSize(input.dtype());
      std::memcpy(static_cast<char*>(result.raw_data()) + o * inner * int64_t(element),
                  static_cast<const char*>(input.raw_data()) + src * int64_t(element),
                  size_t(inner) * element);
    }
  }
  return result;
}

Status LoopKernel(KernelContext& context) {
  RETURN_IF_ERROR(RequireRunner(context));
  const Node& node = context.node;
  const Graph* body = node.GetGraph("body");
  if (!body) return KernelError(node, "missing body");
  int carried = context.num_inputs() - 2;
  if (carried < 0) return KernelError(node, "expects at least M and cond inputs");
  int scan_outputs = context.num_outputs() - carried;
  if (scan_outputs < 0 || int(body->outputs.size()) != 1 + carried + scan_outputs) {
    return KernelError(node, "body outputs do not match the node's loop-carried values");
  }
  int64_t max_trips = context.has_input(0) ? context.input(0).GetAsInt64(0) : INT64_MAX;
  bool cond = context.has_input(1) ? context.input(1).GetAsDouble(0) != 0 : true;
  std::vector<Tensor> state;
  for (int i = 0; i < carried; ++i) {
    if (!context.has_input(2 + i)) return KernelError(node, "loop-carried input is missing");
    state.push_back(context.input(2 + i));
  }
  std::vector<std::vector<Tensor>> scans(static_cast<size_t>(scan_outputs));
  constexpr int64_t kMaxIterations = int64_t(1) << 31;
  for (int64_t trip = 0; trip < max_trips && cond; ++trip) {
    if (trip >= kMaxIterations) return KernelError(node, "loop exceeded 2^31 iterations");
    std::vector<Tensor> inputs{Tensor::Scalar<int64_t>(trip), Tensor::Scalar<bool>(cond)};
    inputs.insert(inputs.end(), state.begin(), state.end());
    ASSIGN_OR_RETURN(std::vector<Tensor> outputs, context.subgraphs->Run(*body, inputs));
    cond = outputs[0].size() > 0 && outputs[0].GetAsDouble(0) != 0;
    for (int i = 0; i < carried; ++i) state[size_t(i)] = std::move(outputs[size_t(1 + i)]);
    for (int i = 0; i < scan_outputs; ++i) {
      scans[size_t(i)].push_back(std::move(outputs[size_t(1 + carried + i)]));
    }
  }
  for (int i = 0; i < carried; ++i) context.output(i) = std::move(state[size_t(i)]);
  for (int i = 0; i < scan_outputs; ++i) {
    Tensor stacked;
    if (scans[size_t(i)].empty()) {
      const ValueType& type = body->outputs[size_t(1 + carried + i)].type;
      Shape shape{0};
      for (const Dim& d : type.dims) shape.push_back(d.known() ? d.value : 0);
      DataType dtype = type.elem_type == DataType::kUndefined ? DataType::kFloat32 : type.elem_type;
      ASSIGN_OR_RETURN(stacked, Tensor::Allocate(dtype, shape));
    } else {
      ASSIGN_OR_RETURN(stacked, Stack(scans[size_t(i)], 0, node, false));
    }
    context.output(carried + i) = std::move(stacked);
  }
  return OkStatus();
}

// Scan-8: a leading batch axis on states and scan inputs, optional sequence_lens first.
Status Scan8Kernel(KernelContext& context) {
  const Node& node = context.node;
  const Graph* body = node.GetGraph("body");
  if (!body) return KernelError(node, "missing body");
  int num_scan_inputs = int(node.GetInt("num_scan_inputs", 0));
  int state_count = context.num_inputs() - 1 - num_scan_inputs;
  int scan_output_count = context.num_outputs() - state_count;
  if (num_scan_inputs <= 0 || state_count < 0 || scan_output_count < 0) {
    return KernelError(node, "num_scan_inputs is inconsistent with the inputs");
  }
  std::vector<int64_t> directions = node.GetInts("directions");
  const Tensor& first_scan = context.input(1 + state_count);
  if (first_scan.rank() < 2) return KernelError(node, "scan inputs need [batch, sequence, ...]");
  int64_t batch = first_scan.dim(0), max_length = first_scan.dim(1);
  std::vector<std::vector<Tensor>> states(static_cast<size_t>(state_count)), scans(static_cast<size_t>(scan_output_count));
  for (int64_t b = 0; b < batch; ++b) {
    int64_t length = context.has_input(0) ? context.input(0).GetAsInt64(b) : max_length;
    if (length < 0 || length > max_length) return KernelError(node, "sequence_lens out of range");
    std::vector<Tensor> state;
    for (int i = 0; i < state_count; ++i) {
      ASSIGN_OR_RETURN(Tensor slice, TakeSlice(context.input(1 + i), 0, b));
      state.push_back(std::move(slice));
    }
    std::vector<Tensor> sequences;
    for (int i = 0; i < num_scan_inputs; ++i) {
      const Tensor& input = context.input(1 + state_count + i);
      if (input.rank() < 2 || input.dim(0) != batch || input.dim(1) != max_length) {
        return KernelError(node, "scan inputs disagree on batch or sequence length");
      }
      ASSIGN_OR_RETURN(Tensor slice, TakeSlice(input, 0, b));
      sequences.push_back(std::move(slice));
    }
    std::vector<std::vector<Tensor>> steps(static_cast<size_t>(scan_output_count));
    for (int64_t t = 0; t < length; ++t) {
      std::vector<Tensor> inputs = state;
      for (int i = 0; i < num_scan_inputs; ++i) {
        bool reverse = !directions.empty() && directions[size_t(i)] == 1;
        ASSIGN_OR_RETURN(Tensor step, TakeSlice(sequences[size_t(i)], 0, reverse ? length - 1 - t : t));
        inputs.push_back(std::move(step));
      }
      ASSIGN_OR_RETURN(std::vector<Tensor> outputs, context.subgraphs->Run(*body, inputs));
      for (int i = 0; i < state_count; ++i) state[size_t(i)] = std::move(outputs[size_t(i)]);
      for (int i = 0; i < scan_output_count; ++i) {
        steps[size_t(i)].push_back(std::move(outputs[size_t(state_count + i)]));
      }
    }
    for (int i = 0; i < state_count; ++i) states[size_t(i)].push_back(std::move(state[size_t(i)]));
    for (int i = 0; i < scan_output_count; ++i) {
      if (steps[size_t(i)].empty()) return KernelError(node, "scan over an empty sequence");
      while (int64_t(steps[size_t(i)].size()) < max_length) {  // pad short sequences with zeros
        const Tensor& like = steps[size_t(i)].front();
        steps[size_t(i)].push_back(Tensor(like.dtype(), like.shape()));
      }
      ASSIGN_OR_RETURN(Tensor stacked, Stack(steps[size_t(i)], 0, node, false));
      scans[size_t(i)].push_back(std::move(stacked));
    }
  }
  for (int i = 0; i < state_count; ++i) {
    ASSIGN_OR_RETURN(context.output(i), Stack(states[size_t(i)], 0, node, false));
  }
  for (int i = 0; i < scan_output_count; ++i) {
    ASSIGN_OR_RETURN(context.output(state_count + i), Stack(scans[size_t(i)], 0, node, false));
  }
  return OkStatus();
}

Status ScanKernel(KernelContext& context) {
  RETURN_IF_ERROR(RequireRunner(context));
  const Node& node = context.node;
  if (context.opset < 9) return Scan8Kernel(context);
  const Graph* body = node.GetGraph("body");
  if (!body) return KernelError(node, "missing body");
  int num_scan_inputs = int(node.GetInt("num_scan_inputs", 0));
  int num_inputs = context.num_inputs();
  int state_count = num_inputs - num_scan_inputs;
  int scan_output_count = context.num_outputs() - state_count;
  if (num_scan_inputs <= 0 || state_count < 0 || scan_output_count < 0) {
    return KernelError(node, "num_scan_inputs is inconsistent with the inputs");
  }
  std::vector<int64_t> in_axes = node.GetInts("scan_input_axes");
  std::vector<int64_t> in_dirs = node.GetInts("scan_input_directions");
  std::vector<int64_t> out_axes = node.GetInts("scan_output_axes");
  std::vector<int64_t> out_dirs = node.GetInts("scan_output_directions");
  int64_t length = -1;
  std::vector<int> axes(size_t(num_scan_inputs), 0);
  for (int i = 0; i < num_scan_inputs; ++i) {
    const Tensor& input = context.input(state_count + i);
    int64_t axis = in_axes.empty() ? 0 : in_axes[size_t(i)];
    ASSIGN_OR_RETURN(axes[size_t(i)], NormalizeAxis(axis, input.rank(), node));
    int64_t extent = input.shape()[size_t(axes[size_t(i)])];
    if (length >= 0 && extent != length) {
      return KernelError(node, "scan inputs have different sequence lengths");
    }
    length = extent;
  }
  std::vector<Tensor> state;
  for (int i = 0; i < state_count; ++i) state.push_back(context.input(i));
  std::vector<std::vector<Tensor>> scans(static_cast<size_t>(scan_output_count));
  for (int64_t step = 0; step < length; ++step) {
    std::vector<Tensor> inputs = state;
    for (int i = 0; i < num_scan_inputs; ++i) {
      bool reverse = !in_dirs.empty() && in_dirs[size_t(i)] == 1;
      ASSIGN_OR_RETURN(Tensor slice, TakeSlice(context.input(state_count + i), axes[size_t(i)],
                                               reverse ? length - 1 - step : step));
      inputs.push_back(std::move(slice));
    }
    ASSIGN_OR_RETURN(std::vector<Tensor> outputs, context.subgraphs->Run(*body, inputs));
    for (int i = 0; i < state_count; ++i) state[size_t(i)] = std::move(outputs[size_t(i)]);
    for (int i = 0; i < scan_output_count; ++i) {
      scans[size_t(i)].push_back(std::move(outputs[size_t(state_count + i)]));
    }
  }
  for (int i = 0; i < state_count; ++i) context.output(i) = std::move(state[size_t(i)]);
  for (int i = 0; i < scan_output_count; ++i) {
    if (scans[size_t(i)].empty()) return KernelError(node, "scan over an empty sequence");
    int rank = scans[size_t(i)].front().rank() + 1;
    int64_t axis_value = out_axes.empty() ? 0 : out_axes[size_t(i)];
    ASSIGN_OR_RETURN(int axis, NormalizeAxis(axis_value, rank, node));
    bool reverse = !out_dirs.empty() && out_dirs[size_t(i)] == 1;
    ASSIGN_OR_RETURN(context.output(state_count + i), Stack(scans[size_t(i)], axis, node, reverse));
  }
  return OkStatus();
}

}  // namespace

void RegisterControlFlowKernels(KernelRegistry* registry) {
  registry->RegisterFunction(OpType::kIf, &IfKernel);
  registry->RegisterFunction(OpType::kLoop, &LoopKernel);
  registry->RegisterFunction(OpType::kScan, &ScanKernel);
}

}  // namespace shrink::engine
