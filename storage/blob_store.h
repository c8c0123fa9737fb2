// BlobStore: content-addressed storage for models, datasets, artifacts and reports.
//
// Contract:
// - A blob's key is the lowercase hex sha256 of its bytes. Identical content is stored once, no
//   matter how many tenants upload it.
// - Content is written through a BlobWriter in pieces of any size and stored in fixed-size chunks,
//   so an upload is never held whole in memory; it is read back through a BlobReader one chunk at
//   a time. The reader verifies the sha256 over the whole stream: the call that would end the
//   stream returns DataLoss naming the blob when the bytes do not match, so a consumer must not
//   treat what it received as valid before Next() reported the end.
// - Ownership is per tenant: a tenant sees (Open/Size/Exists/Delete) only blobs it uploaded
//   itself; another tenant's blob behaves exactly as a missing one (NotFound / false). Delete
//   drops the caller's ownership; the bytes go when no tenant owns the blob any more.
// - All methods are thread-safe. A writer or reader is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace shrink::storage {

struct BlobInfo {
  std::string hash;  // hex sha256
  int64_t size = 0;  // bytes
};

class BlobWriter {
 public:
  // Destroying a writer without Finish() discards what was written.
  virtual ~BlobWriter() = default;
  // Appends bytes. Memory use is bounded by the store's chunk size, not by the blob size.
  virtual Status Write(std::string_view data) = 0;
  // Seals the blob: computes its hash, stores it (or finds the identical content already stored)
  // and records the writer's tenant as an owner. The writer is unusable afterwards.
  virtual StatusOr<BlobInfo> Finish() = 0;
};

class BlobReader {
 public:
  virtual ~BlobReader() = default;
  // Stores the next chunk (non-empty) in *chunk and returns true, or returns false at the end of
  // a verified stream. Returns DataLoss when a chunk is missing or the content hash differs.
  virtual StatusOr<bool> Next(std::string* chunk) = 0;
  virtual const BlobInfo& info() const = 0;
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  virtual StatusOr<std::unique_ptr<BlobWriter>> NewBlobWriter(const std::string& tenant) = 0;
  // NotFound when the tenant does not own the blob.
  virtual StatusOr<std::unique_ptr<BlobReader>> OpenBlob(const std::string& tenant,
                                                         const std::string& hash) = 0;
  virtual StatusOr<int64_t> BlobSize(const std::string& tenant, const std::string& hash) = 0;
  virtual StatusOr<bool> BlobExists(const std::string& tenant, const std::string& hash) = 0;
  // Drops the tenant's ownership (NotFound when it had none); frees the bytes when unowned.
  virtual Status DeleteBlob(const std::string& tenant, const std::string& hash) = 0;
  // Grants `tenant` ownership of content it proved it has (e.g. a worker's artifact stored for
  // the job's tenant). NotFound when the content is not stored at all.
  virtual Status AddBlobOwner(const std::string& tenant, const std::string& hash) = 0;
  // Bytes of distinct content stored (for metrics and quotas).
  virtual StatusOr<int64_t> TotalBlobBytes() = 0;
};

// Reads a whole blob into memory (for small blobs and tests).
StatusOr<std::string> ReadWholeBlob(BlobStore& store, const std::string& tenant,
                                    const std::string& hash);
// Writes `data` as one blob.
StatusOr<BlobInfo> WriteWholeBlob(BlobStore& store, const std::string& tenant,
                                  std::string_view data);

}  // namespace shrink::storage
