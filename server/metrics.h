// The server's Prometheus metrics (prometheus-cpp), served on their own port. Counters and
// histograms are updated by the handlers as things happen; gauges that mirror the store (jobs by
// state, queue depth, bytes stored, workers alive) are refreshed by the server's housekeeping.
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
#include "storage/job_store.h"

namespace shrink::server {

class ServerMetrics {
 public:
  // `listen` ("host:port", port 0 picks one) serves /metrics; empty: collected, not served.
  static StatusOr<std::unique_ptr<ServerMetrics>> Create(const std::string& listen);
  int port() const { return port_; }

  void RecordRpc(const std::string& method, int grpc_code, double seconds);
  void JobSubmitted(bool cache_hit);
  // A job reached a final state after running `seconds` (0 when it never ran).
  void JobFinished(storage::JobState state, double seconds);
  void StageSeconds(const std::string& stage, double seconds);
  void ProgressEvent(const std::string& stage);
  void BytesReceived(int64_t bytes);
  void BytesSent(int64_t bytes);

  void SetJobs(storage::JobState state, int64_t count);
  void SetBlobBytes(int64_t bytes);
  void SetWorkersAlive(int64_t remote_or_local, int64_t supervised);

 private:
  ServerMetrics();
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
  prometheus::Family<prometheus::Counter>* rpcs_;
  prometheus::Family<prometheus::Histogram>* rpc_seconds_;
  prometheus::Family<prometheus::Counter>* submitted_;
  prometheus::Family<prometheus::Counter>* finished_;
  prometheus::Family<prometheus::Histogram>* job_seconds_;
  prometheus::Family<prometheus::Histogram>* stage_seconds_;
  prometheus::Family<prometheus::Counter>* progress_events_;
  prometheus::Family<prometheus::Counter>* bytes_;
  prometheus::Family<prometheus::Gauge>* jobs_;
  prometheus::Gauge* queue_depth_;
  prometheus::Gauge* blob_bytes_;
  prometheus::Family<prometheus::Gauge>* workers_;
};

}  // namespace shrink::server
