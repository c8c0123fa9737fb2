#include <google/protobuf/util/message_differencer.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/file_util.h"
#include "engine/io/onnx_export.h"
#include "engine/io/onnx_import.h"
#include "engine/io/proto_convert.h"
#include "engine/io/shape_inference.h"
#include "engine/kernels/kernel_test_util.h"

namespace shrink::engine {
namespace {

std::vector<std::string> RealModels() {
  std::string assets = SHRINK_ASSETS_DIR;
  std::string shared = SHRINK_SHARED_MODELS_DIR;
  return {shared + "/mnist_mlp.onnx",
          shared + "/mnist_cnn.onnx",
          shared + "/digits_gru.onnx",
          assets + "/models/silero_vad_v5/silero_vad_v5.onnx",
          assets + "/models/ppocrv4_det/ch_PP-OCRv4_det_infer.onnx",
          assets + "/models/blazeface_front_128/face_detection_front_128x128_barracuda.onnx",
          assets + "/models/oww_melspectrogram/melspectrogram.onnx",
          assets + "/models/oww_embedding/embedding_model.onnx"};
}

class TempDir {
 public:
  TempDir() : path_(*MakeTempDir("shrink-io-test")) {}
  ~TempDir() { (void)RemoveAll(path_); }
  std::string File(const std::string& name) const { return JoinPath(path_, name); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Re-encodes typed fields (float_data, int64_data, ...) as little-endian raw_data, independently of
// the importer, so that two encodings of the same bytes compare equal.
template <typename Out, typename Field>
void AppendAs(const Field& field, std::string* raw) {
  for (auto value : field) {
    Out converted = Out(value);
    raw->append(reinterpret_cast<const char*>(&converted), sizeof(Out));
  }
}

void NormalizeTensor(onnx::TensorProto* t) {
  if (t->has_raw_data() || t->data_location() == onnx::TensorProto::EXTERNAL ||
      t->data_type() == onnx::TensorProto::STRING) {
    return;
  }
  std::string raw;
  switch (t->data_type()) {
    case onnx::TensorProto::FLOAT: AppendAs<float>(t->float_data(), &raw); break;
    case onnx::TensorProto::DOUBLE: AppendAs<double>(t->double_data(), &raw); break;
    case onnx::TensorProto::INT64: AppendAs<int64_t>(t->int64_data(), &raw); break;
    case onnx::TensorProto::UINT64: AppendAs<uint64_t>(t->uint64_data(), &raw); break;
    case onnx::TensorProto::UINT32: AppendAs<uint32_t>(t->uint64_data(), &raw); break;
    case onnx::TensorProto::INT32: AppendAs<int32_t>(t->int32_data(), &raw); break;
    case onnx::TensorProto::INT16: AppendAs<int16_t>(t->int32_data(), &raw); break;
    case onnx::TensorProto::INT8: AppendAs<int8_t>(t->int32_data(), &raw); break;
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::BOOL: AppendAs<uint8_t>(t->int32_data(), &raw); break;
    default: AppendAs<uint16_t>(t->int32_data(), &raw); break;
  }
  t->clear_float_data();
  t->clear_double_data();
  t->clear_int64_data();
  t->clear_uint64_data();
  t->clear_int32_data();
  t->set_raw_data(raw);
}

void NormalizeGraph(onnx::GraphProto* g) {
  for (auto& t : *g->mutable_initializer()) NormalizeTensor(&t);
  for (auto& node : *g->mutable_node()) {
    for (auto& a : *node.mutable_attribute()) {
      if (a.has_t()) NormalizeTensor(a.mutable_t());
      for (auto& t : *a.mutable_tensors()) NormalizeTensor(&t);
      if (a.has_g()) NormalizeGraph(a.mutable_g());
      for (auto& sub : *a.mutable_graphs()) NormalizeGraph(&sub);
    }
  }
}

// An untouched model exports to the same protobuf message: every node, attribute, initializer
// byte, value_info, doc string and metadata entry survives. Two things are not compared: whether a
// field holding its default value was present in the file (proto2 presence), and whether tensor
// bytes were encoded as raw_data or as typed fields (normalized to raw_data on both sides).
TEST(OnnxIoTest, RealModelsRoundTripLosslessly) {
  for (const std::string& path : RealModels()) {
    SCOPED_TRACE(path);
    auto bytes = ReadFile(path);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString() << " (run fetch-assets.sh)";
    onnx::ModelProto original;
    ASSERT_TRUE(original.ParseFromString(*bytes));
    auto model = LoadModel(path);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    auto exported = SerializeModel(*model);
    ASSERT_TRUE(exported.ok()) << exported.status().ToString();
    onnx::ModelProto round_trip;
    ASSERT_TRUE(round_trip.ParseFromString(*exported));
    NormalizeGraph(original.mutable_graph());
    NormalizeGraph(round_trip.mutable_graph());
    std::string differences;
    google::protobuf::util::MessageDifferencer differ;
    differ.set_message_field_comparison(
        google::protobuf::util::MessageDifferencer::EQUIVALENT);
    differ.ReportDifferencesToString(&differences);
    EXPECT_TRUE(differ.Compare(original, round_trip)) << differences.substr(0, 2000);
  }
}

TEST(OnnxIoTest, ExportedModelsPassTheOnnxChecker) {
  for (const std::string& path : RealModels()) {
    SCOPED_TRACE(path);
    auto model = LoadModel(path);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    Status checked = CheckModelWithOnnx(*model);
    EXPECT_TRUE(checked.ok()) << checked.ToString();
  }
}

// Typed-field tensors (float_data, int32_data...) import to the same values as raw_data.
TEST(OnnxIoTest, TypedFieldsAndRawDataAgree) {
  onnx::TensorProto typed;
  typed.set_name("w");
  typed.set_data_type(onnx::TensorProto::FLOAT16);
  typed.add_dims(2);
  typed.add_int32_data(FloatToHalf(1.5f));
  typed.add_int32_data(FloatToHalf(-2.0f));
  auto tensor = TensorFromProto(typed, {});
  ASSERT_TRUE(tensor.ok());
  EXPECT_EQ(tensor->GetAsDouble(0), 1.5);
  EXPECT_EQ(tensor->GetAsDouble(1), -2.0);
  onnx::TensorProto written;
  ASSERT_TRUE(TensorToProto(*tensor, "w", nullptr, &written).ok());
  auto again = TensorFromProto(written, {});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->BitwiseEquals(*tensor));
}

TEST(OnnxIoTest, ExternalDataWritesAndReadsBack) {
  TempDir dir;
  auto model = LoadModel(SHRINK_SHARED_MODELS_DIR "/mnist_cnn.onnx");
  ASSERT_TRUE(model.ok());
  ExportOptions options;
  options.external_data = ExternalDataMode::kAlways;
  std::string path = dir.File("cnn.onnx");
  ASSERT_TRUE(SaveModel(*model, path, options).ok());
  EXPECT_TRUE(FileExists(dir.File("cnn.onnx.data")));
  EXPECT_LT(*FileSize(path), 20000u);  // weights (436 KB) live in the side file
  auto reloaded = LoadModel(path);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  for (const std::string& name : model->graph.initializer_names()) {
    const Tensor* before = model->graph.FindInitializer(name);
    const Tensor* after = reloaded->graph.FindInitializer(name);
    ASSERT_NE(after, nullptr) << name;
    EXPECT_TRUE(before->BitwiseEquals(*after)) << name;
  }
  // The automatic mode keeps small models inline.
  ASSERT_TRUE(SaveModel(*model, dir.File("inline.onnx")).ok());
  EXPECT_FALSE(FileExists(dir.File("inline.onnx.data")));
}

// Builds a model whose one initializer points at `location` as external data.
std::string ModelWithExternalLocation(const std::string& location) {
  Model model = testing::EmptyModel();
  model.graph.inputs.push_back(testing::TensorInfo("x", DataType::kFloat32, {4}));
  model.graph.outputs.push_back(testing::TensorInfo("y", DataType::kFloat32, {4}));
  testing::AddTestNode(&model.graph, "Add", {"x", "w"}, {"y"});
  model.graph.SetInitializer("w", Tensor(DataType::kFloat32, {4}));
  onnx::ModelProto proto;
  EXPECT_TRUE(ModelToProto(model, nullptr, &proto).ok());
  auto* w = proto.mutable_graph()->mutable_initializer(0);
  w->clear_raw_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* entry = w->add_external_data();
  entry->set_key("location");
  entry->set_value(location);
  return proto.SerializeAsString();
}

TEST(OnnxIoTest, ExternalDataCannotEscapeTheModelDirectory) {
  TempDir dir;
  std::string inner = dir.File("models");
  ASSERT_EQ(mkdir(inner.c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(dir.File("secret.bin"), std::string(16, 'x')).ok());
  ASSERT_TRUE(WriteFile(JoinPath(inner, "ok.bin"), std::string(16, '\0')).ok());
  ASSERT_EQ(symlink(dir.File("secret.bin").c_str(), JoinPath(inner, "link.bin").c_str()), 0);
  struct Case {
    std::string location;
    std::string error;
  } cases[] = {
      {"../secret.bin", "escapes the model's directory"},
      {"sub/../../secret.bin", "escapes the model's directory"},
      {dir.File("secret.bin"), "is absolute"},
      {"link.bin", "resolves outside the model's directory"},
      {"missing.bin", "not found"},
      {"", "empty location"},
  };
  for (const Case& c : cases) {
    std::string path = JoinPath(inner, "m.onnx");
    ASSERT_TRUE(WriteFile(path, ModelWithExternalLocation(c.location)).ok());
    auto model = LoadModel(path);
    ASSERT_FALSE(model.ok()) << c.location;
    EXPECT_NE(model.status().message().find(c.error), std::string::npos)
        << c.location << ": " << model.status().ToString();
  }
  std::string path = JoinPath(inner, "good.onnx");
  ASSERT_TRUE(WriteFile(path, ModelWithExternalLocation("ok.bin")).ok());
  EXPECT_TRUE(LoadModel(path).ok());
}

TEST(OnnxIoTest, OversizedFilesAreRejectedWithAClearMessage) {
  ImportOptions options;
  options.max_model_bytes = 1000;
  auto model = LoadModel(SHRINK_SHARED_MODELS_DIR "/mnist_cnn.onnx", options);
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("external data"), std::string::npos);
}

TEST(OnnxIoTest, UnknownOpsAndCustomDomainsSurvive) {
  Model model = testing::EmptyModel();
  model.opset_imports.push_back({"com.example", 3});
  model.graph.inputs.push_back(testing::TensorInfo("x", DataType::kFloat32, {2}));
  model.graph.outputs.push_back(testing::TensorInfo("y", DataType::kFloat32, {2}));
  Node* node = testing::AddTestNode(&model.graph, "Frobnicate", {"x"}, {"y"},
                                    {testing::IntAttr("level", 3)}, "com.example");
  EXPECT_EQ(node->op, OpType::kUnknown);
  auto bytes = SerializeModel(model);
  ASSERT_TRUE(bytes.ok());
  auto reloaded = ParseModel(*bytes, "");
  ASSERT_TRUE(reloaded.ok());
  const Node& back = *reloaded->graph.nodes[0];
  EXPECT_EQ(back.op_type, "Frobnicate");
  EXPECT_EQ(back.domain, "com.example");
  EXPECT_EQ(back.GetInt("level", 0), 3);
  EXPECT_EQ(reloaded->OpsetVersion("com.example"), 3);
}

TEST(OnnxIoTest, ShapeInferenceFillsValueInfo) {
  auto model = LoadModel(SHRINK_SHARED_MODELS_DIR "/mnist_cnn.onnx");
  ASSERT_TRUE(model.ok());
  model->graph.value_info.clear();
  ASSERT_TRUE(InferShapes(&*model).ok());
  // Every intermediate value of this all-standard-op model gets a type with a shape.
  size_t intermediates = 0;
  for (const auto& node : model->graph.nodes) intermediates += node->outputs.size();
  EXPECT_EQ(model->graph.value_info.size(), intermediates - 1);  // minus the graph output
  for (const ValueInfo& info : model->graph.value_info) {
    EXPECT_EQ(info.type.elem_type, DataType::kFloat32) << info.name;
    EXPECT_TRUE(info.type.has_shape) << info.name;
  }
}

}  // namespace
}  // namespace shrink::engine
