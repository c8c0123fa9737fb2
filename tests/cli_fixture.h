// Fixture for end-to-end tests of the `shrink` binary: a temp directory per test and a helper
// that runs the binary and captures its exit code, stdout and stderr.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "common/file_util.h"
#include "engine/ir/tensor.h"

namespace shrink {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// MNIST-shaped inputs with deterministic values in [0, 1].
inline engine::Tensor TestImages(int64_t count, engine::Shape tail = {1, 28, 28}) {
  engine::Shape shape{count};
  shape.insert(shape.end(), tail.begin(), tail.end());
  engine::Tensor images(engine::DataType::kFloat32, shape);
  for (int64_t i = 0; i < images.size(); ++i) {
    images.data<float>()[i] = float((i * 37) % 256) / 255.0f;
  }
  return images;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = *MakeTempDir("shrink-cli-test"); }
  void TearDown() override { (void)RemoveAll(dir_); }

  std::string File(const std::string& name) const { return JoinPath(dir_, name); }

  CommandResult Shrink(const std::string& args) {
    std::string out = File("stdout.txt"), err = File("stderr.txt");
    std::string command = std::string(SHRINK_BINARY) + " " + args + " >" + out + " 2>" + err;
    int status = std::system(command.c_str());
    CommandResult result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = ReadFile(out).value();
    result.err = ReadFile(err).value();
    return result;
  }

  static engine::Tensor Images(int64_t count, engine::Shape tail = {1, 28, 28}) {
    return TestImages(count, tail);
  }

  std::string dir_;
};

}  // namespace shrink
