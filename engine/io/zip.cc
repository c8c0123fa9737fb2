#include "engine/io/zip.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace shrink::engine {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kEocdSig = 0x06054b50;
constexpr uint32_t kZip64EocdSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint64_t kLocalSize = 30;
constexpr uint64_t kCentralSize = 46;
constexpr uint64_t kEocdSize = 22;
constexpr uint64_t kZip64EocdSize = 56;
constexpr uint64_t kLocatorSize = 20;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint16_t kFlagEncrypted = 0x0001;
constexpr uint16_t kFlagStrongEncryption = 0x0040;
constexpr uint16_t kFlagUtf8 = 0x0800;
constexpr uint16_t kVersionDefault = 20;
constexpr uint16_t kVersionZip64 = 45;
constexpr uint16_t kMadeByUnix = 3 << 8;
constexpr uint16_t kDosDate1980 = (1 << 5) | 1;  // 1980-01-01
constexpr uint32_t kExternalAttrFile = 0100644u << 16;
constexpr uint64_t kMax16 = 0xFFFF;
constexpr uint64_t kMax32 = 0xFFFFFFFF;
// zlib counts in 32-bit uInt; larger buffers go through in chunks of this size.
constexpr uint64_t kZlibChunk = uint64_t(1) << 30;
// Deflate cannot expand more than ~1032:1; a member claiming more is lying.
constexpr uint64_t kMaxDeflateRatio = 1100;

// Characters 0x80..0xFF of code page 437, the ZIP name encoding when the UTF-8 flag is unset.
constexpr uint16_t kCp437High[128] = {
    0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7, 0x00EA, 0x00EB, 0x00E8, 0x00EF,
    0x00EE, 0x00EC, 0x00C4, 0x00C5, 0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9,
    0x00FF, 0x00D6, 0x00DC, 0x00A2, 0x00A3, 0x00A5, 0x20A7, 0x0192, 0x00E1, 0x00ED, 0x00F3, 0x00FA,
    0x00F1, 0x00D1, 0x00AA, 0x00BA, 0x00BF, 0x2310, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB,
    0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556, 0x2555, 0x2563, 0x2551, 0x2557,
    0x255D, 0x255C, 0x255B, 0x2510, 0x2514, 0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x255E, 0x255F,
    0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256C, 0x2567, 0x2568, 0x2564, 0x2565, 0x2559,
    0x2558, 0x2552, 0x2553, 0x256B, 0x256A, 0x2518, 0x250C, 0x2588, 0x2584, 0x258C, 0x2590, 0x2580,
    0x03B1, 0x00DF, 0x0393, 0x03C0, 0x03A3, 0x03C3, 0x00B5, 0x03C4, 0x03A6, 0x0398, 0x03A9, 0x03B4,
    0x221E, 0x03C6, 0x03B5, 0x2229, 0x2261, 0x00B1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00F7, 0x2248,
    0x00B0, 0x2219, 0x00B7, 0x221A, 0x207F, 0x00B2, 0x25A0, 0x00A0,
};

// Little-endian field access; callers check bounds first.
uint16_t Get16(std::string_view b, uint64_t at) {
  return uint16_t(uint8_t(b[at]) | uint8_t(b[at + 1]) << 8);
}
uint32_t Get32(std::string_view b, uint64_t at) {
  return uint32_t(Get16(b, at)) | uint32_t(Get16(b, at + 2)) << 16;
}
uint64_t Get64(std::string_view b, uint64_t at) {
  return uint64_t(Get32(b, at)) | uint64_t(Get32(b, at + 4)) << 32;
}
void Put16(std::string* out, uint64_t v) {
  out->push_back(char(v & 0xFF));
  out->push_back(char((v >> 8) & 0xFF));
}
void Put32(std::string* out, uint64_t v) {
  Put16(out, v & 0xFFFF);
  Put16(out, (v >> 16) & 0xFFFF);
}
void Put64(std::string* out, uint64_t v) {
  Put32(out, v & kMax32);
  Put32(out, v >> 32);
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(char(cp));
  } else if (cp < 0x800) {
    out->push_back(char(0xC0 | (cp >> 6)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(char(0xE0 | (cp >> 12)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  }
}

std::string Cp437ToUtf8(std::string_view name) {
  std::string out;
  for (char c : name) {
    uint8_t byte = uint8_t(c);
    AppendUtf8(byte < 0x80 ? byte : kCp437High[byte - 0x80], &out);
  }
  return out;
}

bool IsAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return uint8_t(c) < 0x80; });
}

// Replaces the 32-bit fields that are saturated with their values from the ZIP64 extra field
// (0x0001), which lists only the saturated ones, in this order.
bool ApplyZip64Extra(std::string_view extra, uint64_t* uncompressed, uint64_t* compressed,
                     uint64_t* offset, std::string* problem) {
  for (uint64_t pos = 0; pos < extra.size();) {
    if (extra.size() - pos < 4) return *problem = "truncated extra field", false;
    uint16_t id = Get16(extra, pos);
    uint64_t size = Get16(extra, pos + 2);
    pos += 4;
    if (size > extra.size() - pos) return *problem = "extra field runs past its block", false;
    if (id == kZip64ExtraId) {
      uint64_t at = pos;
      for (uint64_t* field : {uncompressed, compressed, offset}) {
        if (*field != kMax32) continue;
        if (at + 8 > pos + size) return *problem = "ZIP64 extra field is too short", false;
        *field = Get64(extra, at);
        at += 8;
      }
      return true;
    }
    pos += size;
  }
  if (*uncompressed == kMax32 || *compressed == kMax32 || *offset == kMax32) {
    return *problem = "saturated 32-bit size or offset without a ZIP64 extra field", false;
  }
  return true;
}

struct ZStreamEnd {
  z_stream* stream;
  bool inflating;
  ~ZStreamEnd() { inflating ? inflateEnd(stream) : deflateEnd(stream); }
};

// Inflates a raw deflate stream that must produce exactly `expected` bytes. The output grows
// by doubling, so memory follows the real output rather than the declared size, and one spare
// byte beyond `expected` detects streams that run longer. Returns "" or the problem.
std::string InflateExactly(std::string_view raw, uint64_t expected, std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, -15) != Z_OK) return "zlib inflateInit2 failed";
  ZStreamEnd end{&zs, true};
  const uint64_t limit = expected + 1;
  out->clear();
  out->resize(std::min<uint64_t>(limit, std::max<uint64_t>(uint64_t(1) << 16, raw.size() * 4)));
  uint64_t in_pos = 0, produced = 0;
  for (;;) {
    if (zs.avail_in == 0 && in_pos < raw.size()) {
      uint64_t chunk = std::min(raw.size() - in_pos, kZlibChunk);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data() + in_pos));
      zs.avail_in = uInt(chunk);
      in_pos += chunk;
    }
    if (produced == out->size()) out->resize(std::min(limit, out->size() * 2));
    uint64_t room = std::min(out->size() - produced, kZlibChunk);
    zs.next_out = reinterpret_cast<Bytef*>(out->data() + produced);
    zs.avail_out = uInt(room);
    int ret = inflate(&zs, Z_NO_FLUSH);
    uint64_t made = room - zs.avail_out;
    produced += made;
    if (produced > expected) {
      return "inflates to more than the declared " + std::to_string(expected) + " bytes";
    }
    if (ret == Z_STREAM_END) break;
    if (ret != Z_OK && ret != Z_BUF_ERROR) {
      return std::string("corrupt deflate data (zlib: ") + (zs.msg ? zs.msg : "error") + ")";
    }
    if (made == 0 && zs.avail_in == 0 && in_pos == raw.size()) {
      return "deflate data is truncated (" + std::to_string(produced) + " of " +
             std::to_string(expected) + " bytes inflated)";
    }
  }
  if (produced != expected) {
    return "inflates to " + std::to_string(produced) + " bytes, but " + std::to_string(expected) +
           " were declared";
  }
  out->resize(produced);
  return "";
}

// Compresses the concatenation of `pieces` into one raw deflate stream.
Status DeflateRaw(const std::vector<std::string_view>& pieces, uint64_t total, int level,
                  std::string* out) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Internal("zlib deflateInit2 failed");
  }
  ZStreamEnd end{&zs, false};
  out->clear();
  // Start small: most tensors compress well, and the output doubles as needed.
  out->resize(std::min<uint64_t>(deflateBound(&zs, uLong(total)), total / 8 + (1 << 16)));
  size_t piece = 0;
  uint64_t in_pos = 0, produced = 0;
  auto skip_consumed = [&] {
    while (piece < pieces.size() && in_pos == pieces[piece].size()) {
      ++piece;
      in_pos = 0;
    }
  };
  int ret = Z_OK;
  while (ret != Z_STREAM_END) {
    skip_consumed();
    if (zs.avail_in == 0 && piece < pieces.size()) {
      uint64_t chunk = std::min(pieces[piece].size() - in_pos, kZlibChunk);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(pieces[piece].data() + in_pos));
      zs.avail_in = uInt(chunk);
      in_pos += chunk;
      skip_consumed();
    }
    if (produced == out->size()) out->resize(out->size() * 2);
    uint64_t room = std::min(out->size() - produced, kZlibChunk);
    zs.next_out = reinterpret_cast<Bytef*>(out->data() + produced);
    zs.avail_out = uInt(room);
    ret = deflate(&zs, piece == pieces.size() ? Z_FINISH : Z_NO_FLUSH);
    produced += room - zs.avail_out;
    if (ret == Z_STREAM_ERROR) return Internal("zlib deflate failed");
  }
  out->resize(produced);
  return OkStatus();
}

}  // namespace

uint32_t Crc32(std::string_view data, uint32_t crc) {
  uLong value = crc;
  for (uint64_t pos = 0; pos < data.size(); pos += kZlibChunk) {
    uint64_t chunk = std::min(data.size() - pos, kZlibChunk);
    value = crc32(value, reinterpret_cast<const Bytef*>(data.data() + pos), uInt(chunk));
  }
  return uint32_t(value);
}

// ---------------------------------------------------------------------------------------------
// Reader

StatusOr<ZipReader> ZipReader::Open(std::string_view archive, std::string what,
                                    ZipReaderOptions options) {
  ZipReader reader(archive, std::move(what));
  RETURN_IF_ERROR(reader.ParseEndRecords());
  uint64_t pos = reader.cd_offset_;
  const uint64_t end = reader.cd_offset_ + reader.cd_size_;
  reader.entries_.reserve(reader.entry_count_);
  for (uint64_t i = 0; i < reader.entry_count_; ++i) {
    RETURN_IF_ERROR(reader.ParseCentralEntry(&pos, end));
  }
  RETURN_IF_ERROR(reader.CheckLayout(options));
  return reader;
}

Status ZipReader::Error(const std::string& problem) const {
  return InvalidArgument(what_ + ": " + problem);
}

Status ZipReader::EntryError(const ZipEntry& entry, const std::string& problem) const {
  return InvalidArgument(what_ + ":" + entry.name + ": " + problem);
}

Status ZipReader::ParseEndRecords() {
  const std::string_view a = archive_;
  if (a.size() < kEocdSize) {
    return Error("not a zip archive (" + std::to_string(a.size()) + " bytes, too short)");
  }
  // The end record sits at the very end, followed only by a comment of at most 64 KiB.
  uint64_t eocd = a.size();
  const uint64_t last = a.size() - kEocdSize;
  for (uint64_t pos = last + 1; pos-- > (last > kMax16 ? last - kMax16 : 0);) {
    if (Get32(a, pos) == kEocdSig && pos + kEocdSize + Get16(a, pos + 20) <= a.size()) {
      eocd = pos;
      break;
    }
  }
  if (eocd == a.size()) {
    return Error("not a zip archive or truncated (no end of central directory record)");
  }
  uint64_t disk = Get16(a, eocd + 4), cd_disk = Get16(a, eocd + 6);
  entry_count_ = Get16(a, eocd + 10);
  cd_size_ = Get32(a, eocd + 12);
  cd_offset_ = Get32(a, eocd + 16);
  uint64_t cd_limit = eocd;  // the central directory ends before the end records
  if (eocd >= kLocatorSize && Get32(a, eocd - kLocatorSize) == kZip64LocatorSig) {
    uint64_t locator = eocd - kLocatorSize;
    uint64_t record = Get64(a, locator + 8);
    if (record > locator || locator - record < kZip64EocdSize ||
        Get32(a, record) != kZip64EocdSig) {
      return Error("ZIP64 end of central directory locator points to offset " +
                   std::to_string(record) + ", where there is no ZIP64 end record");
    }
    disk = Get32(a, record + 16);
    cd_disk = Get32(a, record + 20);
    entry_count_ = Get64(a, record + 32);
    cd_size_ = Get64(a, record + 40);
    cd_offset_ = Get64(a, record + 48);
    cd_limit = record;
  }
  if (disk != 0 || cd_disk != 0) return Error("multi-disk zip archives are not supported");
  if (cd_offset_ > cd_limit || cd_size_ > cd_limit - cd_offset_) {
    return Error("central directory (offset " + std::to_string(cd_offset_) + ", " +
                 std::to_string(cd_size_) + " bytes) lies outside the archive");
  }
  if (entry_count_ > cd_size_ / kCentralSize) {
    return Error("central directory declares " + std::to_string(entry_count_) +
                 " entries but has room for at most " + std::to_string(cd_size_ / kCentralSize));
  }
  return OkStatus();
}

Status ZipReader::ParseCentralEntry(uint64_t* pos, uint64_t end) {
  const std::string_view a = archive_;
  const std::string where = "central directory entry " + std::to_string(entries_.size());
  uint64_t at = *pos;
  if (end - at < kCentralSize || Get32(a, at) != kCentralSig) {
    return Error(where + " is truncated or has a bad signature");
  }
  uint16_t flags = Get16(a, at + 8);
  uint16_t method = Get16(a, at + 10);
  uint64_t name_len = Get16(a, at + 28), extra_len = Get16(a, at + 30);
  uint64_t comment_len = Get16(a, at + 32);
  if (end - at - kCentralSize < name_len + extra_len + comment_len) {
    return Error(where + " runs past the end of the central directory");
  }
  ZipEntry entry;
  std::string_view raw_name = a.substr(at + kCentralSize, name_len);
  entry.name =
      (flags & kFlagUtf8) || IsAscii(raw_name) ? std::string(raw_name) : Cp437ToUtf8(raw_name);
  entry.crc32 = Get32(a, at + 16);
  entry.compressed_size = Get32(a, at + 20);
  entry.uncompressed_size = Get32(a, at + 24);
  entry.header_offset = Get32(a, at + 42);
  std::string problem;
  if (!ApplyZip64Extra(a.substr(at + kCentralSize + name_len, extra_len), &entry.uncompressed_size,
                       &entry.compressed_size, &entry.header_offset, &problem)) {
    return EntryError(entry, problem);
  }
  if (flags & (kFlagEncrypted | kFlagStrongEncryption)) {
    return EntryError(entry, "encrypted zip members are not supported");
  }
  if (method != uint16_t(ZipMethod::kStored) && method != uint16_t(ZipMethod::kDeflate)) {
    return EntryError(entry, "unsupported compression method " + std::to_string(method) +
                                 " (only stored and deflate)");
  }
  entry.method = ZipMethod(method);
  // The local header repeats the name; the data starts after its own (possibly different)
  // extra field.
  const uint64_t local = entry.header_offset;
  if (local > cd_offset_ || cd_offset_ - local < kLocalSize || Get32(a, local) != kLocalSig) {
    return EntryError(entry, "local header at offset " + std::to_string(local) +
                                 " is missing or lies outside the archive");
  }
  uint64_t local_name_len = Get16(a, local + 26), local_extra_len = Get16(a, local + 28);
  entry.data_offset = local + kLocalSize + local_name_len + local_extra_len;
  if (entry.data_offset > cd_offset_ || a.substr(local + kLocalSize, local_name_len) != raw_name) {
    return EntryError(entry, "local header does not match the central directory");
  }
  if (entry.compressed_size > cd_offset_ - entry.data_offset) {
    return EntryError(entry, "declared compressed size " + std::to_string(entry.compressed_size) +
                                 " runs past the member data area");
  }
  entries_.push_back(std::move(entry));
  *pos = at + kCentralSize + name_len + extra_len + comment_len;
  return OkStatus();
}

Status ZipReader::CheckLayout(const ZipReaderOptions& options) {
  std::unordered_set<std::string_view> names;
  uint64_t total = 0;
  for (const ZipEntry& entry : entries_) {
    if (!names.insert(entry.name).second) return EntryError(entry, "duplicate member name");
    const std::string declared = std::to_string(entry.uncompressed_size);
    if (entry.method == ZipMethod::kStored && entry.compressed_size != entry.uncompressed_size) {
      return EntryError(entry, "stored member declares " + declared + " bytes uncompressed but " +
                                   std::to_string(entry.compressed_size) + " stored");
    }
    if (entry.uncompressed_size / kMaxDeflateRatio > entry.compressed_size + 8) {
      return EntryError(entry, "declares " + declared + " bytes uncompressed from only " +
                                   std::to_string(entry.compressed_size) +
                                   " compressed (beyond what deflate can produce)");
    }
    if (entry.uncompressed_size > options.max_entry_bytes) {
      return ResourceExhausted(what_ + ":" + entry.name + ": member of " + declared +
                               " bytes exceeds the limit of " +
                               std::to_string(options.max_entry_bytes));
    }
    total += entry.uncompressed_size;  // each term is capped above, so this cannot wrap
    if (total > options.max_total_bytes) {
      return ResourceExhausted(what_ + ": members total more than the limit of " +
                               std::to_string(options.max_total_bytes) + " bytes");
    }
  }
  // Members must not share bytes: overlapping members are the classic zip-bomb construction.
  std::vector<std::pair<uint64_t, const ZipEntry*>> order;
  for (const ZipEntry& entry : entries_) order.emplace_back(entry.header_offset, &entry);
  std::sort(order.begin(), order.end());
  for (size_t i = 1; i < order.size(); ++i) {
    const ZipEntry& previous = *order[i - 1].second;
    if (previous.data_offset + previous.compressed_size > order[i].first) {
      return EntryError(*order[i].second, "overlaps member " + previous.name);
    }
  }
  return OkStatus();
}

StatusOr<std::string_view> ZipReader::Read(size_t index, std::string* scratch) const {
  if (index >= entries_.size()) return OutOfRange(what_ + ": no member " + std::to_string(index));
  const ZipEntry& entry = entries_[index];
  std::string_view data = archive_.substr(entry.data_offset, entry.compressed_size);
  if (entry.method == ZipMethod::kDeflate) {
    std::string problem = InflateExactly(data, entry.uncompressed_size, scratch);
    if (!problem.empty()) return EntryError(entry, problem);
    data = *scratch;
  }
  uint32_t crc = Crc32(data);
  if (crc != entry.crc32) {
    return DataLoss(what_ + ":" + entry.name + ": CRC-32 mismatch (declared " +
                    std::to_string(entry.crc32) + ", computed " + std::to_string(crc) + ")");
  }
  return data;
}

// ---------------------------------------------------------------------------------------------
// Writer

Status ZipWriter::Add(const std::string& name, std::string_view data, ZipMethod method) {
  return Add(name, std::vector<std::string_view>{data}, method);
}

Status ZipWriter::Add(const std::string& name, const std::vector<std::string_view>& pieces,
                      ZipMethod method) {
  if (name.size() > kMax16) {
    return InvalidArgument("zip member name of " + std::to_string(name.size()) +
                           " bytes exceeds 65535");
  }
  if (names_.count(name)) return InvalidArgument("duplicate zip member name '" + name + "'");
  uint64_t size = 0;
  uint32_t crc = 0;
  for (std::string_view piece : pieces) {
    size += piece.size();
    crc = Crc32(piece, crc);
  }
  std::string compressed;
  if (method == ZipMethod::kDeflate) {
    RETURN_IF_ERROR(DeflateRaw(pieces, size, options_.deflate_level, &compressed));
  }
  const bool stored = method == ZipMethod::kStored;
  Record record{name, method, crc, stored ? size : compressed.size(), size, out_.size()};
  const uint64_t limit = options_.zip64_limit;
  const bool zip64 = record.uncompressed_size > limit || record.compressed_size > limit;
  Put32(&out_, kLocalSig);
  Put16(&out_, zip64 ? kVersionZip64 : kVersionDefault);
  Put16(&out_, IsAscii(name) ? 0 : kFlagUtf8);
  Put16(&out_, uint16_t(method));
  Put16(&out_, 0);
  Put16(&out_, kDosDate1980);
  Put32(&out_, record.crc32);
  Put32(&out_, zip64 ? kMax32 : record.compressed_size);
  Put32(&out_, zip64 ? kMax32 : record.uncompressed_size);
  Put16(&out_, name.size());
  Put16(&out_, zip64 ? 20 : 0);
  out_.append(name);
  if (zip64) {  // the local ZIP64 field always carries both sizes
    Put16(&out_, kZip64ExtraId);
    Put16(&out_, 16);
    Put64(&out_, record.uncompressed_size);
    Put64(&out_, record.compressed_size);
  }
  if (stored) {
    for (std::string_view piece : pieces) out_.append(piece);
  } else {
    out_.append(compressed);
  }
  names_.insert(name);
  records_.push_back(std::move(record));
  return OkStatus();
}

void ZipWriter::WriteCentralDirectory() {
  const uint64_t limit = options_.zip64_limit;
  for (const Record& r : records_) {
    std::string extra;
    for (uint64_t value : {r.uncompressed_size, r.compressed_size, r.header_offset}) {
      if (value > limit) Put64(&extra, value);
    }
    const uint16_t version = extra.empty() ? kVersionDefault : kVersionZip64;
    Put32(&out_, kCentralSig);
    Put16(&out_, kMadeByUnix | version);
    Put16(&out_, version);
    Put16(&out_, IsAscii(r.name) ? 0 : kFlagUtf8);
    Put16(&out_, uint16_t(r.method));
    Put16(&out_, 0);
    Put16(&out_, kDosDate1980);
    Put32(&out_, r.crc32);
    Put32(&out_, r.compressed_size > limit ? kMax32 : r.compressed_size);
    Put32(&out_, r.uncompressed_size > limit ? kMax32 : r.uncompressed_size);
    Put16(&out_, r.name.size());
    Put16(&out_, extra.empty() ? 0 : extra.size() + 4);
    Put16(&out_, 0);  // comment
    Put16(&out_, 0);  // disk
    Put16(&out_, 0);  // internal attributes
    Put32(&out_, kExternalAttrFile);
    Put32(&out_, r.header_offset > limit ? kMax32 : r.header_offset);
    out_.append(r.name);
    if (!extra.empty()) {
      Put16(&out_, kZip64ExtraId);
      Put16(&out_, extra.size());
      out_.append(extra);
    }
  }
}

std::string ZipWriter::Finish() {
  const uint64_t cd_offset = out_.size();
  WriteCentralDirectory();
  const uint64_t cd_size = out_.size() - cd_offset;
  const uint64_t count = records_.size();
  const uint64_t limit = options_.zip64_limit;
  const bool zip64 = count >= kMax16 || cd_offset > limit || cd_size > limit;
  if (zip64) {
    const uint64_t record = out_.size();
    Put32(&out_, kZip64EocdSig);
    Put64(&out_, kZip64EocdSize - 12);
    Put16(&out_, kMadeByUnix | kVersionZip64);
    Put16(&out_, kVersionZip64);
    Put32(&out_, 0);
    Put32(&out_, 0);
    Put64(&out_, count);
    Put64(&out_, count);
    Put64(&out_, cd_size);
    Put64(&out_, cd_offset);
    Put32(&out_, kZip64LocatorSig);
    Put32(&out_, 0);
    Put64(&out_, record);
    Put32(&out_, 1);
  }
  Put32(&out_, kEocdSig);
  Put16(&out_, 0);
  Put16(&out_, 0);
  Put16(&out_, std::min(count, kMax16));
  Put16(&out_, std::min(count, kMax16));
  Put32(&out_, zip64 ? kMax32 : cd_size);
  Put32(&out_, zip64 ? kMax32 : cd_offset);
  Put16(&out_, 0);
  std::string archive = std::move(out_);
  out_.clear();
  records_.clear();
  names_.clear();
  return archive;
}

}  // namespace shrink::engine
