// The service end to end with real processes on loopback: shrinkd, shrink-worker and the shrink
// CLI. Jobs run the real engine on real models; artifacts are judged by ONNX Runtime.
// SHRINK_CHAOS_ROUNDS sets how many times a worker is killed mid-job (default 3).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <set>
#include <thread>

#include "common/sha256.h"
#include "engine/io/npy.h"
#include "storage/sqlite_store.h"
#include "tests/cli_fixture.h"
#include "tests/ort_runner.h"
#include "tests/service_fixture.h"

namespace shrink::testing {
namespace {

const std::string kModels = SHRINK_SHARED_MODELS_DIR;
const std::string kOcrModel =
    std::string(SHRINK_ASSETS_DIR) + "/models/ppocrv4_det/ch_PP-OCRv4_det_infer.onnx";

int ChaosRounds() {
  const char* rounds = std::getenv("SHRINK_CHAOS_ROUNDS");
  return rounds ? std::max(1, std::atoi(rounds)) : 3;
}

struct CliRun {
  int exit_code;
  std::string out;
};

class ServiceE2eTest : public ServiceTest {
 protected:
  CliRun Shrink(const std::string& args, const std::string& token) {
    std::string out = File("cli.out");
    std::string command = "SHRINK_SERVER=" + address_ + " SHRINK_TOKEN=" + token + " " +
                          SHRINK_BINARY + " " + args + " >" + out + " 2>>" + File("cli.err");
    int status = std::system(command.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(out).ok() ? *ReadFile(out) : std::string()};
  }

  std::string CalibrationData() {
    std::string path = File("calib.npz");
    EXPECT_TRUE(engine::WriteNpz(path, {{"input", TestImages(64)}},
                                 engine::NpzCompression::kStored)
                    .ok());
    return path;
  }

  v1::Job SubmitOk(const std::string& model_id, const std::string& preset, int32_t seed = 0,
                   const std::string& key = "", const std::string& calib_id = "") {
    v1::SubmitJobRequest request;
    request.set_model_id(model_id);
    request.mutable_recipe()->set_preset(preset);
    request.mutable_recipe()->set_seed(seed);
    request.set_idempotency_key(key);
    request.set_calibration_dataset_id(calib_id);
    auto job = client_->Submit(request);
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return job.ok() ? *job : v1::Job();
  }
};

TEST_F(ServiceE2eTest, UploadSubmitWatchFetchAndTheArtifactRunsInOrt) {
  StartServer(2);
  std::string model = kModels + "/mnist_cnn.onnx";
  std::string calib = CalibrationData();
  auto model_id = client_->UploadModel(model);
  auto calib_id = client_->UploadDataset(calib);
  ASSERT_TRUE(model_id.ok() && calib_id.ok());
  v1::Job job = SubmitOk(model_id->id, "int8", 0, "", calib_id->id);
  ASSERT_EQ(job.state(), v1::QUEUED);

  std::vector<v1::ProgressEvent> events;
  auto watched = client_->Watch(job.id(), 0, [&](const v1::ProgressEvent& e) {
    events.push_back(e);
  });
  ASSERT_TRUE(watched.ok()) << watched.status().ToString();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().state(), v1::SUCCEEDED);
  std::set<std::string> stages;
  for (const auto& event : events) stages.insert(event.stage());
  EXPECT_TRUE(stages.count("calibrate") || stages.count("quantize")) << "no engine stage seen";

  auto done = client_->GetJob(job.id());
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state(), v1::SUCCEEDED) << done->error();
  EXPECT_GT(done->metrics().at("size.ratio"), 1.0);
  std::string artifact = File("mnist_cnn.int8.onnx");
  auto fetched = client_->Download(job.id(), v1::DownloadRequest::ARTIFACT, artifact);
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_EQ(fetched->sha256, done->artifact_id());
  ASSERT_TRUE(client_->Download(job.id(), v1::DownloadRequest::REPORT, File("report.json")).ok());
  EXPECT_NE(ReadFile(File("report.json"))->find("\"schema\""), std::string::npos);

  auto ort = OrtRunner::Create(artifact, OrtRunnerOptions(1, false));
  ASSERT_TRUE(ort.ok()) << ort.status().ToString();
  auto outputs = (*ort)->Run({{"input", TestImages(4)}});
  ASSERT_TRUE(outputs.ok()) << outputs.status().ToString();
  EXPECT_EQ((*outputs)[0].shape(), engine::Shape({4, 10}));

  // The same recipe in-process gives the same bytes: the manifest reproduces the artifact.
  CliRun local = Shrink("run " + model + " --preset int8 --calib " + calib + " --out " +
                         File("local.onnx"),
                     admin_token_);
  ASSERT_EQ(local.exit_code, 0);
  EXPECT_EQ(*Sha256OfFile(File("local.onnx")), fetched->sha256);

  // The CLI on the real server: a cache hit, JSON status, unknown ids, bad tokens.
  CliRun again = Shrink("submit " + model + " --preset int8 --calib " + calib + " --json",
                     admin_token_);
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.out.find("\"job_id\": \"" + job.id() + "\""), std::string::npos) << again.out;
  CliRun status = Shrink("status " + job.id() + " --json", admin_token_);
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_NE(status.out.find("\"state\": \"SUCCEEDED\""), std::string::npos) << status.out;
  EXPECT_EQ(Shrink("status j-unknown", admin_token_).exit_code, 1);
  EXPECT_EQ(Shrink("status " + job.id(), "shr_wrong").exit_code, 6);
}

TEST_F(ServiceE2eTest, KilledWorkersLoseNoJob) {
  if (!FileExists(kOcrModel)) GTEST_SKIP() << "asset kit missing: " << kOcrModel;
  StartServer(0, {"--max-lease-seconds", "2"});
  std::map<std::string, ChildProcess*> by_id = {{"steady", &StartWorker("steady")},
                                                {"victim-0", &StartWorker("victim-0")}};
  auto model_id = client_->UploadModel(kOcrModel);
  ASSERT_TRUE(model_id.ok()) << model_id.status().ToString();
  const int rounds = ChaosRounds();
  std::set<std::string> submitted;
  int kills = 0;
  for (int round = 0; round < rounds; ++round) {
    v1::Job job = SubmitOk(model_id->id, "float16", round + 1);
    submitted.insert(job.id());
    // Kill whoever holds the job once the engine is at work (past the download).
    std::string holder;
    ASSERT_TRUE(WaitFor(
        [&] {
          auto now = client_->GetJob(job.id());
          if (!now.ok() || now->state() != v1::RUNNING) return false;
          const std::string& stage = now->last_progress().stage();
          if (stage.empty() || stage == "fetch") return false;
          holder = now->worker_id();
          return true;
        },
        std::chrono::seconds(60)))
        << "job " << job.id() << " never ran";
    ASSERT_TRUE(by_id.count(holder)) << "unknown worker " << holder;
    by_id[holder]->Signal(SIGKILL);
    by_id[holder]->Wait();
    ++kills;
    std::string fresh = "victim-" + std::to_string(round + 1);
    by_id[fresh] = &StartWorker(fresh);
    auto final_job = WaitFinal(job.id(), std::chrono::seconds(180));
    ASSERT_TRUE(final_job.ok());
    EXPECT_EQ(final_job->state(), v1::SUCCEEDED) << final_job->error();
    EXPECT_EQ(final_job->attempts(), 2);
    EXPECT_NE(final_job->worker_id(), holder);
  }
  auto jobs = client_->ListJobs();
  ASSERT_TRUE(jobs.ok());
  std::set<std::string> listed;
  for (const auto& job : *jobs) {
    EXPECT_EQ(job.state(), v1::SUCCEEDED) << job.id();
    EXPECT_TRUE(listed.insert(job.id()).second) << "listed twice: " << job.id();
  }
  EXPECT_EQ(listed, submitted);
  EXPECT_EQ(kills, rounds);
}

TEST_F(ServiceE2eTest, AKilledServerRestartsWithEveryJobAndArtifact) {
  StartServer(1, {"--max-lease-seconds", "2"});
  auto small = client_->UploadModel(kModels + "/mnist_mlp.onnx");
  ASSERT_TRUE(small.ok());
  v1::Job first = SubmitOk(small->id, "float16");
  auto first_done = WaitFinal(first.id(), std::chrono::seconds(60));
  ASSERT_TRUE(first_done.ok());
  ASSERT_EQ(first_done->state(), v1::SUCCEEDED);

  // Slow jobs so that one runs and three wait when the server dies.
  if (!FileExists(kOcrModel)) GTEST_SKIP() << "asset kit missing: " << kOcrModel;
  auto slow = client_->UploadModel(kOcrModel);
  ASSERT_TRUE(slow.ok());
  std::vector<std::string> pending;
  for (int seed = 1; seed <= 4; ++seed) pending.push_back(SubmitOk(slow->id, "float16",
                                                                   seed).id());
  ASSERT_TRUE(WaitFor([&] { return client_->GetJob(pending[0])->state() == v1::RUNNING; },
                      std::chrono::seconds(60)));
  EXPECT_EQ(client_->GetJob(pending[3])->state(), v1::QUEUED);
  server_->Signal(SIGKILL);
  server_->Wait();
  server_.reset();

  StartServer(2, {"--max-lease-seconds", "2"});
  auto kept = client_->GetJob(first.id());
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->state(), v1::SUCCEEDED);
  auto fetched = client_->Download(first.id(), v1::DownloadRequest::ARTIFACT, File("first.onnx"));
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_EQ(fetched->sha256, first_done->artifact_id());
  for (const std::string& id : pending) {
    auto job = WaitFinal(id, std::chrono::seconds(120));
    ASSERT_TRUE(job.ok()) << job.status().ToString();
    EXPECT_EQ(job->state(), v1::SUCCEEDED) << id << ": " << job->error();
  }
  auto jobs = client_->ListJobs();
  ASSERT_TRUE(jobs.ok());
  EXPECT_EQ(jobs->size(), pending.size() + 1);

  server_->Signal(SIGTERM);
  EXPECT_EQ(server_->Wait(), 0);
  server_.reset();
  auto store = storage::SqliteStore::Open(Db());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(*(*store)->IntegrityCheck(), "ok");
}

TEST_F(ServiceE2eTest, FiftyConcurrentSubmissionsHonourKeysAndTheCache) {
  StartServer(2);
  auto model = client_->UploadModel(kModels + "/mnist_mlp.onnx");
  ASSERT_TRUE(model.ok());
  v1::Job cached = SubmitOk(model->id, "float16");
  ASSERT_EQ(WaitFinal(cached.id(), std::chrono::seconds(60))->state(), v1::SUCCEEDED);

  constexpr int kClients = 5, kEach = 10;
  std::vector<std::vector<v1::Job>> results(kClients);
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      auto client = Client(admin_token_);
      for (int i = 0; i < kEach; ++i) {
        v1::SubmitJobRequest request;
        request.set_model_id(model->id);
        if (i % 2 == 0) {
          request.mutable_recipe()->set_preset("float16");  // the cached job
        } else {
          // Five keys shared across clients; the recipe differs, the key decides.
          int n = t * kEach + i;
          request.mutable_recipe()->set_preset("int8-dynamic");
          request.mutable_recipe()->set_seed(n);
          request.set_idempotency_key("build-" + std::to_string(n % 5));
        }
        auto job = client->Submit(request);
        EXPECT_TRUE(job.ok()) << job.status().ToString();
        if (job.ok()) results[t].push_back(*job);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> keyed;
  int hits = 0;
  for (int t = 0; t < kClients; ++t) {
    ASSERT_EQ(results[t].size(), static_cast<size_t>(kEach));
    for (int i = 0; i < kEach; ++i) {
      const v1::Job& job = results[t][i];
      if (i % 2 == 0) {
        EXPECT_TRUE(job.cache_hit());
        EXPECT_EQ(job.id(), cached.id());
        hits += job.cache_hit();
      } else {
        keyed.insert(job.id());
      }
    }
  }
  EXPECT_EQ(hits, kClients * kEach / 2);
  EXPECT_EQ(keyed.size(), 5u);
  for (const std::string& id : keyed) {
    auto job = WaitFinal(id, std::chrono::seconds(120));
    ASSERT_TRUE(job.ok());
    EXPECT_EQ(job->state(), v1::SUCCEEDED) << job->error();
  }
  auto jobs = client_->ListJobs();
  ASSERT_TRUE(jobs.ok());
  EXPECT_EQ(jobs->size(), 6u);
}

TEST_F(ServiceE2eTest, TwoTenantsCannotReadEachOther) {
  StartServer(1);
  ASSERT_TRUE(client_->CreateTenant("acme").ok());
  ASSERT_TRUE(client_->CreateTenant("globex").ok());
  auto acme = Client(*client_->IssueToken("acme", v1::USER, "acme-ci"));
  auto globex = Client(*client_->IssueToken("globex", v1::USER, "globex-ci"));
  auto model = acme->UploadModel(kModels + "/mnist_mlp.onnx");
  ASSERT_TRUE(model.ok());
  v1::SubmitJobRequest request;
  request.set_model_id(model->id);
  request.mutable_recipe()->set_preset("float16");
  auto job = acme->Submit(request);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(globex->GetJob(job->id()).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(globex->Submit(request).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(globex->Cancel(job->id()).status().code(), StatusCode::kNotFound);
  auto listed = globex->ListJobs();
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  auto done = acme->Watch(job->id(), 0, [](const v1::ProgressEvent&) {});
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(globex->Download(job->id(), v1::DownloadRequest::ARTIFACT, File("stolen.onnx"))
                .status().code(),
            StatusCode::kNotFound);
  EXPECT_FALSE(FileExists(File("stolen.onnx")));
  // Uploading the same bytes gives globex its own copy; acme's job stays acme's.
  auto own = globex->UploadModel(kModels + "/mnist_mlp.onnx");
  ASSERT_TRUE(own.ok());
  EXPECT_TRUE(own->uploaded) << "the server told globex it already had acme's model";
  EXPECT_EQ(globex->GetJob(job->id()).status().code(), StatusCode::kNotFound);
}


// The processes whose parent is `pid` (the server's local workers).
std::set<int> ChildrenOf(int pid) {
  std::set<int> children;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    // /proc files report size 0: read them as streams.
    std::ifstream in(entry.path().string() + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (stat.rfind(')') == std::string::npos) continue;  // gone meanwhile
    // pid (comm) state ppid ...: comm may hold spaces, so parse after the last ')'.
    std::istringstream rest(stat.substr(stat.rfind(')') + 2));
    std::string state;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == pid && state != "Z") children.insert(std::stoi(name));
  }
  return children;
}

// GET http://127.0.0.1:port/metrics with a plain socket.
std::string ScrapeMetrics(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string body;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    (void)!::write(fd, request.data(), request.size());
    char buffer[65536];
    ssize_t got;
    while ((got = ::read(fd, buffer, sizeof(buffer))) > 0) body.append(buffer, got);
  }
  ::close(fd);
  return body;
}

TEST_F(ServiceE2eTest, SupervisedWorkersAreRestartedAndMetricsAreServed) {
  StartServer(2, {"--metrics-listen", "127.0.0.1:0"});
  std::set<int> before;
  ASSERT_TRUE(WaitFor([&] { return (before = ChildrenOf(server_->pid())).size() == 2; },
                      std::chrono::seconds(20)));
  ::kill(*before.begin(), SIGKILL);
  std::set<int> after;
  ASSERT_TRUE(WaitFor(
      [&] {
        after = ChildrenOf(server_->pid());
        return after.size() == 2 && !after.count(*before.begin());
      },
      std::chrono::seconds(20)))
      << "the killed worker was not replaced";

  // A job through the restarted pool, then the figures Prometheus scrapes.
  auto model = client_->UploadModel(kModels + "/mnist_mlp.onnx");
  ASSERT_TRUE(model.ok());
  v1::Job job = SubmitOk(model->id, "float16");
  ASSERT_EQ(WaitFinal(job.id(), std::chrono::seconds(60))->state(), v1::SUCCEEDED);
  auto log = ReadFile(File("server.log"));
  ASSERT_TRUE(log.ok());
  const std::string marker = "Prometheus metrics on port ";
  size_t at = log->find(marker);
  ASSERT_NE(at, std::string::npos) << *log;
  int port = std::stoi(log->substr(at + marker.size()));
  std::string metrics;
  ASSERT_TRUE(WaitFor(
      [&] {
        metrics = ScrapeMetrics(port);
        return metrics.find("shrink_jobs{state=\"SUCCEEDED\"} 1") != std::string::npos;
      },
      std::chrono::seconds(10)))
      << metrics;
  for (const char* name :
       {"shrink_queue_depth 0", "shrink_workers_alive{kind=\"supervised\"} 2",
        "shrink_job_duration_seconds_count{state=\"SUCCEEDED\"} 1", "shrink_stored_bytes",
        "shrink_rpcs_total{code=\"0\",method=\"JobService/Submit\"} 1",
        "shrink_rpc_duration_seconds_bucket", "shrink_stage_duration_seconds_count",
        "shrink_progress_events_total"}) {
    EXPECT_NE(metrics.find(name), std::string::npos) << name << " missing from\n" << metrics;
  }
}

TEST_F(ServiceE2eTest, SigtermLetsTheRunningJobFinish) {
  if (!FileExists(kOcrModel)) GTEST_SKIP() << "asset kit missing: " << kOcrModel;
  StartServer(1);
  auto model = client_->UploadModel(kOcrModel);
  ASSERT_TRUE(model.ok());
  v1::Job running = SubmitOk(model->id, "float16");
  v1::Job waiting = SubmitOk(model->id, "float16", 7);
  ASSERT_TRUE(WaitFor([&] { return client_->GetJob(running.id())->state() == v1::RUNNING; },
                      std::chrono::seconds(60)));
  server_->Signal(SIGTERM);
  EXPECT_EQ(server_->Wait(), 0);
  server_.reset();
  // Nothing is listening now; the store says what happened.
  auto store = storage::SqliteStore::Open(Db());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto finished = (*store)->GetJob("default", running.id());
  ASSERT_TRUE(finished.ok());
  EXPECT_EQ(finished->state, storage::JobState::kSucceeded) << finished->error;
  auto untouched = (*store)->GetJob("default", waiting.id());
  ASSERT_TRUE(untouched.ok());
  EXPECT_EQ(untouched->state, storage::JobState::kQueued) << "a draining server leased a job";
  EXPECT_EQ(untouched->attempts, 0);
}


TEST_F(ServiceE2eTest, JobsOverAWorkersLimitsFailWithTheReasonAndTheWorkerGoesOn) {
  if (!FileExists(kOcrModel)) GTEST_SKIP() << "asset kit missing: " << kOcrModel;
  StartServer(0);
  ChildProcess& timed = StartWorker("timed", {"--job-timeout-seconds", "1"});
  auto slow = client_->UploadModel(kOcrModel);
  auto small = client_->UploadModel(kModels + "/mnist_mlp.onnx");
  ASSERT_TRUE(slow.ok() && small.ok());
  v1::Job too_long = SubmitOk(slow->id, "float16");
  auto failed = WaitFinal(too_long.id(), std::chrono::seconds(60));
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->state(), v1::FAILED);
  EXPECT_EQ(failed->error().rfind("DEADLINE_EXCEEDED", 0), 0u) << failed->error();
  v1::Job quick = SubmitOk(small->id, "float16");
  auto done = WaitFinal(quick.id(), std::chrono::seconds(60));
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state(), v1::SUCCEEDED) << done->error();
  EXPECT_EQ(done->worker_id(), "timed");
  timed.Signal(SIGTERM);
  EXPECT_EQ(timed.Wait(), 0);

  ChildProcess& tight = StartWorker("tight", {"--max-job-memory-mb", "1"});
  v1::Job too_big = SubmitOk(slow->id, "float16", 5);
  auto refused = WaitFinal(too_big.id(), std::chrono::seconds(60));
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->state(), v1::FAILED);
  EXPECT_EQ(refused->error().rfind("RESOURCE_EXHAUSTED", 0), 0u) << refused->error();
  EXPECT_EQ(::kill(tight.pid(), 0), 0) << "the worker died with its job";
}


TEST_F(ServiceE2eTest, BudgetsAreTunedAndAMissReturnsTheBestTrialWithExit3) {
  StartServer(1);
  const std::string model = kModels + "/mnist_mlp.onnx";
  const std::string data = CalibrationData();
  ASSERT_TRUE(WriteFile(File("met.json"),
                        "{\"preset\": \"int8\", \"budget\": {\"minSqnrDb\": 20}}")
                  .ok());
  ASSERT_TRUE(WriteFile(File("missed.json"),
                        "{\"preset\": \"int8\", \"budget\": {\"minSqnrDb\": 200, "
                        "\"maxTrials\": 3}}")
                  .ok());
  CliRun met = Shrink("submit " + model + " --recipe " + File("met.json") + " --calib " + data +
                          " --eval " + data + " --wait --json --out " + File("met.onnx"),
                      admin_token_);
  EXPECT_EQ(met.exit_code, 0) << met.out;
  EXPECT_NE(met.out.find("\"eval.min_sqnr_db\""), std::string::npos) << met.out;

  CliRun missed = Shrink("submit " + model + " --recipe " + File("missed.json") + " --calib " +
                             data + " --wait --json --out " + File("best.onnx") + " --report " +
                             File("best.json"),
                         admin_token_);
  EXPECT_EQ(missed.exit_code, 3) << missed.out;
  EXPECT_NE(missed.out.find("BUDGET_NOT_MET"), std::string::npos) << missed.out;
  EXPECT_TRUE(FileExists(File("best.onnx"))) << "the best-effort artifact is fetched";
  auto report = ReadFile(File("best.json"));
  ASSERT_TRUE(report.ok());
  EXPECT_NE(report->find("\"budgetMet\": false"), std::string::npos);
  auto ort = OrtRunner::Create(File("best.onnx"), OrtRunnerOptions(1, false));
  EXPECT_TRUE(ort.ok()) << ort.status().ToString();
}


TEST_F(ServiceE2eTest, AWorkerServesItsOwnMetrics) {
  StartServer(0);
  StartWorker("metered", {"--metrics-listen", "127.0.0.1:0"});
  auto model = client_->UploadModel(kModels + "/mnist_mlp.onnx");
  ASSERT_TRUE(model.ok());
  v1::Job job = SubmitOk(model->id, "float16");
  ASSERT_EQ(WaitFinal(job.id(), std::chrono::seconds(60))->state(), v1::SUCCEEDED);
  const std::string marker = "worker metrics on port ";
  std::string log;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto read = ReadFile(File("worker-metered.log"));
        log = read.ok() ? *read : "";
        return log.find(marker) != std::string::npos;
      },
      std::chrono::seconds(10)));
  int port = std::stoi(log.substr(log.find(marker) + marker.size()));
  std::string metrics;
  ASSERT_TRUE(WaitFor(
      [&] {
        metrics = ScrapeMetrics(port);
        return metrics.find("shrink_worker_jobs_total{worker=\"metered\","
                            "outcome=\"completed\"} 1") != std::string::npos;
      },
      std::chrono::seconds(10)))
      << metrics;
  for (const char* name : {"shrink_worker_busy{worker=\"metered\"} 0",
                           "shrink_worker_server_reachable{worker=\"metered\"} 1",
                           "shrink_worker_job_duration_seconds_count"}) {
    EXPECT_NE(metrics.find(name), std::string::npos) << name << " missing from\n" << metrics;
  }
}
}  // namespace
}  // namespace shrink::testing
