#include "server/service_context.h"

namespace shrink::server {

void WorkerRegistry::Seen(const std::string& worker_id, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  last_seen_ms_[worker_id] = now_ms;
}

int64_t WorkerRegistry::AliveSince(int64_t since_ms) const {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t alive = 0;
  for (const auto& [id, seen] : last_seen_ms_) alive += seen >= since_ms;
  return alive;
}

void RpcTimer::Done(const grpc::Status& status) const {
  std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
  metrics_->RecordRpc(method_, static_cast<int>(status.error_code()), elapsed.count());
}

}  // namespace shrink::server
