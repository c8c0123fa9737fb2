#include "storage/memory_store.h"

#include <algorithm>

#include "common/sha256.h"
#include "storage/store_internal.h"

namespace shrink::storage {
namespace {

Status StaleLease(const std::string& id) {
  return FailedPrecondition("job " + id + ": lease is no longer held (stale fence or not running)");
}

}  // namespace

class MemoryBlobWriter : public BlobWriter {
 public:
  MemoryBlobWriter(MemoryStore* store, std::string tenant)
      : store_(store), tenant_(std::move(tenant)) {}
  Status Write(std::string_view data) override {
    if (finished_) return FailedPrecondition("blob writer already finished");
    hasher_.Update(data);
    size_ += static_cast<int64_t>(data.size());
    while (!data.empty()) {
      size_t room = static_cast<size_t>(store_->chunk_size_) - pending_.size();
      size_t take = std::min(room, data.size());
      pending_.append(data.data(), take);
      data.remove_prefix(take);
      if (pending_.size() == static_cast<size_t>(store_->chunk_size_)) Flush();
    }
    return OkStatus();
  }
  StatusOr<BlobInfo> Finish() override {
    if (finished_) return FailedPrecondition("blob writer already finished");
    finished_ = true;
    if (!pending_.empty()) Flush();
    BlobInfo info{hasher_.HexDigest(), size_};
    store_->StoreBlob(tenant_, info, std::move(chunks_));
    return info;
  }

 private:
  void Flush() {
    chunks_.push_back(std::make_shared<const std::string>(std::move(pending_)));
    pending_.clear();
  }
  MemoryStore* store_;
  std::string tenant_;
  Sha256 hasher_;
  int64_t size_ = 0;
  std::string pending_;
  std::vector<std::shared_ptr<const std::string>> chunks_;
  bool finished_ = false;
};

namespace {

class MemoryBlobReader : public BlobReader {
 public:
  MemoryBlobReader(BlobInfo info, std::vector<std::shared_ptr<const std::string>> chunks)
      : info_(std::move(info)), chunks_(std::move(chunks)) {}
  StatusOr<bool> Next(std::string* chunk) override {
    if (next_ == chunks_.size()) {
      if (!verified_ && hasher_.HexDigest() != info_.hash) {
        return DataLoss("blob " + info_.hash + ": stored content does not match its sha256");
      }
      verified_ = true;
      return false;
    }
    *chunk = *chunks_[next_++];
    hasher_.Update(*chunk);
    return true;
  }
  const BlobInfo& info() const override { return info_; }

 private:
  BlobInfo info_;
  std::vector<std::shared_ptr<const std::string>> chunks_;
  size_t next_ = 0;
  Sha256 hasher_;
  bool verified_ = false;
};

}  // namespace

MemoryStore::MemoryStore(const Clock* clock, int64_t chunk_size)
    : clock_(clock ? clock : SystemClock::Default()), chunk_size_(chunk_size) {}

// ---- blobs ----

StatusOr<std::unique_ptr<BlobWriter>> MemoryStore::NewBlobWriter(const std::string& tenant) {
  return std::unique_ptr<BlobWriter>(new MemoryBlobWriter(this, tenant));
}

void MemoryStore::StoreBlob(const std::string& tenant, const BlobInfo& info,
                            std::vector<std::shared_ptr<const std::string>> chunks) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!blobs_.count(info.hash)) blobs_[info.hash] = StoredBlob{std::move(chunks), info.size};
  owners_.insert({tenant, info.hash});
}

StatusOr<std::unique_ptr<BlobReader>> MemoryStore::OpenBlob(const std::string& tenant,
                                                            const std::string& hash) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!owners_.count({tenant, hash})) return NotFound("blob " + hash + " not found");
  const StoredBlob& blob = blobs_.at(hash);
  return std::unique_ptr<BlobReader>(new MemoryBlobReader(BlobInfo{hash, blob.size}, blob.chunks));
}

StatusOr<int64_t> MemoryStore::BlobSize(const std::string& tenant, const std::string& hash) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!owners_.count({tenant, hash})) return NotFound("blob " + hash + " not found");
  return blobs_.at(hash).size;
}

StatusOr<bool> MemoryStore::BlobExists(const std::string& tenant, const std::string& hash) {
  std::lock_guard<std::mutex> lock(mu_);
  return owners_.count({tenant, hash}) > 0;
}

Status MemoryStore::DeleteBlob(const std::string& tenant, const std::string& hash) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!owners_.erase({tenant, hash})) return NotFound("blob " + hash + " not found");
  bool owned = std::any_of(owners_.begin(), owners_.end(),
                           [&](const auto& owner) { return owner.second == hash; });
  if (!owned) blobs_.erase(hash);
  return OkStatus();
}

Status MemoryStore::AddBlobOwner(const std::string& tenant, const std::string& hash) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!blobs_.count(hash)) return NotFound("blob " + hash + " not found");
  owners_.insert({tenant, hash});
  return OkStatus();
}

StatusOr<int64_t> MemoryStore::TotalBlobBytes() {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t total = 0;
  for (const auto& [hash, blob] : blobs_) total += blob.size;
  return total;
}

void MemoryStore::CorruptBlobForTest(const std::string& hash) {
  std::lock_guard<std::mutex> lock(mu_);
  StoredBlob& blob = blobs_.at(hash);
  auto copy = std::make_shared<std::string>(*blob.chunks.at(0));
  (*copy)[copy->size() / 2] ^= 0x01;
  blob.chunks[0] = copy;
}

// ---- jobs ----

MemoryStore::StoredJob* MemoryStore::FindJob(const std::string& tenant, const std::string& id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second.job.spec.tenant != tenant) return nullptr;
  return &it->second;
}

MemoryStore::StoredJob* MemoryStore::FindLeased(const std::string& id, int64_t fence,
                                                Status* error) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) {
    *error = NotFound("job " + id + " not found");
    return nullptr;
  }
  const Job& job = it->second.job;
  if (job.state != JobState::kRunning || job.lease_fence != fence) {
    *error = StaleLease(id);
    return nullptr;
  }
  return &it->second;
}

StatusOr<Job> MemoryStore::GetLeasedJob(const std::string& id, int64_t fence) {
  std::lock_guard<std::mutex> lock(mu_);
  Status error;
  StoredJob* stored = FindLeased(id, fence, &error);
  if (!stored) return error;
  return stored->job;
}

StatusOr<std::optional<Job>> MemoryStore::FindByIdempotencyKey(const std::string& tenant,
                                                              const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto found = idempotency_.find({tenant, key});
  if (found == idempotency_.end()) return std::optional<Job>();
  return std::optional<Job>(jobs_.at(found->second).job);
}

StatusOr<SubmitResult> MemoryStore::Submit(const JobSpec& spec) {
  RETURN_IF_ERROR(internal::ValidateSpec(spec));
  std::lock_guard<std::mutex> lock(mu_);
  if (!spec.idempotency_key.empty()) {
    auto it = idempotency_.find({spec.tenant, spec.idempotency_key});
    if (it != idempotency_.end()) return SubmitResult{jobs_.at(it->second).job, false};
  }
  StoredJob stored;
  stored.seq = next_seq_++;
  stored.job.id = NewRandomId("j");
  stored.job.spec = spec;
  stored.job.created_ms = clock_->NowMillis();
  if (!spec.idempotency_key.empty()) {
    idempotency_[{spec.tenant, spec.idempotency_key}] = stored.job.id;
  }
  Job job = stored.job;
  jobs_[job.id] = std::move(stored);
  return SubmitResult{std::move(job), true};
}

StatusOr<Job> MemoryStore::GetJob(const std::string& tenant, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  StoredJob* stored = FindJob(tenant, id);
  if (!stored) return NotFound("job " + id + " not found");
  return stored->job;
}

StatusOr<JobPage> MemoryStore::ListJobs(const ListRequest& request) {
  ASSIGN_OR_RETURN(int64_t after, internal::ParsePageToken(request.page_token));
  int32_t size = std::clamp(request.page_size, 1, 1000);
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<const StoredJob*> matches;
  for (const auto& [id, stored] : jobs_) {
    if (stored.seq <= after || stored.job.spec.tenant != request.tenant) continue;
    if (request.state && stored.job.state != *request.state) continue;
    matches.push_back(&stored);
  }
  std::sort(matches.begin(), matches.end(),
            [](const StoredJob* a, const StoredJob* b) { return a->seq < b->seq; });
  JobPage page;
  for (size_t i = 0; i < matches.size() && page.jobs.size() < static_cast<size_t>(size); ++i) {
    page.jobs.push_back(matches[i]->job);
  }
  if (matches.size() > page.jobs.size()) {
    page.next_page_token = std::to_string(matches[page.jobs.size() - 1]->seq);
  }
  return page;
}

StatusOr<std::optional<Job>> MemoryStore::Lease(const std::string& worker_id, int64_t lease_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  StoredJob* best = nullptr;
  for (auto& [id, stored] : jobs_) {
    if (stored.job.state != JobState::kQueued) continue;
    if (!best || stored.job.spec.priority > best->job.spec.priority ||
        (stored.job.spec.priority == best->job.spec.priority && stored.seq < best->seq)) {
      best = &stored;
    }
  }
  if (!best) return std::optional<Job>();
  Job& job = best->job;
  int64_t now = clock_->NowMillis();
  job.state = JobState::kRunning;
  job.attempts += 1;
  job.lease_fence += 1;
  job.worker_id = worker_id;
  job.lease_expiry_ms = now + lease_ms;
  job.started_ms = now;
  return std::optional<Job>(job);
}

StatusOr<HeartbeatResult> MemoryStore::Heartbeat(const std::string& id, int64_t fence,
                                                 const Progress& progress, int64_t lease_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  Status error;
  StoredJob* stored = FindLeased(id, fence, &error);
  if (!stored) return error;
  int64_t now = clock_->NowMillis();
  stored->job.lease_expiry_ms = now + lease_ms;
  stored->job.progress = progress;
  int64_t seq = static_cast<int64_t>(stored->events.size()) + 1;
  stored->events.push_back(ProgressEvent{seq, now, progress});
  return HeartbeatResult{stored->job.cancel_requested, stored->job.lease_expiry_ms};
}

Status MemoryStore::Complete(const std::string& id, int64_t fence,
                             const std::string& artifact_hash, const std::string& report_hash) {
  return FailWithArtifacts(id, fence, artifact_hash, report_hash, "");
}

Status MemoryStore::FailWithArtifacts(const std::string& id, int64_t fence,
                                      const std::string& artifact_hash,
                                      const std::string& report_hash,
                                      const std::string& failure) {
  std::lock_guard<std::mutex> lock(mu_);
  Status error;
  StoredJob* stored = FindLeased(id, fence, &error);
  if (!stored) return error;
  Job& job = stored->job;
  job.state = failure.empty() ? JobState::kSucceeded : JobState::kFailed;
  job.error = failure;
  job.artifact_hash = artifact_hash;
  job.report_hash = report_hash;
  job.finished_ms = clock_->NowMillis();
  job.lease_expiry_ms = 0;
  return OkStatus();
}

Status MemoryStore::Fail(const std::string& id, int64_t fence, const std::string& error_message) {
  std::lock_guard<std::mutex> lock(mu_);
  Status error;
  StoredJob* stored = FindLeased(id, fence, &error);
  if (!stored) return error;
  Job& job = stored->job;
  job.state = job.cancel_requested ? JobState::kCancelled : JobState::kFailed;
  job.error = error_message;
  job.finished_ms = clock_->NowMillis();
  job.lease_expiry_ms = 0;
  return OkStatus();
}

StatusOr<Job> MemoryStore::Cancel(const std::string& tenant, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  StoredJob* stored = FindJob(tenant, id);
  if (!stored) return NotFound("job " + id + " not found");
  Job& job = stored->job;
  switch (job.state) {
    case JobState::kQueued:
      job.state = JobState::kCancelled;
      job.cancel_requested = true;
      job.finished_ms = clock_->NowMillis();
      break;
    case JobState::kRunning:
      job.cancel_requested = true;
      break;
    case JobState::kCancelled:
      break;
    default:
      return FailedPrecondition("job " + id + " already " + JobStateName(job.state));
  }
  return job;
}

StatusOr<int> MemoryStore::ExpireLeases() {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = clock_->NowMillis();
  int changed = 0;
  for (auto& [id, stored] : jobs_) {
    Job& job = stored.job;
    if (job.state != JobState::kRunning || job.lease_expiry_ms > now) continue;
    ++changed;
    job.lease_expiry_ms = 0;
    if (job.cancel_requested) {
      job.state = JobState::kCancelled;
      job.finished_ms = now;
    } else if (job.attempts >= job.spec.max_attempts) {
      job.state = JobState::kFailed;
      job.error = internal::ExpiredReason(job);
      job.finished_ms = now;
    } else {
      job.state = JobState::kQueued;
      job.worker_id.clear();
    }
  }
  return changed;
}

StatusOr<std::vector<ProgressEvent>> MemoryStore::ReadEvents(const std::string& tenant,
                                                             const std::string& id,
                                                             int64_t after_seq, int32_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  StoredJob* stored = FindJob(tenant, id);
  if (!stored) return NotFound("job " + id + " not found");
  std::vector<ProgressEvent> out;
  for (const ProgressEvent& event : stored->events) {
    if (event.seq > after_seq && static_cast<int32_t>(out.size()) < limit) out.push_back(event);
  }
  return out;
}

StatusOr<std::optional<Job>> MemoryStore::FindCached(const CacheKey& key) {
  std::string digest = CacheKeyDigest(key);
  std::lock_guard<std::mutex> lock(mu_);
  const StoredJob* best = nullptr;
  for (const auto& [id, stored] : jobs_) {
    if (stored.job.state != JobState::kSucceeded) continue;
    if (CacheKeyDigest(CacheKeyOf(stored.job.spec)) != digest) continue;
    if (!best || stored.seq > best->seq) best = &stored;
  }
  if (!best) return std::optional<Job>();
  return std::optional<Job>(best->job);
}

StatusOr<int64_t> MemoryStore::CountJobs(JobState state) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t count = 0;
  for (const auto& [id, stored] : jobs_) count += stored.job.state == state;
  return count;
}

// ---- metrics ----

Status MemoryStore::RecordMetric(const std::string& job_id, const std::string& name,
                                 double value) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return NotFound("job " + job_id + " not found");
  it->second.metrics[name] = value;
  return OkStatus();
}

StatusOr<std::map<std::string, double>> MemoryStore::MetricsForJob(const std::string& tenant,
                                                                   const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  StoredJob* stored = FindJob(tenant, job_id);
  if (!stored) return NotFound("job " + job_id + " not found");
  return stored->metrics;
}

StatusOr<std::vector<MetricSample>> MemoryStore::MetricByName(const std::string& tenant,
                                                              const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<int64_t, MetricSample>> found;
  for (const auto& [id, stored] : jobs_) {
    if (stored.job.spec.tenant != tenant) continue;
    auto it = stored.metrics.find(name);
    if (it != stored.metrics.end()) found.push_back({stored.seq, MetricSample{id, it->second}});
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<MetricSample> out;
  for (auto& entry : found) out.push_back(std::move(entry.second));
  return out;
}

// ---- tenants ----

Status MemoryStore::CreateTenant(const std::string& tenant) {
  if (tenant.empty()) return InvalidArgument("empty tenant name");
  std::lock_guard<std::mutex> lock(mu_);
  if (!tenants_.insert(tenant).second) {
    return Status(StatusCode::kAlreadyExists, "tenant " + tenant + " already exists");
  }
  return OkStatus();
}

StatusOr<bool> MemoryStore::TenantExists(const std::string& tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  return tenants_.count(tenant) > 0;
}

StatusOr<std::string> MemoryStore::IssueToken(const std::string& tenant, TokenKind kind,
                                              const std::string& label) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!tenants_.count(tenant)) return NotFound("tenant " + tenant + " not found");
  std::string token = NewToken();
  tokens_[Sha256Hex(token)] = TokenInfo{tenant, kind, label};
  return token;
}

StatusOr<TokenInfo> MemoryStore::LookupToken(const std::string& token) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tokens_.find(Sha256Hex(token));
  if (it == tokens_.end()) return Status(StatusCode::kUnauthenticated, "unknown API token");
  return it->second;
}

Status MemoryStore::RevokeToken(const std::string& token) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!tokens_.erase(Sha256Hex(token))) return NotFound("token not found");
  return OkStatus();
}

}  // namespace shrink::storage

// ---- catalog ----

namespace shrink::storage {

StatusOr<CatalogEntry> MemoryStore::PutEntry(const CatalogEntry& entry) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!owners_.count({entry.tenant, entry.hash})) {
    return NotFound("blob " + entry.hash + " not found");
  }
  for (auto& [id, stored] : catalog_) {
    if (stored.tenant == entry.tenant && stored.kind == entry.kind && stored.hash == entry.hash) {
      stored.name = entry.name;
      stored.format = entry.format;
      return stored;
    }
  }
  CatalogEntry stored = entry;
  stored.size = static_cast<int64_t>(blobs_.at(entry.hash).size);
  stored.created_ms = clock_->NowMillis();
  catalog_.emplace(next_catalog_id_++, stored);
  return stored;
}

StatusOr<CatalogEntry> MemoryStore::GetEntry(const std::string& tenant, BlobKind kind,
                                             const std::string& hash) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, stored] : catalog_) {
    if (stored.tenant == tenant && stored.kind == kind && stored.hash == hash) return stored;
  }
  return NotFound("no upload " + hash);
}

StatusOr<CatalogPage> MemoryStore::ListEntries(const std::string& tenant, BlobKind kind,
                                               int32_t page_size,
                                               const std::string& page_token) {
  ASSIGN_OR_RETURN(int64_t after, internal::ParsePageToken(page_token));
  const size_t size = static_cast<size_t>(std::clamp(page_size, 1, 500));
  std::lock_guard<std::mutex> lock(mu_);
  CatalogPage page;
  int64_t last_id = 0;
  for (auto it = catalog_.upper_bound(after); it != catalog_.end(); ++it) {
    if (it->second.tenant != tenant || it->second.kind != kind) continue;
    if (page.entries.size() == size) {
      page.next_page_token = std::to_string(last_id);
      break;
    }
    last_id = it->first;
    page.entries.push_back(it->second);
  }
  return page;
}

StatusOr<int64_t> MemoryStore::TenantBytes(const std::string& tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t total = 0;
  for (const auto& [id, entry] : catalog_) {
    if (entry.tenant == tenant) total += entry.size;
  }
  return total;
}

Status MemoryStore::DeleteEntry(const std::string& tenant, BlobKind kind,
                                const std::string& hash) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = catalog_.begin(); it != catalog_.end(); ++it) {
    if (it->second.tenant == tenant && it->second.kind == kind && it->second.hash == hash) {
      catalog_.erase(it);
      return OkStatus();
    }
  }
  return NotFound("no upload " + hash);
}

}  // namespace shrink::storage
