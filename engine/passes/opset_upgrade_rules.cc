// The per-step rewrites of the opset upgrade. Each adapter moves one node across one version
// step of its op so that it computes exactly what it computed before (see opset_upgrade.h);
// when that is impossible it fails naming the node and the step.
#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "engine/ir/graph_utils.h"
#include "engine/passes/opset_upgrade_internal.h"

namespace shrink::engine::opset_upgrade {
namespace {

Status StepError(const Node& node, int64_t old_version, int64_t new_version,
                 const std::string& why) {
  return Unimplemented(node.Describe() + ": cannot upgrade " +
                       StepName(node, old_version, new_version) + ": " + why);
}

void RemoveAttribute(Node* node, const std::string& name) {
  auto& attrs = node->attributes;
  attrs.erase(std::remove_if(attrs.begin(), attrs.end(),
                             [&](const Attribute& a) { return a.name == name; }),
              attrs.end());
}

void SetInput(Node* node, size_t index, const std::string& value) {
  if (node->inputs.size() <= index) node->inputs.resize(index + 1);
  node->inputs[index] = value;
}

void SetOp(Node* node, OpType op) {
  node->op = op;
  node->op_type = OpTypeName(op);
  node->domain.clear();
}

Attribute MakeString(const std::string& name, const std::string& value) {
  Attribute a;
  a.name = name;
  a.type = AttributeType::kString;
  a.s = value;
  return a;
}

Tensor Int64List(const std::vector<int64_t>& values) {
  return Tensor::FromVector<int64_t>({int64_t(values.size())}, values);
}

// A scalar of a floating-point dtype (the types of Clip-6 and Pad-2 inputs).
StatusOr<Tensor> FloatScalar(DataType dtype, float value) {
  switch (dtype) {
    case DataType::kFloat32:
      return Tensor::Scalar<float>(value);
    case DataType::kFloat64:
      return Tensor::Scalar<double>(double(value));
    case DataType::kFloat16:
      return Tensor::Scalar<Float16>(Float16{FloatToHalf(value)});
    default:
      return InvalidArgument(std::string("no scalar of type ") + DataTypeName(dtype));
  }
}

// A value known before any run: an initializer or a Constant node's `value` at this level.
const Tensor* ConstantValue(const Graph& graph, const std::string& name) {
  if (const Tensor* init = graph.FindInitializer(name)) return init;
  for (const auto& node : graph.nodes) {
    if (node->op != OpType::kConstant) continue;
    if (std::find(node->outputs.begin(), node->outputs.end(), name) == node->outputs.end())
      continue;
    const Tensor* value = node->GetTensor("value");
    return value != nullptr && value->defined() ? value : nullptr;
  }
  return nullptr;
}

// Moves an INTS attribute to an int64 initializer input; absent attributes stay absent.
void IntsAttributeToInput(UpgradeContext& context, Graph* graph, Node* node,
                          const std::string& attr, size_t input_index) {
  if (!node->HasAttribute(attr)) return;
  std::string name =
      context.AddInitializer(graph, node->outputs[0] + "_" + attr, Int64List(node->GetInts(attr)));
  SetInput(node, input_index, name);
  RemoveAttribute(node, attr);
}

// Values that something reads: node inputs at this level (and inner levels) or graph outputs.
bool IsUsed(const Graph& graph, const std::string& value) {
  if (value.empty()) return false;
  GraphIndex index(graph);
  return index.IsGraphOutput(value) || !index.Consumers(value).empty();
}

// Softmax/LogSoftmax/Hardmax 13: one axis instead of "flatten to 2-D at axis". The same
// results come from Flatten(axis) -> op(axis=-1) -> Reshape(Shape(x)) unless the axis is
// the last one, where the two definitions agree.
Status NormalizeAlongAxis(UpgradeContext& context, Graph* graph, Node* node, int64_t old_version,
                          int64_t new_version) {
  int64_t axis = node->GetInt("axis", 1);
  int rank = context.Rank(*graph, node->inputs.empty() ? "" : node->inputs[0]);
  std::string rule = StepName(*node, old_version, new_version) + " axis";
  if (rank > 0 && (axis == -1 || axis == rank - 1)) {
    node->SetAttribute(IntAttribute("axis", -1));
    context.Record(rule + " (last axis)");
    return OkStatus();
  }
  const std::string x = node->inputs[0];
  const std::string y = node->outputs[0];
  std::string flat = context.NewName(y + "_2d");
  auto flatten = std::make_unique<Node>();
  flatten->name = node->name.empty() ? "" : node->name + "_flatten";
  SetOp(flatten.get(), OpType::kFlatten);
  flatten->inputs = {x};
  flatten->outputs = {flat};
  flatten->attributes = {IntAttribute("axis", axis)};
  InsertNode(graph, std::move(flatten), node);
  std::string normalized = context.NewName(y + "_2d_out");
  auto op = std::make_unique<Node>();
  op->name = node->name;
  SetOp(op.get(), node->op);
  op->inputs = {flat};
  op->outputs = {normalized};
  op->attributes = {IntAttribute("axis", -1)};
  InsertNode(graph, std::move(op), node);
  std::string shape = context.NewName(y + "_shape");
  auto shape_node = std::make_unique<Node>();
  shape_node->name = node->name.empty() ? "" : node->name + "_shape";
  SetOp(shape_node.get(), OpType::kShape);
  shape_node->inputs = {x};
  shape_node->outputs = {shape};
  InsertNode(graph, std::move(shape_node), node);
  // The original node becomes the Reshape back to the input's shape, keeping its output name.
  node->name = node->name.empty() ? "" : node->name + "_reshape";
  SetOp(node, OpType::kReshape);
  node->inputs = {normalized, shape};
  node->attributes.clear();
  context.Record(rule + " (flatten/reshape)");
  context.node_finished = true;
  return OkStatus();
}

// Split 13: `split` attribute -> input 1.
Status SplitToInput(UpgradeContext& context, Graph* graph, Node* node, int64_t old_version,
                    int64_t new_version) {
  bool had = node->HasAttribute("split");
  IntsAttributeToInput(context, graph, node, "split", 1);
  context.Record(StepName(*node, old_version, new_version) +
                 (had ? " split attribute -> input" : " (no split attribute)"));
  return OkStatus();
}

// Split 18: without a split input an output count is required: num_outputs.
Status SplitNumOutputs(UpgradeContext& context, Graph*, Node* node, int64_t old_version,
                       int64_t new_version) {
  if (node->HasInput(1)) {
    context.Record(StepName(*node, old_version, new_version) + " bump (split input)");
    return OkStatus();
  }
  node->SetAttribute(IntAttribute("num_outputs", int64_t(node->outputs.size())));
  context.Record(StepName(*node, old_version, new_version) + " num_outputs");
  return OkStatus();
}

// Squeeze/Unsqueeze 13, ReduceSum 13, the other Reduce* 18: `axes` attribute -> input 1.
Status AxesToInput(UpgradeContext& context, Graph* graph, Node* node, int64_t old_version,
                   int64_t new_version) {
  bool had = node->HasAttribute("axes");
  IntsAttributeToInput(context, graph, node, "axes", 1);
  context.Record(StepName(*node, old_version, new_version) +
                 (had ? " axes attribute -> input" : " (no axes attribute)"));
  return OkStatus();
}

// Clip 11: min/max attributes -> inputs of the data type.
Status ClipToInputs(UpgradeContext& context, Graph* graph, Node* node, int64_t old_version,
                    int64_t new_version) {
  std::vector<std::string> bounds{"min", "max"};
  bool any = node->HasAttribute("min") || node->HasAttribute("max");
  DataType dtype = context.ElemType(*graph, node->inputs[0]);
  if (any && dtype == DataType::kUndefined) {
    return StepError(*node, old_version, new_version,
                     "the element type of '" + node->inputs[0] + "' is unknown");
  }
  for (size_t k = 0; k < bounds.size(); ++k) {
    if (!node->HasAttribute(bounds[k])) continue;
    auto scalar = FloatScalar(dtype, node->GetFloat(bounds[k], 0));
    if (!scalar.ok()) return StepError(*node, old_version, new_version, scalar.status().message());
    SetInput(node, k + 1,
             context.AddInitializer(graph, node->outputs[0] + "_" + bounds[k], *scalar));
    RemoveAttribute(node, bounds[k]);
  }
  context.Record(StepName(*node, old_version, new_version) + " min/max attributes -> inputs");
  return OkStatus();
}

// Pad 11: pads and value attributes -> inputs.
Status PadToInputs(UpgradeContext& context, Graph* graph, Node* node, int64_t old_version,
                   int64_t new_version) {
  if (!node->HasAttribute("pads")) {
    return StepError(*node, old_version, new_version, "the pads attribute is missing");
  }
  IntsAttributeToInput(context, graph, node, "pads", 1);
  float value = node->GetFloat("value", 0);
  if (value != 0 && node->GetString("mode", "constant") == "constant") {
    DataType dtype = context.ElemType(*graph, node->inputs[0]);
    auto scalar = FloatScalar(dtype, value);
    if (!scalar.ok()) {
      return StepError(
          *node, old_version, new_version,
          "constant value for input '" + node->inputs[0] + "': " + scalar.status().message());
    }
    SetInput(node, 2, context.AddInitializer(graph, node->outputs[0] + "_value", *scalar));
  }
  RemoveAttribute(node, "value");
  context.Record(StepName(*node, old_version, new_version) + " pads/value attributes -> inputs");
  return OkStatus();
}

// Slice 10: starts/ends/axes attributes -> inputs.
Status SliceToInputs(UpgradeContext& context, Graph* graph, Node* node, int64_t old_version,
                     int64_t new_version) {
  if (!node->HasAttribute("starts") || !node->HasAttribute("ends")) {
    return StepError(*node, old_version, new_version, "starts or ends is missing");
  }
  IntsAttributeToInput(context, graph, node, "starts", 1);
  IntsAttributeToInput(context, graph, node, "ends", 2);
  IntsAttributeToInput(context, graph, node, "axes", 3);
  context.Record(StepName(*node, old_version, new_version) + " attributes -> inputs");
  return OkStatus();
}

// TopK 10: k attribute -> input of shape [1].
Status TopKToInput(UpgradeContext& context, Graph* graph, Node* node, int64_t old_version,
                   int64_t new_version) {
  if (!node->HasAttribute("k")) return StepError(*node, old_version, new_version, "k is missing");
  SetInput(
      node, 1,
      context.AddInitializer(graph, node->outputs[0] + "_k", Int64List({node->GetInt("k", 0)})));
  RemoveAttribute(node, "k");
  context.Record(StepName(*node, old_version, new_version) + " k attribute -> input");
  return OkStatus();
}

// Upsample 9: scales attribute -> input.
Status UpsampleScalesToInput(UpgradeContext& context, Graph* graph, Node* node, int64_t old_version,
                             int64_t new_version) {
  if (!node->HasAttribute("scales")) {
    return StepError(*node, old_version, new_version, "scales is missing");
  }
  std::vector<float> scales = node->GetFloats("scales");
  Tensor t = Tensor::FromVector<float>({int64_t(scales.size())}, scales);
  SetInput(node, 1, context.AddInitializer(graph, node->outputs[0] + "_scales", t));
  RemoveAttribute(node, "scales");
  context.Record(StepName(*node, old_version, new_version) + " scales attribute -> input");
  return OkStatus();
}

// Upsample 10 is deprecated: Resize-10 takes the same inputs and computes the same thing.
Status UpsampleToResize(UpgradeContext& context, Graph*, Node* node, int64_t old_version,
                        int64_t new_version) {
  std::string mode = node->GetString("mode", "nearest");
  if (mode != "nearest" && mode != "linear") {
    return StepError(*node, old_version, new_version, "mode '" + mode + "'");
  }
  context.Record(StepName(*node, old_version, new_version) + " -> Resize-10");
  SetOp(node, OpType::kResize);
  return OkStatus();
}

// Resize 11: Resize-10 samples at x_out / scale ("asymmetric"); nearest takes floor when
// upsampling and ceil when downsampling, so the nearest mode follows the constant scales.
Status Resize10To11(UpgradeContext& context, Graph* graph, Node* node, int64_t old_version,
                    int64_t new_version) {
  if (!node->HasInput(1)) return StepError(*node, old_version, new_version, "scales is missing");
  std::string mode = node->GetString("mode", "nearest");
  if (mode == "nearest") {
    const Tensor* scales = ConstantValue(*graph, node->inputs[1]);
    if (scales == nullptr) {
      return StepError(*node, old_version, new_version,
                       "nearest mode needs constant scales to pick floor or ceil rounding");
    }
    bool up = false, down = false;
    for (int64_t i = 0; i < scales->size(); ++i) {
      double s = scales->GetAsDouble(i);
      up |= s > 1;
      down |= s < 1;
    }
    if (up && down) {
      return StepError(*node, old_version, new_version,
                       "nearest mode with both up- and down-sampling scales has no Resize-11 form");
    }
    node->SetAttribute(MakeString("nearest_mode", down ? "ceil" : "floor"));
  }
  node->SetAttribute(MakeString("coordinate_transformation_mode", "asymmetric"));
  // roi is a required input at 11 and 12 (optional from 13): an empty tensor.
  std::string roi =
      context.AddInitializer(graph, node->outputs[0] + "_roi", Tensor(DataType::kFloat32, {0}));
  std::string scales_name = node->inputs[1];
  node->inputs = {node->inputs[0], roi, scales_name};
  context.Record(StepName(*node, old_version, new_version) + " asymmetric + roi");
  return OkStatus();
}

// Resize 13 removed the tf_half_pixel_for_nn coordinate mode.
Status Resize11To13(UpgradeContext& context, Graph*, Node* node, int64_t old_version,
                    int64_t new_version) {
  if (node->GetString("coordinate_transformation_mode", "") == "tf_half_pixel_for_nn") {
    return StepError(*node, old_version, new_version,
                     "coordinate_transformation_mode tf_half_pixel_for_nn was removed");
  }
  context.Record(StepName(*node, old_version, new_version) + " bump");
  return OkStatus();
}

// BatchNormalization 9: the spatial attribute is gone (spatial=1 behaviour).
Status BatchNormSpatial(UpgradeContext& context, Graph*, Node* node, int64_t old_version,
                        int64_t new_version) {
  if (node->GetInt("spatial", 1) == 0) {
    return StepError(*node, old_version, new_version, "spatial=0 (per-activation statistics)");
  }
  RemoveAttribute(node, "spatial");
  context.Record(StepName(*node, old_version, new_version) + " drop spatial");
  return OkStatus();
}

// BatchNormalization 14: before 14, a node with the extra outputs (mean, var, saved mean/var)
// runs in training mode (batch statistics; ORT does so even when nothing reads them). 14 has a
// different training form, so only the inference form (Y alone) is upgraded.
Status BatchNormOutputs(UpgradeContext& context, Graph*, Node* node, int64_t old_version,
                        int64_t new_version) {
  for (size_t i = 1; i < node->outputs.size(); ++i) {
    if (!node->outputs[i].empty()) {
      return StepError(*node, old_version, new_version,
                       "output '" + node->outputs[i] + "' makes it a training-mode node");
    }
  }
  node->outputs.resize(1);
  context.Record(StepName(*node, old_version, new_version) + " inference form");
  return OkStatus();
}

// Dropout 10: the mask output became bool.
Status DropoutMask(UpgradeContext& context, Graph* graph, Node* node, int64_t old_version,
                   int64_t new_version) {
  if (node->outputs.size() > 1 && IsUsed(*graph, node->outputs[1])) {
    return StepError(*node, old_version, new_version, "the mask output (now bool) is used");
  }
  context.Record(StepName(*node, old_version, new_version) + " bump");
  return OkStatus();
}

// Dropout 12: ratio attribute -> input.
Status DropoutRatio(UpgradeContext& context, Graph* graph, Node* node, int64_t old_version,
                    int64_t new_version) {
  if (node->HasAttribute("ratio")) {
    SetInput(node, 1,
             context.AddInitializer(graph, node->outputs[0] + "_ratio",
                                    Tensor::Scalar<float>(node->GetFloat("ratio", 0.5f))));
    RemoveAttribute(node, "ratio");
  }
  context.Record(StepName(*node, old_version, new_version) + " ratio attribute -> input");
  return OkStatus();
}

// Scatter was deprecated at 11 in favour of ScatterElements with the same semantics.
Status ScatterToElements(UpgradeContext& context, Graph*, Node* node, int64_t old_version,
                         int64_t new_version) {
  context.Record(StepName(*node, old_version, new_version) + " -> ScatterElements");
  SetOp(node, OpType::kScatterElements);
  return OkStatus();
}

// OneHot 11: negative indices count from the end (OneHot-9 gave all-off rows for them).
Status OneHotNegative(UpgradeContext& context, Graph* graph, Node* node, int64_t old_version,
                      int64_t new_version) {
  const Tensor* indices = ConstantValue(*graph, node->inputs[0]);
  bool safe = indices != nullptr;
  for (int64_t i = 0; safe && i < indices->size(); ++i) safe = indices->GetAsDouble(i) >= 0;
  if (!safe) {
    return StepError(*node, old_version, new_version,
                     "negative indices change meaning and the indices are not constant");
  }
  context.Record(StepName(*node, old_version, new_version) + " bump (constant indices)");
  return OkStatus();
}

// Scan 9 dropped the batch axis of Scan-8.
Status ScanBatch(UpgradeContext&, Graph*, Node* node, int64_t old_version, int64_t new_version) {
  return StepError(*node, old_version, new_version, "Scan-8 batch semantics are not rewritten");
}

struct StepRule {
  OpType op;
  int64_t since;
  StepAdapter adapter;
};

const StepRule kStepRules[] = {
    {OpType::kSoftmax, 13, NormalizeAlongAxis},
    {OpType::kLogSoftmax, 13, NormalizeAlongAxis},
    {OpType::kHardmax, 13, NormalizeAlongAxis},
    {OpType::kSplit, 13, SplitToInput},
    {OpType::kSplit, 18, SplitNumOutputs},
    {OpType::kSqueeze, 13, AxesToInput},
    {OpType::kUnsqueeze, 13, AxesToInput},
    {OpType::kReduceSum, 13, AxesToInput},
    {OpType::kReduceL1, 18, AxesToInput},
    {OpType::kReduceL2, 18, AxesToInput},
    {OpType::kReduceLogSum, 18, AxesToInput},
    {OpType::kReduceLogSumExp, 18, AxesToInput},
    {OpType::kReduceMax, 18, AxesToInput},
    {OpType::kReduceMean, 18, AxesToInput},
    {OpType::kReduceMin, 18, AxesToInput},
    {OpType::kReduceProd, 18, AxesToInput},
    {OpType::kReduceSumSquare, 18, AxesToInput},
    {OpType::kClip, 11, ClipToInputs},
    {OpType::kPad, 11, PadToInputs},
    {OpType::kSlice, 10, SliceToInputs},
    {OpType::kTopK, 10, TopKToInput},
    {OpType::kUpsample, 9, UpsampleScalesToInput},
    {OpType::kUpsample, 10, UpsampleToResize},
    {OpType::kResize, 11, Resize10To11},
    {OpType::kResize, 13, Resize11To13},
    {OpType::kBatchNormalization, 9, BatchNormSpatial},
    {OpType::kBatchNormalization, 14, BatchNormOutputs},
    {OpType::kDropout, 10, DropoutMask},
    {OpType::kDropout, 12, DropoutRatio},
    {OpType::kScatter, 11, ScatterToElements},
    {OpType::kOneHot, 11, OneHotNegative},
    {OpType::kScan, 9, ScanBatch},
};

}  // namespace

StepAdapter FindStepAdapter(OpType op, int64_t new_version) {
  for (const StepRule& rule : kStepRules) {
    if (rule.op == op && rule.since == new_version) return rule.adapter;
  }
  return nullptr;
}

}  // namespace shrink::engine::opset_upgrade
