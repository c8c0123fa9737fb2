#include "common/status.h"

#include <gtest/gtest.h>

namespace shrink {
namespace {

StatusOr<int> ParsePositive(int value) {
  if (value <= 0) return InvalidArgument("value must be positive, got " + std::to_string(value));
  return value;
}

Status UseParsed(int value, int* out) {
  ASSIGN_OR_RETURN(*out, ParsePositive(value));
  RETURN_IF_ERROR(OkStatus());
  return OkStatus();
}

TEST(StatusTest, OkAndError) {
  EXPECT_TRUE(OkStatus().ok());
  Status error = NotFound("model abc");
  EXPECT_FALSE(error.ok());
  EXPECT_EQ(error.ToString(), "NOT_FOUND: model abc");
  EXPECT_EQ(error.WithContext("load").message(), "load: model abc");
  EXPECT_EQ(error.WithContext("load").code(), StatusCode::kNotFound);
}

TEST(StatusTest, MacrosPropagate) {
  int out = 0;
  EXPECT_TRUE(UseParsed(5, &out).ok());
  EXPECT_EQ(out, 5);
  Status failed = UseParsed(-1, &out);
  EXPECT_EQ(failed.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(failed.message().find("-1"), std::string::npos);
}

}  // namespace
}  // namespace shrink
