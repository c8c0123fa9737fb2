// What every service handler shares: the stores, authentication, metrics, the Watch wake-ups,
// the limits and the drain flag. Owned by Server; handlers hold a reference.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/grpc_util.h"
#include "server/auth.h"
#include "server/job_events.h"
#include "server/metrics.h"
#include "storage/blob_store.h"
#include "storage/catalog_store.h"
#include "storage/job_store.h"
#include "storage/metric_store.h"
#include "storage/tenant_store.h"

namespace shrink::server {

struct ServiceLimits {
  int64_t max_upload_bytes = int64_t{2} << 30;  // per model, dataset or artifact
  int64_t tenant_quota_bytes = 0;               // models + datasets per tenant; 0: unlimited
  int32_t max_attempts = 3;                     // leases per job before it FAILS
  int64_t max_lease_ms = 60'000;                // a worker's lease request is capped here
};

// Workers that called in recently (for the workers-alive gauge).
class WorkerRegistry {
 public:
  void Seen(const std::string& worker_id, int64_t now_ms);
  int64_t AliveSince(int64_t since_ms) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, int64_t> last_seen_ms_;
};

struct ServiceContext {
  storage::BlobStore* blobs = nullptr;
  storage::CatalogStore* catalog = nullptr;
  storage::JobStore* jobs = nullptr;
  storage::MetricStore* metrics_store = nullptr;
  storage::TenantStore* tenants = nullptr;
  Authenticator* auth = nullptr;
  ServerMetrics* metrics = nullptr;
  JobEvents* events = nullptr;
  WorkerRegistry* workers = nullptr;
  const Clock* clock = nullptr;
  ServiceLimits limits;
  std::string engine_version;
  std::atomic<bool> draining{false};
  // Writes an online copy of the database to a new temp file and returns its path (the caller
  // removes it); null: backups unsupported.
  std::function<StatusOr<std::string>()> backup;
};

// Times one call and records it in the metrics when it ends.
class RpcTimer {
 public:
  RpcTimer(ServerMetrics* metrics, const char* method)
      : metrics_(metrics), method_(method), start_(std::chrono::steady_clock::now()) {}
  void Done(const grpc::Status& status) const;

 private:
  ServerMetrics* metrics_;
  const char* method_;
  std::chrono::steady_clock::time_point start_;
};

// Runs a unary handler: authenticates for `role`, runs `body(token_info)` (returns Status),
// converts, records and finishes the call.
template <typename Body>
grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* context, ServiceContext& services,
                                const char* method, Role role, Body&& body) {
  RpcTimer timer(services.metrics, method);
  auto who = services.auth->Check(*context, role);
  Status status = who.ok() ? body(*who) : who.status();
  grpc::Status result = rpc::ToGrpc(status);
  timer.Done(result);
  auto* reactor = context->DefaultReactor();
  reactor->Finish(result);
  return reactor;
}

}  // namespace shrink::server
