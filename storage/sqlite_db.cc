#include "storage/sqlite_db.h"

#include <sqlite3.h>

#include <vector>

namespace shrink::storage::sqlite {

Stmt::Stmt(sqlite3_stmt* stmt) : stmt_(stmt) {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Stmt::~Stmt() { sqlite3_reset(stmt_); }

Stmt& Stmt::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Stmt& Stmt::Bind(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
  return *this;
}

Stmt& Stmt::BindText(int index, std::string_view value) {
  sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

Stmt& Stmt::BindBlob(int index, std::string_view value) {
  // Zero-length blobs need a non-null pointer or SQLite stores NULL.
  static const char kEmpty = 0;
  sqlite3_bind_blob64(stmt_, index, value.empty() ? &kEmpty : value.data(), value.size(),
                      SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::BindBlobNoCopy(int index, std::string_view value) {
  static const char kEmpty = 0;
  sqlite3_bind_blob64(stmt_, index, value.empty() ? &kEmpty : value.data(), value.size(),
                      SQLITE_STATIC);
  return *this;
}

Stmt& Stmt::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

StatusOr<bool> Stmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3* db = sqlite3_db_handle(stmt_);
  std::string message = std::string("sqlite: ") + sqlite3_errmsg(db) + " in: " + sqlite3_sql(stmt_);
  if (rc == SQLITE_CONSTRAINT) return Status(StatusCode::kAlreadyExists, message);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return Status(StatusCode::kUnavailable, message);
  if (rc == SQLITE_CORRUPT) return DataLoss(message);
  return Internal(message);
}

Status Stmt::Run() {
  ASSIGN_OR_RETURN(bool row, Step());
  (void)row;
  return OkStatus();
}

int64_t Stmt::Int(int column) const { return sqlite3_column_int64(stmt_, column); }
double Stmt::Double(int column) const { return sqlite3_column_double(stmt_, column); }
bool Stmt::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::string Stmt::Text(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (!data || size <= 0) return std::string();
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

StatusOr<std::unique_ptr<Db>> Db::Open(const std::string& path, int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<Db> db(new Db(raw));
  if (rc != SQLITE_OK) {
    return Status(StatusCode::kUnavailable,
                  "cannot open database " + path + ": " + sqlite3_errstr(rc));
  }
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  // Big pages keep multi-MiB blob chunks in few overflow pages (only takes effect on a new file).
  RETURN_IF_ERROR(db->Exec("PRAGMA page_size=65536").WithContext(path));
  RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL").WithContext(path));
  RETURN_IF_ERROR(db->Exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON"));
  return db;
}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Status Db::Error(std::string_view what) const {
  return Internal(std::string(what) + ": " + sqlite3_errmsg(db_));
}

Status Db::Exec(const std::string& sql) {
  char* error = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return OkStatus();
  std::string message = "sqlite: " + std::string(error ? error : sqlite3_errstr(rc));
  sqlite3_free(error);
  if (rc == SQLITE_BUSY) return Status(StatusCode::kUnavailable, message);
  if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT) return DataLoss(message);
  return Internal(message);
}

StatusOr<std::unique_ptr<Stmt>> Db::Prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      return Error(std::string("prepare ") + sql);
    }
    it = cache_.emplace(sql, stmt).first;
  }
  return std::make_unique<Stmt>(it->second);
}

int64_t Db::Changes() const { return sqlite3_changes64(db_); }
int64_t Db::LastInsertId() const { return sqlite3_last_insert_rowid(db_); }

StatusOr<std::unique_ptr<Transaction>> Transaction::Begin(Db* db) {
  RETURN_IF_ERROR(db->Exec("BEGIN IMMEDIATE"));
  return std::unique_ptr<Transaction>(new Transaction(db));
}

Transaction::~Transaction() {
  if (!done_) (void)db_->Exec("ROLLBACK");
}

Status Transaction::Commit() {
  RETURN_IF_ERROR(db_->Exec("COMMIT"));
  done_ = true;
  return OkStatus();
}

// ---- schema ----

namespace {

// Each entry upgrades the schema from version i to i+1. Never edit a released entry: add one.
const std::vector<const char*>& Migrations() {
  static const std::vector<const char*> kMigrations = {
      // v1: blobs, tenants, jobs.
      R"sql(
CREATE TABLE tenants(name TEXT PRIMARY KEY, created_ms INTEGER NOT NULL);
CREATE TABLE tokens(token_sha256 TEXT PRIMARY KEY,
  tenant TEXT NOT NULL REFERENCES tenants(name) ON DELETE CASCADE,
  kind INTEGER NOT NULL, label TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE chunk_data(id INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE blobs(hash TEXT PRIMARY KEY, size INTEGER NOT NULL, chunk_count INTEGER NOT NULL,
  created_ms INTEGER NOT NULL);
CREATE TABLE blob_chunks(hash TEXT NOT NULL REFERENCES blobs(hash) ON DELETE CASCADE,
  idx INTEGER NOT NULL, chunk_id INTEGER NOT NULL, PRIMARY KEY(hash, idx)) WITHOUT ROWID;
CREATE TABLE blob_owners(tenant TEXT NOT NULL,
  hash TEXT NOT NULL REFERENCES blobs(hash) ON DELETE CASCADE,
  created_ms INTEGER NOT NULL, PRIMARY KEY(tenant, hash)) WITHOUT ROWID;
CREATE INDEX blob_owners_by_hash ON blob_owners(hash);
CREATE TABLE uploads(upload_id TEXT NOT NULL, idx INTEGER NOT NULL, chunk_id INTEGER NOT NULL,
  PRIMARY KEY(upload_id, idx)) WITHOUT ROWID;
CREATE TABLE jobs(seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
  tenant TEXT NOT NULL, model_hash TEXT NOT NULL, dataset_hashes TEXT NOT NULL,
  recipe BLOB NOT NULL, engine_version TEXT NOT NULL, priority INTEGER NOT NULL,
  idempotency_key TEXT, max_attempts INTEGER NOT NULL, state INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, worker_id TEXT NOT NULL DEFAULT '',
  lease_expiry_ms INTEGER NOT NULL DEFAULT 0, lease_fence INTEGER NOT NULL DEFAULT 0,
  cancel_requested INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL, started_ms INTEGER NOT NULL DEFAULT 0,
  finished_ms INTEGER NOT NULL DEFAULT 0, artifact_hash TEXT NOT NULL DEFAULT '',
  report_hash TEXT NOT NULL DEFAULT '', cache_key TEXT NOT NULL);
CREATE UNIQUE INDEX jobs_by_idempotency ON jobs(tenant, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_queue ON jobs(state, priority DESC, seq);
CREATE INDEX jobs_by_tenant ON jobs(tenant, seq);
CREATE INDEX jobs_by_cache_key ON jobs(cache_key, state, seq);
)sql",
      // v2: progress, progress events, metrics.
      R"sql(
ALTER TABLE jobs ADD COLUMN progress_stage TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN progress_fraction REAL NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN progress_message TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN event_count INTEGER NOT NULL DEFAULT 0;
CREATE TABLE job_events(job_seq INTEGER NOT NULL REFERENCES jobs(seq) ON DELETE CASCADE,
  seq INTEGER NOT NULL, time_ms INTEGER NOT NULL, stage TEXT NOT NULL, fraction REAL NOT NULL,
  message TEXT NOT NULL, PRIMARY KEY(job_seq, seq)) WITHOUT ROWID;
CREATE TABLE metrics(job_seq INTEGER NOT NULL REFERENCES jobs(seq) ON DELETE CASCADE,
  name TEXT NOT NULL, value REAL NOT NULL, PRIMARY KEY(job_seq, name)) WITHOUT ROWID;
CREATE INDEX metrics_by_name ON metrics(name, job_seq);
)sql",
      // v3: the catalog of named uploads.
      R"sql(
CREATE TABLE catalog(id INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL,
  kind INTEGER NOT NULL, hash TEXT NOT NULL REFERENCES blobs(hash), name TEXT NOT NULL,
  format INTEGER NOT NULL, size INTEGER NOT NULL, created_ms INTEGER NOT NULL);
CREATE UNIQUE INDEX catalog_by_key ON catalog(tenant, kind, hash);
)sql",
  };
  return kMigrations;
}

}  // namespace

StatusOr<int> SchemaVersion(Db* db) {
  RETURN_IF_ERROR(db->Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY, "
      "applied_ms INTEGER NOT NULL)"));
  ASSIGN_OR_RETURN(auto stmt,
                   db->Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  ASSIGN_OR_RETURN(bool row, stmt->Step());
  return row ? static_cast<int>(stmt->Int(0)) : 0;
}

Status Migrate(Db* db, int target_version) {
  static_assert(kLatestSchemaVersion == 3, "update the migration list");
  const int latest = static_cast<int>(Migrations().size());
  if (target_version <= 0 || target_version > latest) target_version = latest;
  ASSIGN_OR_RETURN(int current, SchemaVersion(db));
  if (current > latest) {
    return FailedPrecondition("database schema version " + std::to_string(current) +
                              " is newer than this build supports (" + std::to_string(latest) +
                              "); use a newer shrink or another database file");
  }
  for (int version = current + 1; version <= target_version; ++version) {
    ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db));
    RETURN_IF_ERROR(db->Exec(Migrations()[version - 1])
                        .WithContext("migration to schema v" + std::to_string(version)));
    RETURN_IF_ERROR(db->Exec(
        "INSERT INTO schema_migrations(version, applied_ms) VALUES (" + std::to_string(version) +
        ", CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))"));
    RETURN_IF_ERROR(txn->Commit());
  }
  return OkStatus();
}

}  // namespace shrink::storage::sqlite
