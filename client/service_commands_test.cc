// The `shrink` server commands end to end against the in-process fake services: exit codes,
// --json, and that input errors stop before any call reaches a server.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "client/fake_service.h"
#include "common/file_util.h"
#include "common/sha256.h"
#include "engine/io/onnx_export.h"
#include "engine/io/onnx_import.h"
#include "engine/kernels/kernel_test_util.h"
#include "tests/cli_fixture.h"

namespace shrink {
namespace {

using client::testing::FakeServer;

class ServiceCliTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    // The binary must see only what a test gives it.
    for (const char* name : {"SHRINK_SERVER", "SHRINK_TOKEN", "SHRINK_TOKEN_FILE"}) unsetenv(name);
    model_ = File("model.onnx");
    ASSERT_TRUE(WriteFile(model_, "not really onnx; the client does not parse it").ok());
  }

  // Runs `shrink ARGS --server <fake>`.
  CommandResult Run(const std::string& args) {
    return Shrink(args + " --server " + server_.address());
  }

  v1::ProgressEvent Event(int64_t sequence, v1::JobState state, double fraction) {
    v1::ProgressEvent event;
    event.set_sequence(sequence);
    event.set_state(state);
    event.set_stage("quantize");
    event.set_fraction(fraction);
    return event;
  }

  FakeServer server_;
  std::string model_;
};

TEST_F(ServiceCliTest, UnreachableServerExits4NamingTheAddress) {
  std::string address = "127.0.0.1:" + std::to_string(client::testing::ClosedPort());
  CommandResult result = Shrink("status job-1 --server " + address);
  EXPECT_EQ(result.exit_code, 4) << result.err;
  EXPECT_NE(result.err.find(address), std::string::npos) << result.err;

  setenv("SHRINK_SERVER", address.c_str(), 1);
  result = Shrink("submit " + model_ + " --preset float16");
  EXPECT_EQ(result.exit_code, 4) << result.err;
  EXPECT_NE(result.err.find(address), std::string::npos) << result.err;
}

TEST_F(ServiceCliTest, InputErrorsExit1BeforeAnyCall) {
  ASSERT_TRUE(WriteFile(File("bad.json"), "{\"no_such_field\": 1}").ok());
  struct Case {
    std::string args;
    std::string named;  // what the message must mention
  };
  const Case cases[] = {
      {"submit " + File("missing.onnx") + " --preset float16", "missing.onnx"},
      {"submit " + model_ + " --recipe " + File("bad.json"), "no_such_field"},
      {"submit " + model_ + " --preset no-such-preset", "no-such-preset"},
      {"submit " + model_ + " --preset int8", "--calib"},
      {"submit " + model_ + " --preset float16 --calib " + File("none.npz"), "none.npz"},
      {"submit " + model_ + " --preset float16 --out " + File("o.onnx"), "--wait"},
      {"submit " + model_ + " --preset float16 --wait --out /no/such/dir/o.onnx", "/no/such/dir"},
      {"submit " + model_ + " --preset float16 --priority high", "--priority"},
      {"fetch job-1", "--out"},
      {"jobs --state SOMETIMES", "SOMETIMES"},
      {"status", "expected 1 argument"},
      {"admin issue-token --kind boss --tenant t", "--kind"},
  };
  for (const Case& c : cases) {
    CommandResult result = Run(c.args);
    EXPECT_EQ(result.exit_code, 1) << c.args << "\n" << result.err;
    EXPECT_NE(result.err.find(c.named), std::string::npos) << c.args << "\n" << result.err;
  }
  std::lock_guard<std::mutex> lock(server_.state.mu);
  EXPECT_EQ(server_.state.calls, 0);
}

TEST_F(ServiceCliTest, SubmitUploadsOnceAndPrintsOneJsonObject) {
  setenv("SHRINK_TOKEN", "from-env", 1);
  CommandResult first = Run("submit " + model_ + " --preset float16 --json --priority 3");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out.find("{\"job_id\": \"job-1\", \"state\": \"QUEUED\""), 0u) << first.out;
  EXPECT_EQ(first.out.find('\n'), first.out.size() - 1) << "one line: " << first.out;
  CommandResult second = Run("submit " + model_ + " --preset float16");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, "job-2\n");
  EXPECT_NE(second.err.find("already on the server"), std::string::npos) << second.err;

  std::lock_guard<std::mutex> lock(server_.state.mu);
  EXPECT_EQ(server_.models.headers.size(), 1u);
  ASSERT_EQ(server_.jobs.submitted.size(), 2u);
  const v1::SubmitJobRequest& request = server_.jobs.submitted[0];
  EXPECT_EQ(request.model_id(), *Sha256OfFile(model_));
  EXPECT_EQ(request.priority(), 3);
  EXPECT_GT(request.recipe().steps_size(), 0) << "the recipe is sent expanded";
  EXPECT_EQ(request.recipe().SerializeAsString(),
            server_.jobs.submitted[1].recipe().SerializeAsString());
  for (const std::string& value : server_.state.authorizations) {
    EXPECT_EQ(value, "Bearer from-env");
  }
}

TEST_F(ServiceCliTest, TokenFileAndRefusedTokens) {
  server_.state.required_token = "s3cret";
  ASSERT_TRUE(WriteFile(File("token"), "s3cret\n").ok());
  setenv("SHRINK_TOKEN_FILE", File("token").c_str(), 1);
  CommandResult ok = Run("jobs --json");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "{\"count\": 0, \"jobs\": []}\n");

  CommandResult refused = Run("jobs --token wrong");
  EXPECT_EQ(refused.exit_code, 6) << refused.err;
  CommandResult submit = Run("submit " + model_ + " --preset float16 --token wrong");
  EXPECT_EQ(submit.exit_code, 6) << submit.err;
}

TEST_F(ServiceCliTest, UnknownJobExits1NamingIt) {
  for (const char* command : {"status", "watch", "cancel"}) {
    CommandResult result = Run(std::string(command) + " job-404");
    EXPECT_EQ(result.exit_code, 1) << command << ": " << result.err;
    EXPECT_NE(result.err.find("job-404"), std::string::npos) << result.err;
  }
  CommandResult fetch = Run("fetch job-404 --out " + File("o.onnx"));
  EXPECT_EQ(fetch.exit_code, 1) << fetch.err;
  EXPECT_NE(fetch.err.find("job-404"), std::string::npos) << fetch.err;
}

TEST_F(ServiceCliTest, WaitExitsByTheFinalStateAndFetches) {
  struct Case {
    v1::JobState state;
    std::string error;
    bool has_artifact;
    int exit_code;
  };
  const Case cases[] = {
      {v1::SUCCEEDED, "", true, 0},
      {v1::FAILED, "kernel exploded", false, 2},
      {v1::FAILED, "BUDGET_NOT_MET: top1 dropped 3%", true, 3},
      {v1::CANCELLED, "", false, 5},
  };
  for (const Case& c : cases) {
    v1::Job outcome;
    outcome.set_state(c.state);
    outcome.set_error(c.error);
    if (c.has_artifact) outcome.set_artifact_id("a"), outcome.set_report_id("r");
    {
      std::lock_guard<std::mutex> lock(server_.state.mu);
      server_.jobs.outcome = outcome;
      server_.jobs.events = {Event(1, v1::RUNNING, 0.5), Event(2, c.state, 1.0)};
    }
    std::string out = File("out.onnx"), report = File("report.json");
    (void)RemoveAll(out);
    CommandResult result = Run("submit " + model_ + " --preset float16 --wait --json --out " + out +
                               " --report " + report);
    EXPECT_EQ(result.exit_code, c.exit_code) << c.error << "\n" << result.err;
    EXPECT_NE(result.out.find("\"state\": \"" + v1::JobState_Name(c.state) + "\""),
              std::string::npos)
        << result.out;
    EXPECT_EQ(FileExists(out), c.has_artifact) << result.err;
    if (c.has_artifact) {
      EXPECT_EQ(*ReadFile(out), server_.jobs.artifact);
      EXPECT_EQ(*ReadFile(report), server_.jobs.report);
    }
  }
}

TEST_F(ServiceCliTest, WatchStatusFetchAndJobs) {
  v1::Job done;
  done.set_state(v1::SUCCEEDED);
  done.set_artifact_id("a");
  done.set_attempts(1);
  (*done.mutable_metrics())["size_ratio"] = 3.5;
  server_.jobs.outcome = done;
  server_.jobs.events = {Event(1, v1::RUNNING, 0.25), Event(2, v1::SUCCEEDED, 1.0)};
  ASSERT_EQ(Run("submit " + model_ + " --preset float16").exit_code, 0);

  CommandResult watch = Run("watch job-1");
  EXPECT_EQ(watch.exit_code, 0) << watch.err;
  EXPECT_NE(watch.err.find("quantize"), std::string::npos) << "progress lines: " << watch.err;
  CommandResult status = Run("status job-1 --json");
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("\"metrics\": {\"size_ratio\": 3.5}"), std::string::npos) << status.out;
  CommandResult fetch = Run("fetch job-1 --out " + File("o.onnx") + " --json");
  EXPECT_EQ(fetch.exit_code, 0) << fetch.err;
  EXPECT_EQ(*ReadFile(File("o.onnx")), server_.jobs.artifact);
  EXPECT_NE(fetch.out.find("\"out\": "), std::string::npos) << fetch.out;
  CommandResult jobs = Run("jobs --state succeeded");
  EXPECT_EQ(jobs.exit_code, 0) << jobs.err;
  EXPECT_EQ(jobs.out.find("job-1"), 0u) << jobs.out;
  CommandResult cancel = Run("cancel job-1 --json");
  EXPECT_EQ(cancel.exit_code, 0) << cancel.err;
  EXPECT_NE(cancel.out.find("\"state\": \"CANCELLED\""), std::string::npos) << cancel.out;
}

TEST_F(ServiceCliTest, AdminCommands) {
  EXPECT_EQ(Run("admin create-tenant acme").exit_code, 0);
  EXPECT_EQ(Run("admin create-tenant acme").exit_code, 1);  // exists already
  CommandResult token = Run("admin issue-token --tenant acme --kind admin --label ci --json");
  EXPECT_EQ(token.exit_code, 0) << token.err;
  EXPECT_EQ(token.out, "{\"token\": \"tok-acme-1\", \"tenant\": \"acme\", \"kind\": \"ADMIN\"}\n");
  EXPECT_EQ(Run("admin revoke-token tok-acme-1").exit_code, 0);
  EXPECT_EQ(Run("admin frobnicate").exit_code, 1);
  EXPECT_EQ(Shrink("admin --help").exit_code, 0);
}


// A model whose weight lives in an external-data file (the form models over 2 GiB take).
void WriteModelWithExternalData(const std::string& path) {
  engine::Model model = engine::testing::EmptyModel(13);
  engine::Graph* graph = &model.graph;
  graph->inputs.push_back(engine::testing::TensorInfo("x", engine::DataType::kFloat32, {1, 256}));
  graph->outputs.push_back(engine::testing::TensorInfo("y", engine::DataType::kFloat32, {1, 256}));
  engine::Tensor weight(engine::DataType::kFloat32, {256, 256});
  for (int64_t i = 0; i < weight.size(); ++i) weight.data<float>()[i] = float(i % 97) / 97.0f;
  graph->SetInitializer("w", weight);
  engine::testing::AddTestNode(graph, "MatMul", {"x", "w"}, {"y"});
  engine::ExportOptions options;
  options.external_data = engine::ExternalDataMode::kAlways;
  ASSERT_TRUE(engine::SaveModel(model, path, options).ok());
}

TEST_F(ServiceCliTest, ExternalDataTravelsWithTheModelBothWays) {
  std::string model = File("big.onnx");
  WriteModelWithExternalData(model);
  ASSERT_TRUE(FileExists(model + ".data"));
  v1::Job done;
  done.set_state(v1::SUCCEEDED);
  done.set_artifact_id("a");
  server_.jobs.outcome = done;
  ASSERT_EQ(Run("submit " + model + " --preset float16").exit_code, 0);
  ASSERT_EQ(server_.models.headers.size(), 1u);
  EXPECT_EQ(server_.models.headers[0].format(), v1::ONNX_BUNDLE);
  const std::string& sent = server_.models.blobs.begin()->second;
  EXPECT_NE(sent.find("big.onnx.data"), std::string::npos) << "the data file was not sent";

  // A bundle artifact (model + data in a tar) becomes OUT.onnx again (with OUT.onnx.data when it
  // is too large for one protobuf; this one is not).
  server_.jobs.artifact = sent;
  CommandResult fetch = Run("fetch job-1 --out " + File("out.onnx"));
  ASSERT_EQ(fetch.exit_code, 0) << fetch.err;
  auto original = engine::LoadModel(model);
  auto fetched = engine::LoadModel(File("out.onnx"));
  ASSERT_TRUE(original.ok() && fetched.ok()) << fetched.status().ToString();
  const engine::Tensor* w = fetched->graph.FindInitializer("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(std::memcmp(w->data<float>(), original->graph.FindInitializer("w")->data<float>(),
                        256 * 256 * sizeof(float)),
            0);
}

}  // namespace
}  // namespace shrink
