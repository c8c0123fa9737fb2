// A minimal in-memory ZIP reader and writer, sufficient for numpy .npz archives.
//
// Reading: stored (method 0) and deflate (method 8) members, ZIP64 records and extra fields,
// CRC-32 verified. The archive is untrusted: declared sizes must match the data exactly
// (inflation stops at the declared size), member data may not overlap or run past the central
// directory, totals are capped, and member names are plain strings (never used as paths).
// Writing: stored or deflate, ZIP64 when a member, an offset or the member count needs it.
// Neither class is thread-safe; distinct instances are independent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/status.h"

namespace shrink::engine {

enum class ZipMethod : uint16_t { kStored = 0, kDeflate = 8 };

// CRC-32 (ISO-HDLC, as used by ZIP and zlib) of `data`, continuing from `crc`.
uint32_t Crc32(std::string_view data, uint32_t crc = 0);

struct ZipEntry {
  std::string name;  // UTF-8 (CP437 names without the UTF-8 flag are converted)
  ZipMethod method = ZipMethod::kStored;
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t uncompressed_size = 0;
  uint64_t header_offset = 0;  // the member's local header in the archive
  uint64_t data_offset = 0;    // start of the member's (compressed) bytes in the archive
};

struct ZipReaderOptions {
  // Largest uncompressed member and sum over all members. Checked against the declared sizes
  // before anything is inflated; the declared sizes are then enforced.
  uint64_t max_entry_bytes = uint64_t(16) << 30;
  uint64_t max_total_bytes = uint64_t(64) << 30;
};

class ZipReader {
 public:
  // Parses the central directory of `archive`, which must outlive the reader. `what` names the
  // archive in error messages. Fails on malformed archives, encrypted members, methods other
  // than stored/deflate, overlapping members and duplicate names.
  static StatusOr<ZipReader> Open(std::string_view archive, std::string what,
                                  ZipReaderOptions options = {});

  const std::vector<ZipEntry>& entries() const { return entries_; }

  // The uncompressed bytes of entries()[index], CRC-checked. Stored members are returned as a
  // view into the archive; deflated ones are inflated into *scratch and viewed from there.
  StatusOr<std::string_view> Read(size_t index, std::string* scratch) const;

 private:
  ZipReader(std::string_view archive, std::string what)
      : archive_(archive), what_(std::move(what)) {}
  Status ParseEndRecords();
  Status ParseCentralEntry(uint64_t* pos, uint64_t end);
  Status CheckLayout(const ZipReaderOptions& options);
  Status Error(const std::string& problem) const;
  Status EntryError(const ZipEntry& entry, const std::string& problem) const;

  std::string_view archive_;
  std::string what_;
  uint64_t cd_offset_ = 0;
  uint64_t cd_size_ = 0;
  uint64_t entry_count_ = 0;
  std::vector<ZipEntry> entries_;
};

struct ZipWriterOptions {
  // Sizes and offsets above this use ZIP64 fields. The default matches Python's zipfile, which
  // avoids the top bit because some readers treat 32-bit sizes as signed. Tests lower it to
  // exercise the ZIP64 paths with small data.
  uint64_t zip64_limit = (uint64_t(1) << 31) - 1;
  int deflate_level = 6;  // zlib level for ZipMethod::kDeflate
};

// Builds an archive in memory. Timestamps are fixed (1980-01-01 00:00) so output is
// deterministic.
class ZipWriter {
 public:
  explicit ZipWriter(ZipWriterOptions options = {}) : options_(options) {}

  // Appends a member. Fails on duplicate or over-long (> 65535 bytes) names.
  Status Add(const std::string& name, std::string_view data, ZipMethod method);
  // Appends a member whose data is the concatenation of `pieces` (saves joining them first).
  Status Add(const std::string& name, const std::vector<std::string_view>& pieces,
             ZipMethod method);
  // Appends the central directory and returns the archive; the writer is then empty.
  std::string Finish();

 private:
  struct Record {
    std::string name;
    ZipMethod method;
    uint32_t crc32;
    uint64_t compressed_size;
    uint64_t uncompressed_size;
    uint64_t header_offset;
  };
  void WriteCentralDirectory();

  ZipWriterOptions options_;
  std::string out_;
  std::vector<Record> records_;
  std::unordered_set<std::string> names_;
};

}  // namespace shrink::engine
