// The worker's content-addressed blob cache: models and datasets fetched from the server, kept by
// sha256 so a later job on the same blob skips the download. A blob enters the cache only after
// its bytes hashed to its id (written to a temporary file, renamed into place when verified), so
// a reader never sees a partial or corrupt file. Files are `<id>.<ext>` (the extension tells the
// engine how to read it). When the cache exceeds its size limit, the least recently used files
// go first.
//
// One process per cache directory: Open takes an exclusive lock on `<dir>/.lock` and fails when
// another worker holds it. Thread safety: one thread at a time (the worker's job thread).
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/sha256.h"
#include "common/status.h"

namespace shrink::worker {

struct BlobCacheOptions {
  std::string dir;
  uint64_t max_bytes = uint64_t(4) << 30;
};

// True for a blob id: 64 lowercase hex digits (ids become file names, so nothing else passes).
bool IsBlobId(std::string_view id);

class BlobCache {
 public:
  // Creates `dir` when missing, locks it and removes temporary files a crashed worker left.
  static StatusOr<std::unique_ptr<BlobCache>> Open(const BlobCacheOptions& options);
  ~BlobCache();
  BlobCache(const BlobCache&) = delete;
  BlobCache& operator=(const BlobCache&) = delete;

  // The cached file `<id>.<ext>` for the first extension present, or "" when none is. A hit
  // counts as a use for eviction.
  std::string Lookup(const std::string& id, const std::vector<std::string>& extensions);

  // Receives one blob's bytes. Nothing is visible in the cache until Commit succeeds; a writer
  // destroyed without a successful Commit removes its temporary file.
  class Writer {
   public:
    ~Writer();
    Status Append(std::string_view bytes);
    // The first bytes written (up to 512), for sniffing the format before Commit.
    const std::string& head() const { return head_; }
    uint64_t size() const { return size_; }
    // Closes the file and checks that the bytes hash to the id and to `announced_sha256` (the
    // sender's hash). A mismatch is kDataLoss; the temporary file goes with the writer.
    Status Verify(const std::string& announced_sha256);
    // After a successful Verify: renames the file to `<id>.<ext>` and returns its path.
    StatusOr<std::string> Commit(const std::string& ext);

   private:
    friend class BlobCache;
    Writer(BlobCache* cache, std::string id, std::string temp_path, int fd);
    BlobCache* cache_;
    std::string id_;
    std::string temp_path_;
    int fd_;
    Sha256 hash_;
    std::string head_;
    uint64_t size_ = 0;
    bool verified_ = false;
    bool committed_ = false;
  };
  StatusOr<std::unique_ptr<Writer>> NewWriter(const std::string& id);

  // Removes least recently used files until the cache fits its limit. Files in `pinned` (the
  // running job's inputs) stay even when the cache cannot fit otherwise.
  void Evict(const std::set<std::string>& pinned);
  // Bytes held by cached blobs (temporary files excluded).
  uint64_t TotalBytes() const;
  const std::string& dir() const { return dir_; }
  // A directory for one job's scratch files (unpacked datasets, outputs), emptied when made.
  StatusOr<std::string> MakeWorkDir(const std::string& name);

 private:
  BlobCache(BlobCacheOptions options, int lock_fd);
  std::string blob_dir() const;
  std::string temp_dir() const;
  std::string dir_;
  uint64_t max_bytes_;
  int lock_fd_;
};

}  // namespace shrink::worker
