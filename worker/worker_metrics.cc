#include "worker/worker_metrics.h"

#include <exception>

namespace shrink::worker {

StatusOr<std::unique_ptr<WorkerMetrics>> WorkerMetrics::Create(const std::string& listen,
                                                               const std::string& worker_id) {
  std::unique_ptr<WorkerMetrics> metrics(new WorkerMetrics());
  metrics->registry_ = std::make_shared<prometheus::Registry>();
  auto& registry = *metrics->registry_;
  const prometheus::Labels worker = {{"worker", worker_id}};
  metrics->jobs_ = &prometheus::BuildCounter().Name("shrink_worker_jobs_total")
                        .Help("jobs this worker ended, by outcome").Labels(worker)
                        .Register(registry);
  metrics->seconds_ = &prometheus::BuildHistogram().Name("shrink_worker_job_duration_seconds")
                           .Help("lease to end of each job on this worker").Labels(worker)
                           .Register(registry);
  metrics->busy_ = &prometheus::BuildGauge().Name("shrink_worker_busy")
                        .Help("1 while a job runs").Labels(worker).Register(registry).Add({});
  metrics->reachable_ = &prometheus::BuildGauge().Name("shrink_worker_server_reachable")
                             .Help("1 when the last call to the server got an answer")
                             .Labels(worker).Register(registry).Add({});
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

void WorkerMetrics::JobStarted() { busy_->Set(1); }

void WorkerMetrics::JobEnded(const std::string& outcome, double seconds) {
  busy_->Set(0);
  jobs_->Add({{"outcome", outcome}}).Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600};
  seconds_->Add({{"outcome", outcome}}, kBuckets).Observe(seconds);
}

void WorkerMetrics::ServerReachable(bool reachable) { reachable_->Set(reachable ? 1 : 0); }

}  // namespace shrink::worker
