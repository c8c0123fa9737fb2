#include "engine/io/model_check.h"

#include <set>

#include "engine/io/onnx_export.h"
#include "engine/ir/graph_utils.h"
#include "engine/ir/op_history.h"

namespace shrink::engine {
namespace {

bool IsDefaultDomain(const std::string& domain) { return domain.empty() || domain == "ai.onnx"; }

std::string DomainKey(const std::string& domain) { return IsDefaultDomain(domain) ? "" : domain; }

// Attributes that an opset turned into inputs: a node still carrying one at that opset was
// written for an older opset.
struct MovedAttribute {
  OpType op;
  int64_t since;
  const char* attribute;
};

const MovedAttribute kMovedAttributes[] = {
    {OpType::kSlice, 10, "starts"},
    {OpType::kSlice, 10, "ends"},
    {OpType::kTopK, 10, "k"},
    {OpType::kUpsample, 9, "scales"},
    {OpType::kClip, 11, "min"},
    {OpType::kClip, 11, "max"},
    {OpType::kPad, 11, "pads"},
    {OpType::kDropout, 12, "ratio"},
    {OpType::kSplit, 13, "split"},
    {OpType::kSqueeze, 13, "axes"},
    {OpType::kUnsqueeze, 13, "axes"},
    {OpType::kReduceSum, 13, "axes"},
    {OpType::kReduceL1, 18, "axes"},
    {OpType::kReduceL2, 18, "axes"},
    {OpType::kReduceLogSum, 18, "axes"},
    {OpType::kReduceLogSumExp, 18, "axes"},
    {OpType::kReduceMax, 18, "axes"},
    {OpType::kReduceMean, 18, "axes"},
    {OpType::kReduceMin, 18, "axes"},
    {OpType::kReduceProd, 18, "axes"},
    {OpType::kReduceSumSquare, 18, "axes"},
};

Status CheckDefaultDomainNode(const Node& node, int64_t opset) {
  if (node.op == OpType::kUnknown) {
    return InvalidArgument(node.Describe() + ": op '" + node.op_type +
                           "' is not an ai.onnx op the engine knows");
  }
  if (OpSchemaVersion(node.op, opset) == 0) {
    return InvalidArgument(node.Describe() + ": op '" + node.op_type +
                           "' does not exist at opset " + std::to_string(opset));
  }
  if ((node.op == OpType::kUpsample && opset >= 10) ||
      (node.op == OpType::kScatter && opset >= 11)) {
    return InvalidArgument(node.Describe() + ": op '" + node.op_type + "' is deprecated at opset " +
                           std::to_string(opset));
  }
  for (const MovedAttribute& moved : kMovedAttributes) {
    if (moved.op == node.op && opset >= moved.since && node.HasAttribute(moved.attribute)) {
      return InvalidArgument(node.Describe() + ": attribute '" + moved.attribute +
                             "' is an input at opset " + std::to_string(opset));
    }
  }
  if (node.op == OpType::kSplit && opset >= 18 && !node.HasInput(1) &&
      !node.HasAttribute("num_outputs")) {
    return InvalidArgument(node.Describe() +
                           ": Split at opset 18 needs a split input or "
                           "num_outputs");
  }
  return OkStatus();
}

Status CheckNodes(const Model& model, const Graph& graph, const std::set<std::string>& imported) {
  for (const auto& node : graph.nodes) {
    std::string domain = DomainKey(node->domain);
    if (imported.count(domain) == 0) {
      return InvalidArgument(node->Describe() + ": domain '" + node->domain +
                             "' has no opset import");
    }
    if (domain.empty()) RETURN_IF_ERROR(CheckDefaultDomainNode(*node, model.OpsetVersion("")));
    for (const Attribute& a : node->attributes) {
      if (a.g) RETURN_IF_ERROR(CheckNodes(model, *a.g, imported));
      for (const auto& g : a.graphs) RETURN_IF_ERROR(CheckNodes(model, *g, imported));
    }
  }
  return OkStatus();
}

}  // namespace

std::string LibOnnxLimitation(const Model& model) {
  if (model.ir_version > kLibOnnxMaxIrVersion) {
    return "IR " + std::to_string(model.ir_version) + " is newer than libonnx 1.12 knows";
  }
  for (const OpsetImport& o : model.opset_imports) {
    if (IsDefaultDomain(o.domain) && o.version > kLibOnnxMaxOpset) {
      return "opset " + std::to_string(o.version) + " is newer than libonnx 1.12";
    }
    if (o.domain == "ai.onnx.ml" && o.version > kLibOnnxMaxMlOpset) {
      return "ai.onnx.ml opset " + std::to_string(o.version) + " is newer than libonnx 1.12";
    }
  }
  return "";
}

Status CheckModelStructure(const Model& model) {
  if (model.ir_version < 3 || model.ir_version > 10) {
    return InvalidArgument("IR version " + std::to_string(model.ir_version) + " is outside 3..10");
  }
  std::set<std::string> imported;
  for (const OpsetImport& o : model.opset_imports) {
    if (!imported.insert(DomainKey(o.domain)).second) {
      return InvalidArgument("domain '" + o.domain + "' is imported twice");
    }
  }
  if (imported.count("") == 0) return InvalidArgument("the model has no ai.onnx opset import");
  RETURN_IF_ERROR(ValidateGraph(model.graph));
  return CheckNodes(model, model.graph, imported);
}

StatusOr<std::string> CheckExportedModel(const Model& model) {
  std::string limitation = LibOnnxLimitation(model);
  if (limitation.empty()) {
    RETURN_IF_ERROR(CheckModelWithOnnx(model));
    return std::string("onnx checker");
  }
  Status status = CheckModelStructure(model);
  if (!status.ok()) return status.WithContext("engine checks (" + limitation + ")");
  return "engine checks: " + limitation;
}

}  // namespace shrink::engine
