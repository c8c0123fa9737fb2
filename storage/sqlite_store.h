// SqliteStore: the durable implementation of every storage interface on one SQLite file.
//
// - WAL journal, busy timeout, foreign keys on; the schema is versioned (schema_migrations) and
//   migrated on open; a file written by a newer build is refused (FailedPrecondition).
// - One process owns a database: Open takes an exclusive flock on "<path>.lock" and fails with
//   FailedPrecondition ("in use") while another store (in any process) holds it.
// - Every state change runs in a BEGIN IMMEDIATE transaction; reads of large blobs go one chunk
//   per short statement, never in one long read transaction (it would block WAL checkpoints).
// - Blobs: chunks of `chunk_size` bytes in their own rows; a writer stages chunks under an upload
//   id and Finish links them to the content hash (or drops them when the content exists).
//   Uploads abandoned by a crash are removed on the next open.
// - Thread-safe: one connection, calls serialized by a mutex (each call is short).
// Writers and readers must not outlive the store.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "storage/blob_store.h"
#include "storage/catalog_store.h"
#include "storage/job_store.h"
#include "storage/metric_store.h"
#include "storage/sqlite_db.h"
#include "storage/tenant_store.h"

namespace shrink::storage {

struct SqliteStoreOptions {
  const Clock* clock = nullptr;  // null: system clock; must outlive the store
  int64_t chunk_size = 4 << 20;  // blob chunk bytes
  int busy_timeout_ms = 5000;
  int schema_version = 0;  // migrate up to this version; 0 = latest (older ones: tests only)
};

class SqliteStore : public BlobStore,
                    public CatalogStore,
                    public JobStore,
                    public MetricStore,
                    public TenantStore {
 public:
  static StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                     const SqliteStoreOptions& options = {});
  ~SqliteStore() override;

  StatusOr<int> SchemaVersion();
  // "ok" when PRAGMA integrity_check finds nothing, else its first message.
  StatusOr<std::string> IntegrityCheck();

  // A consistent online copy of the database into `path` (created or overwritten; a complete,
  // self-contained SQLite file in rollback-journal form, no -wal needed) with the online backup
  // API. The copy goes in steps of `pages_per_step` pages; the store's lock is released between
  // steps so writers wait at most one step. Writes made through this store during the backup
  // are carried into the copy, so it is the state at the moment the last step ran.
  // Returns the copy's size in bytes.
  StatusOr<int64_t> BackupTo(const std::string& path, int pages_per_step = 64);

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

 private:
  friend class SqliteBlobWriter;
  friend class SqliteBlobReader;
  struct JobRow {
    int64_t seq = 0;
    Job job;
  };
  SqliteStore(std::unique_ptr<sqlite::Db> db, int lock_fd, const SqliteStoreOptions& options);

  // Blob helpers (mu_ held).
  Status StageChunk(const std::string& upload_id, int64_t index, std::string_view data);
  StatusOr<BlobInfo> FinishUpload(const std::string& tenant, const std::string& upload_id,
                                  const BlobInfo& info);
  Status DropUpload(const std::string& upload_id);
  StatusOr<std::string> ReadChunk(const std::string& hash, int64_t index);
  StatusOr<std::optional<BlobInfo>> OwnedBlob(const std::string& tenant, const std::string& hash);

  // Job helpers (mu_ held).
  StatusOr<std::optional<JobRow>> LoadJob(const std::string& id);
  StatusOr<JobRow> LoadTenantJob(const std::string& tenant, const std::string& id);
  StatusOr<JobRow> LoadLeasedJob(const std::string& id, int64_t fence);
  Status FinishJob(int64_t seq, JobState state, const std::string& error);

  std::unique_ptr<sqlite::Db> db_;
  int lock_fd_;
  const Clock* clock_;
  const int64_t chunk_size_;
  std::mutex mu_;
};

}  // namespace shrink::storage
