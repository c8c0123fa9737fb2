#include "server/worker_service.h"

#include <algorithm>

#include "server/job_convert.h"
#include "server/job_service.h"
#include "server/upload_reactor.h"

namespace shrink::server {
namespace {

constexpr int64_t kDefaultLeaseMs = 30'000;
constexpr int64_t kMinLeaseMs = 1'000;

// Receives a worker's artifact or report into the job tenant's blobs.
class ArtifactUploadReactor : public UploadReactor<v1::ArtifactChunk> {
 public:
  ArtifactUploadReactor(grpc::CallbackServerContext* context, ServiceContext& services,
                        v1::ArtifactInfo* response)
      : UploadReactor(services, "WorkerService/UploadArtifact"), response_(response) {
    Start(services.auth->Check(*context, Role::kWorker).status());
  }

 private:
  Status Accept(const v1::ArtifactChunk& chunk) override {
    if (!chunk.has_header()) return WriteData(chunk.data(), header_.size_bytes(), "the artifact");
    if (writer_) return InvalidArgument("a second artifact header arrived");
    header_ = chunk.header();
    ASSIGN_OR_RETURN(storage::Job job,
                     services_.jobs->GetLeasedJob(header_.job_id(), header_.fence()));
    if (header_.size_bytes() < 0 || header_.size_bytes() > services_.limits.max_upload_bytes) {
      return ResourceExhausted("artifact of " + std::to_string(header_.size_bytes()) +
                               " bytes exceeds the server's limit");
    }
    ASSIGN_OR_RETURN(writer_, services_.blobs->NewBlobWriter(job.spec.tenant));
    return OkStatus();
  }

  Status Complete() override {
    ASSIGN_OR_RETURN(storage::BlobInfo blob, Seal(header_.size_bytes(), "the artifact"));
    response_->set_id(blob.hash);
    return OkStatus();
  }

  v1::ArtifactInfo* response_;
  v1::ArtifactHeader header_;
};

StatusOr<storage::TokenKind> ParseTokenKind(v1::TokenKind kind) {
  switch (kind) {
    case v1::TOKEN_KIND_UNSPECIFIED:
    case v1::USER: return storage::TokenKind::kUser;
    case v1::WORKER: return storage::TokenKind::kWorker;
    case v1::ADMIN: return storage::TokenKind::kAdmin;
    default: return InvalidArgument("unknown token kind " + std::to_string(kind));
  }
}

Status CheckTenantName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 &&
            std::all_of(name.begin(), name.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
            });
  if (!ok) return InvalidArgument("tenant name '" + name + "' must match [a-z0-9_-]{1,64}");
  return OkStatus();
}

}  // namespace

int64_t WorkerServiceImpl::LeaseMsFor(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto found = lease_ms_.find(job_id);
  return found == lease_ms_.end() ? std::min(kDefaultLeaseMs, services_.limits.max_lease_ms)
                                  : found->second;
}

grpc::ServerUnaryReactor* WorkerServiceImpl::Lease(grpc::CallbackServerContext* context,
                                                   const v1::LeaseRequest* request,
                                                   v1::LeaseResponse* response) {
  return Unary(context, services_, "WorkerService/Lease", Role::kWorker,
               [&](const storage::TokenInfo&) -> Status {
                 if (request->worker_id().empty()) return InvalidArgument("no worker_id");
                 services_.workers->Seen(request->worker_id(), services_.clock->NowMillis());
                 if (services_.draining) return OkStatus();  // no job: the server is draining
                 int64_t lease_ms = request->lease_ms() <= 0 ? kDefaultLeaseMs
                                                             : request->lease_ms();
                 lease_ms = std::clamp(lease_ms, kMinLeaseMs, services_.limits.max_lease_ms);
                 ASSIGN_OR_RETURN(auto job, services_.jobs->Lease(request->worker_id(), lease_ms));
                 if (!job) return OkStatus();
                 {
                   std::lock_guard<std::mutex> lock(mu_);
                   lease_ms_[job->id] = lease_ms;
                 }
                 ToProtoJob(*job, response->mutable_job());
                 response->set_fence(job->lease_fence);
                 response->set_lease_expires_unix_ms(job->lease_expiry_ms);
                 auto model = services_.catalog->GetEntry(job->spec.tenant,
                                                          storage::BlobKind::kModel,
                                                          job->spec.model_hash);
                 response->set_model_format(model.ok()
                                                ? static_cast<v1::ModelFormat>(model->format)
                                                : v1::ONNX);
                 services_.events->Notify(job->id);
                 return OkStatus();
               });
}

grpc::ServerUnaryReactor* WorkerServiceImpl::Heartbeat(grpc::CallbackServerContext* context,
                                                       const v1::HeartbeatRequest* request,
                                                       v1::HeartbeatResponse* response) {
  return Unary(context, services_, "WorkerService/Heartbeat", Role::kWorker,
               [&](const storage::TokenInfo&) -> Status {
                 const auto& progress = request->progress();
                 storage::Progress recorded{progress.stage(),
                                            std::clamp(progress.fraction(), 0.0, 1.0),
                                            progress.message()};
                 ASSIGN_OR_RETURN(storage::HeartbeatResult beat,
                                  services_.jobs->Heartbeat(request->job_id(), request->fence(),
                                                            recorded,
                                                            LeaseMsFor(request->job_id())));
                 services_.metrics->ProgressEvent(recorded.stage);
                 services_.events->Notify(request->job_id());
                 response->set_cancel(beat.cancel_requested);
                 response->set_lease_expires_unix_ms(beat.lease_expiry_ms);
                 return OkStatus();
               });
}

grpc::ServerWriteReactor<v1::DownloadChunk>* WorkerServiceImpl::FetchBlob(
    grpc::CallbackServerContext* context, const v1::FetchBlobRequest* request) {
  auto who = services_.auth->Check(*context, Role::kWorker);
  StatusOr<std::string> tenant = who.status();
  StatusOr<std::string> hash = who.status();
  if (who.ok()) {
    auto job = services_.jobs->GetLeasedJob(request->job_id(), request->fence());
    if (!job.ok()) {
      tenant = hash = job.status();
    } else {
      const std::string& id = request->blob_id();
      bool belongs = id == job->spec.model_hash || id == DatasetHash(*job, kCalibrationTag) ||
                     id == DatasetHash(*job, kEvaluationTag);
      tenant = job->spec.tenant;
      if (belongs) {
        hash = id;
      } else {
        hash = Status(StatusCode::kPermissionDenied,
                      "blob " + id + " is not an input of job " + job->id);
      }
    }
  }
  return NewBlobDownload(services_, "WorkerService/FetchBlob", std::move(tenant),
                         std::move(hash));
}

grpc::ServerReadReactor<v1::ArtifactChunk>* WorkerServiceImpl::UploadArtifact(
    grpc::CallbackServerContext* context, v1::ArtifactInfo* response) {
  return new ArtifactUploadReactor(context, services_, response);
}

void WorkerServiceImpl::JobEnded(const std::string& job_id, const storage::Job& before,
                                 const std::string& tenant) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    lease_ms_.erase(job_id);
  }
  auto after = services_.jobs->GetJob(tenant, job_id);
  if (after.ok()) {
    double seconds = (after->finished_ms - before.started_ms) / 1000.0;
    services_.metrics->JobFinished(after->state, std::max(seconds, 0.0));
  }
  services_.events->Notify(job_id);
}

grpc::ServerUnaryReactor* WorkerServiceImpl::Complete(grpc::CallbackServerContext* context,
                                                      const v1::CompleteRequest* request,
                                                      v1::WorkerAck*) {
  return Unary(context, services_, "WorkerService/Complete", Role::kWorker,
               [&](const storage::TokenInfo&) -> Status {
                 ASSIGN_OR_RETURN(storage::Job job, services_.jobs->GetLeasedJob(
                                                        request->job_id(), request->fence()));
                 const std::string& tenant = job.spec.tenant;
                 for (const std::string& id : {request->artifact_id(), request->report_id()}) {
                   ASSIGN_OR_RETURN(bool stored, services_.blobs->BlobExists(tenant, id));
                   if (!stored) {
                     return FailedPrecondition("blob '" + id + "' was not uploaded for job " +
                                               job.id);
                   }
                 }
                 // A missed budget still delivers its best trial: FAILED, artifacts kept.
                 const std::string failure =
                     request->budget_not_met()
                         ? "BUDGET_NOT_MET: " + (request->budget_summary().empty()
                                                     ? std::string("see the report")
                                                     : request->budget_summary())
                         : "";
                 RETURN_IF_ERROR(services_.jobs->FailWithArtifacts(
                     job.id, request->fence(), request->artifact_id(), request->report_id(),
                     failure));
                 for (const auto& [name, value] : request->metrics()) {
                   RETURN_IF_ERROR(services_.metrics_store->RecordMetric(job.id, name, value));
                   constexpr std::string_view kStage = "stage_seconds.";
                   if (name.compare(0, kStage.size(), kStage) == 0) {
                     services_.metrics->StageSeconds(name.substr(kStage.size()), value);
                   }
                 }
                 JobEnded(job.id, job, tenant);
                 return OkStatus();
               });
}

grpc::ServerUnaryReactor* WorkerServiceImpl::Fail(grpc::CallbackServerContext* context,
                                                  const v1::FailRequest* request,
                                                  v1::WorkerAck*) {
  return Unary(context, services_, "WorkerService/Fail", Role::kWorker,
               [&](const storage::TokenInfo&) -> Status {
                 ASSIGN_OR_RETURN(storage::Job job, services_.jobs->GetLeasedJob(
                                                        request->job_id(), request->fence()));
                 std::string error = request->error().empty() ? "the worker gave no reason"
                                                              : request->error();
                 RETURN_IF_ERROR(services_.jobs->Fail(job.id, request->fence(), error));
                 JobEnded(job.id, job, job.spec.tenant);
                 return OkStatus();
               });
}

grpc::ServerUnaryReactor* AdminServiceImpl::CreateTenant(grpc::CallbackServerContext* context,
                                                         const v1::CreateTenantRequest* request,
                                                         v1::CreateTenantResponse*) {
  return Unary(context, services_, "AdminService/CreateTenant", Role::kAdmin,
               [&](const storage::TokenInfo&) -> Status {
                 RETURN_IF_ERROR(CheckTenantName(request->name()));
                 return services_.tenants->CreateTenant(request->name());
               });
}

grpc::ServerUnaryReactor* AdminServiceImpl::IssueToken(grpc::CallbackServerContext* context,
                                                       const v1::IssueTokenRequest* request,
                                                       v1::IssueTokenResponse* response) {
  return Unary(context, services_, "AdminService/IssueToken", Role::kAdmin,
               [&](const storage::TokenInfo&) -> Status {
                 ASSIGN_OR_RETURN(storage::TokenKind kind, ParseTokenKind(request->kind()));
                 ASSIGN_OR_RETURN(std::string token,
                                  services_.tenants->IssueToken(request->tenant(), kind,
                                                                request->label()));
                 response->set_token(token);
                 return OkStatus();
               });
}

grpc::ServerUnaryReactor* AdminServiceImpl::RevokeToken(grpc::CallbackServerContext* context,
                                                        const v1::RevokeTokenRequest* request,
                                                        v1::RevokeTokenResponse*) {
  return Unary(context, services_, "AdminService/RevokeToken", Role::kAdmin,
               [&](const storage::TokenInfo&) -> Status {
                 return services_.tenants->RevokeToken(request->token());
               });
}

}  // namespace shrink::server
