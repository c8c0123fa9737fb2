// Float16 conversion judged by ONNX Runtime.
//
// Float16OrtProbe re-derives engine/quant/float16_ops.cc's table of ops that ORT's CPU provider
// runs in float16: for every op of op_types.h and every opset in the probed range it builds a
// one-op model whose data tensors (GetFloatSignature) are float16, and checks that ORT loads it
// exactly when the table says so. The float32 twin of each model must load, so that a broken
// probe model is not mistaken for a missing kernel. A new ORT release that adds or drops a
// float16 kernel fails this test.
#include <gtest/gtest.h>

#include <cstdio>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "engine/io/onnx_export.h"
#include "engine/io/onnx_import.h"
#include "engine/kernels/kernel_test_util.h"
#include "engine/quant/float16_ops.h"
#include "onnx/defs/schema.h"
#include "tests/ort_runner.h"

namespace shrink::testing {
namespace {

using engine::Attribute;
using engine::DataType;
using engine::Model;
using engine::Node;
using engine::OpType;
using engine::ValueInfo;
using engine::testing::FloatAttr;
using engine::testing::IntAttr;
using engine::testing::IntsAttr;
using engine::testing::TensorAttr;
namespace quant = engine::quant;

std::string TempDir() {
  std::string dir = std::filesystem::temp_directory_path().string() + "/shrink_fp16_ort_" +
                    std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  return dir;
}

ValueInfo UnknownShape(const std::string& name, DataType type) {
  ValueInfo info;
  info.name = name;
  info.type.elem_type = type;
  return info;
}

DataType FromTypeString(const std::string& s) {
  if (s == "tensor(float)") return DataType::kFloat32;
  if (s == "tensor(float16)") return DataType::kFloat16;
  if (s == "tensor(int64)") return DataType::kInt64;
  if (s == "tensor(int32)") return DataType::kInt32;
  if (s == "tensor(bool)") return DataType::kBool;
  if (s == "tensor(uint8)") return DataType::kUint8;
  if (s == "tensor(int8)") return DataType::kInt8;
  if (s == "tensor(double)") return DataType::kFloat64;
  return DataType::kUndefined;
}

// A non-data parameter's type: int64 when allowed (indices, shapes), else float, else the first.
DataType ParameterType(const onnx::OpSchema::FormalParameter& formal) {
  DataType fallback = DataType::kUndefined;
  for (const char* preferred : {"tensor(int64)", "tensor(float)", "tensor(int32)",
                                "tensor(bool)"}) {
    for (const std::string* type : formal.GetTypes()) {
      if (*type == preferred) return FromTypeString(*type);
      if (fallback == DataType::kUndefined) fallback = FromTypeString(*type);
    }
  }
  return fallback;
}

// Attributes an op cannot load without; values chosen to be valid for any input shape.
std::vector<Attribute> RequiredAttributes(OpType op, int64_t opset, DataType data) {
  engine::Tensor one(data, {1});
  switch (op) {
    case OpType::kCast: return {IntAttr("to", int64_t(data))};
    case OpType::kConcat: return {IntAttr("axis", 0)};
    case OpType::kDepthToSpace:
    case OpType::kSpaceToDepth: return {IntAttr("blocksize", 1)};
    case OpType::kAveragePool:
    case OpType::kMaxPool: return {IntsAttr("kernel_shape", {1, 1})};
    case OpType::kLRN: return {IntAttr("size", 1)};
    case OpType::kEinsum: {
      Attribute a;
      a.name = "equation";
      a.type = engine::AttributeType::kString;
      a.s = "ij->ji";
      return {a};
    }
    case OpType::kRandomNormal:
    case OpType::kRandomUniform: return {IntsAttr("shape", {2}), IntAttr("dtype", int64_t(data))};
    case OpType::kRandomNormalLike:
    case OpType::kRandomUniformLike:
    case OpType::kEyeLike: return {IntAttr("dtype", int64_t(data))};
    case OpType::kConstantOfShape: return {TensorAttr("value", one)};
    case OpType::kConstant: return {TensorAttr("value", one)};
    case OpType::kLSTM:
    case OpType::kGRU:
    case OpType::kRNN: return {IntAttr("hidden_size", 1)};
    case OpType::kMod: return {IntAttr("fmod", 1)};
    case OpType::kTopK: return opset < 10 ? std::vector<Attribute>{IntAttr("k", 1)}
                                          : std::vector<Attribute>{};
    case OpType::kUnsqueeze: return opset < 13 ? std::vector<Attribute>{IntsAttr("axes", {0})}
                                               : std::vector<Attribute>{};
    case OpType::kSlice:
      return opset < 10 ? std::vector<Attribute>{IntsAttr("starts", {0}), IntsAttr("ends", {1})}
                        : std::vector<Attribute>{};
    case OpType::kPad: return opset < 11 ? std::vector<Attribute>{IntsAttr("pads", {0, 0})}
                                         : std::vector<Attribute>{};
    case OpType::kUpsample: {
      if (opset >= 9) return {};
      Attribute scales = engine::testing::FloatsAttr("scales", {1.0f, 1.0f});
      return {scales};
    }
    default: return {};
  }
}

// Builds the one-op model with data tensors of type `data`; false when the op does not exist at
// this opset (or is deprecated there) or has no float tensors.
bool BuildProbe(OpType op, int64_t opset, DataType data, Model* model) {
  const char* name = engine::OpTypeName(op);
  const onnx::OpSchema* schema = onnx::OpSchemaRegistry::Schema(name, int(opset), "");
  if (schema == nullptr || schema->Deprecated()) return false;
  *model = engine::testing::EmptyModel(opset);
  model->ir_version = 7;
  Node probe;
  probe.op_type = name;
  probe.op = op;
  for (size_t i = 0; i < schema->inputs().size(); ++i) probe.inputs.push_back("in" + std::to_string(i));
  for (size_t j = 0; j < schema->outputs().size(); ++j) {
    bool optional = schema->outputs()[j].GetOption() == onnx::OpSchema::Optional;
    probe.outputs.push_back(j == 0 || !optional ? "out" + std::to_string(j) : "");
  }
  while (!probe.outputs.empty() && probe.outputs.back().empty()) probe.outputs.pop_back();
  quant::FloatSignature signature = quant::GetFloatSignature(probe, opset);
  bool any_data = false;
  for (bool d : signature.input_data) any_data |= d;
  for (bool d : signature.output_data) any_data |= d;
  if (!any_data) return false;  // no float tensors (And, BitShift, ...)
  // Types bound per constraint so that outputs follow their inputs.
  std::map<std::string, DataType> bound;
  for (size_t i = 0; i < probe.inputs.size(); ++i) {
    const auto& formal = schema->inputs()[i];
    DataType type = signature.input_data[i] ? data : ParameterType(formal);
    if (bound.count(formal.GetTypeStr())) type = bound[formal.GetTypeStr()];
    bound[formal.GetTypeStr()] = type;
    model->graph.inputs.push_back(UnknownShape(probe.inputs[i], type));
  }
  for (size_t j = 0; j < probe.outputs.size(); ++j) {
    if (probe.outputs[j].empty()) continue;
    const auto& formal = schema->outputs()[j];
    DataType type = FromTypeString(formal.GetTypeStr());
    if (type == DataType::kUndefined) {
      auto it = bound.find(formal.GetTypeStr());
      type = it != bound.end() ? it->second : (signature.output_data[j] ? data
                                                                         : ParameterType(formal));
    }
    model->graph.outputs.push_back(UnknownShape(probe.outputs[j], type));
  }
  probe.attributes = RequiredAttributes(op, opset, data);
  model->graph.AddNode(std::make_unique<Node>(std::move(probe)));
  return true;
}

bool Probed(OpType op) {
  const engine::OpInfo& info = engine::GetOpInfo(op);
  return std::string(info.domain).empty() && !engine::HasFlag(op, engine::kQuantized) &&
         !engine::HasFlag(op, engine::kHasSubgraph);
}

enum class Load { kFails, kWithCasts, kNative };

// Loads the model in ORT. ORT's CPU provider does not refuse a float16 node it has no kernel
// for: it inserts Casts to float around it (InsertCastTransformer). So "native" means the graph
// ORT will run has no Cast to float.
StatusOr<Load> LoadInOrt(const Model& model, const std::string& path, std::string* error) {
  RETURN_IF_ERROR(engine::SaveModel(model, path));
  OrtRunnerOptions options;
  options.threads = 1;
  options.optimized_model_path = path + ".opt.onnx";
  auto runner = OrtRunner::Create(path, options);
  if (!runner.ok()) {
    *error = runner.status().ToString();
    return Load::kFails;
  }
  engine::ImportOptions import;
  import.validate = false;
  ASSIGN_OR_RETURN(Model optimized, engine::LoadModel(options.optimized_model_path, import));
  for (const auto& node : optimized.graph.nodes) {
    if (node->op == OpType::kCast && node->GetInt("to", 0) == int64_t(DataType::kFloat32)) {
      return Load::kWithCasts;
    }
  }
  return Load::kNative;
}

TEST(Float16OrtProbe, TableMatchesOrtCpuKernels) {
  const std::string dir = TempDir();
  std::string summary;
  for (int i = 1; i < int(OpType::kCount); ++i) {
    const OpType op = OpType(i);
    if (!Probed(op)) continue;
    std::string loaded;
    int64_t first = 0;
    for (int64_t opset = quant::kFloat16ProbeMinOpset; opset <= quant::kFloat16ProbeMaxOpset;
         ++opset) {
      Model f32, f16;
      if (!BuildProbe(op, opset, DataType::kFloat32, &f32)) continue;
      BuildProbe(op, opset, DataType::kFloat16, &f16);
      std::string error32, error16;
      const std::string base = dir + "/" + engine::OpTypeName(op) + std::to_string(opset);
      auto load32 = LoadInOrt(f32, base + "_f32.onnx", &error32);
      ASSERT_TRUE(load32.ok()) << load32.status().ToString();
      if (*load32 == Load::kFails) {
        std::printf("  probe model invalid: %s opset %lld: %s\n", engine::OpTypeName(op),
                    (long long)opset, error32.c_str());
        continue;
      }
      auto load16 = LoadInOrt(f16, base + "_f16.onnx", &error16);
      ASSERT_TRUE(load16.ok()) << load16.status().ToString();
      // Generators have no float input ORT could cast, so without a kernel they do not load;
      // the conversion keeps them float32 (they are not in the table).
      const bool generator = op == OpType::kEyeLike || op == OpType::kRandomNormal ||
                             op == OpType::kRandomNormalLike || op == OpType::kRandomUniform ||
                             op == OpType::kRandomUniformLike;
      EXPECT_EQ(*load16 == Load::kFails, generator)
          << engine::OpTypeName(op) << " opset " << opset << ": " << error16;
      const bool native = *load16 == Load::kNative;
      if (native && first == 0) first = opset;
      loaded += native ? " " + std::to_string(opset) : " -" + std::to_string(opset);
      EXPECT_EQ(native, quant::OrtCpuRunsFloat16(op, opset))
          << engine::OpTypeName(op) << " opset " << opset;
    }
    std::printf("PROBE %-22s first %2lld:%s\n", engine::OpTypeName(op), (long long)first,
                loaded.c_str());
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace shrink::testing
