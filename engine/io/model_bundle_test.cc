#include "engine/io/model_bundle.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

#include "common/file_util.h"
#include "engine/io/onnx_export.h"
#include "engine/io/onnx_import.h"

namespace shrink::engine {
namespace {

class ModelBundleTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir("shrink-bundle-test").value(); }
  void TearDown() override { (void)RemoveAll(dir_); }
  std::string File(const std::string& name) const { return JoinPath(dir_, name); }

  // One tar header block (+ payload) in ustar form, with a correct checksum unless told.
  static std::string TarEntry(const std::string& name, char type, const std::string& payload,
                              bool good_checksum = true) {
    char header[512] = {};
    std::snprintf(header, 100, "%s", name.c_str());
    std::snprintf(header + 100, 8, "%07o", 0644);
    std::snprintf(header + 124, 12, "%011o", unsigned(payload.size()));
    header[156] = type;
    std::memcpy(header + 257, "ustar", 5);
    std::memset(header + 148, ' ', 8);
    unsigned sum = 0;
    for (char c : header) sum += uint8_t(c);
    std::snprintf(header + 148, 8, "%06o", good_checksum ? sum : sum + 1);
    std::string block(header, 512);
    std::string data = payload;
    data.resize((payload.size() + 511) / 512 * 512, '\0');
    return block + data;
  }
  static std::string End() { return std::string(1024, '\0'); }

  std::string dir_;
};

TEST_F(ModelBundleTest, DirectoryAndTarWithExternalDataLoadLikeTheFile) {
  const std::string source = SHRINK_SHARED_MODELS_DIR "/mnist_mlp.onnx";
  if (!FileExists(source)) GTEST_SKIP() << "no shared models";
  Model model = LoadModel(source).value();
  ASSERT_EQ(std::system(("mkdir -p " + File("pkg")).c_str()), 0);
  ExportOptions options;
  options.external_data = ExternalDataMode::kAlways;
  ASSERT_TRUE(SaveModel(model, File("pkg/mlp.onnx"), options).ok());
  ASSERT_TRUE(FileExists(File("pkg/mlp.onnx.data")));
  ASSERT_EQ(std::system(("tar -C " + dir_ + " -cf " + File("pkg.tar") + " pkg").c_str()), 0);

  for (const std::string& path : {File("pkg"), File("pkg.tar"), File("pkg/mlp.onnx")}) {
    auto bundle = ModelBundle::Open(path);
    ASSERT_TRUE(bundle.ok()) << path << ": " << bundle.status().ToString();
    auto loaded = LoadModel(bundle->model_path());
    ASSERT_TRUE(loaded.ok()) << path << ": " << loaded.status().ToString();
    const Tensor* weight = loaded->graph.FindInitializer(model.graph.initializer_names()[0]);
    ASSERT_NE(weight, nullptr);
    EXPECT_EQ(
        std::memcmp(weight->raw_data(),
                    model.graph.FindInitializer(model.graph.initializer_names()[0])->raw_data(),
                    size_t(weight->nbytes())),
        0);
  }
  std::string unpacked;
  {
    auto bundle = ModelBundle::Open(File("pkg.tar"));
    ASSERT_TRUE(bundle.ok());
    EXPECT_TRUE(bundle->unpacked());
    unpacked = DirName(bundle->model_path());
  }
  EXPECT_FALSE(IsDirectory(unpacked)) << "the unpacked copy is removed with the bundle";
}

TEST_F(ModelBundleTest, HostileArchivesAreRejectedNamingTheEntry) {
  struct Case {
    const char* name;
    std::string bytes;
    const char* message;
  };
  const Case cases[] = {
      {"parent", TarEntry("../evil.onnx", '0', "x") + End(), "leaves the archive"},
      {"nested parent", TarEntry("a/../../evil", '0', "x") + End(), "leaves the archive"},
      {"absolute", TarEntry("/etc/evil", '0', "x") + End(), "absolute"},
      {"symlink", TarEntry("link", '2', "") + End(), "link or special file"},
      {"checksum", TarEntry("m.onnx", '0', "x", false) + End(), "checksum"},
      {"truncated", TarEntry("m.onnx", '0', std::string(2000, 'x')).substr(0, 1024), "truncated"},
      {"no end", TarEntry("m.onnx", '0', "x"), "no end marker"},
      {"no model", TarEntry("readme.txt", '0', "hello") + End(), "no .onnx file"},
  };
  for (const Case& c : cases) {
    std::string path = File(std::string(c.name) + ".tar");
    ASSERT_TRUE(WriteFile(path, c.bytes).ok());
    auto bundle = ModelBundle::Open(path);
    ASSERT_FALSE(bundle.ok()) << c.name;
    EXPECT_NE(bundle.status().message().find(c.message), std::string::npos)
        << c.name << ": " << bundle.status().message();
  }
  EXPECT_FALSE(FileExists(JoinPath(DirName(dir_), "evil.onnx")));
}

TEST_F(ModelBundleTest, OversizedArchivesStopAtTheLimit) {
  std::string path = File("big.tar");
  ASSERT_TRUE(WriteFile(path, TarEntry("m.onnx", '0', std::string(4096, 'x')) + End()).ok());
  ModelBundleOptions options;
  options.max_unpacked_bytes = 1000;
  auto bundle = ModelBundle::Open(path, options);
  ASSERT_FALSE(bundle.ok());
  EXPECT_EQ(bundle.status().code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace shrink::engine
