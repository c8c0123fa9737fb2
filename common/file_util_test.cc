#include "common/file_util.h"

#include <gtest/gtest.h>

namespace shrink {
namespace {

TEST(FileUtilTest, WriteReadRoundTrip) {
  auto dir = MakeTempDir("shrink-file-test");
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  std::string path = JoinPath(*dir, "a.bin");
  std::string payload("x\0y", 3);
  ASSERT_TRUE(WriteFile(path, payload).ok());
  auto read = ReadFile(path);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, payload);
  EXPECT_EQ(*FileSize(path), 3u);
  EXPECT_EQ(ReadFile(path, 2).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ReadFile(*dir).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadFile(JoinPath(*dir, "missing")).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(RemoveAll(*dir).ok());
  EXPECT_FALSE(FileExists(path));
}

TEST(FileUtilTest, PathHelpers) {
  EXPECT_EQ(DirName("a/b/c.onnx"), "a/b");
  EXPECT_EQ(DirName("c.onnx"), ".");
  EXPECT_EQ(DirName("/c.onnx"), "/");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(JoinPath(".", "b"), "b");
}

}  // namespace
}  // namespace shrink
