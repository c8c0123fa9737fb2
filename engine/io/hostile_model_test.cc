// Corrupt, truncated and hostile model files: each must come back as an error that names the
// problem, never a crash (run under ASan/UBSan by the fuzz build too).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "common/file_util.h"
#include "engine/io/onnx_import.h"
#include "engine/io/proto_convert.h"
#include "engine/kernels/kernel_test_util.h"

namespace shrink::engine {
namespace {

using testing::AddTestNode;
using testing::TensorInfo;

onnx::ModelProto SmallModelProto() {
  Model model = testing::EmptyModel();
  model.graph.inputs.push_back(TensorInfo("x", DataType::kFloat32, {2, 2}));
  model.graph.outputs.push_back(TensorInfo("y", DataType::kFloat32, {2, 2}));
  AddTestNode(&model.graph, "Add", {"x", "w"}, {"s"});
  AddTestNode(&model.graph, "Relu", {"s"}, {"y"});
  model.graph.SetInitializer("w", Tensor::FromVector<float>({2, 2}, {1, 2, 3, 4}));
  onnx::ModelProto proto;
  EXPECT_TRUE(ModelToProto(model, nullptr, &proto).ok());
  return proto;
}

Status Parse(const onnx::ModelProto& proto) {
  return ParseModel(proto.SerializeAsString(), "").status();
}

struct HostileCase {
  const char* name;
  void (*mutate)(onnx::ModelProto*);
  const char* expected_error;
};

const HostileCase kCases[] = {
    {"cycle",
     [](onnx::ModelProto* m) { m->mutable_graph()->mutable_node(0)->set_input(0, "y"); },
     "cycle"},
    {"dangling input",
     [](onnx::ModelProto* m) { m->mutable_graph()->mutable_node(1)->set_input(0, "ghost"); },
     "'ghost'"},
    {"undefined graph output",
     [](onnx::ModelProto* m) { m->mutable_graph()->mutable_output(0)->set_name("nothing"); },
     "never produced"},
    {"value defined twice",
     [](onnx::ModelProto* m) { m->mutable_graph()->mutable_node(1)->set_output(0, "s"); },
     "more than once"},
    {"absurd initializer shape",
     [](onnx::ModelProto* m) {
       auto* w = m->mutable_graph()->mutable_initializer(0);
       w->set_dims(0, int64_t(1) << 40);
     },
     "holds data for"},
    {"overflowing shape",
     [](onnx::ModelProto* m) {
       auto* w = m->mutable_graph()->mutable_initializer(0);
       w->set_dims(0, int64_t(1) << 40);
       w->set_dims(1, int64_t(1) << 40);
     },
     "overflows"},
    {"negative dim",
     [](onnx::ModelProto* m) { m->mutable_graph()->mutable_initializer(0)->set_dims(0, -2); },
     "negative dimension"},
    {"raw_data byte count",
     [](onnx::ModelProto* m) {
       m->mutable_graph()->mutable_initializer(0)->mutable_raw_data()->append("xyz");
     },
     "needs 16 bytes but has 19"},
    {"typed field count",
     [](onnx::ModelProto* m) {
       auto* w = m->mutable_graph()->mutable_initializer(0);
       w->clear_raw_data();
       w->add_float_data(1.0f);
     },
     "holds data for 1"},
    {"unknown dtype",
     [](onnx::ModelProto* m) { m->mutable_graph()->mutable_initializer(0)->set_data_type(99); },
     "unknown data_type 99"},
    {"no graph", [](onnx::ModelProto* m) { m->clear_graph(); }, "no graph"},
    {"negative value_info dim",
     [](onnx::ModelProto* m) {
       m->mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()
           ->mutable_shape()->mutable_dim(0)->set_dim_value(-7);
     },
     "negative dimension -7"},
    {"duplicate initializer",
     [](onnx::ModelProto* m) {
       *m->mutable_graph()->add_initializer() = m->graph().initializer(0);
     },
     "defined twice"},
    {"external data without a file",
     [](onnx::ModelProto* m) {
       auto* w = m->mutable_graph()->mutable_initializer(0);
       w->clear_raw_data();
       w->set_data_location(onnx::TensorProto::EXTERNAL);
     },
     "not loaded from a file"},
};

TEST(HostileModelTest, EachCaseFailsWithANamedProblem) {
  for (const HostileCase& c : kCases) {
    onnx::ModelProto proto = SmallModelProto();
    c.mutate(&proto);
    Status status = Parse(proto);
    ASSERT_FALSE(status.ok()) << c.name;
    EXPECT_NE(status.message().find(c.expected_error), std::string::npos)
        << c.name << ": " << status.ToString();
  }
  EXPECT_TRUE(Parse(SmallModelProto()).ok());
}

TEST(HostileModelTest, DeeplyNestedSubgraphsAreRejected) {
  onnx::GraphProto innermost;
  innermost.set_name("leaf");
  onnx::GraphProto current = innermost;
  for (int depth = 0; depth < 80; ++depth) {
    onnx::GraphProto parent;
    auto* node = parent.add_node();
    node->set_op_type("If");
    node->add_input("c");
    auto* attr = node->add_attribute();
    attr->set_name("then_branch");
    attr->set_type(onnx::AttributeProto::GRAPH);
    *attr->mutable_g() = current;
    current = parent;
  }
  onnx::ModelProto model;
  model.set_ir_version(8);
  *model.mutable_graph() = current;
  Status status = ParseModel(model.SerializeAsString(), "").status();
  ASSERT_FALSE(status.ok());
}

TEST(HostileModelTest, TruncatedAndBitFlippedRealModelsNeverCrash) {
  auto bytes = ReadFile(SHRINK_SHARED_MODELS_DIR "/mnist_cnn.onnx");
  ASSERT_TRUE(bytes.ok());
  int rejected = 0, total = 0;
  for (size_t length = 0; length < bytes->size(); length += 997) {
    ++total;
    rejected += !ParseModel(std::string_view(*bytes).substr(0, length), "").ok();
  }
  // Every strict prefix cuts a field or a tensor short.
  EXPECT_EQ(rejected, total);
  std::mt19937 random(1234);
  for (int trial = 0; trial < 300; ++trial) {
    std::string mutated = *bytes;
    for (int flip = 0; flip < 8; ++flip) {
      mutated[random() % mutated.size()] ^= char(1 << (random() % 8));
    }
    (void)ParseModel(mutated, "");  // must return, whatever it returns
  }
  EXPECT_EQ(ParseModel("", "").status().message(), "the model file is empty");
  EXPECT_NE(ParseModel("definitely not protobuf", "").status().message().find("corrupt"),
            std::string::npos);
}

TEST(HostileModelTest, MissingFileIsNamed) {
  auto model = LoadModel("/nonexistent/model.onnx");
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("/nonexistent/model.onnx"), std::string::npos);
}

}  // namespace
}  // namespace shrink::engine
