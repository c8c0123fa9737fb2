#include "common/flags.h"

#include <gtest/gtest.h>

namespace shrink::cli {
namespace {

TEST(FlagsTest, ParsesValuesBooleansAndPositionals) {
  FlagSpec spec{{"input", "threads"}, {"json"}};
  auto parsed = ParseFlags({"model.onnx", "--input", "d.npz", "--threads=3", "--json"}, spec);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->positional, std::vector<std::string>{"model.onnx"});
  EXPECT_EQ(parsed->Get("input"), "d.npz");
  EXPECT_EQ(*parsed->GetInt("threads", 0), 3);
  EXPECT_TRUE(parsed->Has("json"));
  EXPECT_FALSE(parsed->Has("out"));
}

TEST(FlagsTest, RejectsBadInput) {
  FlagSpec spec{{"input", "threads"}, {"json"}};
  EXPECT_NE(ParseFlags({"--bogus"}, spec).status().message().find("unknown flag --bogus"),
            std::string::npos);
  EXPECT_NE(ParseFlags({"--input"}, spec).status().message().find("needs a value"),
            std::string::npos);
  EXPECT_FALSE(ParseFlags({"--json=1"}, spec).ok());
  auto parsed = ParseFlags({"--threads", "two"}, spec);
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(parsed->GetInt("threads", 0).ok());
}

TEST(FlagsTest, ExitCodesFollowTheContract) {
  EXPECT_EQ(ReportError(InvalidArgument("x")), kExitUsage);
  EXPECT_EQ(ReportError(Status(StatusCode::kUnavailable, "x")), kExitUnreachable);
  EXPECT_EQ(ReportError(Status(StatusCode::kDeadlineExceeded, "x")), kExitUnreachable);
  EXPECT_EQ(ReportError(Status(StatusCode::kAlreadyExists, "x")), kExitUsage);
  EXPECT_EQ(ReportError(Status(StatusCode::kUnauthenticated, "x")), kExitUnauthorized);
  EXPECT_EQ(ReportError(Status(StatusCode::kPermissionDenied, "x")), kExitUnauthorized);
  EXPECT_EQ(ReportError(Cancelled("x")), kExitCancelled);
  EXPECT_EQ(ReportError(Internal("x")), kExitJobFailed);
}

}  // namespace
}  // namespace shrink::cli
