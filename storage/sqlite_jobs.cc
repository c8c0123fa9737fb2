// SqliteStore: jobs, progress events and metrics.
#include <algorithm>

#include "storage/sqlite_store.h"
#include "storage/store_internal.h"

namespace shrink::storage {

using sqlite::Stmt;
using sqlite::Transaction;

namespace {

#define SHRINK_JOB_COLUMNS                                                                   \
  "seq, id, tenant, model_hash, dataset_hashes, recipe, engine_version, priority, "         \
  "idempotency_key, max_attempts, state, attempts, worker_id, lease_expiry_ms, lease_fence, " \
  "cancel_requested, error, created_ms, started_ms, finished_ms, artifact_hash, report_hash, " \
  "progress_stage, progress_fraction, progress_message"

Job ReadJob(const Stmt& s, int64_t* seq) {
  *seq = s.Int(0);
  Job job;
  job.id = s.Text(1);
  job.spec.tenant = s.Text(2);
  job.spec.model_hash = s.Text(3);
  job.spec.dataset_hashes = internal::SplitHashes(s.Text(4));
  job.spec.recipe = s.Text(5);
  job.spec.engine_version = s.Text(6);
  job.spec.priority = static_cast<int32_t>(s.Int(7));
  job.spec.idempotency_key = s.Text(8);
  job.spec.max_attempts = static_cast<int32_t>(s.Int(9));
  job.state = static_cast<JobState>(s.Int(10));
  job.attempts = static_cast<int32_t>(s.Int(11));
  job.worker_id = s.Text(12);
  job.lease_expiry_ms = s.Int(13);
  job.lease_fence = s.Int(14);
  job.cancel_requested = s.Int(15) != 0;
  job.error = s.Text(16);
  job.created_ms = s.Int(17);
  job.started_ms = s.Int(18);
  job.finished_ms = s.Int(19);
  job.artifact_hash = s.Text(20);
  job.report_hash = s.Text(21);
  job.progress = Progress{s.Text(22), s.Double(23), s.Text(24)};
  return job;
}

Status NotFoundJob(const std::string& id) { return NotFound("job " + id + " not found"); }

}  // namespace

// ---- helpers (mu_ held) ----

StatusOr<std::optional<SqliteStore::JobRow>> SqliteStore::LoadJob(const std::string& id) {
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT " SHRINK_JOB_COLUMNS " FROM jobs WHERE id = ?"));
  ASSIGN_OR_RETURN(bool row, stmt->BindText(1, id).Step());
  if (!row) return std::optional<JobRow>();
  JobRow out;
  out.job = ReadJob(*stmt, &out.seq);
  return std::optional<JobRow>(std::move(out));
}

StatusOr<SqliteStore::JobRow> SqliteStore::LoadTenantJob(const std::string& tenant,
                                                         const std::string& id) {
  ASSIGN_OR_RETURN(std::optional<JobRow> row, LoadJob(id));
  // Another tenant's job is indistinguishable from a missing one.
  if (!row || row->job.spec.tenant != tenant) return NotFoundJob(id);
  return std::move(*row);
}

StatusOr<SqliteStore::JobRow> SqliteStore::LoadLeasedJob(const std::string& id, int64_t fence) {
  ASSIGN_OR_RETURN(std::optional<JobRow> row, LoadJob(id));
  if (!row) return NotFoundJob(id);
  if (row->job.state != JobState::kRunning || row->job.lease_fence != fence) {
    return FailedPrecondition("job " + id +
                              ": lease is no longer held (stale fence or not running)");
  }
  return std::move(*row);
}

Status SqliteStore::FinishJob(int64_t seq, JobState state, const std::string& error) {
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "UPDATE jobs SET state = ?, error = ?, finished_ms = ?, lease_expiry_ms = 0 "
      "WHERE seq = ?"));
  return stmt->Bind(1, static_cast<int>(state))
      .BindText(2, error)
      .Bind(3, clock_->NowMillis())
      .Bind(4, seq)
      .Run();
}

// ---- submit and read ----

StatusOr<Job> SqliteStore::GetLeasedJob(const std::string& id, int64_t fence) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(JobRow row, LoadLeasedJob(id, fence));
  return std::move(row.job);
}

StatusOr<SubmitResult> SqliteStore::Submit(const JobSpec& spec) {
  RETURN_IF_ERROR(internal::ValidateSpec(spec));
  const std::string cache_key = CacheKeyDigest(CacheKeyOf(spec));
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db_.get()));
  if (!spec.idempotency_key.empty()) {
    ASSIGN_OR_RETURN(auto find, db_->Prepare(
        "SELECT id FROM jobs WHERE tenant = ? AND idempotency_key = ?"));
    ASSIGN_OR_RETURN(bool row, find->BindText(1, spec.tenant).BindText(2, spec.idempotency_key)
                                   .Step());
    if (row) {
      std::string id = find->Text(0);
      find.reset();
      ASSIGN_OR_RETURN(std::optional<JobRow> existing, LoadJob(id));
      if (!existing) return Internal("job " + id + " vanished");
      return SubmitResult{std::move(existing->job), false};
    }
  }
  const std::string id = NewRandomId("j");
  {
    ASSIGN_OR_RETURN(auto insert, db_->Prepare(
        "INSERT INTO jobs(id, tenant, model_hash, dataset_hashes, recipe, engine_version, "
        "priority, idempotency_key, max_attempts, state, created_ms, cache_key) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)"));
    insert->BindText(1, id)
        .BindText(2, spec.tenant)
        .BindText(3, spec.model_hash)
        .BindText(4, internal::JoinHashes(spec.dataset_hashes))
        .BindBlob(5, spec.recipe)
        .BindText(6, spec.engine_version)
        .Bind(7, spec.priority)
        .Bind(9, spec.max_attempts)
        .Bind(10, clock_->NowMillis())
        .BindText(11, cache_key);
    if (spec.idempotency_key.empty()) {
      insert->BindNull(8);
    } else {
      insert->BindText(8, spec.idempotency_key);
    }
    RETURN_IF_ERROR(insert->Run());
  }
  ASSIGN_OR_RETURN(std::optional<JobRow> created, LoadJob(id));
  if (!created) return Internal("job " + id + " vanished");
  RETURN_IF_ERROR(txn->Commit());
  return SubmitResult{std::move(created->job), true};
}

StatusOr<std::optional<Job>> SqliteStore::FindByIdempotencyKey(const std::string& tenant,
                                                              const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto find, db_->Prepare(
      "SELECT id FROM jobs WHERE tenant = ? AND idempotency_key = ?"));
  ASSIGN_OR_RETURN(bool row, find->BindText(1, tenant).BindText(2, key).Step());
  if (!row) return std::optional<Job>();
  std::string id = find->Text(0);
  find.reset();
  ASSIGN_OR_RETURN(std::optional<JobRow> existing, LoadJob(id));
  if (!existing) return std::optional<Job>();
  return std::optional<Job>(std::move(existing->job));
}

StatusOr<Job> SqliteStore::GetJob(const std::string& tenant, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(JobRow row, LoadTenantJob(tenant, id));
  return std::move(row.job);
}

StatusOr<JobPage> SqliteStore::ListJobs(const ListRequest& request) {
  ASSIGN_OR_RETURN(int64_t after, internal::ParsePageToken(request.page_token));
  const int32_t size = std::clamp(request.page_size, 1, 1000);
  std::lock_guard<std::mutex> lock(mu_);
  // One extra row tells whether another page follows.
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT " SHRINK_JOB_COLUMNS " FROM jobs WHERE tenant = ? AND seq > ? "
      "AND (? < 0 OR state = ?) ORDER BY seq LIMIT ?"));
  const int state = request.state ? static_cast<int>(*request.state) : -1;
  stmt->BindText(1, request.tenant).Bind(2, after).Bind(3, state).Bind(4, state).Bind(5, size + 1);
  JobPage page;
  int64_t last_seq = 0;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    if (static_cast<int32_t>(page.jobs.size()) == size) {
      page.next_page_token = std::to_string(last_seq);
      break;
    }
    page.jobs.push_back(ReadJob(*stmt, &last_seq));
  }
  return page;
}

// ---- worker side ----

StatusOr<std::optional<Job>> SqliteStore::Lease(const std::string& worker_id, int64_t lease_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db_.get()));
  int64_t seq = 0;
  {
    ASSIGN_OR_RETURN(auto pick, db_->Prepare(
        "SELECT seq FROM jobs WHERE state = 0 ORDER BY priority DESC, seq LIMIT 1"));
    ASSIGN_OR_RETURN(bool row, pick->Step());
    if (!row) return std::optional<Job>();
    seq = pick->Int(0);
  }
  const int64_t now = clock_->NowMillis();
  {
    ASSIGN_OR_RETURN(auto update, db_->Prepare(
        "UPDATE jobs SET state = 1, attempts = attempts + 1, lease_fence = lease_fence + 1, "
        "worker_id = ?, lease_expiry_ms = ?, started_ms = ? WHERE seq = ?"));
    RETURN_IF_ERROR(
        update->BindText(1, worker_id).Bind(2, now + lease_ms).Bind(3, now).Bind(4, seq).Run());
  }
  ASSIGN_OR_RETURN(auto load,
                   db_->Prepare("SELECT " SHRINK_JOB_COLUMNS " FROM jobs WHERE seq = ?"));
  ASSIGN_OR_RETURN(bool row, load->Bind(1, seq).Step());
  if (!row) return Internal("leased job vanished");
  Job job = ReadJob(*load, &seq);
  load.reset();
  RETURN_IF_ERROR(txn->Commit());
  return std::optional<Job>(std::move(job));
}

StatusOr<HeartbeatResult> SqliteStore::Heartbeat(const std::string& id, int64_t fence,
                                                 const Progress& progress, int64_t lease_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db_.get()));
  ASSIGN_OR_RETURN(JobRow row, LoadLeasedJob(id, fence));
  const int64_t now = clock_->NowMillis();
  {
    ASSIGN_OR_RETURN(auto update, db_->Prepare(
        "UPDATE jobs SET lease_expiry_ms = ?, progress_stage = ?, progress_fraction = ?, "
        "progress_message = ?, event_count = event_count + 1 WHERE seq = ?"));
    RETURN_IF_ERROR(update->Bind(1, now + lease_ms)
                        .BindText(2, progress.stage)
                        .Bind(3, progress.fraction)
                        .BindText(4, progress.message)
                        .Bind(5, row.seq)
                        .Run());
  }
  ASSIGN_OR_RETURN(auto event, db_->Prepare(
      "INSERT INTO job_events(job_seq, seq, time_ms, stage, fraction, message) "
      "VALUES (?, (SELECT event_count FROM jobs WHERE seq = ?), ?, ?, ?, ?)"));
  RETURN_IF_ERROR(event->Bind(1, row.seq)
                      .Bind(2, row.seq)
                      .Bind(3, now)
                      .BindText(4, progress.stage)
                      .Bind(5, progress.fraction)
                      .BindText(6, progress.message)
                      .Run());
  RETURN_IF_ERROR(txn->Commit());
  return HeartbeatResult{row.job.cancel_requested, now + lease_ms};
}

Status SqliteStore::Complete(const std::string& id, int64_t fence,
                             const std::string& artifact_hash, const std::string& report_hash) {
  return FailWithArtifacts(id, fence, artifact_hash, report_hash, "");
}

Status SqliteStore::FailWithArtifacts(const std::string& id, int64_t fence,
                                      const std::string& artifact_hash,
                                      const std::string& report_hash, const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db_.get()));
  ASSIGN_OR_RETURN(JobRow row, LoadLeasedJob(id, fence));
  {
    ASSIGN_OR_RETURN(auto update, db_->Prepare(
        "UPDATE jobs SET artifact_hash = ?, report_hash = ? WHERE seq = ?"));
    RETURN_IF_ERROR(
        update->BindText(1, artifact_hash).BindText(2, report_hash).Bind(3, row.seq).Run());
  }
  RETURN_IF_ERROR(
      FinishJob(row.seq, error.empty() ? JobState::kSucceeded : JobState::kFailed, error));
  return txn->Commit();
}

Status SqliteStore::Fail(const std::string& id, int64_t fence, const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db_.get()));
  ASSIGN_OR_RETURN(JobRow row, LoadLeasedJob(id, fence));
  JobState state = row.job.cancel_requested ? JobState::kCancelled : JobState::kFailed;
  RETURN_IF_ERROR(FinishJob(row.seq, state, error));
  return txn->Commit();
}

StatusOr<Job> SqliteStore::Cancel(const std::string& tenant, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db_.get()));
  ASSIGN_OR_RETURN(JobRow row, LoadTenantJob(tenant, id));
  JobState state = row.job.state;
  if (state == JobState::kSucceeded || state == JobState::kFailed) {
    return FailedPrecondition("job " + id + " already " + JobStateName(state));
  }
  if (state != JobState::kCancelled) {
    ASSIGN_OR_RETURN(auto flag, db_->Prepare("UPDATE jobs SET cancel_requested = 1 WHERE seq = ?"));
    RETURN_IF_ERROR(flag->Bind(1, row.seq).Run());
  }
  if (state == JobState::kQueued) RETURN_IF_ERROR(FinishJob(row.seq, JobState::kCancelled, ""));
  ASSIGN_OR_RETURN(std::optional<JobRow> after, LoadJob(id));
  if (!after) return Internal("job " + id + " vanished");
  RETURN_IF_ERROR(txn->Commit());
  return std::move(after->job);
}

StatusOr<int> SqliteStore::ExpireLeases() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db_.get()));
  const int64_t now = clock_->NowMillis();
  std::vector<JobRow> expired;
  {
    ASSIGN_OR_RETURN(auto find, db_->Prepare(
        "SELECT " SHRINK_JOB_COLUMNS " FROM jobs WHERE state = 1 AND lease_expiry_ms <= ?"));
    find->Bind(1, now);
    while (true) {
      ASSIGN_OR_RETURN(bool row, find->Step());
      if (!row) break;
      JobRow job_row;
      job_row.job = ReadJob(*find, &job_row.seq);
      expired.push_back(std::move(job_row));
    }
  }
  for (const JobRow& row : expired) {
    const Job& job = row.job;
    if (job.cancel_requested) {
      RETURN_IF_ERROR(FinishJob(row.seq, JobState::kCancelled, ""));
    } else if (job.attempts >= job.spec.max_attempts) {
      RETURN_IF_ERROR(FinishJob(row.seq, JobState::kFailed, internal::ExpiredReason(job)));
    } else {
      ASSIGN_OR_RETURN(auto requeue, db_->Prepare(
          "UPDATE jobs SET state = 0, worker_id = '', lease_expiry_ms = 0 WHERE seq = ?"));
      RETURN_IF_ERROR(requeue->Bind(1, row.seq).Run());
    }
  }
  RETURN_IF_ERROR(txn->Commit());
  return static_cast<int>(expired.size());
}

// ---- events, cache, counts ----

StatusOr<std::vector<ProgressEvent>> SqliteStore::ReadEvents(const std::string& tenant,
                                                             const std::string& id,
                                                             int64_t after_seq, int32_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(JobRow row, LoadTenantJob(tenant, id));
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT seq, time_ms, stage, fraction, message FROM job_events "
      "WHERE job_seq = ? AND seq > ? ORDER BY seq LIMIT ?"));
  stmt->Bind(1, row.seq).Bind(2, after_seq).Bind(3, std::max(limit, 0));
  std::vector<ProgressEvent> out;
  while (true) {
    ASSIGN_OR_RETURN(bool more, stmt->Step());
    if (!more) break;
    out.push_back(ProgressEvent{stmt->Int(0), stmt->Int(1),
                                Progress{stmt->Text(2), stmt->Double(3), stmt->Text(4)}});
  }
  return out;
}

StatusOr<std::optional<Job>> SqliteStore::FindCached(const CacheKey& key) {
  const std::string digest = CacheKeyDigest(key);
  std::lock_guard<std::mutex> lock(mu_);
  // The digest covers the tenant, so a hit is always the caller's own job.
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT " SHRINK_JOB_COLUMNS " FROM jobs WHERE cache_key = ? AND state = 2 "
      "ORDER BY seq DESC LIMIT 1"));
  ASSIGN_OR_RETURN(bool row, stmt->BindText(1, digest).Step());
  if (!row) return std::optional<Job>();
  int64_t seq = 0;
  return std::optional<Job>(ReadJob(*stmt, &seq));
}

StatusOr<int64_t> SqliteStore::CountJobs(JobState state) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT COUNT(*) FROM jobs WHERE state = ?"));
  ASSIGN_OR_RETURN(bool row, stmt->Bind(1, static_cast<int>(state)).Step());
  return row ? stmt->Int(0) : 0;
}

// ---- metrics ----

Status SqliteStore::RecordMetric(const std::string& job_id, const std::string& name,
                                 double value) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db_.get()));
  ASSIGN_OR_RETURN(std::optional<JobRow> row, LoadJob(job_id));
  if (!row) return NotFoundJob(job_id);
  {
    ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
        "INSERT INTO metrics(job_seq, name, value) VALUES (?, ?, ?) "
        "ON CONFLICT(job_seq, name) DO UPDATE SET value = excluded.value"));
    RETURN_IF_ERROR(stmt->Bind(1, row->seq).BindText(2, name).Bind(3, value).Run());
  }
  return txn->Commit();
}

StatusOr<std::map<std::string, double>> SqliteStore::MetricsForJob(const std::string& tenant,
                                                                   const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(JobRow row, LoadTenantJob(tenant, job_id));
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT name, value FROM metrics WHERE job_seq = ?"));
  stmt->Bind(1, row.seq);
  std::map<std::string, double> out;
  while (true) {
    ASSIGN_OR_RETURN(bool more, stmt->Step());
    if (!more) break;
    out[stmt->Text(0)] = stmt->Double(1);
  }
  return out;
}

StatusOr<std::vector<MetricSample>> SqliteStore::MetricByName(const std::string& tenant,
                                                              const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT j.id, m.value FROM metrics m JOIN jobs j ON j.seq = m.job_seq "
      "WHERE m.name = ? AND j.tenant = ? ORDER BY m.job_seq"));
  stmt->BindText(1, name).BindText(2, tenant);
  std::vector<MetricSample> out;
  while (true) {
    ASSIGN_OR_RETURN(bool more, stmt->Step());
    if (!more) break;
    out.push_back(MetricSample{stmt->Text(0), stmt->Double(1)});
  }
  return out;
}

}  // namespace shrink::storage
