// `shrink run` end to end: real binary, real models, ONNX Runtime checking what was written.
#include <string>

#include "common/file_util.h"
#include "engine/io/npy.h"
#include "tests/cli_fixture.h"

namespace shrink {
namespace {

const std::string kCnn = SHRINK_SHARED_MODELS_DIR "/mnist_cnn.onnx";
const std::string kMlp = SHRINK_SHARED_MODELS_DIR "/mnist_mlp.onnx";

class RunCommandTest : public CliTest {
 protected:
  std::string CalibrationData() {
    std::string path = File("calib.npz");
    EXPECT_TRUE(
        engine::WriteNpz(path, {{"input", Images(32)}}, engine::NpzCompression::kStored).ok());
    return path;
  }
};

TEST_F(RunCommandTest, Int8PresetWritesAModelOrtRunsAndAReport) {
  std::string calib = CalibrationData();
  CommandResult r = Shrink("run " + kCnn + " --preset int8 --calib " + calib + " --out " +
                           File("q.onnx") + " --report " + File("report.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(FileExists(File("q.onnx")));
  EXPECT_FALSE(FileExists(File("q.onnx.partial")));
  EXPECT_NE(r.err.find("ONNX Runtime"), std::string::npos) << r.err;
  std::string report = ReadFile(File("report.json")).value();
  EXPECT_NE(report.find("\"schema\": 1"), std::string::npos);
  EXPECT_NE(report.find("\"action\": \"quantized\""), std::string::npos);
  EXPECT_NE(report.find("\"calibrator\": \"minmax\""), std::string::npos) << report;
}

TEST_F(RunCommandTest, JsonPrintsExactlyOneObjectOnStdout) {
  CommandResult r = Shrink("run " + kMlp + " --preset int8-dynamic --json --out " + File("d.onnx"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_FALSE(r.out.empty());
  EXPECT_EQ(r.out.front(), '{');
  EXPECT_EQ(r.out.find("\n{"), std::string::npos);
  EXPECT_NE(r.out.find("\"rawRatio\""), std::string::npos);
}

struct BadRun {
  const char* name;
  std::string args;     // after "run"
  const char* message;  // must appear on stderr
};

TEST_F(RunCommandTest, BadInputExitsOneNamingTheProblemAndLeavesNoOutput) {
  ASSERT_TRUE(WriteFile(File("bad.json"), R"({"preset": "int8", "calibrater": "MSE"})").ok());
  ASSERT_TRUE(
      WriteFile(File("contradiction.json"), R"({"steps": [{"quantize": {}}, {"float16": {}}]})")
          .ok());
  ASSERT_TRUE(WriteFile(File("wrong.npz"), "").ok());
  ASSERT_TRUE(engine::WriteNpz(File("misnamed.npz"), {{"pixels", Images(4)}},
                               engine::NpzCompression::kStored)
                  .ok());
  ASSERT_TRUE(WriteFile(File("corrupt.onnx"), "this is not a model").ok());
  const std::string out = " --out " + File("out.onnx");
  const BadRun cases[] = {
      {"missing calibration", kCnn + " --preset int8" + out, "--calib"},
      {"unknown preset", kCnn + " --preset int3" + out, "unknown preset 'int3'"},
      {"unknown recipe field", kCnn + " --recipe " + File("bad.json") + out, "calibrater"},
      {"contradiction", kCnn + " --recipe " + File("contradiction.json") + out, "contradict"},
      {"preset and recipe", kCnn + " --preset int8 --recipe " + File("bad.json") + out,
       "exactly one of --preset and --recipe"},
      {"data names", kCnn + " --preset int8 --calib " + File("misnamed.npz") + out,
       "no array named 'input'"},
      {"empty npz", kCnn + " --preset int8 --calib " + File("wrong.npz") + out, "wrong.npz"},
      {"corrupt model", File("corrupt.onnx") + " --preset int8-dynamic" + out, "corrupt.onnx"},
      {"missing model", File("nope.onnx") + " --preset float16" + out, "nope.onnx"},
      {"missing out dir", kCnn + " --preset float16 --out " + File("no/such/dir/x.onnx"),
       "does not exist"},
  };
  for (const BadRun& c : cases) {
    CommandResult r = Shrink("run " + c.args);
    EXPECT_EQ(r.exit_code, 1) << c.name << ": " << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.name << ": " << r.err;
    EXPECT_FALSE(FileExists(File("out.onnx"))) << c.name;
    EXPECT_FALSE(FileExists(File("out.onnx.partial"))) << c.name;
  }
}

}  // namespace
}  // namespace shrink
