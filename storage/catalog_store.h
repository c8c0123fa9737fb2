// CatalogStore: the named entries users see for their uploads. A blob (BlobStore) is bare
// content; a catalog entry gives it a kind (model or dataset), a name and a format for one
// tenant. Listing pages in upload order. Another tenant's entries behave as missing ones.
// Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace shrink::storage {

enum class BlobKind { kModel = 0, kDataset = 1 };

struct CatalogEntry {
  std::string tenant;
  BlobKind kind = BlobKind::kModel;
  std::string hash;
  std::string name;
  int32_t format = 0;  // shrink.v1.ModelFormat for models, 0 for datasets
  int64_t size = 0;
  int64_t created_ms = 0;  // set by the store on first insert
};

struct CatalogPage {
  std::vector<CatalogEntry> entries;  // oldest first
  std::string next_page_token;        // empty on the last page
};

class CatalogStore {
 public:
  virtual ~CatalogStore() = default;
  // Inserts, or replaces the name/format of the tenant's existing entry (created_ms kept).
  // NotFound when the tenant does not own the blob.
  virtual StatusOr<CatalogEntry> PutEntry(const CatalogEntry& entry) = 0;
  virtual StatusOr<CatalogEntry> GetEntry(const std::string& tenant, BlobKind kind,
                                          const std::string& hash) = 0;
  // page_size is clamped to [1, 500].
  virtual StatusOr<CatalogPage> ListEntries(const std::string& tenant, BlobKind kind,
                                            int32_t page_size, const std::string& page_token) = 0;
  // Sum of the sizes of the tenant's entries (upload quotas).
  virtual StatusOr<int64_t> TenantBytes(const std::string& tenant) = 0;
  // Removes the entry (NotFound when absent). The blob's bytes stay while any entry or job of
  // the tenant still refers to them; callers drop ownership with BlobStore::DeleteBlob.
  virtual Status DeleteEntry(const std::string& tenant, BlobKind kind,
                             const std::string& hash) = 0;
};

}  // namespace shrink::storage
