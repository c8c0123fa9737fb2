// What the client uploads, produced piece by piece so that no file is ever held in memory whole:
// a plain file as is, or a directory as a deterministic ustar archive (names sorted, relative to
// the directory, mode 0644, uid/gid 0, mtime 0). The same tree therefore always gives the same
// bytes and the same sha256, which is what lets the server's content addressing skip re-uploads.
//
// Not thread-safe; a ByteSource may be streamed any number of times (once to hash, once to send).
// Files that change size between Open and streaming are reported, not silently sent.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace shrink::client {

class ByteSource {
 public:
  // Receives consecutive pieces; a non-OK result stops the stream and is returned.
  using Sink = std::function<Status(std::string_view piece)>;

  // A regular file, sent byte for byte.
  static StatusOr<ByteSource> File(const std::string& path);
  // Every regular file under `dir` (symlinks followed, recursively) as one tar archive. Fails on
  // special files, on an empty tree, and on names or sizes plain ustar cannot hold.
  static StatusOr<ByteSource> TarOfDirectory(const std::string& dir);
  // The given files (paths relative to `dir`, kept as the names in the archive) as one tar, in
  // sorted order: a model file and the external-data files it refers to.
  static StatusOr<ByteSource> TarOfFiles(const std::string& dir,
                                         std::vector<std::string> names);

  // Total bytes ForEachChunk produces (known before streaming, for the upload header).
  uint64_t size() const { return size_; }
  // Calls `sink` with consecutive pieces of exactly `chunk_bytes` (the last may be shorter).
  Status ForEachChunk(size_t chunk_bytes, const Sink& sink) const;
  // The sha256 (lowercase hex) of the whole stream.
  StatusOr<std::string> Sha256Hex() const;

 private:
  // (name in the archive, path on disk) pairs; sorted here.
  static StatusOr<ByteSource> Tar(const std::string& dir,
                                  std::vector<std::pair<std::string, std::string>> files);
  struct Entry {
    std::string name;  // inside the archive
    std::string path;  // on disk
    uint64_t size = 0;
  };
  ByteSource() = default;

  std::string origin_;  // what the user named, for messages
  bool tar_ = false;
  std::vector<Entry> entries_;
  uint64_t size_ = 0;
};

// The 512-byte ustar header for a regular file (exposed for tests).
StatusOr<std::string> UstarHeader(const std::string& name, uint64_t size);

}  // namespace shrink::client
