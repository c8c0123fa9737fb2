// SqliteStore: opening, blobs, tenants and metrics. Jobs are in sqlite_jobs.cc.
#include "storage/sqlite_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <sqlite3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "common/sha256.h"

namespace shrink::storage {

using sqlite::Transaction;

// ---- opening ----

StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                         const SqliteStoreOptions& options) {
  if (options.chunk_size <= 0) return InvalidArgument("chunk_size must be positive");
  const std::string lock_path = path + ".lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status(StatusCode::kUnavailable,
                  "cannot open lock file " + lock_path + ": " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return FailedPrecondition("database " + path + " is in use by another shrink server (" +
                              lock_path + " is locked)");
  }
  auto db_or = sqlite::Db::Open(path, options.busy_timeout_ms);
  if (!db_or.ok()) {
    ::close(fd);
    return db_or.status();
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(db_or).value(), fd, options));
  RETURN_IF_ERROR(sqlite::Migrate(store->db_.get(), options.schema_version)
                      .WithContext("database " + path));
  // We own the file exclusively, so staged chunks left here belong to uploads that died with an
  // earlier process.
  ASSIGN_OR_RETURN(int version, store->SchemaVersion());
  if (version >= 1) {
    ASSIGN_OR_RETURN(auto txn, Transaction::Begin(store->db_.get()));
    RETURN_IF_ERROR(store->db_->Exec(
        "DELETE FROM chunk_data WHERE id IN (SELECT chunk_id FROM uploads); DELETE FROM uploads"));
    RETURN_IF_ERROR(txn->Commit());
  }
  return store;
}

SqliteStore::SqliteStore(std::unique_ptr<sqlite::Db> db, int lock_fd,
                         const SqliteStoreOptions& options)
    : db_(std::move(db)),
      lock_fd_(lock_fd),
      clock_(options.clock ? options.clock : SystemClock::Default()),
      chunk_size_(options.chunk_size) {}

SqliteStore::~SqliteStore() {
  db_.reset();  // close (and checkpoint) before another opener may take the lock
  ::close(lock_fd_);
}

StatusOr<int> SqliteStore::SchemaVersion() {
  std::lock_guard<std::mutex> lock(mu_);
  return sqlite::SchemaVersion(db_.get());
}

StatusOr<std::string> SqliteStore::IntegrityCheck() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare("PRAGMA integrity_check"));
  ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return Internal("integrity_check returned nothing");
  return stmt->Text(0);
}

StatusOr<int64_t> SqliteStore::BackupTo(const std::string& path, int pages_per_step) {
  if (pages_per_step <= 0) return InvalidArgument("pages_per_step must be positive");
  std::remove(path.c_str());
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                           nullptr);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> dest(raw, sqlite3_close);
  if (rc != SQLITE_OK) return Internal("cannot create backup " + path + ": " + sqlite3_errstr(rc));
  sqlite3_backup* backup = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    backup = sqlite3_backup_init(dest.get(), "main", db_->raw(), "main");
  }
  if (!backup) return Internal("backup to " + path + ": " + sqlite3_errmsg(dest.get()));
  int64_t pages = 0;
  do {
    {
      std::lock_guard<std::mutex> lock(mu_);
      rc = sqlite3_backup_step(backup, pages_per_step);
      pages = sqlite3_backup_pagecount(backup);
    }
    // Between steps writers take the lock; BUSY/LOCKED only means "try again".
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    } else {
      std::this_thread::yield();
    }
  } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  {
    std::lock_guard<std::mutex> lock(mu_);
    sqlite3_backup_finish(backup);
  }
  if (rc != SQLITE_DONE) {
    std::string message = "backup to " + path + " failed: " + sqlite3_errstr(rc);
    dest.reset();
    std::remove(path.c_str());
    return Internal(message);
  }
  // A standalone file: no -wal beside it to copy along.
  char* error = nullptr;
  rc = sqlite3_exec(dest.get(), "PRAGMA journal_mode=DELETE", nullptr, nullptr, &error);
  sqlite3_free(error);
  if (rc != SQLITE_OK) return Internal("backup " + path + ": cannot leave WAL mode");
  int64_t page_size = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(auto stmt, db_->Prepare("PRAGMA page_size"));
    ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (row) page_size = stmt->Int(0);
  }
  return pages * page_size;
}

// ---- blobs ----

class SqliteBlobWriter : public BlobWriter {
 public:
  SqliteBlobWriter(SqliteStore* store, std::string tenant)
      : store_(store), tenant_(std::move(tenant)), upload_id_(NewRandomId("u")) {
    pending_.reserve(static_cast<size_t>(store_->chunk_size_));
  }
  ~SqliteBlobWriter() override {
    if (chunks_ > 0 && !finished_) {
      std::lock_guard<std::mutex> lock(store_->mu_);
      (void)store_->DropUpload(upload_id_);
    }
  }
  Status Write(std::string_view data) override {
    if (finished_) return FailedPrecondition("blob writer already finished");
    hasher_.Update(data);
    size_ += static_cast<int64_t>(data.size());
    const size_t chunk = static_cast<size_t>(store_->chunk_size_);
    while (!data.empty()) {
      size_t take = std::min(chunk - pending_.size(), data.size());
      pending_.append(data.data(), take);
      data.remove_prefix(take);
      if (pending_.size() == chunk) RETURN_IF_ERROR(Flush());
    }
    return OkStatus();
  }
  StatusOr<BlobInfo> Finish() override {
    if (finished_) return FailedPrecondition("blob writer already finished");
    if (!pending_.empty()) RETURN_IF_ERROR(Flush());
    finished_ = true;
    BlobInfo info{hasher_.HexDigest(), size_};
    std::lock_guard<std::mutex> lock(store_->mu_);
    auto result = store_->FinishUpload(tenant_, upload_id_, info);
    if (!result.ok()) (void)store_->DropUpload(upload_id_);
    return result;
  }

 private:
  Status Flush() {
    std::lock_guard<std::mutex> lock(store_->mu_);
    RETURN_IF_ERROR(store_->StageChunk(upload_id_, chunks_, pending_));
    ++chunks_;
    pending_.clear();
    return OkStatus();
  }
  SqliteStore* store_;
  std::string tenant_;
  std::string upload_id_;
  Sha256 hasher_;
  int64_t size_ = 0;
  int64_t chunks_ = 0;
  std::string pending_;
  bool finished_ = false;
};

class SqliteBlobReader : public BlobReader {
 public:
  SqliteBlobReader(SqliteStore* store, BlobInfo info, int64_t chunk_count)
      : store_(store), info_(std::move(info)), chunk_count_(chunk_count) {}
  StatusOr<bool> Next(std::string* chunk) override {
    if (next_ == chunk_count_) {
      if (!verified_ && (hasher_.HexDigest() != info_.hash || bytes_ != info_.size)) {
        return DataLoss("blob " + info_.hash + ": stored content does not match its sha256");
      }
      verified_ = true;
      return false;
    }
    {
      std::lock_guard<std::mutex> lock(store_->mu_);
      ASSIGN_OR_RETURN(*chunk, store_->ReadChunk(info_.hash, next_));
    }
    ++next_;
    hasher_.Update(*chunk);
    bytes_ += static_cast<int64_t>(chunk->size());
    return true;
  }
  const BlobInfo& info() const override { return info_; }

 private:
  SqliteStore* store_;
  BlobInfo info_;
  int64_t chunk_count_;
  int64_t next_ = 0;
  int64_t bytes_ = 0;
  Sha256 hasher_;
  bool verified_ = false;
};

Status SqliteStore::StageChunk(const std::string& upload_id, int64_t index,
                               std::string_view data) {
  ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db_.get()));
  {
    ASSIGN_OR_RETURN(auto insert, db_->Prepare("INSERT INTO chunk_data(data) VALUES (?)"));
    RETURN_IF_ERROR(insert->BindBlobNoCopy(1, data).Run());
  }
  int64_t chunk_id = db_->LastInsertId();
  ASSIGN_OR_RETURN(auto link, db_->Prepare(
      "INSERT INTO uploads(upload_id, idx, chunk_id) VALUES (?, ?, ?)"));
  RETURN_IF_ERROR(link->BindText(1, upload_id).Bind(2, index).Bind(3, chunk_id).Run());
  return txn->Commit();
}

Status SqliteStore::DropUpload(const std::string& upload_id) {
  ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db_.get()));
  {
    ASSIGN_OR_RETURN(auto drop, db_->Prepare(
        "DELETE FROM chunk_data WHERE id IN (SELECT chunk_id FROM uploads WHERE upload_id = ?)"));
    RETURN_IF_ERROR(drop->BindText(1, upload_id).Run());
  }
  ASSIGN_OR_RETURN(auto unlink, db_->Prepare("DELETE FROM uploads WHERE upload_id = ?"));
  RETURN_IF_ERROR(unlink->BindText(1, upload_id).Run());
  return txn->Commit();
}

StatusOr<BlobInfo> SqliteStore::FinishUpload(const std::string& tenant,
                                             const std::string& upload_id, const BlobInfo& info) {
  ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db_.get()));
  const int64_t now = clock_->NowMillis();
  bool exists = false;
  {
    ASSIGN_OR_RETURN(auto find, db_->Prepare("SELECT 1 FROM blobs WHERE hash = ?"));
    ASSIGN_OR_RETURN(exists, find->BindText(1, info.hash).Step());
  }
  if (exists) {
    // Identical content is already stored: keep one copy.
    ASSIGN_OR_RETURN(auto drop, db_->Prepare(
        "DELETE FROM chunk_data WHERE id IN (SELECT chunk_id FROM uploads WHERE upload_id = ?)"));
    RETURN_IF_ERROR(drop->BindText(1, upload_id).Run());
  } else {
    {
      ASSIGN_OR_RETURN(auto insert, db_->Prepare(
          "INSERT INTO blobs(hash, size, chunk_count, created_ms) "
          "VALUES (?, ?, (SELECT COUNT(*) FROM uploads WHERE upload_id = ?), ?)"));
      RETURN_IF_ERROR(insert->BindText(1, info.hash)
                          .Bind(2, info.size)
                          .BindText(3, upload_id)
                          .Bind(4, now)
                          .Run());
    }
    ASSIGN_OR_RETURN(auto link, db_->Prepare(
        "INSERT INTO blob_chunks(hash, idx, chunk_id) "
        "SELECT ?, idx, chunk_id FROM uploads WHERE upload_id = ?"));
    RETURN_IF_ERROR(link->BindText(1, info.hash).BindText(2, upload_id).Run());
  }
  {
    ASSIGN_OR_RETURN(auto unlink, db_->Prepare("DELETE FROM uploads WHERE upload_id = ?"));
    RETURN_IF_ERROR(unlink->BindText(1, upload_id).Run());
  }
  ASSIGN_OR_RETURN(auto own, db_->Prepare(
      "INSERT OR IGNORE INTO blob_owners(tenant, hash, created_ms) VALUES (?, ?, ?)"));
  RETURN_IF_ERROR(own->BindText(1, tenant).BindText(2, info.hash).Bind(3, now).Run());
  RETURN_IF_ERROR(txn->Commit());
  return info;
}

StatusOr<std::string> SqliteStore::ReadChunk(const std::string& hash, int64_t index) {
  ASSIGN_OR_RETURN(auto read, db_->Prepare(
      "SELECT d.data FROM blob_chunks c JOIN chunk_data d ON d.id = c.chunk_id "
      "WHERE c.hash = ? AND c.idx = ?"));
  ASSIGN_OR_RETURN(bool row, read->BindText(1, hash).Bind(2, index).Step());
  if (!row) return DataLoss("blob " + hash + ": chunk " + std::to_string(index) + " is missing");
  return read->Text(0);
}

StatusOr<std::optional<BlobInfo>> SqliteStore::OwnedBlob(const std::string& tenant,
                                                         const std::string& hash) {
  ASSIGN_OR_RETURN(auto find, db_->Prepare(
      "SELECT b.size FROM blob_owners o JOIN blobs b ON b.hash = o.hash "
      "WHERE o.tenant = ? AND o.hash = ?"));
  ASSIGN_OR_RETURN(bool row, find->BindText(1, tenant).BindText(2, hash).Step());
  if (!row) return std::optional<BlobInfo>();
  return std::optional<BlobInfo>(BlobInfo{hash, find->Int(0)});
}

StatusOr<std::unique_ptr<BlobWriter>> SqliteStore::NewBlobWriter(const std::string& tenant) {
  return std::unique_ptr<BlobWriter>(new SqliteBlobWriter(this, tenant));
}

StatusOr<std::unique_ptr<BlobReader>> SqliteStore::OpenBlob(const std::string& tenant,
                                                            const std::string& hash) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(std::optional<BlobInfo> info, OwnedBlob(tenant, hash));
  if (!info) return NotFound("blob " + hash + " not found");
  ASSIGN_OR_RETURN(auto count, db_->Prepare("SELECT chunk_count FROM blobs WHERE hash = ?"));
  ASSIGN_OR_RETURN(bool row, count->BindText(1, hash).Step());
  if (!row) return NotFound("blob " + hash + " not found");
  return std::unique_ptr<BlobReader>(new SqliteBlobReader(this, *info, count->Int(0)));
}

StatusOr<int64_t> SqliteStore::BlobSize(const std::string& tenant, const std::string& hash) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(std::optional<BlobInfo> info, OwnedBlob(tenant, hash));
  if (!info) return NotFound("blob " + hash + " not found");
  return info->size;
}

StatusOr<bool> SqliteStore::BlobExists(const std::string& tenant, const std::string& hash) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(std::optional<BlobInfo> info, OwnedBlob(tenant, hash));
  return info.has_value();
}

Status SqliteStore::DeleteBlob(const std::string& tenant, const std::string& hash) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db_.get()));
  {
    ASSIGN_OR_RETURN(auto disown,
                     db_->Prepare("DELETE FROM blob_owners WHERE tenant = ? AND hash = ?"));
    RETURN_IF_ERROR(disown->BindText(1, tenant).BindText(2, hash).Run());
  }
  if (db_->Changes() == 0) return NotFound("blob " + hash + " not found");
  bool owned = false;
  {
    ASSIGN_OR_RETURN(auto owners, db_->Prepare("SELECT 1 FROM blob_owners WHERE hash = ? LIMIT 1"));
    ASSIGN_OR_RETURN(owned, owners->BindText(1, hash).Step());
  }
  if (!owned) {
    {
      ASSIGN_OR_RETURN(auto drop, db_->Prepare(
          "DELETE FROM chunk_data WHERE id IN (SELECT chunk_id FROM blob_chunks WHERE hash = ?)"));
      RETURN_IF_ERROR(drop->BindText(1, hash).Run());
    }
    ASSIGN_OR_RETURN(auto forget, db_->Prepare("DELETE FROM blobs WHERE hash = ?"));
    RETURN_IF_ERROR(forget->BindText(1, hash).Run());  // blob_chunks cascade
  }
  return txn->Commit();
}

Status SqliteStore::AddBlobOwner(const std::string& tenant, const std::string& hash) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db_.get()));
  {
    ASSIGN_OR_RETURN(auto find, db_->Prepare("SELECT 1 FROM blobs WHERE hash = ?"));
    ASSIGN_OR_RETURN(bool exists, find->BindText(1, hash).Step());
    if (!exists) return NotFound("blob " + hash + " not found");
  }
  ASSIGN_OR_RETURN(auto own, db_->Prepare(
      "INSERT OR IGNORE INTO blob_owners(tenant, hash, created_ms) VALUES (?, ?, ?)"));
  RETURN_IF_ERROR(own->BindText(1, tenant).BindText(2, hash).Bind(3, clock_->NowMillis()).Run());
  return txn->Commit();
}

StatusOr<int64_t> SqliteStore::TotalBlobBytes() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto sum, db_->Prepare("SELECT COALESCE(SUM(size), 0) FROM blobs"));
  ASSIGN_OR_RETURN(bool row, sum->Step());
  return row ? sum->Int(0) : 0;
}

// ---- tenants ----

Status SqliteStore::CreateTenant(const std::string& tenant) {
  if (tenant.empty()) return InvalidArgument("empty tenant name");
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db_.get()));
  {
    ASSIGN_OR_RETURN(auto insert, db_->Prepare(
        "INSERT OR IGNORE INTO tenants(name, created_ms) VALUES (?, ?)"));
    RETURN_IF_ERROR(insert->BindText(1, tenant).Bind(2, clock_->NowMillis()).Run());
  }
  if (db_->Changes() == 0) {
    return Status(StatusCode::kAlreadyExists, "tenant " + tenant + " already exists");
  }
  return txn->Commit();
}

StatusOr<bool> SqliteStore::TenantExists(const std::string& tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto find, db_->Prepare("SELECT 1 FROM tenants WHERE name = ?"));
  return find->BindText(1, tenant).Step();
}

StatusOr<std::string> SqliteStore::IssueToken(const std::string& tenant, TokenKind kind,
                                              const std::string& label) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db_.get()));
  {
    ASSIGN_OR_RETURN(auto find, db_->Prepare("SELECT 1 FROM tenants WHERE name = ?"));
    ASSIGN_OR_RETURN(bool exists, find->BindText(1, tenant).Step());
    if (!exists) return NotFound("tenant " + tenant + " not found");
  }
  std::string token = NewToken();
  {
    ASSIGN_OR_RETURN(auto insert, db_->Prepare(
        "INSERT INTO tokens(token_sha256, tenant, kind, label, created_ms) "
        "VALUES (?, ?, ?, ?, ?)"));
    RETURN_IF_ERROR(insert->BindText(1, Sha256Hex(token))
                        .BindText(2, tenant)
                        .Bind(3, static_cast<int>(kind))
                        .BindText(4, label)
                        .Bind(5, clock_->NowMillis())
                        .Run());
  }
  RETURN_IF_ERROR(txn->Commit());
  return token;
}

StatusOr<TokenInfo> SqliteStore::LookupToken(const std::string& token) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto find, db_->Prepare(
      "SELECT tenant, kind, label FROM tokens WHERE token_sha256 = ?"));
  ASSIGN_OR_RETURN(bool row, find->BindText(1, Sha256Hex(token)).Step());
  if (!row) return Status(StatusCode::kUnauthenticated, "unknown API token");
  return TokenInfo{find->Text(0), static_cast<TokenKind>(find->Int(1)), find->Text(2)};
}

Status SqliteStore::RevokeToken(const std::string& token) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db_.get()));
  {
    ASSIGN_OR_RETURN(auto drop, db_->Prepare("DELETE FROM tokens WHERE token_sha256 = ?"));
    RETURN_IF_ERROR(drop->BindText(1, Sha256Hex(token)).Run());
  }
  if (db_->Changes() == 0) return NotFound("token not found");
  return txn->Commit();
}

}  // namespace shrink::storage
