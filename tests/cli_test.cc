// End-to-end tests of the `shrink` binary: real processes, real files, real models.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "engine/io/npy.h"
#include "engine/io/onnx_export.h"
#include "engine/io/onnx_import.h"
#include "engine/kernels/kernel_test_util.h"
#include "engine/runtime/executor.h"
#include "tests/cli_fixture.h"

namespace shrink {
namespace {

using engine::DataType;
using engine::NamedTensor;
using engine::Tensor;

const std::string kMlp = SHRINK_SHARED_MODELS_DIR "/mnist_mlp.onnx";

std::vector<Tensor> RunDirectly(const std::string& model_path, const Tensor& input) {
  auto model = engine::LoadModel(model_path);
  auto executor = engine::Executor::Create(*model, {1, false});
  return (*executor)->Run({{"input", input}}).value();
}

Tensor ReadOutput(const std::string& path, const std::string& name) {
  auto arrays = engine::ReadNpz(path);
  EXPECT_TRUE(arrays.ok()) << arrays.status().ToString();
  for (auto& a : *arrays) {
    if (a.name == name) return a.tensor;
  }
  ADD_FAILURE() << "no array " << name << " in " << path;
  return Tensor();
}

TEST_F(CliTest, InferWritesOneArrayPerOutputWithTheBatchAxis) {
  Tensor images = Images(5);
  ASSERT_TRUE(engine::WriteNpz(File("data.npz"), {{"input", images}},
                               engine::NpzCompression::kStored).ok());
  auto result = Shrink("infer " + kMlp + " --input " + File("data.npz") + " --out " +
                       File("out.npz") + " --threads 1 --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("\"samples\":5"), std::string::npos) << result.out;
  Tensor logits = ReadOutput(File("out.npz"), "logits");
  EXPECT_EQ(logits.shape(), (engine::Shape{5, 10}));
  // Same engine, same single thread: the CLI adds nothing to the numbers.
  EXPECT_TRUE(logits.BitwiseEquals(RunDirectly(kMlp, images)[0]));
}

TEST_F(CliTest, SplitsIntoBatchesAndAcceptsNpyAndDirectories) {
  Tensor images = Images(5);
  ASSERT_TRUE(engine::WriteNpy(File("data.npy"), images).ok());
  auto result = Shrink("infer " + kMlp + " --input " + File("data.npy") + " --out " +
                       File("out.npz") + " --batch 2 --threads 1");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  Tensor batched = ReadOutput(File("out.npz"), "logits");
  Tensor whole = RunDirectly(kMlp, images)[0];
  ASSERT_EQ(batched.shape(), whole.shape());
  // Different batch sizes may block the GEMM differently: fp32 reassociation, 1e-5 relative.
  for (int64_t i = 0; i < whole.size(); ++i) {
    float expected = whole.data<float>()[i];
    EXPECT_NEAR(batched.data<float>()[i], expected, 1e-5 * std::max(1.0f, std::fabs(expected)));
  }

  std::string data_dir = File("samples");
  ASSERT_EQ(system(("mkdir " + data_dir).c_str()), 0);
  ASSERT_TRUE(engine::WriteNpz(JoinPath(data_dir, "a.npz"), {{"input", Images(2)}},
                               engine::NpzCompression::kDeflate).ok());
  ASSERT_TRUE(engine::WriteNpz(JoinPath(data_dir, "b.npz"), {{"input", Images(3)}},
                               engine::NpzCompression::kStored).ok());
  result = Shrink("infer " + kMlp + " --input " + data_dir + " --out " + File("dir.npz"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(ReadOutput(File("dir.npz"), "logits").shape(), (engine::Shape{5, 10}));
}

TEST_F(CliTest, BadInputGetsExitCodeOneAndANamedProblem) {
  ASSERT_TRUE(engine::WriteNpz(File("wrong_name.npz"), {{"image", Images(2)}},
                               engine::NpzCompression::kStored).ok());
  Tensor doubles(DataType::kFloat64, {2, 1, 28, 28});
  ASSERT_TRUE(engine::WriteNpz(File("wrong_type.npz"), {{"input", doubles}},
                               engine::NpzCompression::kStored).ok());
  ASSERT_TRUE(engine::WriteNpz(File("wrong_shape.npz"), {{"input", Images(2, {28, 28})}},
                               engine::NpzCompression::kStored).ok());
  ASSERT_TRUE(WriteFile(File("corrupt.onnx"), "this is not a model").ok());
  struct Case {
    std::string args;
    std::string message;
  } cases[] = {
      {"infer " + kMlp + " --input " + File("wrong_name.npz") + " --out " + File("o.npz"),
       "has no array named 'input'"},
      {"infer " + kMlp + " --input " + File("wrong_type.npz") + " --out " + File("o.npz"),
       "must be float32, got float64"},
      {"infer " + kMlp + " --input " + File("wrong_shape.npz") + " --out " + File("o.npz"),
       "rank 3 instead of 4"},
      {"infer " + File("missing.onnx") + " --input x.npz --out o.npz", "missing.onnx"},
      {"infer " + File("corrupt.onnx") + " --input x.npz --out o.npz", "corrupt"},
      {"infer " + kMlp + " --input " + File("none.npz") + " --out o.npz", "none.npz not found"},
      {"infer " + kMlp + " --out o.npz", "needs MODEL.onnx, --input and --out"},
      {"infer " + kMlp + " --input a --out b --threads many", "--threads must be"},
  };
  for (const Case& c : cases) {
    auto result = Shrink(c.args);
    EXPECT_EQ(result.exit_code, 1) << c.args << "\n" << result.err;
    EXPECT_NE(result.err.find(c.message), std::string::npos) << c.args << "\n" << result.err;
  }
  EXPECT_EQ(Shrink("bogus").exit_code, 1);
}

TEST_F(CliTest, OutputNamesKeepEveryCharacter) {
  engine::Model model = engine::testing::EmptyModel();
  const std::string odd = "scores/final:0 (x)";
  model.graph.inputs.push_back(engine::testing::TensorInfo("x", DataType::kFloat32, {-1, 3}));
  model.graph.outputs.push_back(engine::testing::TensorInfo(odd, DataType::kFloat32, {-1, 3}));
  engine::testing::AddTestNode(&model.graph, "Relu", {"x"}, {odd});
  ASSERT_TRUE(engine::SaveModel(model, File("odd.onnx")).ok());
  Tensor x = Tensor::FromVector<float>({2, 3}, {-1, 2, -3, 4, -5, 6});
  ASSERT_TRUE(engine::WriteNpy(File("x.npy"), x).ok());
  auto result = Shrink("infer " + File("odd.onnx") + " --input " + File("x.npy") + " --out " +
                       File("odd.npz"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  Tensor y = ReadOutput(File("odd.npz"), odd);
  ASSERT_EQ(y.size(), 6);
  EXPECT_EQ(y.data<float>()[1], 2.0f);
  EXPECT_EQ(y.data<float>()[2], 0.0f);
}

}  // namespace
}  // namespace shrink
