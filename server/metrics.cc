#include "server/metrics.h"

#include <exception>

namespace shrink::server {
namespace {

using prometheus::Histogram;

const Histogram::BucketBoundaries& RpcBuckets() {
  static const Histogram::BucketBoundaries kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                       0.05,   0.1,   0.25,   0.5,   1,    5};
  return kBuckets;
}

const Histogram::BucketBoundaries& JobBuckets() {
  static const Histogram::BucketBoundaries kBuckets = {0.1, 0.5, 1,   2.5,  5,    10,  30,
                                                       60,  120, 300, 600, 1800, 3600};
  return kBuckets;
}

}  // namespace

ServerMetrics::ServerMetrics() : registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  rpcs_ = &prometheus::BuildCounter().Name("shrink_rpcs_total")
               .Help("gRPC calls by method and status code").Register(r);
  rpc_seconds_ = &prometheus::BuildHistogram().Name("shrink_rpc_duration_seconds")
                      .Help("gRPC call latency by method (streams: until the end)").Register(r);
  submitted_ = &prometheus::BuildCounter().Name("shrink_jobs_submitted_total")
                    .Help("accepted submissions; cache=hit were answered from an earlier job")
                    .Register(r);
  finished_ = &prometheus::BuildCounter().Name("shrink_jobs_finished_total")
                   .Help("jobs that reached a final state").Register(r);
  job_seconds_ = &prometheus::BuildHistogram().Name("shrink_job_duration_seconds")
                      .Help("running time of finished jobs (last lease to the end)").Register(r);
  stage_seconds_ = &prometheus::BuildHistogram().Name("shrink_stage_duration_seconds")
                        .Help("engine stage durations reported by workers").Register(r);
  progress_events_ = &prometheus::BuildCounter().Name("shrink_progress_events_total")
                          .Help("progress events received from workers by stage").Register(r);
  bytes_ = &prometheus::BuildCounter().Name("shrink_transfer_bytes_total")
                .Help("bytes received (uploads) and sent (downloads)").Register(r);
  jobs_ = &prometheus::BuildGauge().Name("shrink_jobs").Help("jobs by state").Register(r);
  queue_depth_ = &prometheus::BuildGauge().Name("shrink_queue_depth")
                      .Help("jobs waiting for a worker").Register(r).Add({});
  blob_bytes_ = &prometheus::BuildGauge().Name("shrink_stored_bytes")
                     .Help("bytes of distinct content stored").Register(r).Add({});
  workers_ = &prometheus::BuildGauge().Name("shrink_workers_alive")
                  .Help("workers seen in the last 10 s (all), local worker processes running "
                        "(supervised)").Register(r);
}

StatusOr<std::unique_ptr<ServerMetrics>> ServerMetrics::Create(const std::string& listen) {
  std::unique_ptr<ServerMetrics> metrics(new ServerMetrics());
  if (listen.empty()) return metrics;
  try {
    metrics->exposer_ = std::make_unique<prometheus::Exposer>(listen);
  } catch (const std::exception& error) {
    return InvalidArgument("cannot serve metrics on " + listen + ": " + error.what());
  }
  metrics->exposer_->RegisterCollectable(metrics->registry_);
  auto ports = metrics->exposer_->GetListeningPorts();
  metrics->port_ = ports.empty() ? 0 : ports.front();
  return metrics;
}

void ServerMetrics::RecordRpc(const std::string& method, int grpc_code, double seconds) {
  rpcs_->Add({{"method", method}, {"code", std::to_string(grpc_code)}}).Increment();
  rpc_seconds_->Add({{"method", method}}, RpcBuckets()).Observe(seconds);
}

void ServerMetrics::JobSubmitted(bool cache_hit) {
  submitted_->Add({{"cache", cache_hit ? "hit" : "miss"}}).Increment();
}

void ServerMetrics::JobFinished(storage::JobState state, double seconds) {
  const char* name = storage::JobStateName(state);
  finished_->Add({{"state", name}}).Increment();
  if (seconds > 0) job_seconds_->Add({{"state", name}}, JobBuckets()).Observe(seconds);
}

void ServerMetrics::StageSeconds(const std::string& stage, double seconds) {
  stage_seconds_->Add({{"stage", stage}}, JobBuckets()).Observe(seconds);
}

void ServerMetrics::ProgressEvent(const std::string& stage) {
  progress_events_->Add({{"stage", stage}}).Increment();
}

void ServerMetrics::BytesReceived(int64_t bytes) {
  bytes_->Add({{"direction", "received"}}).Increment(static_cast<double>(bytes));
}

void ServerMetrics::BytesSent(int64_t bytes) {
  bytes_->Add({{"direction", "sent"}}).Increment(static_cast<double>(bytes));
}

void ServerMetrics::SetJobs(storage::JobState state, int64_t count) {
  jobs_->Add({{"state", storage::JobStateName(state)}}).Set(static_cast<double>(count));
  if (state == storage::JobState::kQueued) queue_depth_->Set(static_cast<double>(count));
}

void ServerMetrics::SetBlobBytes(int64_t bytes) { blob_bytes_->Set(static_cast<double>(bytes)); }

void ServerMetrics::SetWorkersAlive(int64_t all, int64_t supervised) {
  workers_->Add({{"kind", "all"}}).Set(static_cast<double>(all));
  workers_->Add({{"kind", "supervised"}}).Set(static_cast<double>(supervised));
}

}  // namespace shrink::server
