#include "server/job_service.h"

#include <deque>
#include <mutex>

#include "engine/job/recipe.h"
#include "server/job_convert.h"

namespace shrink::server {
namespace {

using storage::BlobKind;

Status CheckDataset(ServiceContext& services, const std::string& tenant, const std::string& id,
                    const char* role) {
  auto entry = services.catalog->GetEntry(tenant, BlobKind::kDataset, id);
  if (entry.ok()) return OkStatus();
  if (entry.status().code() != StatusCode::kNotFound) return entry.status();
  return NotFound(std::string("no dataset ") + id + " (" + role + " data): upload it first");
}

// Sends a job's progress events, then one last event with the final state.
class WatchReactor : public grpc::ServerWriteReactor<v1::ProgressEvent> {
 public:
  WatchReactor(grpc::CallbackServerContext* context, ServiceContext& services,
               const v1::WatchJobRequest& request)
      : services_(services), timer_(services.metrics, "JobService/Watch"),
        job_id_(request.id()), after_(request.after_sequence()) {
    auto who = services.auth->Check(*context, Role::kUser);
    Status status = who.status();
    if (who.ok()) {
      tenant_ = who->tenant;
      status = services.jobs->GetJob(tenant_, job_id_).status();
    }
    if (!status.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      EndLocked(rpc::ToGrpc(status));
      return;
    }
    handle_ = services.events->Subscribe(job_id_, [this] { Pump(); });
    Pump();
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      writing_ = false;
      if (!ok) {
        EndLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
        return;
      }
    }
    Pump();
  }

  void OnCancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!writing_) EndLocked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }

  void OnDone() override {
    { std::lock_guard<std::mutex> lock(mu_); }  // let a running Pump() leave first
    if (handle_) services_.events->Unsubscribe(handle_);
    delete this;
  }

 private:
  void Pump() {
    std::lock_guard<std::mutex> lock(mu_);
    if (writing_ || ended_) return;
    if (queue_.empty()) {
      auto events = services_.jobs->ReadEvents(tenant_, job_id_, after_, 100);
      if (!events.ok()) return EndLocked(rpc::ToGrpc(events.status()));
      for (const auto& event : *events) queue_.push_back(event);
    }
    if (!queue_.empty()) {
      const storage::ProgressEvent& event = queue_.front();
      Fill(event.seq, storage::JobState::kRunning, event.progress, event.time_ms);
      after_ = event.seq;
      queue_.pop_front();
      return Write();
    }
    auto job = services_.jobs->GetJob(tenant_, job_id_);
    if (!job.ok()) return EndLocked(rpc::ToGrpc(job.status()));
    if (final_sent_ || (!storage::IsFinal(job->state) && job->state != storage::JobState::kQueued)) {
      if (final_sent_) EndLocked(grpc::Status::OK);
      return;
    }
    if (job->state == storage::JobState::kQueued) {
      if (queued_sent_) return;
      queued_sent_ = true;
      Fill(after_, job->state, {"queued", 0, "waiting for a worker"}, job->created_ms);
      return Write();
    }
    final_sent_ = true;
    storage::Progress last = job->progress;
    last.stage = "finished";
    if (job->state == storage::JobState::kSucceeded) last.fraction = 1;
    last.message = job->error.empty() ? last.message : job->error;
    Fill(after_ + 1, job->state, last, job->finished_ms);
    Write();
  }

  void Fill(int64_t seq, storage::JobState state, const storage::Progress& progress,
            int64_t time_ms) {
    current_.Clear();
    current_.set_job_id(job_id_);
    current_.set_state(ToProtoState(state));
    current_.set_stage(progress.stage);
    current_.set_fraction(progress.fraction);
    current_.set_message(progress.message);
    current_.set_time_unix_ms(time_ms);
    current_.set_sequence(seq);
  }

  void Write() {
    writing_ = true;
    StartWrite(&current_);
  }

  void EndLocked(const grpc::Status& status) {
    if (ended_) return;
    ended_ = true;
    timer_.Done(status);
    Finish(status);
  }

  ServiceContext& services_;
  RpcTimer timer_;
  const std::string job_id_;
  std::string tenant_;
  int64_t after_;
  int64_t handle_ = 0;
  std::mutex mu_;
  bool writing_ = false;
  bool ended_ = false;
  bool queued_sent_ = false;
  bool final_sent_ = false;
  std::deque<storage::ProgressEvent> queue_;
  v1::ProgressEvent current_;
};

// Streams one blob: store chunks split into messages of at most kChunkBytes, then a last message
// carrying the sha256. The reader verifies the hash before that last message goes out.
class DownloadReactor : public grpc::ServerWriteReactor<v1::DownloadChunk> {
 public:
  DownloadReactor(ServiceContext& services, const char* method, StatusOr<std::string> tenant,
                  StatusOr<std::string> hash)
      : services_(services), timer_(services.metrics, method) {
    Status status = !tenant.ok() ? tenant.status() : hash.status();
    if (status.ok()) {
      auto reader = services.blobs->OpenBlob(*tenant, *hash);
      status = reader.status();
      if (reader.ok()) reader_ = std::move(reader).value();
    }
    if (!status.ok()) {
      End(rpc::ToGrpc(status));
      return;
    }
    Next();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      End(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
      return;
    }
    Next();
  }

  void OnDone() override { delete this; }

 private:
  void Next() {
    message_.Clear();
    if (offset_ >= buffer_.size() && !final_sent_) {
      buffer_.clear();
      offset_ = 0;
      auto more = reader_->Next(&buffer_);
      if (!more.ok()) return End(rpc::ToGrpc(more.status()));
      if (!*more) {
        final_sent_ = true;
        message_.set_sha256(reader_->info().hash);
        return StartWrite(&message_);
      }
    }
    if (final_sent_) return End(grpc::Status::OK);
    size_t take = std::min<size_t>(buffer_.size() - offset_, rpc::kChunkBytes);
    message_.set_data(buffer_.substr(offset_, take));
    offset_ += take;
    services_.metrics->BytesSent(static_cast<int64_t>(take));
    StartWrite(&message_);
  }

  void End(const grpc::Status& status) {
    timer_.Done(status);
    Finish(status);
  }

  ServiceContext& services_;
  RpcTimer timer_;
  std::unique_ptr<storage::BlobReader> reader_;
  std::string buffer_;
  size_t offset_ = 0;
  bool final_sent_ = false;
  v1::DownloadChunk message_;
};

}  // namespace

grpc::ServerWriteReactor<v1::DownloadChunk>* NewBlobDownload(ServiceContext& services,
                                                             const char* method,
                                                             StatusOr<std::string> tenant,
                                                             StatusOr<std::string> hash) {
  return new DownloadReactor(services, method, std::move(tenant), std::move(hash));
}

Status JobServiceImpl::DoSubmit(const std::string& tenant, const v1::SubmitJobRequest& request,
                                v1::Job* response) {
  if (request.model_id().empty()) return InvalidArgument("the request names no model_id");
  auto model = services_.catalog->GetEntry(tenant, BlobKind::kModel, request.model_id());
  if (!model.ok()) {
    if (model.status().code() != StatusCode::kNotFound) return model.status();
    return NotFound("no model " + request.model_id() + ": upload it first");
  }
  if (request.recipe().preset().empty() && request.recipe().steps_size() == 0) {
    return InvalidArgument("the recipe is empty: give a preset or steps");
  }
  // The canonical recipe (preset expanded, defaults filled) keys the cache, so equal requests
  // hit it however they were spelled.
  auto expanded = engine::ExpandRecipe(request.recipe());
  if (!expanded.ok()) return InvalidArgument("recipe: " + expanded.status().message());
  if (engine::NeedsCalibrationData(*expanded) && request.calibration_dataset_id().empty()) {
    return InvalidArgument("the recipe calibrates activations but the request has no "
                           "calibration_dataset_id");
  }
  storage::JobSpec spec;
  spec.tenant = tenant;
  spec.model_hash = request.model_id();
  if (!request.calibration_dataset_id().empty()) {
    RETURN_IF_ERROR(CheckDataset(services_, tenant, request.calibration_dataset_id(),
                                 "calibration"));
    spec.dataset_hashes.push_back(kCalibrationTag + request.calibration_dataset_id());
  }
  if (!request.evaluation_dataset_id().empty()) {
    RETURN_IF_ERROR(CheckDataset(services_, tenant, request.evaluation_dataset_id(),
                                 "evaluation"));
    spec.dataset_hashes.push_back(kEvaluationTag + request.evaluation_dataset_id());
  }
  spec.recipe = CanonicalRecipe(*expanded);
  spec.engine_version = services_.engine_version;
  spec.priority = request.priority();
  spec.idempotency_key = request.idempotency_key();
  spec.max_attempts = services_.limits.max_attempts;

  if (!spec.idempotency_key.empty()) {
    ASSIGN_OR_RETURN(auto keyed, services_.jobs->FindByIdempotencyKey(tenant,
                                                                      spec.idempotency_key));
    if (keyed) {
      ToProtoJob(*keyed, response);
      return OkStatus();
    }
  }
  ASSIGN_OR_RETURN(auto cached, services_.jobs->FindCached(storage::CacheKeyOf(spec)));
  if (cached) {
    ToProtoJob(*cached, response);
    response->set_cache_hit(true);
    services_.metrics->JobSubmitted(true);
    return OkStatus();
  }
  ASSIGN_OR_RETURN(storage::SubmitResult submitted, services_.jobs->Submit(spec));
  if (submitted.created) services_.metrics->JobSubmitted(false);
  ToProtoJob(submitted.job, response);
  return OkStatus();
}

grpc::ServerUnaryReactor* JobServiceImpl::Submit(grpc::CallbackServerContext* context,
                                                 const v1::SubmitJobRequest* request,
                                                 v1::Job* response) {
  return Unary(context, services_, "JobService/Submit", Role::kUser,
               [&](const storage::TokenInfo& who) {
                 return DoSubmit(who.tenant, *request, response);
               });
}

grpc::ServerUnaryReactor* JobServiceImpl::Get(grpc::CallbackServerContext* context,
                                              const v1::GetJobRequest* request,
                                              v1::Job* response) {
  return Unary(context, services_, "JobService/Get", Role::kUser,
               [&](const storage::TokenInfo& who) -> Status {
                 ASSIGN_OR_RETURN(storage::Job job, services_.jobs->GetJob(who.tenant,
                                                                           request->id()));
                 ToProtoJob(job, response);
                 if (storage::IsFinal(job.state)) {
                   ASSIGN_OR_RETURN(auto metrics, services_.metrics_store->MetricsForJob(
                                                      who.tenant, job.id));
                   response->mutable_metrics()->insert(metrics.begin(), metrics.end());
                 }
                 return OkStatus();
               });
}

grpc::ServerUnaryReactor* JobServiceImpl::List(grpc::CallbackServerContext* context,
                                               const v1::ListJobsRequest* request,
                                               v1::ListJobsResponse* response) {
  return Unary(context, services_, "JobService/List", Role::kUser,
               [&](const storage::TokenInfo& who) -> Status {
                 storage::ListRequest list;
                 list.tenant = who.tenant;
                 if (request->state() != v1::JOB_STATE_UNSPECIFIED) {
                   ASSIGN_OR_RETURN(list.state,
                                    storage::ParseJobState(v1::JobState_Name(request->state())));
                 }
                 list.page_size = request->page_size() <= 0 ? 50 : request->page_size();
                 list.page_token = request->page_token();
                 ASSIGN_OR_RETURN(storage::JobPage page, services_.jobs->ListJobs(list));
                 for (const auto& job : page.jobs) ToProtoJob(job, response->add_jobs());
                 response->set_next_page_token(page.next_page_token);
                 return OkStatus();
               });
}

grpc::ServerWriteReactor<v1::ProgressEvent>* JobServiceImpl::Watch(
    grpc::CallbackServerContext* context, const v1::WatchJobRequest* request) {
  return new WatchReactor(context, services_, *request);
}

grpc::ServerUnaryReactor* JobServiceImpl::Cancel(grpc::CallbackServerContext* context,
                                                 const v1::CancelJobRequest* request,
                                                 v1::Job* response) {
  return Unary(context, services_, "JobService/Cancel", Role::kUser,
               [&](const storage::TokenInfo& who) -> Status {
                 ASSIGN_OR_RETURN(storage::Job before,
                                  services_.jobs->GetJob(who.tenant, request->id()));
                 ASSIGN_OR_RETURN(storage::Job job,
                                  services_.jobs->Cancel(who.tenant, request->id()));
                 if (before.state == storage::JobState::kQueued &&
                     job.state == storage::JobState::kCancelled) {
                   services_.metrics->JobFinished(job.state, 0);
                 }
                 services_.events->Notify(job.id);
                 ToProtoJob(job, response);
                 return OkStatus();
               });
}

grpc::ServerWriteReactor<v1::DownloadChunk>* JobServiceImpl::Download(
    grpc::CallbackServerContext* context, const v1::DownloadRequest* request) {
  auto who = services_.auth->Check(*context, Role::kUser);
  StatusOr<std::string> tenant = who.ok() ? StatusOr<std::string>(who->tenant) : who.status();
  StatusOr<std::string> hash = Internal("unset");
  if (who.ok()) {
    auto job = services_.jobs->GetJob(who->tenant, request->job_id());
    if (!job.ok()) {
      hash = job.status();
    } else {
      const bool report = request->what() == v1::DownloadRequest::REPORT;
      std::string id = report ? job->report_hash : job->artifact_hash;
      if (id.empty()) {
        hash = FailedPrecondition("job " + job->id + " has no " +
                                  (report ? "report" : "artifact") + " (state " +
                                  storage::JobStateName(job->state) + ")");
      } else {
        hash = id;
      }
    }
  }
  return NewBlobDownload(services_, "JobService/Download", std::move(tenant), std::move(hash));
}

}  // namespace shrink::server
