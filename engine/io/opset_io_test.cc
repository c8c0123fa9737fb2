// Import/export across IR 3..10 and opsets 9..18, the opset-18 forms of our kernels, and the
// checks that stand in for libonnx where it is older than the model (shape inference, checker).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/io/model_check.h"
#include "engine/io/onnx_export.h"
#include "engine/io/onnx_import.h"
#include "engine/io/opset_test_models.h"
#include "engine/io/shape_inference.h"
#include "engine/runtime/executor.h"

namespace shrink::engine {
namespace {

StatusOr<std::vector<Tensor>> RunModel(const Model& model, const std::vector<NamedTensor>& feeds) {
  ASSIGN_OR_RETURN(auto executor, Executor::Create(model, {2, false}));
  return executor->Run(feeds);
}

void ExpectBitwiseEqual(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(a[i].BitwiseEquals(b[i])) << "output " << i;
}

TEST(OpsetRoundTrip, EveryIrAndOpsetImportsRunsAndExports) {
  for (int64_t ir : {3, 7, 8, 9, 10}) {
    for (int64_t opset : {9, 11, 13, 15, 17, 18}) {
      SCOPED_TRACE("IR " + std::to_string(ir) + " opset " + std::to_string(opset));
      Model built = testing_models::SmallModel(ir, opset);
      auto bytes = SerializeModel(built);
      ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
      auto model = ParseModel(*bytes, "");
      ASSERT_TRUE(model.ok()) << model.status().ToString();
      EXPECT_EQ(model->ir_version, ir);
      EXPECT_EQ(model->OpsetVersion(""), opset);
      auto feeds = testing_models::SmallModelFeeds();
      auto first = RunModel(*model, feeds);
      ASSERT_TRUE(first.ok()) << first.status().ToString();
      auto again = SerializeModel(*model);
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(*again, *bytes) << "export of an untouched import changed the bytes";
      auto reloaded = ParseModel(*again, "");
      ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
      auto second = RunModel(*reloaded, feeds);
      ASSERT_TRUE(second.ok()) << second.status().ToString();
      ExpectBitwiseEqual(*first, *second);
      auto check = CheckExportedModel(*reloaded);
      ASSERT_TRUE(check.ok()) << check.status().ToString();
      bool libonnx = ir <= kLibOnnxMaxIrVersion && opset <= kLibOnnxMaxOpset;
      EXPECT_EQ(*check == "onnx checker", libonnx) << *check;
    }
  }
}

TEST(OpsetRoundTrip, Opset18FormsRunInOurKernels) {
  Model built = testing_models::Opset18FormsModel();
  auto bytes = SerializeModel(built);
  ASSERT_TRUE(bytes.ok());
  auto model = ParseModel(*bytes, "");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto outputs = RunModel(*model, testing_models::Opset18FormsFeeds());
  ASSERT_TRUE(outputs.ok()) << outputs.status().ToString();
  const std::vector<Shape> expected = testing_models::Opset18FormsOutputShapes();
  ASSERT_EQ(outputs->size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ((*outputs)[i].shape(), expected[i]) << "output " << i;
  }
  // Split num_outputs=3 of 7 rows: 3, 3, 1; the last part holds row 6 (values 12, 13).
  EXPECT_EQ((*outputs)[2].data<float>()[0], 12.0f);
  // ReduceMean over axis 1 (axes input) of x[2,3,4] = i: mean of rows i, i+4, i+8.
  EXPECT_EQ((*outputs)[3].data<float>()[0], 4.0f);
  auto check = CheckExportedModel(*model);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_EQ(*check, "engine checks: opset 18 is newer than libonnx 1.12");
}

TEST(ModelCheck, EngineChecksCatchWhatLibOnnxWouldAt18) {
  Model model = testing_models::Opset18FormsModel();
  // A Reduce* node that still carries its axes attribute was written for an older opset.
  for (auto& node : model.graph.nodes) {
    if (node->op == OpType::kReduceMean) {
      Attribute axes;
      axes.name = "axes";
      axes.type = AttributeType::kInts;
      axes.ints = {1};
      node->SetAttribute(axes);
    }
  }
  auto check = CheckExportedModel(model);
  ASSERT_FALSE(check.ok());
  EXPECT_NE(check.status().message().find("axes"), std::string::npos) << check.status().ToString();

  Model missing_import = testing_models::SmallModel(8, 18);
  missing_import.graph.nodes[0]->domain = "com.example";
  check = CheckExportedModel(missing_import);
  ASSERT_FALSE(check.ok());
  EXPECT_NE(check.status().message().find("com.example"), std::string::npos);

  Model unknown_op = testing_models::SmallModel(10, 13);
  unknown_op.graph.nodes[0]->op_type = "NoSuchOp";
  unknown_op.graph.nodes[0]->op = OpType::kUnknown;
  check = CheckExportedModel(unknown_op);
  ASSERT_FALSE(check.ok());
  EXPECT_NE(check.status().message().find("NoSuchOp"), std::string::npos);
}

TEST(ShapeInference, NewerThanLibOnnxDoesNotFail) {
  Model at18 = testing_models::Opset18FormsModel();
  auto report = InferShapesWithReport(&at18);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->inferred);
  EXPECT_NE(report->note.find("opset 18"), std::string::npos) << report->note;

  Model ir10 = testing_models::SmallModel(10, 13);
  report = InferShapesWithReport(&ir10);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->inferred);
  EXPECT_NE(report->note.find("IR 10"), std::string::npos) << report->note;
  EXPECT_FALSE(ir10.graph.value_info.empty());

  Model ir8 = testing_models::SmallModel(8, 17);
  report = InferShapesWithReport(&ir8);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->inferred);
  EXPECT_TRUE(report->note.empty());

  ImportOptions options;
  options.infer_shapes = true;
  auto bytes = SerializeModel(testing_models::Opset18FormsModel());
  ASSERT_TRUE(bytes.ok());
  EXPECT_TRUE(ParseModel(*bytes, "", options).ok());
}

}  // namespace
}  // namespace shrink::engine
