// shrink-worker's engine room: leases jobs from a server's WorkerService, fetches the model and
// data into a verified local cache, runs engine::RunJob on a job thread while the calling thread
// heartbeats (progress out, cancellation in), then uploads the artifact and report and calls
// Complete, or calls Fail with "<CODE>: message" ("cancelled" when the server cancelled it).
// A stale fence (kFailedPrecondition) on any call means the job was re-leased: the worker drops
// it without Complete or Fail.
//
// Thread safety: Run is called from one thread; `stop` may be set from any thread (a signal
// handler's flag). Errors: Create fails on a bad cache directory (or one another worker holds);
// Run fails only when the server refuses the token, and otherwise keeps serving until `stop`.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "shrink/v1/service.grpc.pb.h"

namespace shrink::worker {

struct WorkerOptions {
  std::string address;       // host:port of the server
  std::string token;         // WORKER token; "" sends none
  std::string tls_ca_file;   // "" = plaintext
  std::string tls_cert_file;  // mutual TLS: this worker's cert and key (PEM); "" = none
  std::string tls_key_file;
  std::string cache_dir;
  uint64_t cache_max_bytes = uint64_t(4) << 30;
  std::string worker_id;     // "" = DefaultWorkerId()
  int64_t lease_ms = 30000;
  // Cancellation reaches the engine within one heartbeat (plus a round trip), so keep it well
  // under a second.
  int64_t heartbeat_ms = 250;
  int64_t idle_poll_ms = 200;      // between empty leases
  int64_t max_backoff_ms = 2000;   // while the server is unreachable
  int threads = 0;                 // > 0: overrides the recipe's thread count
  int64_t max_jobs = 0;            // 0 = unlimited; Run returns after this many jobs
  // Per-job limits, checked at every heartbeat: a job over either is cancelled and Failed with
  // DEADLINE_EXCEEDED / RESOURCE_EXHAUSTED naming the limit; the worker goes on. 0 = none.
  int64_t job_timeout_ms = 0;
  uint64_t max_job_rss_bytes = 0;  // resident size of this process
  std::string shrink_version;      // for the report
  std::string metrics_listen;      // "host:port" for /metrics; "" = none
};

// "<hostname>-<pid>-<random hex>".
std::string DefaultWorkerId();

class Worker {
 public:
  static StatusOr<std::unique_ptr<Worker>> Create(WorkerOptions options);
  // For tests: a worker on an existing channel (e.g. an in-process server).
  static StatusOr<std::unique_ptr<Worker>> Create(
      WorkerOptions options, std::unique_ptr<v1::WorkerService::StubInterface> stub);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Leases and runs jobs one at a time until `stop` is set (the running job finishes first) or
  // max_jobs have run.
  Status Run(const std::atomic<bool>& stop);

  const std::string& worker_id() const;
  int64_t jobs_run() const;

 private:
  struct Impl;
  explicit Worker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace shrink::worker
