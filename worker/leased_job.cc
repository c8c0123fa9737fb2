#include "worker/leased_job.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/file_util.h"
#include "common/logging.h"
#include "engine/job/pipeline.h"
#include "engine/job/recipe.h"
#include "engine/ort/ort_eval_runner.h"
#include "engine/ort/ort_runner.h"
#include "engine/ort/ort_validation.h"
#include "worker/job_files.h"

namespace shrink::worker {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Share of the job's overall fraction: fetching inputs, the engine, uploading results.
constexpr double kFetchEnd = 0.05;
constexpr double kEngineEnd = 0.95;

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

int64_t NowUnixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// VmHWM counts from process start; a long-lived worker resets it so the report's peak RSS is
// this job's (Linux >= 4.0; harmless where it fails).
uint64_t CurrentRssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.compare(0, 6, "VmRSS:") == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

void ResetPeakRss() {
  std::ofstream clear_refs("/proc/self/clear_refs");
  if (clear_refs) clear_refs << "5";
}

struct Results {
  std::string artifact_id;
  std::string report_id;
  std::map<std::string, double> metrics;
  std::string budget_missed;  // the tuning summary when the budget was not met
};

class LeasedJob {
 public:
  LeasedJob(const v1::LeaseResponse& lease, const JobContext& context)
      : job_(lease.job()), fence_(lease.fence()), model_format_(lease.model_format()),
        context_(context) {}
  JobEnd Run();

 private:
  void Execute();  // the job thread
  StatusOr<Results> Work();
  StatusOr<std::string> Fetch(const std::string& blob_id, bool is_model);
  StatusOr<Results> Upload(const v1::Report& report, const std::string& output,
                           const std::string& work_dir);
  void SetProgress(const std::string& stage, double fraction, const std::string& message);
  void Heartbeat();
  // Sets limit_exceeded_ and cancels the engine when the job is over a per-job limit.
  void CheckLimits(SteadyClock::time_point started);
  JobEnd Finish();
  // A stale fence on any call means the job belongs to someone else now.
  Status NoteStale(Status status);
  Status Deliver(const char* what, const std::function<Status()>& call);

  const v1::Job& job_;
  const int64_t fence_;
  const v1::ModelFormat model_format_;
  const JobContext& context_;
  std::atomic<bool> cancel_{false};           // the engine's flag: cancel reply or lost lease
  std::atomic<bool> cancel_requested_{false}; // the server asked for cancellation
  std::atomic<bool> abandoned_{false};
  std::set<std::string> pinned_;              // cache files this job uses (job thread only)
  std::map<std::string, double> worker_seconds_;  // job thread only

  std::mutex mutex_;
  std::condition_variable changed_;
  bool done_ = false;             // guarded by mutex_
  v1::ProgressEvent progress_;    // guarded by mutex_
  bool stage_changed_ = false;    // guarded by mutex_
  StatusOr<Results> results_ = Internal("job did not run");  // written before done_
  bool heartbeat_failing_ = false;  // calling thread only
  std::string limit_exceeded_;      // calling thread only; the Fail reason when set
};

Status LeasedJob::NoteStale(Status status) {
  if (status.code() == StatusCode::kFailedPrecondition) {
    abandoned_ = true;
    cancel_ = true;
  }
  return status;
}

void LeasedJob::SetProgress(const std::string& stage, double fraction,
                            const std::string& message) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stage != progress_.stage()) {
    // A new stage is reported at once, not at the next tick: short jobs still show each stage.
    stage_changed_ = true;
    changed_.notify_all();
  }
  progress_.set_stage(stage);
  progress_.set_fraction(std::clamp(std::max(fraction, progress_.fraction()), 0.0, 1.0));
  progress_.set_message(message);
}

StatusOr<std::string> LeasedJob::Fetch(const std::string& blob_id, bool is_model) {
  if (!IsBlobId(blob_id)) return InvalidArgument("bad blob id '" + blob_id + "'");
  const std::vector<std::string> extensions =
      is_model ? ModelExtensions(model_format_) : DatasetExtensions();
  std::string path = context_.cache->Lookup(blob_id, extensions);
  if (!path.empty()) {
    SHRINK_LOG(Info) << "job " << job_.id() << ": blob " << blob_id << " from the cache";
    pinned_.insert(path);
    return path;
  }
  ASSIGN_OR_RETURN(auto writer, context_.cache->NewWriter(blob_id));
  auto announced = context_.client->FetchBlob(job_.id(), fence_, blob_id, writer.get(), &cancel_);
  RETURN_IF_ERROR(NoteStale(announced.status()));
  RETURN_IF_ERROR(writer->Verify(*announced));
  ASSIGN_OR_RETURN(std::string ext, is_model ? ModelExtension(model_format_, writer->head())
                                             : DatasetExtension(writer->head()));
  ASSIGN_OR_RETURN(path, writer->Commit(ext));
  SHRINK_LOG(Info) << "job " << job_.id() << ": fetched " << BaseName(path) << " ("
                   << writer->size() << " bytes)";
  pinned_.insert(path);
  context_.cache->Evict(pinned_);
  return path;
}

StatusOr<Results> LeasedJob::Upload(const v1::Report& report, const std::string& output,
                                    const std::string& work_dir) {
  const auto start = SteadyClock::now();
  SetProgress("upload", kEngineEnd, "artifact");
  std::string artifact = output;
  if (FileExists(output + ".data")) {
    // A model with external data travels as one tar of the model and its data file.
    artifact = JoinPath(work_dir, "artifact.tar");
    RETURN_IF_ERROR(WriteTar({output, output + ".data"}, artifact));
  }
  const std::string report_path = JoinPath(work_dir, "report.json");
  RETURN_IF_ERROR(WriteFile(report_path, engine::ReportToJson(report)));
  Results results;
  auto artifact_id =
      context_.client->Upload(job_.id(), fence_, v1::DownloadRequest::ARTIFACT, artifact, &cancel_);
  RETURN_IF_ERROR(NoteStale(artifact_id.status()));
  results.artifact_id = *artifact_id;
  SetProgress("upload", (kEngineEnd + 1) / 2, "report");
  auto report_id = context_.client->Upload(job_.id(), fence_, v1::DownloadRequest::REPORT,
                                           report_path, &cancel_);
  RETURN_IF_ERROR(NoteStale(report_id.status()));
  results.report_id = *report_id;
  worker_seconds_["stage_seconds.upload"] = SecondsSince(start);
  results.metrics = ReportMetrics(report);
  if (engine::BudgetMissed(report)) results.budget_missed = report.tuning().summary();
  for (const auto& [name, seconds] : worker_seconds_) results.metrics[name] = seconds;
  SetProgress("upload", 1.0, "done");
  return results;
}

StatusOr<Results> LeasedJob::Work() {
  // A bad recipe fails before any download.
  RETURN_IF_ERROR(engine::ExpandRecipe(job_.recipe()).status());
  ASSIGN_OR_RETURN(std::string work_dir, context_.cache->MakeWorkDir("job"));
  const auto fetch_start = SteadyClock::now();
  SetProgress("fetch", 0, "model " + job_.model_id());
  ASSIGN_OR_RETURN(std::string model_path, Fetch(job_.model_id(), true));
  std::string data_path;
  if (!job_.calibration_dataset_id().empty()) {
    SetProgress("fetch", kFetchEnd / 2, "calibration data " + job_.calibration_dataset_id());
    ASSIGN_OR_RETURN(std::string cached, Fetch(job_.calibration_dataset_id(), false));
    ASSIGN_OR_RETURN(data_path, PrepareDataset(cached, work_dir, "calibration"));
  }
  std::string eval_path;
  if (!job_.evaluation_dataset_id().empty()) {
    SetProgress("fetch", kFetchEnd * 3 / 4, "evaluation data " + job_.evaluation_dataset_id());
    ASSIGN_OR_RETURN(std::string cached, Fetch(job_.evaluation_dataset_id(), false));
    ASSIGN_OR_RETURN(eval_path, PrepareDataset(cached, work_dir, "evaluation"));
  }
  worker_seconds_["stage_seconds.fetch"] = SecondsSince(fetch_start);
  if (cancel_) return Cancelled("job cancelled before the engine started");

  engine::JobSpec spec{model_path, JoinPath(work_dir, "output.onnx"), data_path, eval_path,
                       job_.recipe()};
  if (context_.options->threads > 0) spec.recipe.set_threads(context_.options->threads);
  engine::JobHooks hooks;
  hooks.cancel = &cancel_;
  hooks.shrink_version = context_.options->shrink_version;
  hooks.progress = [this](const std::string& stage, double fraction, const std::string& message) {
    SetProgress(stage, kFetchEnd + (kEngineEnd - kFetchEnd) * fraction, message);
  };
  hooks.validate_output = ort::MakeOrtValidator(data_path, spec.recipe.threads(),
                                                engine::StateInputs(spec.recipe));
  hooks.validator_version = ort::OrtVersion();
  hooks.runners = ort::OrtRuntime(spec.recipe.threads());
  ResetPeakRss();
  ASSIGN_OR_RETURN(v1::Report report, engine::RunJob(spec, hooks));
  return Upload(report, spec.output_path, work_dir);
}

void LeasedJob::Execute() {
  StatusOr<Results> results = Work();
  // Inputs stay cached; the scratch directory (outputs, unpacked data) goes.
  (void)context_.cache->MakeWorkDir("job");
  std::lock_guard<std::mutex> lock(mutex_);
  results_ = std::move(results);
  done_ = true;
  changed_.notify_all();
}

void LeasedJob::Heartbeat() {
  v1::HeartbeatRequest request;
  request.set_job_id(job_.id());
  request.set_fence(fence_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    *request.mutable_progress() = progress_;
  }
  request.mutable_progress()->set_time_unix_ms(NowUnixMillis());
  auto reply = context_.client->Heartbeat(request);
  if (!reply.ok()) {
    if (NoteStale(reply.status()).code() == StatusCode::kFailedPrecondition) {
      SHRINK_LOG(Warning) << "job " << job_.id() << ": lease lost (" << reply.status().message()
                          << "); dropping the job";
    } else if (!heartbeat_failing_) {
      SHRINK_LOG(Warning) << "job " << job_.id()
                          << ": heartbeat failed: " << reply.status().ToString();
    }
    heartbeat_failing_ = true;
    return;
  }
  heartbeat_failing_ = false;
  if (reply->cancel() && !cancel_requested_) {
    SHRINK_LOG(Info) << "job " << job_.id() << ": cancelled by the server";
    cancel_requested_ = true;
    cancel_ = true;
  }
}

// Complete and Fail are retried while the server is unreachable, for about one lease.
Status LeasedJob::Deliver(const char* what, const std::function<Status()>& call) {
  const auto deadline =
      SteadyClock::now() + std::chrono::milliseconds(context_.options->lease_ms);
  int64_t backoff_ms = context_.options->idle_poll_ms;
  while (true) {
    Status status = NoteStale(call());
    const bool transient = status.code() == StatusCode::kUnavailable ||
                           status.code() == StatusCode::kDeadlineExceeded;
    if (!transient || SteadyClock::now() >= deadline) return status;
    SHRINK_LOG(Warning) << "job " << job_.id() << ": " << what << " failed ("
                        << status.ToString() << "); retrying";
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms = std::min(backoff_ms * 2, context_.options->max_backoff_ms);
  }
}

JobEnd LeasedJob::Finish() {
  if (abandoned_) return JobEnd::kAbandoned;
  if (!cancel_requested_ && limit_exceeded_.empty() && results_.ok()) {
    v1::CompleteRequest request;
    request.set_job_id(job_.id());
    request.set_fence(fence_);
    request.set_artifact_id(results_->artifact_id);
    request.set_report_id(results_->report_id);
    for (const auto& [name, value] : results_->metrics) (*request.mutable_metrics())[name] = value;
    request.set_budget_not_met(!results_->budget_missed.empty());
    request.set_budget_summary(results_->budget_missed);
    Status sent = Deliver("Complete", [&] { return context_.client->Complete(request); });
    if (abandoned_) return JobEnd::kAbandoned;
    if (!sent.ok()) {
      SHRINK_LOG(Error) << "job " << job_.id() << ": Complete: " << sent.ToString();
    }
    return JobEnd::kCompleted;
  }
  v1::FailRequest request;
  request.set_job_id(job_.id());
  request.set_fence(fence_);
  request.set_error(cancel_requested_           ? "cancelled"
                    : !limit_exceeded_.empty() ? limit_exceeded_
                                               : results_.status().ToString());
  SHRINK_LOG(Info) << "job " << job_.id() << ": failed: " << request.error();
  Status sent = Deliver("Fail", [&] { return context_.client->Fail(request); });
  if (abandoned_) return JobEnd::kAbandoned;
  if (!sent.ok()) {
    SHRINK_LOG(Error) << "job " << job_.id() << ": Fail: " << sent.ToString();
  }
  return JobEnd::kFailed;
}

void LeasedJob::CheckLimits(SteadyClock::time_point started) {
  if (!limit_exceeded_.empty()) return;
  const WorkerOptions& options = *context_.options;
  const double seconds = SecondsSince(started);
  if (options.job_timeout_ms > 0 && seconds * 1000 > double(options.job_timeout_ms)) {
    limit_exceeded_ = "DEADLINE_EXCEEDED: the job ran longer than the worker's limit of " +
                      std::to_string(options.job_timeout_ms / 1000) + " s";
  } else if (options.max_job_rss_bytes > 0) {
    const uint64_t rss = CurrentRssBytes();
    if (rss > options.max_job_rss_bytes) {
      limit_exceeded_ = "RESOURCE_EXHAUSTED: the job needed " + std::to_string(rss >> 20) +
                        " MiB, over the worker's limit of " +
                        std::to_string(options.max_job_rss_bytes >> 20) + " MiB";
    }
  }
  if (!limit_exceeded_.empty()) {
    SHRINK_LOG(Warning) << "job " << job_.id() << ": " << limit_exceeded_ << "; stopping it";
    cancel_ = true;
  }
}

JobEnd LeasedJob::Run() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    progress_.set_job_id(job_.id());
    progress_.set_state(v1::RUNNING);
    progress_.set_stage("fetch");
  }
  std::thread job_thread([this] { Execute(); });
  const auto started = SteadyClock::now();
  const auto period =
      std::chrono::milliseconds(std::max<int64_t>(context_.options->heartbeat_ms, 1));
  int64_t sequence = 0;
  while (true) {
    if (!abandoned_) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        progress_.set_sequence(++sequence);
      }
      Heartbeat();
    }
    CheckLimits(started);
    std::unique_lock<std::mutex> lock(mutex_);
    if (changed_.wait_for(lock, period, [this] { return done_ || stage_changed_; }) && done_) {
      break;
    }
    stage_changed_ = false;
  }
  job_thread.join();
  const JobEnd end = Finish();
  if (end == JobEnd::kAbandoned) {
    SHRINK_LOG(Warning) << "job " << job_.id() << ": abandoned (stale fence " << fence_ << ")";
  }
  return end;
}

}  // namespace

JobEnd RunLeasedJob(const v1::LeaseResponse& lease, const JobContext& context) {
  LeasedJob job(lease, context);
  return job.Run();
}

}  // namespace shrink::worker
