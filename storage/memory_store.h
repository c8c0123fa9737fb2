// MemoryStore: an in-memory implementation of every storage interface, with the same observable
// behaviour as SqliteStore (the typed tests in storage_test run against both). For unit tests of
// code above storage; nothing survives the object. Blobs are kept as chunk lists.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "storage/blob_store.h"
#include "storage/catalog_store.h"
#include "storage/job_store.h"
#include "storage/metric_store.h"
#include "storage/tenant_store.h"

namespace shrink::storage {

class MemoryStore : public BlobStore,
                    public CatalogStore,
                    public JobStore,
                    public MetricStore,
                    public TenantStore {
 public:
  // `clock` must outlive the store; null means the system clock.
  explicit MemoryStore(const Clock* clock = nullptr, int64_t chunk_size = 4 << 20);

  // BlobStore
  StatusOr<std::unique_ptr<BlobWriter>> NewBlobWriter(const std::string& tenant) override;
  StatusOr<std::unique_ptr<BlobReader>> OpenBlob(const std::string& tenant,
                                                 const std::string& hash) override;
  StatusOr<int64_t> BlobSize(const std::string& tenant, const std::string& hash) override;
  StatusOr<bool> BlobExists(const std::string& tenant, const std::string& hash) override;
  Status DeleteBlob(const std::string& tenant, const std::string& hash) override;
  Status AddBlobOwner(const std::string& tenant, const std::string& hash) override;
  StatusOr<int64_t> TotalBlobBytes() override;

  // CatalogStore
  StatusOr<CatalogEntry> PutEntry(const CatalogEntry& entry) override;
  StatusOr<CatalogEntry> GetEntry(const std::string& tenant, BlobKind kind,
                                  const std::string& hash) override;
  StatusOr<CatalogPage> ListEntries(const std::string& tenant, BlobKind kind, int32_t page_size,
                                    const std::string& page_token) override;
  Status DeleteEntry(const std::string& tenant, BlobKind kind, const std::string& hash) override;
  StatusOr<int64_t> TenantBytes(const std::string& tenant) override;

  // JobStore
  StatusOr<SubmitResult> Submit(const JobSpec& spec) override;
  StatusOr<std::optional<Job>> FindByIdempotencyKey(const std::string& tenant,
                                                    const std::string& key) override;
  StatusOr<Job> GetJob(const std::string& tenant, const std::string& id) override;
  StatusOr<JobPage> ListJobs(const ListRequest& request) override;
  StatusOr<std::optional<Job>> Lease(const std::string& worker_id, int64_t lease_ms) override;
  StatusOr<Job> GetLeasedJob(const std::string& id, int64_t fence) override;
  StatusOr<HeartbeatResult> Heartbeat(const std::string& id, int64_t fence,
                                      const Progress& progress, int64_t lease_ms) override;
  Status Complete(const std::string& id, int64_t fence, const std::string& artifact_hash,
                  const std::string& report_hash) override;
  Status FailWithArtifacts(const std::string& id, int64_t fence, const std::string& artifact_hash,
                           const std::string& report_hash, const std::string& error) override;
  Status Fail(const std::string& id, int64_t fence, const std::string& error) override;
  StatusOr<Job> Cancel(const std::string& tenant, const std::string& id) override;
  StatusOr<int> ExpireLeases() override;
  StatusOr<std::vector<ProgressEvent>> ReadEvents(const std::string& tenant,
                                                  const std::string& id, int64_t after_seq,
                                                  int32_t limit) override;
  StatusOr<std::optional<Job>> FindCached(const CacheKey& key) override;
  StatusOr<int64_t> CountJobs(JobState state) override;

  // MetricStore
  Status RecordMetric(const std::string& job_id, const std::string& name, double value) override;
  StatusOr<std::map<std::string, double>> MetricsForJob(const std::string& tenant,
                                                        const std::string& job_id) override;
  StatusOr<std::vector<MetricSample>> MetricByName(const std::string& tenant,
                                                   const std::string& name) override;

  // TenantStore
  Status CreateTenant(const std::string& tenant) override;
  StatusOr<bool> TenantExists(const std::string& tenant) override;
  StatusOr<std::string> IssueToken(const std::string& tenant, TokenKind kind,
                                   const std::string& label) override;
  StatusOr<TokenInfo> LookupToken(const std::string& token) override;
  Status RevokeToken(const std::string& token) override;

  // Test hook: corrupts one stored byte of a blob (to exercise DataLoss).
  void CorruptBlobForTest(const std::string& hash);

 private:
  struct StoredBlob {
    std::vector<std::shared_ptr<const std::string>> chunks;
    int64_t size = 0;
  };
  struct StoredJob {
    int64_t seq = 0;
    Job job;
    std::vector<ProgressEvent> events;
    std::map<std::string, double> metrics;
  };
  friend class MemoryBlobWriter;
  void StoreBlob(const std::string& tenant, const BlobInfo& info,
                 std::vector<std::shared_ptr<const std::string>> chunks);
  StoredJob* FindJob(const std::string& tenant, const std::string& id);  // mu_ held
  StoredJob* FindLeased(const std::string& id, int64_t fence, Status* error);  // mu_ held

  const Clock* clock_;
  const int64_t chunk_size_;
  std::mutex mu_;
  std::map<std::string, StoredBlob> blobs_;
  std::set<std::pair<std::string, std::string>> owners_;  // (tenant, hash)
  int64_t next_seq_ = 1;
  std::map<std::string, StoredJob> jobs_;  // by id
  std::map<std::pair<std::string, std::string>, std::string> idempotency_;  // (tenant, key) -> id
  std::map<int64_t, CatalogEntry> catalog_;  // by insertion id
  int64_t next_catalog_id_ = 1;
  std::set<std::string> tenants_;
  std::map<std::string, TokenInfo> tokens_;  // by sha256(token)
};

}  // namespace shrink::storage
