#include "client/byte_source.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "common/file_util.h"
#include "common/sha256.h"

namespace shrink::client {
namespace {

constexpr size_t kBlock = 512;
// Eleven octal digits: the largest size a plain ustar header holds.
constexpr uint64_t kMaxUstarSize = (uint64_t(1) << 33) - 1;

void PutOctal(char* field, size_t width, uint64_t value) {
  // width-1 zero-padded digits and a NUL, as GNU tar writes them.
  std::snprintf(field, width, "%0*llo", int(width - 1), (unsigned long long)value);
}

// Splits `name` into ustar's prefix (<= 155) and name (<= 100) fields at a '/'.
bool SplitName(const std::string& name, std::string* prefix, std::string* base) {
  if (name.size() <= 100) {
    prefix->clear();
    *base = name;
    return true;
  }
  for (size_t slash = name.find('/'); slash != std::string::npos;
       slash = name.find('/', slash + 1)) {
    if (slash <= 155 && name.size() - slash - 1 <= 100 && slash + 1 < name.size()) {
      *prefix = name.substr(0, slash);
      *base = name.substr(slash + 1);
      return true;
    }
  }
  return false;
}

// Appends every regular file under `dir` (names relative to `root_dir`).
Status ListFiles(const std::string& dir, const std::string& relative,
                 std::vector<std::pair<std::string, std::string>>* files) {
  DIR* handle = opendir(dir.c_str());
  if (!handle) return NotFound(dir + ": cannot list directory: " + std::strerror(errno));
  std::vector<std::string> names;
  while (dirent* entry = readdir(handle)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(handle);
  for (const std::string& name : names) {
    std::string path = JoinPath(dir, name);
    std::string inner = relative.empty() ? name : relative + "/" + name;
    struct stat info;
    if (stat(path.c_str(), &info) != 0) {
      return NotFound(path + ": cannot stat: " + std::strerror(errno));
    }
    if (S_ISDIR(info.st_mode)) {
      RETURN_IF_ERROR(ListFiles(path, inner, files));
    } else if (S_ISREG(info.st_mode)) {
      files->emplace_back(inner, path);
    } else {
      return InvalidArgument(path + ": not a regular file or directory; cannot upload it");
    }
  }
  return OkStatus();
}

// Cuts the stream into pieces of exactly `chunk_bytes` for the sink.
class Chunker {
 public:
  Chunker(size_t chunk_bytes, const ByteSource::Sink& sink)
      : chunk_bytes_(std::max<size_t>(chunk_bytes, 1)), sink_(sink) {}

  Status Append(const char* data, size_t size) {
    while (size > 0) {
      size_t take = std::min(size, chunk_bytes_ - buffer_.size());
      buffer_.append(data, take);
      data += take;
      size -= take;
      if (buffer_.size() == chunk_bytes_) RETURN_IF_ERROR(Flush());
    }
    return OkStatus();
  }
  Status Zeros(size_t count) {
    static const char kZeros[kBlock] = {};
    while (count > 0) {
      size_t take = std::min(count, kBlock);
      RETURN_IF_ERROR(Append(kZeros, take));
      count -= take;
    }
    return OkStatus();
  }
  Status Flush() {
    if (buffer_.empty()) return OkStatus();
    Status status = sink_(buffer_);
    buffer_.clear();
    return status;
  }

 private:
  size_t chunk_bytes_;
  const ByteSource::Sink& sink_;
  std::string buffer_;
};

// Streams exactly `size` bytes of `path`; a file that shrank or grew since it was listed is an
// error (the announced size would be wrong).
Status StreamFile(const std::string& path, uint64_t size, size_t chunk_bytes, Chunker* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path + ": " + std::strerror(errno));
  std::vector<char> buffer(std::min<size_t>(chunk_bytes, size_t(1) << 20));
  uint64_t left = size;
  while (left > 0) {
    size_t want = size_t(std::min<uint64_t>(left, buffer.size()));
    in.read(buffer.data(), std::streamsize(want));
    if (size_t(in.gcount()) != want) return DataLoss(path + " shrank while it was being read");
    RETURN_IF_ERROR(out->Append(buffer.data(), want));
    left -= want;
  }
  if (in.peek() != std::char_traits<char>::eof()) {
    return DataLoss(path + " grew while it was being read");
  }
  return OkStatus();
}

}  // namespace

StatusOr<std::string> UstarHeader(const std::string& name, uint64_t size) {
  std::string prefix, base;
  if (!SplitName(name, &prefix, &base)) {
    return InvalidArgument("'" + name + "': path too long for a tar archive");
  }
  if (size > kMaxUstarSize) {
    return InvalidArgument("'" + name + "': " + std::to_string(size) +
                           " bytes is over the tar limit of 8 GiB per file");
  }
  std::string header(kBlock, '\0');
  char* h = header.data();
  std::memcpy(h, base.data(), base.size());
  PutOctal(h + 100, 8, 0644);
  PutOctal(h + 108, 8, 0);  // uid
  PutOctal(h + 116, 8, 0);  // gid
  PutOctal(h + 124, 12, size);
  PutOctal(h + 136, 12, 0);  // mtime: fixed, so equal trees hash equal
  h[156] = '0';
  std::memcpy(h + 257, "ustar", 6);
  std::memcpy(h + 263, "00", 2);
  std::memcpy(h + 345, prefix.data(), prefix.size());
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (char c : header) sum += uint8_t(c);
  std::snprintf(h + 148, 8, "%06o", sum);  // six digits, NUL, and the space already there
  return header;
}

StatusOr<ByteSource> ByteSource::File(const std::string& path) {
  if (IsDirectory(path)) return InvalidArgument(path + " is a directory, expected a file");
  ASSIGN_OR_RETURN(uint64_t size, FileSize(path));
  ByteSource source;
  source.origin_ = path;
  source.entries_.push_back({BaseName(path), path, size});
  source.size_ = size;
  return source;
}

StatusOr<ByteSource> ByteSource::TarOfDirectory(const std::string& dir) {
  std::vector<std::pair<std::string, std::string>> files;
  RETURN_IF_ERROR(ListFiles(dir, "", &files));
  if (files.empty()) return InvalidArgument(dir + ": directory holds no files");
  return Tar(dir, std::move(files));
}

StatusOr<ByteSource> ByteSource::TarOfFiles(const std::string& dir,
                                            std::vector<std::string> names) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const std::string& name : names) {
    std::string path = JoinPath(dir, name);
    if (!FileExists(path) || IsDirectory(path)) return NotFound(path + ": no such file");
    files.emplace_back(name, path);
  }
  if (files.empty()) return InvalidArgument(dir + ": no files to send");
  return Tar(dir, std::move(files));
}

StatusOr<ByteSource> ByteSource::Tar(const std::string& dir,
                                     std::vector<std::pair<std::string, std::string>> files) {
  std::sort(files.begin(), files.end());
  ByteSource source;
  source.origin_ = dir;
  source.tar_ = true;
  for (const auto& [name, path] : files) {
    ASSIGN_OR_RETURN(uint64_t size, FileSize(path));
    RETURN_IF_ERROR(UstarHeader(name, size).status().WithContext(dir));
    source.entries_.push_back({name, path, size});
    source.size_ += kBlock + (size + kBlock - 1) / kBlock * kBlock;
  }
  source.size_ += 2 * kBlock;  // the end-of-archive marker
  return source;
}

Status ByteSource::ForEachChunk(size_t chunk_bytes, const Sink& sink) const {
  Chunker out(chunk_bytes, sink);
  for (const Entry& entry : entries_) {
    if (tar_) {
      ASSIGN_OR_RETURN(std::string header, UstarHeader(entry.name, entry.size));
      RETURN_IF_ERROR(out.Append(header.data(), header.size()));
    }
    RETURN_IF_ERROR(StreamFile(entry.path, entry.size, chunk_bytes, &out));
    if (tar_) RETURN_IF_ERROR(out.Zeros((kBlock - entry.size % kBlock) % kBlock));
  }
  if (tar_) RETURN_IF_ERROR(out.Zeros(2 * kBlock));
  return out.Flush();
}

StatusOr<std::string> ByteSource::Sha256Hex() const {
  Sha256 hasher;
  RETURN_IF_ERROR(ForEachChunk(size_t(1) << 20, [&](std::string_view piece) {
    hasher.Update(piece);
    return OkStatus();
  }));
  return hasher.HexDigest();
}

}  // namespace shrink::client
