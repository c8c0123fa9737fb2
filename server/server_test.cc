// The server in-process on loopback port 0: the test plays both the client and the worker over
// real gRPC, with a fake clock for leases. End-to-end tests with real worker processes live in
// tests/service_e2e_test.cc.
#include <grpcpp/generic/generic_stub.h>

#include <future>
#include <thread>

#include "common/sha256.h"
#include "server/server_test_util.h"
#include "storage/sqlite_store.h"

namespace shrink::server {
namespace {

using testing::ServerFixture;
using testing::TinyOnnxBytes;

class ServerTest : public ServerFixture {
 protected:
  void SetUp() override {
    StartServer();
    acme_ = Issue("acme", v1::USER);
    globex_ = Issue("globex", v1::USER);
    worker_ = Issue("acme", v1::WORKER);
  }

  std::string UploadModel(const std::string& token, const std::string& bytes) {
    v1::BlobInfo info;
    grpc::Status status = Upload(token, bytes, v1::ONNX, &info);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return info.id();
  }

  v1::Job SubmitOk(const std::string& token, const std::string& model,
                   const std::string& preset = "float16", const std::string& key = "") {
    v1::SubmitJobRequest request;
    request.set_model_id(model);
    request.mutable_recipe()->set_preset(preset);
    request.set_idempotency_key(key);
    v1::Job job;
    grpc::Status status = Submit(token, request, &job);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return job;
  }

  v1::LeaseResponse LeaseOk(const std::string& worker_id = "w1") {
    grpc::ClientContext context;
    Prepare(&context, worker_);
    v1::LeaseRequest request;
    request.set_worker_id(worker_id);
    request.set_lease_ms(10'000);
    v1::LeaseResponse response;
    grpc::Status status = workers_->Lease(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  grpc::Status Heartbeat(const v1::LeaseResponse& lease, double fraction,
                         v1::HeartbeatResponse* reply) {
    grpc::ClientContext context;
    Prepare(&context, worker_);
    v1::HeartbeatRequest request;
    request.set_job_id(lease.job().id());
    request.set_fence(lease.fence());
    request.mutable_progress()->set_stage("quantize");
    request.mutable_progress()->set_fraction(fraction);
    return workers_->Heartbeat(&context, request, reply);
  }

  std::string UploadArtifact(const v1::LeaseResponse& lease, const std::string& bytes,
                             v1::DownloadRequest::What what) {
    grpc::ClientContext context;
    Prepare(&context, worker_);
    v1::ArtifactInfo info;
    auto writer = workers_->UploadArtifact(&context, &info);
    v1::ArtifactChunk header;
    header.mutable_header()->set_job_id(lease.job().id());
    header.mutable_header()->set_fence(lease.fence());
    header.mutable_header()->set_what(what);
    header.mutable_header()->set_size_bytes(static_cast<int64_t>(bytes.size()));
    writer->Write(header);
    v1::ArtifactChunk data;
    data.set_data(bytes);
    writer->Write(data);
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    return info.id();
  }

  // Downloads a job's artifact or report; the status of the stream.
  grpc::Status Download(const std::string& token, const std::string& job_id,
                        v1::DownloadRequest::What what, std::string* bytes,
                        std::string* sha256) {
    grpc::ClientContext context;
    Prepare(&context, token);
    v1::DownloadRequest request;
    request.set_job_id(job_id);
    request.set_what(what);
    auto reader = jobs_->Download(&context, request);
    v1::DownloadChunk chunk;
    while (reader->Read(&chunk)) {
      bytes->append(chunk.data());
      if (!chunk.sha256().empty()) *sha256 = chunk.sha256();
    }
    return reader->Finish();
  }

  grpc::StatusCode GetCode(const std::string& token, const std::string& job_id) {
    grpc::ClientContext context;
    Prepare(&context, token);
    v1::GetJobRequest request;
    request.set_id(job_id);
    v1::Job job;
    return jobs_->Get(&context, request, &job).error_code();
  }

  v1::Job GetOk(const std::string& token, const std::string& job_id) {
    grpc::ClientContext context;
    Prepare(&context, token);
    v1::GetJobRequest request;
    request.set_id(job_id);
    v1::Job job;
    grpc::Status status = jobs_->Get(&context, request, &job);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return job;
  }

  std::string acme_, globex_, worker_;
};

TEST_F(ServerTest, TokensAreCheckedAndScopedByKind) {
  EXPECT_EQ(GetCode("", "j-none"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(GetCode("shr_not-a-token", "j-none"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(GetCode(worker_, "j-none"), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(GetCode(acme_, "j-none"), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(GetCode(admin_token_, "j-none"), grpc::StatusCode::NOT_FOUND);

  grpc::ClientContext lease_context;
  Prepare(&lease_context, acme_);
  v1::LeaseRequest lease;
  lease.set_worker_id("w");
  v1::LeaseResponse leased;
  EXPECT_EQ(workers_->Lease(&lease_context, lease, &leased).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  grpc::ClientContext admin_context;
  Prepare(&admin_context, acme_);
  v1::CreateTenantRequest create;
  create.set_name("mallory");
  v1::CreateTenantResponse created;
  EXPECT_EQ(admin_->CreateTenant(&admin_context, create, &created).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // A revoked token stops working at once.
  std::string doomed = Issue("acme", v1::USER);
  EXPECT_EQ(GetCode(doomed, "j-none"), grpc::StatusCode::NOT_FOUND);
  grpc::ClientContext revoke_context;
  Prepare(&revoke_context, admin_token_);
  v1::RevokeTokenRequest revoke;
  revoke.set_token(doomed);
  v1::RevokeTokenResponse revoked;
  ASSERT_TRUE(admin_->RevokeToken(&revoke_context, revoke, &revoked).ok());
  EXPECT_EQ(GetCode(doomed, "j-none"), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(ServerTest, UploadsAreCheckedWhileTheyStream) {
  v1::BlobInfo info;
  grpc::Status status = Upload(acme_, std::string(5000, '\x07'), v1::ONNX, &info);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("not an ONNX model"), std::string::npos)
      << status.error_message();

  std::string model = TinyOnnxBytes("m");
  status = Upload(acme_, model.substr(0, model.size() - 1), v1::ONNX, &info);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "truncated model";

  status = Upload(acme_, model, v1::ONNX, &info, static_cast<int64_t>(model.size()) + 10);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "short of its size";
  EXPECT_NE(status.error_message().find("announced"), std::string::npos);

  status = Upload(acme_, model, v1::ONNX, &info, -1, std::string(64, '0'));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DATA_LOSS) << status.error_message();

  status = Upload(acme_, model, v1::TFLITE, &info);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  status = Upload(acme_, model, v1::MODEL_FORMAT_UNSPECIFIED, &info);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  status = Upload(acme_, "not numpy at all", v1::MODEL_FORMAT_UNSPECIFIED, &info, -1, "", true);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // Nothing of the rejected uploads is listed; a good one is, once, under its sha256.
  ASSERT_TRUE(Upload(acme_, model, v1::ONNX, &info, -1, Sha256Hex(model)).ok());
  EXPECT_EQ(info.id(), Sha256Hex(model));
  EXPECT_EQ(info.size_bytes(), static_cast<int64_t>(model.size()));
  ASSERT_TRUE(Upload(acme_, model, v1::ONNX, &info).ok());
  grpc::ClientContext context;
  Prepare(&context, acme_);
  v1::ListBlobsResponse listed;
  ASSERT_TRUE(models_->List(&context, v1::ListBlobsRequest(), &listed).ok());
  ASSERT_EQ(listed.items_size(), 1);
  EXPECT_EQ(listed.items(0).id(), Sha256Hex(model));
}

TEST_F(ServerTest, UploadLimitAndQuotaAreEnforced) {
  StopServer();
  ServerOptions options;
  options.limits.max_upload_bytes = 1000;
  options.limits.tenant_quota_bytes = 1500;
  StartServer(options);
  acme_ = Issue("acme", v1::USER);
  v1::BlobInfo info;
  std::string big = TinyOnnxBytes(std::string(120, 'x'));
  grpc::Status status = Upload(acme_, big, v1::ONNX, &info, 2000);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("at most 1000"), std::string::npos);
  // The quota counts what the tenant already stores.
  std::string npy = "\x93NUMPY" + std::string(900, ' ');
  ASSERT_TRUE(Upload(acme_, npy, v1::MODEL_FORMAT_UNSPECIFIED, &info, -1, "", true).ok());
  status = Upload(acme_, npy + "x", v1::MODEL_FORMAT_UNSPECIFIED, &info, -1, "", true);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("quota"), std::string::npos);
}

TEST_F(ServerTest, TenantsNeverSeeEachOther) {
  std::string model = UploadModel(acme_, TinyOnnxBytes("acme"));
  v1::Job job = SubmitOk(acme_, model);
  EXPECT_EQ(GetCode(globex_, job.id()), grpc::StatusCode::NOT_FOUND);

  grpc::ClientContext has_context;
  Prepare(&has_context, globex_);
  v1::HasBlobRequest has;
  has.set_sha256(model);
  v1::HasBlobResponse present;
  ASSERT_TRUE(models_->Has(&has_context, has, &present).ok());
  EXPECT_FALSE(present.present());

  grpc::ClientContext get_context;
  Prepare(&get_context, globex_);
  v1::GetBlobRequest get;
  get.set_id(model);
  v1::BlobInfo info;
  EXPECT_EQ(models_->Get(&get_context, get, &info).error_code(), grpc::StatusCode::NOT_FOUND);

  v1::SubmitJobRequest request;
  request.set_model_id(model);
  request.mutable_recipe()->set_preset("float16");
  v1::Job stolen;
  EXPECT_EQ(Submit(globex_, request, &stolen).error_code(), grpc::StatusCode::NOT_FOUND);

  grpc::ClientContext cancel_context;
  Prepare(&cancel_context, globex_);
  v1::CancelJobRequest cancel;
  cancel.set_id(job.id());
  v1::Job cancelled;
  EXPECT_EQ(jobs_->Cancel(&cancel_context, cancel, &cancelled).error_code(),
            grpc::StatusCode::NOT_FOUND);

  std::string bytes, sha;
  EXPECT_EQ(Download(globex_, job.id(), v1::DownloadRequest::ARTIFACT, &bytes, &sha).error_code(),
            grpc::StatusCode::NOT_FOUND);

  grpc::ClientContext watch_context;
  Prepare(&watch_context, globex_);
  v1::WatchJobRequest watch;
  watch.set_id(job.id());
  auto reader = jobs_->Watch(&watch_context, watch);
  v1::ProgressEvent event;
  EXPECT_FALSE(reader->Read(&event));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);

  grpc::ClientContext list_context;
  Prepare(&list_context, globex_);
  v1::ListJobsResponse listed;
  ASSERT_TRUE(jobs_->List(&list_context, v1::ListJobsRequest(), &listed).ok());
  EXPECT_EQ(listed.jobs_size(), 0);
  EXPECT_EQ(GetCode(acme_, job.id()), grpc::StatusCode::OK);
}

TEST_F(ServerTest, JobRunsThroughAWorkerAndIsWatchedFetchedAndCached) {
  std::string model_bytes = TinyOnnxBytes("lifecycle");
  std::string model = UploadModel(acme_, model_bytes);
  v1::Job job = SubmitOk(acme_, model, "float16");
  EXPECT_EQ(job.state(), v1::QUEUED);
  EXPECT_GT(job.recipe().steps_size(), 0) << "the stored recipe is the expanded one";

  std::promise<std::vector<v1::ProgressEvent>> watched;
  std::thread watcher([&] {
    grpc::ClientContext context;
    Prepare(&context, acme_);
    v1::WatchJobRequest request;
    request.set_id(job.id());
    auto reader = jobs_->Watch(&context, request);
    std::vector<v1::ProgressEvent> events;
    v1::ProgressEvent event;
    while (reader->Read(&event)) events.push_back(event);
    EXPECT_TRUE(reader->Finish().ok());
    watched.set_value(events);
  });

  v1::LeaseResponse lease = LeaseOk();
  ASSERT_EQ(lease.job().id(), job.id());
  EXPECT_EQ(lease.model_format(), v1::ONNX);
  EXPECT_EQ(lease.job().attempts(), 1);

  // The worker fetches the model; the last chunk carries the hash.
  grpc::ClientContext fetch_context;
  Prepare(&fetch_context, worker_);
  v1::FetchBlobRequest fetch;
  fetch.set_job_id(job.id());
  fetch.set_fence(lease.fence());
  fetch.set_blob_id(model);
  auto fetched = workers_->FetchBlob(&fetch_context, fetch);
  std::string bytes, sha;
  v1::DownloadChunk chunk;
  while (fetched->Read(&chunk)) {
    bytes += chunk.data();
    if (!chunk.sha256().empty()) sha = chunk.sha256();
  }
  ASSERT_TRUE(fetched->Finish().ok());
  EXPECT_EQ(bytes, model_bytes);
  EXPECT_EQ(sha, model);

  for (double fraction : {0.2, 0.6}) {
    v1::HeartbeatResponse reply;
    ASSERT_TRUE(Heartbeat(lease, fraction, &reply).ok());
    EXPECT_FALSE(reply.cancel());
  }
  std::string artifact = TinyOnnxBytes("optimized");
  std::string report = "{\"schema\": 1}";
  std::string artifact_id = UploadArtifact(lease, artifact, v1::DownloadRequest::ARTIFACT);
  std::string report_id = UploadArtifact(lease, report, v1::DownloadRequest::REPORT);
  grpc::ClientContext complete_context;
  Prepare(&complete_context, worker_);
  v1::CompleteRequest complete;
  complete.set_job_id(job.id());
  complete.set_fence(lease.fence());
  complete.set_artifact_id(artifact_id);
  complete.set_report_id(report_id);
  (*complete.mutable_metrics())["size.ratio"] = 2.0;
  (*complete.mutable_metrics())["stage_seconds.quantize"] = 0.5;
  v1::WorkerAck ack;
  ASSERT_TRUE(workers_->Complete(&complete_context, complete, &ack).ok());

  auto events = watched.get_future().get();
  watcher.join();
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back().state(), v1::SUCCEEDED);
  EXPECT_EQ(events.back().fraction(), 1.0);
  int64_t last_sequence = -1;
  for (const auto& event : events) {
    EXPECT_GE(event.sequence(), last_sequence);
    last_sequence = event.sequence();
  }

  v1::Job done = GetOk(acme_, job.id());
  EXPECT_EQ(done.state(), v1::SUCCEEDED);
  EXPECT_EQ(done.artifact_id(), Sha256Hex(artifact));
  EXPECT_EQ(done.metrics().at("size.ratio"), 2.0);
  std::string downloaded, downloaded_sha;
  ASSERT_TRUE(
      Download(acme_, job.id(), v1::DownloadRequest::ARTIFACT, &downloaded, &downloaded_sha).ok());
  EXPECT_EQ(downloaded, artifact);
  EXPECT_EQ(downloaded_sha, Sha256Hex(artifact));

  // The same model and recipe again: answered from the cache, nothing queued.
  v1::Job again = SubmitOk(acme_, model, "float16");
  EXPECT_TRUE(again.cache_hit());
  EXPECT_EQ(again.id(), job.id());
  EXPECT_EQ(again.artifact_id(), done.artifact_id());
  EXPECT_FALSE(LeaseOk().has_job());
  // Another recipe is a new job.
  EXPECT_FALSE(SubmitOk(acme_, model, "int8-dynamic").cache_hit());
}

TEST_F(ServerTest, IdempotencyKeysReturnTheSameJob) {
  std::string model = UploadModel(acme_, TinyOnnxBytes("idem"));
  v1::Job first = SubmitOk(acme_, model, "float16", "ci-build-7");
  v1::Job second = SubmitOk(acme_, model, "float16", "ci-build-7");
  EXPECT_EQ(first.id(), second.id());
  EXPECT_NE(SubmitOk(acme_, model, "float16", "ci-build-8").id(), first.id());
  std::string other_model = UploadModel(globex_, TinyOnnxBytes("idem"));
  EXPECT_NE(SubmitOk(globex_, other_model, "float16", "ci-build-7").id(), first.id());
}

TEST_F(ServerTest, ExpiredLeasesRequeueUntilTheAttemptCap) {
  std::string model = UploadModel(acme_, TinyOnnxBytes("expiry"));
  v1::Job job = SubmitOk(acme_, model);
  v1::LeaseResponse first = LeaseOk("w1");
  ASSERT_EQ(first.job().id(), job.id());
  clock_.Advance(10'001);
  server_->Housekeep();
  EXPECT_EQ(GetOk(acme_, job.id()).state(), v1::QUEUED);

  // The worker that lost its lease is refused.
  v1::HeartbeatResponse reply;
  EXPECT_EQ(Heartbeat(first, 0.5, &reply).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  v1::LeaseResponse second = LeaseOk("w2");
  EXPECT_EQ(second.job().attempts(), 2);
  EXPECT_GT(second.fence(), first.fence());
  ASSERT_TRUE(Heartbeat(second, 0.5, &reply).ok());

  clock_.Advance(10'001);
  server_->Housekeep();
  LeaseOk("w3");
  clock_.Advance(10'001);
  server_->Housekeep();
  v1::Job failed = GetOk(acme_, job.id());
  EXPECT_EQ(failed.state(), v1::FAILED);
  EXPECT_EQ(failed.attempts(), 3);
  EXPECT_NE(failed.error().find("lease"), std::string::npos) << failed.error();
}

TEST_F(ServerTest, CancellationReachesTheWorkerInItsNextHeartbeat) {
  std::string model = UploadModel(acme_, TinyOnnxBytes("cancel"));
  v1::Job queued = SubmitOk(acme_, model, "float16");
  v1::Job running = SubmitOk(acme_, model, "int8-dynamic");
  v1::LeaseResponse lease = LeaseOk();
  ASSERT_EQ(lease.job().id(), queued.id());

  grpc::ClientContext cancel_running;
  Prepare(&cancel_running, acme_);
  v1::CancelJobRequest cancel;
  cancel.set_id(queued.id());
  v1::Job after;
  ASSERT_TRUE(jobs_->Cancel(&cancel_running, cancel, &after).ok());
  EXPECT_EQ(after.state(), v1::RUNNING);
  v1::HeartbeatResponse reply;
  ASSERT_TRUE(Heartbeat(lease, 0.3, &reply).ok());
  EXPECT_TRUE(reply.cancel());
  grpc::ClientContext fail_context;
  Prepare(&fail_context, worker_);
  v1::FailRequest fail;
  fail.set_job_id(queued.id());
  fail.set_fence(lease.fence());
  fail.set_error("cancelled");
  v1::WorkerAck ack;
  ASSERT_TRUE(workers_->Fail(&fail_context, fail, &ack).ok());
  EXPECT_EQ(GetOk(acme_, queued.id()).state(), v1::CANCELLED);

  grpc::ClientContext cancel_queued;
  Prepare(&cancel_queued, acme_);
  cancel.set_id(running.id());
  ASSERT_TRUE(jobs_->Cancel(&cancel_queued, cancel, &after).ok());
  EXPECT_EQ(after.state(), v1::CANCELLED);
  EXPECT_FALSE(LeaseOk().has_job());
}

TEST_F(ServerTest, BadRequestsGetClearCodesAndTheDatabaseStaysIntact) {
  std::string model = UploadModel(acme_, TinyOnnxBytes("bad"));
  v1::SubmitJobRequest request;
  v1::Job job;
  EXPECT_EQ(Submit(acme_, request, &job).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  request.set_model_id(std::string(64, 'a'));
  request.mutable_recipe()->set_preset("float16");
  grpc::Status status = Submit(acme_, request, &job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("upload it first"), std::string::npos);
  request.set_model_id(model);
  request.clear_recipe();
  status = Submit(acme_, request, &job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("recipe is empty"), std::string::npos);
  request.mutable_recipe()->set_preset("int8");
  status = Submit(acme_, request, &job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("calibration_dataset_id"), std::string::npos);
  request.set_calibration_dataset_id("feed");
  EXPECT_EQ(Submit(acme_, request, &job).error_code(), grpc::StatusCode::NOT_FOUND);
  request.mutable_recipe()->set_preset("int7");
  status = Submit(acme_, request, &job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("int7"), std::string::npos) << status.error_message();

  v1::Job queued = SubmitOk(acme_, model);
  std::string bytes, sha;
  status = Download(acme_, queued.id(), v1::DownloadRequest::ARTIFACT, &bytes, &sha);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("no artifact"), std::string::npos);

  // A worker may fetch only the inputs of the job it holds.
  v1::LeaseResponse lease = LeaseOk();
  grpc::ClientContext fetch_context;
  Prepare(&fetch_context, worker_);
  v1::FetchBlobRequest fetch;
  fetch.set_job_id(lease.job().id());
  fetch.set_fence(lease.fence());
  fetch.set_blob_id(std::string(64, 'b'));
  auto fetched = workers_->FetchBlob(&fetch_context, fetch);
  v1::DownloadChunk chunk;
  EXPECT_FALSE(fetched->Read(&chunk));
  EXPECT_EQ(fetched->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);

  StopServer();
  auto store = storage::SqliteStore::Open(dir_.File("shrink.db"));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(*(*store)->IntegrityCheck(), "ok");
}

TEST_F(ServerTest, HealthCheckingAndASecondServerOnTheSameDatabase) {
  grpc::GenericStub generic(channel_);
  grpc::ClientContext context;
  grpc::Slice empty{std::string()};  // HealthCheckRequest{service: ""} encodes to no bytes
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  generic.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                    &response, [&](grpc::Status status) { done.set_value(status); });
  ASSERT_TRUE(done.get_future().get().ok());
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string body;
  for (const auto& slice : slices) body.append(reinterpret_cast<const char*>(slice.begin()),
                                               slice.size());
  EXPECT_EQ(body, std::string("\x08\x01", 2));  // status: SERVING

  ServerOptions second;
  second.listen = "127.0.0.1:0";
  second.db_path = dir_.File("shrink.db");
  second.local_workers = 0;
  auto refused = Server::Start(second);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("in use"), std::string::npos)
      << refused.status().message();
}

}  // namespace
}  // namespace shrink::server
