// The worker against an in-process fake WorkerService (gRPC on 127.0.0.1:0): a float16 job end
// to end (judged by ONNX Runtime), cancellation, stale fences, corrupt blobs, bad recipes and the
// blob cache.
#include "worker/worker.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include "common/file_util.h"
#include "common/grpc_util.h"
#include "common/sha256.h"
#include "engine/io/npy.h"
#include "engine/io/onnx_import.h"
#include "engine/ir/graph_utils.h"
#include "shrink/v1/service.grpc.pb.h"
#include "tests/ort_runner.h"
#include "tests/test_inputs.h"
#include "worker/blob_cache.h"
#include "worker/job_files.h"

namespace shrink::worker {
namespace {

using Clock = std::chrono::steady_clock;
constexpr char kToken[] = "worker-secret";
// Small chunks so that every download spans several messages.
constexpr size_t kFetchChunk = 64 << 10;

// One WorkerService holding a queue of jobs; records what the worker sent. Thread-safe.
class FakeWorkerService final : public v1::WorkerService::Service {
 public:
  struct Blob {
    std::string bytes;     // what FetchBlob sends
    std::string announce;  // the sha256 in the last chunk ("" = the bytes' real hash)
  };

  // Configuration (set before the worker starts).
  std::deque<v1::LeaseResponse> queue;
  std::map<std::string, Blob> blobs;
  bool cancel_in_heartbeat = false;
  bool hold_fetch_until_cancel_sent = false;
  bool stale_after_first_heartbeat = false;
  std::atomic<bool>* stop_on_heartbeat = nullptr;  // set: the worker is told to stop (drain)

  // Observations.
  std::mutex mutex;
  std::vector<v1::HeartbeatRequest> heartbeats;
  std::map<std::string, int> fetches;
  std::map<int, std::string> uploads;  // DownloadRequest::What -> bytes (the latest of each)
  std::vector<v1::CompleteRequest> completes;
  std::vector<v1::FailRequest> fails;
  Clock::time_point cancel_sent, fail_received;
  bool cancel_was_sent = false;

  grpc::Status Lease(grpc::ServerContext* context, const v1::LeaseRequest* request,
                     v1::LeaseResponse* response) override {
    if (!Authorized(context)) return Unauthenticated();
    std::lock_guard<std::mutex> lock(mutex);
    if (request->worker_id().empty()) return {grpc::INVALID_ARGUMENT, "no worker id"};
    if (!queue.empty()) {
      *response = queue.front();
      queue.pop_front();
    }
    return grpc::Status::OK;
  }

  grpc::Status Heartbeat(grpc::ServerContext* context, const v1::HeartbeatRequest* request,
                         v1::HeartbeatResponse* response) override {
    if (!Authorized(context)) return Unauthenticated();
    std::lock_guard<std::mutex> lock(mutex);
    if (stale_fences_.count(request->fence())) return Stale();
    heartbeats.push_back(*request);
    if (stop_on_heartbeat) *stop_on_heartbeat = true;
    if (stale_after_first_heartbeat) {
      stale_fences_.insert(request->fence());  // re-leased to another worker
      return Stale();
    }
    if (cancel_in_heartbeat) {
      response->set_cancel(true);
      if (!cancel_was_sent) cancel_sent = Clock::now();
      cancel_was_sent = true;
      changed_.notify_all();
    }
    return grpc::Status::OK;
  }

  grpc::Status FetchBlob(grpc::ServerContext* context, const v1::FetchBlobRequest* request,
                         grpc::ServerWriter<v1::DownloadChunk>* writer) override {
    if (!Authorized(context)) return Unauthenticated();
    Blob blob;
    {
      std::unique_lock<std::mutex> lock(mutex);
      if (hold_fetch_until_cancel_sent) {
        changed_.wait_for(lock, std::chrono::seconds(10), [&] { return cancel_was_sent; });
      }
      if (stale_fences_.count(request->fence())) return Stale();
      auto found = blobs.find(request->blob_id());
      if (found == blobs.end()) return {grpc::NOT_FOUND, "no blob " + request->blob_id()};
      blob = found->second;
      ++fetches[request->blob_id()];
    }
    for (size_t offset = 0; offset < blob.bytes.size(); offset += kFetchChunk) {
      v1::DownloadChunk chunk;
      chunk.set_data(blob.bytes.substr(offset, kFetchChunk));
      if (offset + kFetchChunk >= blob.bytes.size()) {
        chunk.set_sha256(blob.announce.empty() ? Sha256Hex(blob.bytes) : blob.announce);
      }
      if (!writer->Write(chunk)) return {grpc::CANCELLED, "client went away"};
    }
    return grpc::Status::OK;
  }

  grpc::Status UploadArtifact(grpc::ServerContext* context,
                              grpc::ServerReader<v1::ArtifactChunk>* reader,
                              v1::ArtifactInfo* info) override {
    if (!Authorized(context)) return Unauthenticated();
    v1::ArtifactChunk chunk;
    if (!reader->Read(&chunk) || !chunk.has_header()) {
      return {grpc::INVALID_ARGUMENT, "the first message must be the header"};
    }
    const v1::ArtifactHeader header = chunk.header();
    std::string bytes;
    while (reader->Read(&chunk)) bytes += chunk.data();
    if (int64_t(bytes.size()) != header.size_bytes()) {
      return {grpc::INVALID_ARGUMENT, "size differs from the header"};
    }
    std::lock_guard<std::mutex> lock(mutex);
    if (stale_fences_.count(header.fence())) return Stale();
    uploads[header.what()] = bytes;
    info->set_id(Sha256Hex(bytes));
    return grpc::Status::OK;
  }

  grpc::Status Complete(grpc::ServerContext* context, const v1::CompleteRequest* request,
                        v1::WorkerAck*) override {
    if (!Authorized(context)) return Unauthenticated();
    std::lock_guard<std::mutex> lock(mutex);
    if (stale_fences_.count(request->fence())) return Stale();
    completes.push_back(*request);
    return grpc::Status::OK;
  }

  grpc::Status Fail(grpc::ServerContext* context, const v1::FailRequest* request,
                    v1::WorkerAck*) override {
    if (!Authorized(context)) return Unauthenticated();
    std::lock_guard<std::mutex> lock(mutex);
    if (stale_fences_.count(request->fence())) return Stale();
    fails.push_back(*request);
    fail_received = Clock::now();
    return grpc::Status::OK;
  }

 private:
  static bool Authorized(grpc::ServerContext* context) {
    auto found = context->client_metadata().find(rpc::kAuthorizationKey);
    return found != context->client_metadata().end() &&
           std::string(found->second.data(), found->second.size()) ==
               std::string("Bearer ") + kToken;
  }
  static grpc::Status Unauthenticated() { return {grpc::UNAUTHENTICATED, "bad token"}; }
  static grpc::Status Stale() { return {grpc::FAILED_PRECONDITION, "stale fence"}; }

  std::condition_variable changed_;
  std::set<int64_t> stale_fences_;
};

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string model = std::string(SHRINK_SHARED_MODELS_DIR) + "/mnist_mlp.onnx";
    if (!FileExists(model)) GTEST_SKIP() << "no shared models at " << SHRINK_SHARED_MODELS_DIR;
    auto bytes = ReadFile(model);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    model_bytes_ = *bytes;
    model_id_ = Sha256Hex(model_bytes_);
    auto dir = MakeTempDir("worker-test");
    ASSERT_TRUE(dir.ok());
    cache_dir_ = *dir;

    grpc::ServerBuilder builder;
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }

  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    if (!cache_dir_.empty()) (void)RemoveAll(cache_dir_);
  }

  // Queues a job on the model with `recipe_json`'s preset (empty: no recipe at all).
  void QueueJob(const std::string& job_id, const std::string& preset, int64_t fence,
                const std::string& model_id = "") {
    v1::LeaseResponse lease;
    lease.mutable_job()->set_id(job_id);
    lease.mutable_job()->set_model_id(model_id.empty() ? model_id_ : model_id);
    if (!preset.empty()) lease.mutable_job()->mutable_recipe()->set_preset(preset);
    lease.set_fence(fence);
    lease.set_model_format(v1::ONNX);
    service_.queue.push_back(lease);
  }

  WorkerOptions Options(int64_t max_jobs) const {
    WorkerOptions options;
    options.address = "127.0.0.1:" + std::to_string(port_);
    options.token = kToken;
    options.cache_dir = cache_dir_;
    options.threads = 1;
    options.max_jobs = max_jobs;
    options.idle_poll_ms = 20;
    options.worker_id = "test-worker";
    return options;
  }

  // Runs the worker until it has handled `options.max_jobs` jobs.
  void RunWorker(const WorkerOptions& options) {
    auto worker = Worker::Create(options);
    ASSERT_TRUE(worker.ok()) << worker.status().ToString();
    std::atomic<bool> stop{false};
    Status status = (*worker)->Run(stop);
    EXPECT_TRUE(status.ok()) << status.ToString();
    EXPECT_EQ((*worker)->jobs_run(), options.max_jobs);
  }

  // Files in the cache's blob directory and partial downloads.
  std::vector<std::string> CachedFiles() const {
    std::vector<std::string> files;
    for (const char* sub : {"blobs", "tmp"}) {
      std::error_code error;
      for (const auto& entry :
           std::filesystem::directory_iterator(JoinPath(cache_dir_, sub), error)) {
        files.push_back(entry.path().string());
      }
    }
    return files;
  }

  FakeWorkerService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::string cache_dir_;
  std::string model_bytes_;
  std::string model_id_;
};

TEST_F(WorkerTest, Float16JobRunsEndToEnd) {
  service_.blobs[model_id_] = {model_bytes_, ""};
  QueueJob("job-1", "float16", 7);
  WorkerOptions options = Options(1);
  options.heartbeat_ms = 20;  // several heartbeats within a sub-second job
  RunWorker(options);

  std::lock_guard<std::mutex> lock(service_.mutex);
  ASSERT_TRUE(service_.fails.empty()) << service_.fails[0].error();
  ASSERT_EQ(service_.completes.size(), 1u);
  const v1::CompleteRequest& complete = service_.completes[0];
  EXPECT_EQ(complete.job_id(), "job-1");
  EXPECT_EQ(complete.fence(), 7);
  const std::string& artifact = service_.uploads[v1::DownloadRequest::ARTIFACT];
  const std::string& report = service_.uploads[v1::DownloadRequest::REPORT];
  EXPECT_EQ(complete.artifact_id(), Sha256Hex(artifact));
  EXPECT_EQ(complete.report_id(), Sha256Hex(report));
  v1::Report parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(report, &parsed).ok());
  EXPECT_EQ(parsed.schema(), 1);

  // Sizes come from the report (models serialized inline); the artifact is written inline, so
  // its size is the report's. mnist_mlp is almost all weights, so float16 halves it up to the
  // graph's few KiB of structure.
  const auto& metrics = complete.metrics();
  ASSERT_TRUE(metrics.count("size.output_bytes"));
  EXPECT_EQ(metrics.at("size.input_bytes"), double(parsed.size().raw_before()));
  EXPECT_EQ(metrics.at("size.output_bytes"), double(artifact.size()));
  EXPECT_GT(metrics.at("size.ratio"), 1.95);
  EXPECT_LE(metrics.at("size.ratio"), 2.0);
  for (const char* name : {"size.input_zstd_bytes", "size.output_zstd_bytes", "peak_rss_bytes",
                           "stage_seconds.load", "stage_seconds.fetch", "stage_seconds.upload",
                           "nodes.quantized"}) {
    EXPECT_TRUE(metrics.count(name)) << name;
  }
  EXPECT_GT(metrics.at("nodes.quantized"), 0);
  EXPECT_GT(metrics.at("peak_rss_bytes"), 0);

  // Progress: the job's fraction never goes back and moves through the engine's stages.
  ASSERT_GE(service_.heartbeats.size(), 2u);
  double previous = -1;
  std::set<std::string> stages;
  for (const v1::HeartbeatRequest& beat : service_.heartbeats) {
    EXPECT_EQ(beat.job_id(), "job-1");
    EXPECT_EQ(beat.fence(), 7);
    EXPECT_GE(beat.progress().fraction(), previous);
    previous = beat.progress().fraction();
    stages.insert(beat.progress().stage());
  }
  EXPECT_GT(service_.heartbeats.back().progress().fraction(),
            service_.heartbeats.front().progress().fraction());
  EXPECT_GE(stages.size(), 2u);

  // The judge: ONNX Runtime loads the artifact and runs it on one MNIST-shaped input.
  const std::string path = JoinPath(cache_dir_, "artifact.onnx");
  ASSERT_TRUE(WriteFile(path, artifact).ok());
  auto runner = testing::OrtRunner::Create(path);
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  auto model = engine::LoadModel(path);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  testing::InputOptions input_options;
  input_options.shapes["input"] = {1, 1, 28, 28};
  auto inputs = testing::MakeInputs(engine::RequiredInputs(model->graph), input_options);
  ASSERT_TRUE(inputs.ok()) << inputs.status().ToString();
  auto outputs = (*runner)->Run(*inputs);
  ASSERT_TRUE(outputs.ok()) << outputs.status().ToString();
  EXPECT_EQ(outputs->size(), 1u);
}

// ONNX_BUNDLE models are tars (a model and its external data); the engine unpacks them.
TEST_F(WorkerTest, BundleModelRuns) {
  const std::string model_path = JoinPath(cache_dir_, "mnist_mlp.onnx");
  ASSERT_TRUE(WriteFile(model_path, model_bytes_).ok());
  ASSERT_TRUE(WriteTar({model_path}, JoinPath(cache_dir_, "bundle.tar")).ok());
  auto bundle = ReadFile(JoinPath(cache_dir_, "bundle.tar"));
  ASSERT_TRUE(bundle.ok());
  (void)RemoveAll(model_path);
  (void)RemoveAll(JoinPath(cache_dir_, "bundle.tar"));
  const std::string bundle_id = Sha256Hex(*bundle);
  service_.blobs[bundle_id] = {*bundle, ""};
  QueueJob("job-bundle", "float16", 4, bundle_id);
  service_.queue.back().set_model_format(v1::ONNX_BUNDLE);
  RunWorker(Options(1));

  std::lock_guard<std::mutex> lock(service_.mutex);
  for (const v1::FailRequest& fail : service_.fails) ADD_FAILURE() << fail.error();
  ASSERT_EQ(service_.completes.size(), 1u);
  EXPECT_TRUE(FileExists(JoinPath(JoinPath(cache_dir_, "blobs"), bundle_id + ".tar")));
}

// Calibration data arrives without a declared format: npy, npz, or a tar of npz files.
TEST_F(WorkerTest, Int8JobReadsEveryDatasetForm) {
  service_.blobs[model_id_] = {model_bytes_, ""};
  const engine::Tensor images = testing::RandomFloatTensor({32, 1, 28, 28}, 1, 0.0f, 1.0f);
  auto npy = engine::SerializeNpy(images);
  auto npz = engine::SerializeNpz({{"input", images}}, engine::NpzCompression::kStored);
  ASSERT_TRUE(npy.ok() && npz.ok());
  const std::string part_dir = JoinPath(cache_dir_, "parts");
  std::filesystem::create_directories(part_dir);
  std::vector<std::string> parts;
  for (int i = 0; i < 2; ++i) {
    parts.push_back(JoinPath(part_dir, "batch" + std::to_string(i) + ".npz"));
    ASSERT_TRUE(WriteFile(parts.back(), *npz).ok());
  }
  ASSERT_TRUE(WriteTar(parts, JoinPath(part_dir, "data.tar")).ok());
  auto tar = ReadFile(JoinPath(part_dir, "data.tar"));
  ASSERT_TRUE(tar.ok());
  (void)RemoveAll(part_dir);

  struct Case {
    const std::string* data;
    int64_t samples;  // as the report counts them: a directory's reader counts one per file
  };
  const std::vector<Case> cases = {{&*npy, 32}, {&*npz, 32}, {&*tar, 2}};
  std::map<std::string, int64_t> expected;
  int64_t fence = 20;
  for (const Case& test : cases) {
    const std::string data_id = Sha256Hex(*test.data);
    service_.blobs[data_id] = {*test.data, ""};
    const std::string job_id = "job-data-" + std::to_string(fence);
    QueueJob(job_id, "int8", fence++);
    service_.queue.back().mutable_job()->set_calibration_dataset_id(data_id);
    expected[job_id] = test.samples;
  }
  RunWorker(Options(3));

  std::lock_guard<std::mutex> lock(service_.mutex);
  for (const v1::FailRequest& fail : service_.fails) ADD_FAILURE() << fail.error();
  ASSERT_EQ(service_.completes.size(), 3u);
  for (const v1::CompleteRequest& complete : service_.completes) {
    EXPECT_EQ(complete.metrics().at("calibration.samples"), expected[complete.job_id()])
        << complete.job_id();
    EXPECT_GT(complete.metrics().at("nodes.quantized"), 0) << complete.job_id();
  }
  EXPECT_EQ(service_.fetches[model_id_], 1);
}

TEST_F(WorkerTest, CancelInHeartbeatFailsTheJobWithinASecond) {
  service_.blobs[model_id_] = {model_bytes_, ""};
  service_.cancel_in_heartbeat = true;
  service_.hold_fetch_until_cancel_sent = true;  // the cancel lands while the job is running
  QueueJob("job-c", "float16", 3);
  RunWorker(Options(1));  // default heartbeat interval

  std::lock_guard<std::mutex> lock(service_.mutex);
  EXPECT_TRUE(service_.completes.empty());
  ASSERT_EQ(service_.fails.size(), 1u);
  EXPECT_EQ(service_.fails[0].error(), "cancelled");
  EXPECT_EQ(service_.fails[0].fence(), 3);
  ASSERT_TRUE(service_.cancel_was_sent);
  const double seconds =
      std::chrono::duration<double>(service_.fail_received - service_.cancel_sent).count();
  EXPECT_LT(seconds, 1.0);
  std::printf("cancel reply -> Fail: %.1f ms\n", seconds * 1000);
  EXPECT_TRUE(service_.uploads.empty());
}

TEST_F(WorkerTest, StaleFenceAbandonsTheJobSilently) {
  service_.blobs[model_id_] = {model_bytes_, ""};
  service_.stale_after_first_heartbeat = true;
  QueueJob("job-s", "float16", 11);
  RunWorker(Options(1));

  std::lock_guard<std::mutex> lock(service_.mutex);
  EXPECT_EQ(service_.heartbeats.size(), 1u);  // none after the stale reply
  EXPECT_TRUE(service_.completes.empty());
  EXPECT_TRUE(service_.fails.empty());
}

// The bytes served must hash to the blob id, and the sender's announced hash must agree.
TEST_F(WorkerTest, CorruptBlobFailsWithDataLossAndIsNotCached) {
  struct Case {
    const char* name;
    bool flip_byte;
    std::string announce;
  };
  const std::vector<Case> cases = {
      {"bytes differ from the id", true, ""},
      {"announced hash differs", false, std::string(64, 'a')},
  };
  for (const Case& test : cases) {
    SCOPED_TRACE(test.name);
    std::string served = model_bytes_;
    if (test.flip_byte) served[served.size() / 2] ^= 0x01;
    service_.blobs[model_id_] = {served, test.announce};
    QueueJob(std::string("job-") + test.name, "float16", 5);
    RunWorker(Options(1));

    std::lock_guard<std::mutex> lock(service_.mutex);
    EXPECT_TRUE(service_.completes.empty());
    ASSERT_EQ(service_.fails.size(), 1u);
    EXPECT_EQ(service_.fails[0].error().rfind("DATA_LOSS: ", 0), 0u) << service_.fails[0].error();
    EXPECT_TRUE(CachedFiles().empty());
    service_.fails.clear();
  }
}

TEST_F(WorkerTest, InvalidRecipeFailsWithInvalidArgument) {
  service_.blobs[model_id_] = {model_bytes_, ""};
  QueueJob("job-r", "", 2);  // no preset, no steps
  RunWorker(Options(1));

  std::lock_guard<std::mutex> lock(service_.mutex);
  ASSERT_EQ(service_.fails.size(), 1u);
  EXPECT_EQ(service_.fails[0].error().rfind("INVALID_ARGUMENT: recipe", 0), 0u)
      << service_.fails[0].error();
  EXPECT_TRUE(service_.fetches.empty());  // checked before any download
}

TEST_F(WorkerTest, CacheServesASecondJobWithoutFetching) {
  service_.blobs[model_id_] = {model_bytes_, ""};
  QueueJob("job-a", "float16", 1);
  QueueJob("job-b", "float16", 2);
  RunWorker(Options(2));

  std::lock_guard<std::mutex> lock(service_.mutex);
  EXPECT_TRUE(service_.fails.empty());
  EXPECT_EQ(service_.completes.size(), 2u);
  EXPECT_EQ(service_.fetches[model_id_], 1);
}

TEST_F(WorkerTest, StopFinishesTheRunningJobAndLeasesNoMore) {
  service_.blobs[model_id_] = {model_bytes_, ""};
  std::atomic<bool> stop{false};
  service_.stop_on_heartbeat = &stop;  // SIGTERM arrives while the first job runs
  QueueJob("job-1", "float16", 1);
  QueueJob("job-2", "float16", 2);
  auto worker = Worker::Create(Options(0));
  ASSERT_TRUE(worker.ok()) << worker.status().ToString();
  Status status = (*worker)->Run(stop);
  EXPECT_TRUE(status.ok()) << status.ToString();

  std::lock_guard<std::mutex> lock(service_.mutex);
  ASSERT_EQ(service_.completes.size(), 1u);
  EXPECT_EQ(service_.completes[0].job_id(), "job-1");
  EXPECT_EQ(service_.queue.size(), 1u);  // job-2 was never leased
}

TEST_F(WorkerTest, WrongTokenStopsTheWorker) {
  WorkerOptions options = Options(1);
  options.token = "wrong";
  auto worker = Worker::Create(options);
  ASSERT_TRUE(worker.ok());
  std::atomic<bool> stop{false};
  Status status = (*worker)->Run(stop);
  EXPECT_EQ(status.code(), StatusCode::kUnauthenticated) << status.ToString();
}

TEST_F(WorkerTest, OneWorkerPerCacheDirectory) {
  auto first = Worker::Create(Options(1));
  ASSERT_TRUE(first.ok());
  auto second = Worker::Create(Options(1));
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
}

// ------------------------------------------------------------ pieces without a server

TEST(BlobCacheTest, EvictsLeastRecentlyUsedButNotPinned) {
  auto dir = MakeTempDir("blob-cache-test");
  ASSERT_TRUE(dir.ok());
  auto cache = BlobCache::Open({*dir, 250});
  ASSERT_TRUE(cache.ok()) << cache.status().ToString();
  std::vector<std::string> paths;
  for (char fill : {'a', 'b', 'c'}) {
    const std::string bytes(100, fill);
    auto writer = (*cache)->NewWriter(Sha256Hex(bytes));
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append(bytes).ok());
    ASSERT_TRUE((*writer)->Verify(Sha256Hex(bytes)).ok());
    auto path = (*writer)->Commit("npy");
    ASSERT_TRUE(path.ok());
    paths.push_back(*path);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // distinct use times
  }
  // 'a' is used again, so 'b' is now the least recently used; 'c' is pinned.
  EXPECT_EQ((*cache)->Lookup(Sha256Hex(std::string(100, 'a')), {"npz", "npy"}), paths[0]);
  (*cache)->Evict({paths[2]});
  EXPECT_TRUE(FileExists(paths[0]));
  EXPECT_FALSE(FileExists(paths[1]));
  EXPECT_TRUE(FileExists(paths[2]));
  EXPECT_EQ((*cache)->TotalBytes(), 200u);
  EXPECT_EQ((*cache)->NewWriter("../../etc/passwd").status().code(),
            StatusCode::kInvalidArgument);
  (void)RemoveAll(*dir);
}

TEST(JobFilesTest, SniffsDatasetFormats) {
  std::string tar_head(512, '\0');
  tar_head.replace(257, 5, "ustar");
  EXPECT_EQ(SniffBlob("\x93NUMPY\x01\x00"), BlobKind::kNpy);
  EXPECT_EQ(SniffBlob(std::string("PK\x03\x04", 4)), BlobKind::kNpz);
  EXPECT_EQ(SniffBlob(tar_head), BlobKind::kTar);
  EXPECT_EQ(SniffBlob("\x08\x07\x12"), BlobKind::kUnknown);
  EXPECT_EQ(DatasetExtension("\x08\x07").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*ModelExtension(v1::ONNX_BUNDLE, ""), "tar");
  EXPECT_EQ(ModelExtension(v1::TFLITE, "").status().code(), StatusCode::kUnimplemented);
}

// WriteTar's output goes through the engine's unpacker (the same rules as model bundles), and a
// tar of a folder of npz files becomes that folder.
TEST(JobFilesTest, TarRoundTripThroughPrepareDataset) {
  auto dir = MakeTempDir("job-files-test");
  ASSERT_TRUE(dir.ok());
  const std::string a = JoinPath(*dir, "a.npz"), b = JoinPath(*dir, "b.npz");
  ASSERT_TRUE(WriteFile(a, "first").ok());
  ASSERT_TRUE(WriteFile(b, std::string(1000, 'x')).ok());
  const std::string archive = JoinPath(*dir, "data.tar");
  ASSERT_TRUE(WriteTar({a, b}, archive).ok());
  auto head = ReadFile(archive);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(SniffBlob(*head), BlobKind::kTar);
  const std::string work = JoinPath(*dir, "work");
  std::filesystem::create_directories(work);
  auto data = PrepareDataset(archive, work);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*ReadFile(JoinPath(*data, "a.npz")), "first");
  EXPECT_EQ(ReadFile(JoinPath(*data, "b.npz"))->size(), 1000u);
  (void)RemoveAll(*dir);
}

}  // namespace
}  // namespace shrink::worker
