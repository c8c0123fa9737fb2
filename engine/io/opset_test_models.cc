#include "engine/io/opset_test_models.h"

#include "engine/kernels/kernel_test_util.h"

namespace shrink::engine::testing_models {
namespace {

using testing::AddTestNode;
using testing::IntAttr;
using testing::IntsAttr;
using testing::StringAttr;
using testing::TensorInfo;

Tensor Iota(Shape shape, float step) {
  Tensor t(DataType::kFloat32, shape);
  for (int64_t i = 0; i < t.size(); ++i) t.data<float>()[i] = float(i) * step;
  return t;
}

}  // namespace

Model SmallModel(int64_t ir_version, int64_t opset) {
  Model model = testing::EmptyModel(opset);
  model.ir_version = ir_version;
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {2, 4}));
  if (ir_version < 4) g.inputs.push_back(TensorInfo("bias", DataType::kFloat32, {4}));
  g.outputs.push_back(TensorInfo("y", DataType::kFloat32, {2, 4}));
  g.SetInitializer("bias", Tensor::FromVector<float>({4}, {0.5f, -1.0f, 0.25f, 2.0f}));
  AddTestNode(&g, "Relu", {"x"}, {"r"});
  AddTestNode(&g, "Add", {"r", "bias"}, {"a"});
  AddTestNode(&g, "Softmax", {"a"}, {"y"});
  return model;
}

std::vector<NamedTensor> SmallModelFeeds() {
  Tensor x = Iota({2, 4}, 0.7f);
  x.data<float>()[1] = -3.0f;
  return {{"x", x}};
}

Model Opset18FormsModel() {
  Model model = testing::EmptyModel(18);
  model.ir_version = 8;
  Graph& g = model.graph;
  g.inputs.push_back(TensorInfo("a", DataType::kFloat32, {7, 2}));
  g.inputs.push_back(TensorInfo("x", DataType::kFloat32, {2, 3, 4}));
  g.inputs.push_back(TensorInfo("img", DataType::kFloat32, {1, 1, 4, 6}));
  const std::vector<Shape> shapes = Opset18FormsOutputShapes();
  const char* names[] = {"s0", "s1", "s2", "rm", "pad", "r_aa", "r_keep"};
  for (size_t i = 0; i < shapes.size(); ++i) {
    g.outputs.push_back(TensorInfo(names[i], DataType::kFloat32, shapes[i]));
  }
  g.SetInitializer("rm_axes", Tensor::FromVector<int64_t>({1}, {1}));
  g.SetInitializer("pads", Tensor::FromVector<int64_t>({2}, {1, 2}));
  g.SetInitializer("pad_value", Tensor::Scalar<float>(0.5f));
  g.SetInitializer("pad_axes", Tensor::FromVector<int64_t>({1}, {2}));
  g.SetInitializer("scales", Tensor::FromVector<float>({4}, {1, 1, 0.5f, 0.5f}));
  g.SetInitializer("sizes", Tensor::FromVector<int64_t>({2}, {3, 3}));
  AddTestNode(&g, "Split", {"a"}, {"s0", "s1", "s2"},
              {IntAttr("axis", 0), IntAttr("num_outputs", 3)});
  AddTestNode(&g, "ReduceMean", {"x", "rm_axes"}, {"rm"}, {IntAttr("keepdims", 1)});
  AddTestNode(&g, "Pad", {"x", "pads", "pad_value", "pad_axes"}, {"pad"});
  AddTestNode(&g, "Resize", {"img", "", "scales"}, {"r_aa"},
              {StringAttr("mode", "linear"), IntAttr("antialias", 1)});
  AddTestNode(&g, "Resize", {"img", "", "", "sizes"}, {"r_keep"},
              {StringAttr("mode", "linear"), StringAttr("keep_aspect_ratio_policy", "not_larger"),
               IntsAttr("axes", {2, 3})});
  return model;
}

std::vector<NamedTensor> Opset18FormsFeeds() {
  return {
      {"a", Iota({7, 2}, 1.0f)}, {"x", Iota({2, 3, 4}, 1.0f)}, {"img", Iota({1, 1, 4, 6}, 0.5f)}};
}

std::vector<Shape> Opset18FormsOutputShapes() {
  return {{3, 2}, {3, 2}, {1, 2}, {2, 1, 4}, {2, 3, 7}, {1, 1, 2, 3}, {1, 1, 2, 3}};
}

}  // namespace shrink::engine::testing_models
