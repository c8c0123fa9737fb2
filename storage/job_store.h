// JobStore: the durable job queue.
//
// Lifecycle: QUEUED -> RUNNING (Lease) -> SUCCEEDED (Complete) | FAILED (Fail, or the lease
// expired on the last attempt) | CANCELLED (Cancel of a queued job, or a running job whose
// worker saw the cancellation flag and called Fail). An expired lease puts the job back to QUEUED
// while attempts < max_attempts. SUCCEEDED, FAILED and CANCELLED are final.
//
// Fencing: every Lease increments the job's lease_fence and hands it to the worker; Heartbeat,
// Complete and Fail must present it. A stale number (the job was re-leased, or is no longer
// RUNNING) is refused with FailedPrecondition, so a worker that lost its lease cannot overwrite
// the result of the one that holds it.
//
// Tenancy: every read or change made on behalf of a user names the tenant; another tenant's job
// behaves exactly as a missing one (NotFound, absent from lists). Worker calls (Lease, Heartbeat,
// Complete, Fail) are authorized by the fence instead.
//
// Time comes from the store's Clock (lease expiry, timestamps). All methods are thread-safe and
// every state change is atomic.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace shrink::storage {

enum class JobState { kQueued = 0, kRunning = 1, kSucceeded = 2, kFailed = 3, kCancelled = 4 };

// "QUEUED", "RUNNING", ... (the names of design.md's --json output).
const char* JobStateName(JobState state);
StatusOr<JobState> ParseJobState(const std::string& name);
bool IsFinal(JobState state);

// What a user submits. The cache key is (tenant, model_hash, recipe, dataset_hashes,
// engine_version); `recipe` must be canonical bytes so equal recipes compare equal.
struct JobSpec {
  std::string tenant;
  std::string model_hash;
  std::vector<std::string> dataset_hashes;  // order matters (e.g. calibration, evaluation)
  std::string recipe;                       // canonical recipe bytes
  std::string engine_version;
  int32_t priority = 0;        // higher runs first
  std::string idempotency_key;  // empty: none; else unique per tenant
  int32_t max_attempts = 3;     // leases granted at most; >= 1
};

struct Progress {
  std::string stage;
  double fraction = 0;  // 0..1
  std::string message;
};

struct Job {
  std::string id;
  JobSpec spec;
  JobState state = JobState::kQueued;
  int32_t attempts = 0;  // leases granted so far
  std::string worker_id;
  int64_t lease_expiry_ms = 0;
  int64_t lease_fence = 0;
  bool cancel_requested = false;
  std::string error;
  int64_t created_ms = 0;
  int64_t started_ms = 0;   // last lease; 0 = never
  int64_t finished_ms = 0;  // 0 = not final
  std::string artifact_hash;
  std::string report_hash;
  Progress progress;
};

struct SubmitResult {
  Job job;
  bool created = false;  // false: the idempotency key matched an existing job
};

struct ListRequest {
  std::string tenant;
  std::optional<JobState> state;
  int32_t page_size = 50;  // clamped to [1, 1000]
  std::string page_token;  // from the previous page; empty for the first
};

struct JobPage {
  std::vector<Job> jobs;        // oldest first
  std::string next_page_token;  // empty on the last page
};

struct HeartbeatResult {
  bool cancel_requested = false;
  int64_t lease_expiry_ms = 0;
};

struct ProgressEvent {
  int64_t seq = 0;  // increasing per job, starting at 1
  int64_t time_ms = 0;
  Progress progress;
};

struct CacheKey {
  std::string tenant;
  std::string model_hash;
  std::string recipe;
  std::vector<std::string> dataset_hashes;
  std::string engine_version;
};

class JobStore {
 public:
  virtual ~JobStore() = default;

  // Creates a QUEUED job, or returns the tenant's existing job with the same idempotency key.
  virtual StatusOr<SubmitResult> Submit(const JobSpec& spec) = 0;
  // The tenant's job submitted with this idempotency key, if any.
  virtual StatusOr<std::optional<Job>> FindByIdempotencyKey(const std::string& tenant,
                                                            const std::string& key) = 0;
  virtual StatusOr<Job> GetJob(const std::string& tenant, const std::string& id) = 0;
  virtual StatusOr<JobPage> ListJobs(const ListRequest& request) = 0;

  // Takes the highest-priority, oldest QUEUED job: RUNNING, attempts+1, a new fence, expiry =
  // now + lease_ms. nullopt when the queue is empty.
  virtual StatusOr<std::optional<Job>> Lease(const std::string& worker_id, int64_t lease_ms) = 0;
  // The job a worker holds: RUNNING with this fence (FailedPrecondition otherwise, NotFound for
  // an unknown id). Lets worker calls find the job's tenant and inputs.
  virtual StatusOr<Job> GetLeasedJob(const std::string& id, int64_t fence) = 0;
  // Extends the lease to now + lease_ms, records the progress and appends it to the event log.
  virtual StatusOr<HeartbeatResult> Heartbeat(const std::string& id, int64_t fence,
                                              const Progress& progress, int64_t lease_ms) = 0;
  virtual Status Complete(const std::string& id, int64_t fence, const std::string& artifact_hash,
                          const std::string& report_hash) = 0;
  // FAILED with `error`, yet with the artifact and report recorded: a best-effort result (a
  // missed accuracy budget). Never a cache hit.
  virtual Status FailWithArtifacts(const std::string& id, int64_t fence,
                                   const std::string& artifact_hash,
                                   const std::string& report_hash, const std::string& error) = 0;
  // Final failure with `error`; CANCELLED instead when cancellation had been requested.
  virtual Status Fail(const std::string& id, int64_t fence, const std::string& error) = 0;
  // QUEUED: CANCELLED at once. RUNNING: sets cancel_requested (the next Heartbeat reports it).
  // CANCELLED: no change. SUCCEEDED/FAILED: FailedPrecondition. Returns the job after the change.
  virtual StatusOr<Job> Cancel(const std::string& tenant, const std::string& id) = 0;
  // RUNNING jobs whose lease expired: QUEUED again, or FAILED with the reason once attempts
  // reached max_attempts, or CANCELLED when cancellation was requested. Returns how many changed.
  virtual StatusOr<int> ExpireLeases() = 0;

  // Progress events with seq > after_seq, oldest first, at most `limit`.
  virtual StatusOr<std::vector<ProgressEvent>> ReadEvents(const std::string& tenant,
                                                          const std::string& id, int64_t after_seq,
                                                          int32_t limit) = 0;
  // The most recent SUCCEEDED job of the same tenant with the same cache key, if any.
  virtual StatusOr<std::optional<Job>> FindCached(const CacheKey& key) = 0;
  // Number of jobs in `state` across tenants (queue depth, metrics).
  virtual StatusOr<int64_t> CountJobs(JobState state) = 0;
};

// Stable digest of a cache key (hex sha256 over length-prefixed fields).
std::string CacheKeyDigest(const CacheKey& key);
CacheKey CacheKeyOf(const JobSpec& spec);

}  // namespace shrink::storage
