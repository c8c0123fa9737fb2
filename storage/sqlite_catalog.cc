// SqliteStore's CatalogStore part: the `catalog` table (schema v3).
#include <algorithm>

#include "storage/sqlite_store.h"
#include "storage/store_internal.h"

namespace shrink::storage {
namespace {

using sqlite::Stmt;

#define SHRINK_CATALOG_COLUMNS "id, tenant, kind, hash, name, format, size, created_ms"

CatalogEntry EntryFromRow(const Stmt& row) {
  CatalogEntry entry;
  entry.tenant = row.Text(1);
  entry.kind = static_cast<BlobKind>(row.Int(2));
  entry.hash = row.Text(3);
  entry.name = row.Text(4);
  entry.format = static_cast<int32_t>(row.Int(5));
  entry.size = row.Int(6);
  entry.created_ms = row.Int(7);
  return entry;
}

Status EntryNotFound(const std::string& hash) { return NotFound("no upload " + hash); }

}  // namespace

StatusOr<CatalogEntry> SqliteStore::PutEntry(const CatalogEntry& entry) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto txn, sqlite::Transaction::Begin(db_.get()));
  ASSIGN_OR_RETURN(std::optional<BlobInfo> blob, OwnedBlob(entry.tenant, entry.hash));
  if (!blob) return NotFound("blob " + entry.hash + " not found");
  {
    ASSIGN_OR_RETURN(auto upsert, db_->Prepare(
        "INSERT INTO catalog(tenant, kind, hash, name, format, size, created_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(tenant, kind, hash) "
        "DO UPDATE SET name = excluded.name, format = excluded.format"));
    RETURN_IF_ERROR(upsert->BindText(1, entry.tenant)
                        .Bind(2, static_cast<int>(entry.kind))
                        .BindText(3, entry.hash)
                        .BindText(4, entry.name)
                        .Bind(5, entry.format)
                        .Bind(6, blob->size)
                        .Bind(7, clock_->NowMillis())
                        .Run());
  }
  ASSIGN_OR_RETURN(auto find, db_->Prepare(
      "SELECT " SHRINK_CATALOG_COLUMNS " FROM catalog WHERE tenant = ? AND kind = ? AND hash = ?"));
  ASSIGN_OR_RETURN(bool row, find->BindText(1, entry.tenant)
                                 .Bind(2, static_cast<int>(entry.kind))
                                 .BindText(3, entry.hash)
                                 .Step());
  if (!row) return Internal("catalog entry " + entry.hash + " vanished");
  CatalogEntry stored = EntryFromRow(*find);
  find.reset();
  RETURN_IF_ERROR(txn->Commit());
  return stored;
}

StatusOr<CatalogEntry> SqliteStore::GetEntry(const std::string& tenant, BlobKind kind,
                                             const std::string& hash) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto find, db_->Prepare(
      "SELECT " SHRINK_CATALOG_COLUMNS " FROM catalog WHERE tenant = ? AND kind = ? AND hash = ?"));
  ASSIGN_OR_RETURN(bool row,
                   find->BindText(1, tenant).Bind(2, static_cast<int>(kind)).BindText(3, hash)
                       .Step());
  if (!row) return EntryNotFound(hash);
  return EntryFromRow(*find);
}

StatusOr<CatalogPage> SqliteStore::ListEntries(const std::string& tenant, BlobKind kind,
                                               int32_t page_size,
                                               const std::string& page_token) {
  ASSIGN_OR_RETURN(int64_t after, internal::ParsePageToken(page_token));
  const int32_t size = std::clamp(page_size, 1, 500);
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto list, db_->Prepare(
      "SELECT " SHRINK_CATALOG_COLUMNS " FROM catalog WHERE tenant = ? AND kind = ? AND id > ? "
      "ORDER BY id LIMIT ?"));
  list->BindText(1, tenant).Bind(2, static_cast<int>(kind)).Bind(3, after).Bind(4, size + 1);
  CatalogPage page;
  int64_t last_id = 0;
  while (true) {
    ASSIGN_OR_RETURN(bool row, list->Step());
    if (!row) break;
    if (static_cast<int32_t>(page.entries.size()) == size) {
      page.next_page_token = std::to_string(last_id);
      break;
    }
    last_id = list->Int(0);
    page.entries.push_back(EntryFromRow(*list));
  }
  return page;
}

StatusOr<int64_t> SqliteStore::TenantBytes(const std::string& tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto sum,
                   db_->Prepare("SELECT COALESCE(SUM(size), 0) FROM catalog WHERE tenant = ?"));
  ASSIGN_OR_RETURN(bool row, sum->BindText(1, tenant).Step());
  return row ? sum->Int(0) : int64_t{0};
}

Status SqliteStore::DeleteEntry(const std::string& tenant, BlobKind kind,
                                const std::string& hash) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto txn, sqlite::Transaction::Begin(db_.get()));
  {
    ASSIGN_OR_RETURN(auto erase, db_->Prepare(
        "DELETE FROM catalog WHERE tenant = ? AND kind = ? AND hash = ?"));
    RETURN_IF_ERROR(
        erase->BindText(1, tenant).Bind(2, static_cast<int>(kind)).BindText(3, hash).Run());
  }
  if (db_->Changes() == 0) return EntryNotFound(hash);
  return txn->Commit();
}

}  // namespace shrink::storage
