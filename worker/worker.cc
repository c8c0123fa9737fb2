#include "worker/worker.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "common/grpc_util.h"
#include "common/logging.h"
#include "worker/blob_cache.h"
#include "worker/leased_job.h"
#include "worker/worker_metrics.h"
#include "worker/worker_client.h"

namespace shrink::worker {
namespace {

// Sleeps up to `ms`, waking early when `stop` is set.
void SleepUnlessStopped(int64_t ms, const std::atomic<bool>& stop) {
  constexpr int64_t kSlice = 20;
  for (int64_t slept = 0; slept < ms && !stop; slept += kSlice) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(kSlice, ms - slept)));
  }
}

bool IsFatal(StatusCode code) {
  return code == StatusCode::kUnauthenticated || code == StatusCode::kPermissionDenied;
}

}  // namespace

std::string DefaultWorkerId() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') std::snprintf(host, 8, "host");
  std::random_device device;
  char suffix[16];
  std::snprintf(suffix, sizeof(suffix), "%06x", unsigned(device() & 0xffffff));
  return std::string(host) + "-" + std::to_string(getpid()) + "-" + suffix;
}

struct Worker::Impl {
  WorkerOptions options;
  std::unique_ptr<WorkerClient> client;
  std::unique_ptr<BlobCache> cache;
  std::unique_ptr<WorkerMetrics> metrics;  // null unless metrics_listen is set
  int64_t jobs_run = 0;
};

StatusOr<std::unique_ptr<Worker>> Worker::Create(WorkerOptions options) {
  if (options.address.empty()) return InvalidArgument("no server address given");
  rpc::ChannelOptions channel_options{options.address, options.tls_ca_file,
                                      options.tls_cert_file, options.tls_key_file};
  ASSIGN_OR_RETURN(auto channel, rpc::MakeChannel(channel_options));
  return Create(std::move(options), v1::WorkerService::NewStub(channel));
}

StatusOr<std::unique_ptr<Worker>> Worker::Create(
    WorkerOptions options, std::unique_ptr<v1::WorkerService::StubInterface> stub) {
  if (options.lease_ms <= 0 || options.heartbeat_ms <= 0 || options.idle_poll_ms <= 0) {
    return InvalidArgument("lease, heartbeat and poll intervals must be positive");
  }
  if (options.heartbeat_ms * 2 > options.lease_ms) {
    return InvalidArgument("the heartbeat interval (" + std::to_string(options.heartbeat_ms) +
                           " ms) must be at most half the lease (" +
                           std::to_string(options.lease_ms) + " ms)");
  }
  if (options.worker_id.empty()) options.worker_id = DefaultWorkerId();
  auto impl = std::make_unique<Impl>();
  ASSIGN_OR_RETURN(impl->cache, BlobCache::Open({options.cache_dir, options.cache_max_bytes}));
  WorkerClientOptions client_options;
  client_options.heartbeat_timeout =
      std::chrono::milliseconds(std::clamp<int64_t>(options.lease_ms / 3, 1000, 5000));
  impl->client =
      std::make_unique<WorkerClient>(std::move(stub), options.token, client_options);
  if (!options.metrics_listen.empty()) {
    ASSIGN_OR_RETURN(impl->metrics,
                     WorkerMetrics::Create(options.metrics_listen, options.worker_id));
  }
  impl->options = std::move(options);
  return std::unique_ptr<Worker>(new Worker(std::move(impl)));
}

Worker::Worker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Worker::~Worker() = default;

const std::string& Worker::worker_id() const { return impl_->options.worker_id; }
int64_t Worker::jobs_run() const { return impl_->jobs_run; }

Status Worker::Run(const std::atomic<bool>& stop) {
  const WorkerOptions& options = impl_->options;
  SHRINK_LOG(Info) << "worker " << options.worker_id << " serving " << options.address
                   << " (cache " << impl_->cache->dir() << ")";
  WorkerMetrics* metrics = impl_->metrics.get();
  if (metrics) {
    SHRINK_LOG(Info) << "worker metrics on port " << metrics->port() << " (/metrics)";
  }
  const JobContext context{impl_->client.get(), impl_->cache.get(), &impl_->options};
  int64_t backoff_ms = options.idle_poll_ms;
  bool unreachable = false;
  while (!stop && (options.max_jobs <= 0 || impl_->jobs_run < options.max_jobs)) {
    auto lease = impl_->client->Lease(options.worker_id, options.lease_ms);
    if (!lease.ok()) {
      if (IsFatal(lease.status().code())) {
        return lease.status().WithContext("the server refused this worker");
      }
      if (!unreachable) {
        SHRINK_LOG(Warning) << "lease failed: " << lease.status().ToString();
      }
      unreachable = true;
      if (metrics) metrics->ServerReachable(false);
      SleepUnlessStopped(backoff_ms, stop);
      backoff_ms = std::min(backoff_ms * 2, options.max_backoff_ms);
      continue;
    }
    if (unreachable) {
      SHRINK_LOG(Info) << "server reachable again";
    }
    unreachable = false;
    if (metrics) metrics->ServerReachable(true);
    backoff_ms = options.idle_poll_ms;
    if (!lease->has_job()) {
      SleepUnlessStopped(options.idle_poll_ms, stop);
      continue;
    }
    SHRINK_LOG(Info) << "job " << lease->job().id() << ": leased (fence " << lease->fence()
                     << ", attempt " << lease->job().attempts() << ")";
    const auto start = std::chrono::steady_clock::now();
    if (metrics) metrics->JobStarted();
    const JobEnd end = RunLeasedJob(*lease, context);
    ++impl_->jobs_run;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::string outcome = end == JobEnd::kCompleted ? "completed"
                                : end == JobEnd::kFailed  ? "failed"
                                                          : "abandoned";
    if (metrics) metrics->JobEnded(outcome, seconds);
    SHRINK_LOG(Info) << "job " << lease->job().id() << ": " << outcome << " after " << seconds
                     << " s";
  }
  SHRINK_LOG(Info) << "worker " << options.worker_id << " stopping after " << impl_->jobs_run
                   << " job(s)";
  return OkStatus();
}

}  // namespace shrink::worker
