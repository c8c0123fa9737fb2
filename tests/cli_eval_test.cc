// `shrink eval` end to end: the built binary on the MNIST eval subset, --json and the table, and
// bad inputs exiting 1 with a message naming the file and the problem.
#include <gtest/gtest.h>

#include "engine/io/npy.h"
#include "engine/io/onnx_export.h"
#include "engine/kernels/kernel_test_util.h"
#include "tests/cli_fixture.h"
#include "tests/test_inputs.h"

namespace shrink {
namespace {

using engine::Tensor;

class CliEvalTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    model_ = JoinPath(testing::SharedModelsDir(), "mnist_mlp.onnx");
    const std::string mnist = JoinPath(testing::AssetKitRoot(), "data/mnist");
    if (!FileExists(model_) || !FileExists(JoinPath(mnist, "t10k-images-idx3-ubyte"))) {
      GTEST_SKIP() << "needs " << model_ << " and the MNIST files in " << mnist;
    }
    auto subset = testing::LoadMnistSet(mnist, "t10k", 1000);
    ASSERT_TRUE(subset.ok()) << subset.status().ToString();
    images_ = *testing::MnistImages(*subset, 0, 1000, {1000, 1, 28, 28});
    labels_.assign(subset->labels.begin(), subset->labels.end());
    data_ = File("eval.npz");
    ASSERT_TRUE(engine::WriteNpz(data_, {{"input", images_}, {"labels", Labels(1000)}},
                                 engine::NpzCompression::kStored)
                    .ok());
  }

  Tensor Labels(int64_t n) const {
    return Tensor::FromVector<int64_t>({n},
                                       std::vector<int64_t>(labels_.begin(), labels_.begin() + n));
  }

  std::string model_, data_;
  Tensor images_;
  std::vector<int64_t> labels_;
};

TEST_F(CliEvalTest, JsonIsTheEvaluationMessage) {
  CommandResult r = Shrink("eval " + model_ + " --reference " + model_ + " --data " + data_ +
                           " --threads 2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "one JSON object on one line";
  for (const char* part : {"\"runtime\":\"onnxruntime ", "\"samples\":\"1000\"",
                           "\"referenceCorrect\":\"964\"", "\"candidateCorrect\":\"964\"",
                           "\"drop\":0", "\"sqnrDb\":999", "\"agreement\":1", "\"dataSha256\":"}) {
    EXPECT_NE(r.out.find(part), std::string::npos) << part << " in " << r.out;
  }
}

TEST_F(CliEvalTest, TableNamesTheRuntimeAndTheFigures) {
  CommandResult r = Shrink("eval " + model_ + " --reference " + model_ + " --data " + data_ +
                           " --runtime shrink --top-k 3 --max-samples 500");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* part : {"run by shrink", "(500 samples)", "top-1", "top-3", "drop 0.00 points",
                           "logits", "100.00%", "inf"}) {
    EXPECT_NE(r.out.find(part), std::string::npos) << part << " in " << r.out;
  }
}

TEST_F(CliEvalTest, BadInputsExitOneNamingFileAndProblem) {
  // A model with another output name ("probs") and the same input.
  engine::Model other = engine::testing::EmptyModel(13);
  other.graph.inputs.push_back(
      engine::testing::TensorInfo("input", engine::DataType::kFloat32, {-1, 1, 28, 28}, {"N"}));
  engine::testing::AddTestNode(&other.graph, "Identity", {"input"}, {"probs"});
  other.graph.outputs.push_back(
      engine::testing::TensorInfo("probs", engine::DataType::kFloat32, {-1, 1, 28, 28}, {"N"}));
  const std::string other_path = File("other.onnx");
  ASSERT_TRUE(engine::SaveModel(other, other_path).ok());
  const std::string short_labels = File("short.npz");
  ASSERT_TRUE(engine::WriteNpz(short_labels, {{"input", images_}, {"labels", Labels(999)}},
                               engine::NpzCompression::kStored)
                  .ok());
  struct Case {
    const char* what;
    std::string args;
    std::vector<std::string> expected;
  };
  const Case cases[] = {
      {"missing data",
       model_ + " --reference " + model_ + " --data " + File("none.npz"),
       {"none.npz", "no such file"}},
      {"missing model",
       File("none.onnx") + " --reference " + model_ + " --data " + data_,
       {"none.onnx", "candidate model"}},
      {"different outputs",
       other_path + " --reference " + model_ + " --data " + data_,
       {"different outputs", "'probs'", "'logits'"}},
      {"labels count",
       model_ + " --reference " + model_ + " --data " + short_labels,
       {"short.npz", "labels"}},
      {"unknown runtime",
       model_ + " --reference " + model_ + " --data " + data_ + " --runtime x",
       {"--runtime"}},
      {"no reference", model_ + " --data " + data_, {"--reference"}},
  };
  for (const Case& c : cases) {
    CommandResult r = Shrink("eval " + c.args);
    EXPECT_EQ(r.exit_code, 1) << c.what << ": " << r.err;
    for (const std::string& part : c.expected) {
      EXPECT_NE(r.err.find(part), std::string::npos) << c.what << ": " << r.err;
    }
  }
}

}  // namespace
}  // namespace shrink
