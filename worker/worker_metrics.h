// A worker's own Prometheus metrics (`shrink-worker --metrics-listen ADDR`): jobs by outcome and
// their durations, whether a job is running, whether the server answers. The server's metrics
// cover the queue; these show each worker from its side (e.g. one that cannot reach the server).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "common/status.h"

namespace shrink::worker {

class WorkerMetrics {
 public:
  // Serves /metrics on `listen` ("host:port"; port 0 picks one), every series labeled with
  // worker=`worker_id`.
  static StatusOr<std::unique_ptr<WorkerMetrics>> Create(const std::string& listen,
                                                         const std::string& worker_id);
  int port() const { return port_; }

  void JobStarted();
  // `outcome`: "completed", "failed" or "abandoned".
  void JobEnded(const std::string& outcome, double seconds);
  void ServerReachable(bool reachable);

 private:
  WorkerMetrics() = default;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
  prometheus::Family<prometheus::Counter>* jobs_ = nullptr;
  prometheus::Family<prometheus::Histogram>* seconds_ = nullptr;
  prometheus::Gauge* busy_ = nullptr;
  prometheus::Gauge* reachable_ = nullptr;
};

}  // namespace shrink::worker
