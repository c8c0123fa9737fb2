#include "engine/io/model_bundle.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include "common/file_util.h"

namespace shrink::engine {
namespace {

constexpr size_t kBlock = 512;

struct TarEntry {
  std::string name;
  char type = '0';
  uint64_t size = 0;
};

StatusOr<uint64_t> ParseOctal(const char* field, size_t width, const std::string& what) {
  uint64_t value = 0;
  size_t i = 0;
  while (i < width && (field[i] == ' ' || field[i] == '\0')) ++i;
  for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i) {
    if (value > (UINT64_MAX >> 3)) return InvalidArgument(what + ": number overflows");
    value = value * 8 + uint64_t(field[i] - '0');
  }
  return value;
}

std::string Field(const char* field, size_t width) {
  return std::string(field, strnlen(field, width));
}

Status CheckChecksum(const char* header, const std::string& archive) {
  ASSIGN_OR_RETURN(uint64_t stored, ParseOctal(header + 148, 8, archive + ": tar checksum"));
  uint64_t sum = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    sum += (i >= 148 && i < 156) ? uint64_t(' ') : uint64_t(uint8_t(header[i]));
  }
  if (sum != stored) return InvalidArgument(archive + ": corrupt tar header (bad checksum)");
  return OkStatus();
}

// A relative path without "..", empty or absolute components.
Status CheckEntryName(const std::string& name, const std::string& archive) {
  if (name.empty() || name[0] == '/') {
    return InvalidArgument(archive + ": entry '" + name + "' has an absolute or empty path");
  }
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    std::string part =
        name.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part == "..") return InvalidArgument(archive + ": entry '" + name + "' leaves the archive");
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return OkStatus();
}

// Value of "path=" in a pax extended header, if any.
std::string PaxPath(const std::string& records) {
  size_t pos = 0;
  while (pos < records.size()) {
    size_t space = records.find(' ', pos);
    if (space == std::string::npos) break;
    size_t length = std::strtoull(records.c_str() + pos, nullptr, 10);
    if (length == 0 || pos + length > records.size()) break;
    std::string record = records.substr(space + 1, pos + length - space - 2);
    if (record.rfind("path=", 0) == 0) return record.substr(5);
    pos += length;
  }
  return "";
}

Status MakeDirs(const std::string& dir, const std::string& relative) {
  std::string path = dir;
  size_t start = 0;
  while (true) {
    size_t slash = relative.find('/', start);
    if (slash == std::string::npos) break;
    path = JoinPath(path, relative.substr(start, slash - start));
    if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
      return Internal("cannot create " + path + ": " + std::strerror(errno));
    }
    start = slash + 1;
  }
  return OkStatus();
}

Status ExtractFile(std::ifstream& in, const TarEntry& entry, const std::string& dir,
                   const std::string& archive) {
  RETURN_IF_ERROR(MakeDirs(dir, entry.name));
  std::string target = JoinPath(dir, entry.name);
  std::ofstream out(target, std::ios::binary | std::ios::trunc);
  if (!out) return Internal("cannot write " + target);
  std::vector<char> buffer(1 << 20);
  uint64_t left = entry.size;
  while (left > 0) {
    size_t chunk = size_t(std::min<uint64_t>(left, buffer.size()));
    if (!in.read(buffer.data(), std::streamsize(chunk))) {
      return InvalidArgument(archive + ": truncated in entry '" + entry.name + "'");
    }
    out.write(buffer.data(), std::streamsize(chunk));
    left -= chunk;
  }
  in.seekg(std::streamoff((kBlock - entry.size % kBlock) % kBlock), std::ios::cur);
  return out ? OkStatus() : Internal("cannot write " + target);
}

StatusOr<std::string> ReadPayload(std::ifstream& in, uint64_t size, const std::string& archive) {
  if (size > (1 << 20)) return InvalidArgument(archive + ": oversized tar metadata entry");
  std::string payload(size_t(size), '\0');
  if (!in.read(payload.data(), std::streamsize(size)))
    return InvalidArgument(archive + ": truncated");
  in.seekg(std::streamoff((kBlock - size % kBlock) % kBlock), std::ios::cur);
  return payload;
}

// The single .onnx file directly in `dir` (or in its single subdirectory).
StatusOr<std::string> FindModelFile(const std::string& dir, int depth = 0) {
  DIR* handle = opendir(dir.c_str());
  if (!handle) return NotFound(dir + ": cannot list directory");
  std::vector<std::string> models, subdirs;
  while (dirent* entry = readdir(handle)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    std::string path = JoinPath(dir, name);
    if (IsDirectory(path)) {
      subdirs.push_back(path);
    } else if (name.size() > 5 && name.compare(name.size() - 5, 5, ".onnx") == 0) {
      models.push_back(path);
    }
  }
  closedir(handle);
  if (models.size() == 1) return models[0];
  if (models.size() > 1) return InvalidArgument(dir + " holds several .onnx files; give one");
  if (subdirs.size() == 1 && depth == 0) return FindModelFile(subdirs[0], 1);
  return InvalidArgument(dir + " holds no .onnx file");
}

bool IsTar(const std::string& path) {
  return path.size() > 4 && path.compare(path.size() - 4, 4, ".tar") == 0;
}

}  // namespace

Status UnpackTar(const std::string& archive, const std::string& dir,
                 const ModelBundleOptions& options) {
  std::ifstream in(archive, std::ios::binary);
  if (!in) return NotFound(archive + ": cannot open");
  uint64_t total = 0;
  int64_t entries = 0;
  std::string long_name;
  char header[kBlock];
  while (in.read(header, kBlock)) {
    if (std::all_of(header, header + kBlock, [](char c) { return c == 0; })) return OkStatus();
    RETURN_IF_ERROR(CheckChecksum(header, archive));
    if (++entries > options.max_entries) return InvalidArgument(archive + ": too many entries");
    TarEntry entry;
    entry.type = header[156];
    ASSIGN_OR_RETURN(entry.size, ParseOctal(header + 124, 12, archive + ": entry size"));
    std::string prefix = std::memcmp(header + 257, "ustar", 5) == 0 ? Field(header + 345, 155) : "";
    entry.name = prefix.empty() ? Field(header, 100) : prefix + "/" + Field(header, 100);
    if (!long_name.empty()) entry.name = long_name, long_name.clear();
    while (entry.name.rfind("./", 0) == 0) entry.name = entry.name.substr(2);
    if (entry.type == 'L' || entry.type == 'x') {
      ASSIGN_OR_RETURN(std::string payload, ReadPayload(in, entry.size, archive));
      long_name = entry.type == 'L' ? std::string(payload.c_str()) : PaxPath(payload);
      continue;
    }
    if (entry.type == 'g') {
      RETURN_IF_ERROR(ReadPayload(in, entry.size, archive).status());
      continue;
    }
    if (entry.name.empty() && entry.type == '5') continue;  // "./"
    RETURN_IF_ERROR(CheckEntryName(entry.name, archive));
    if (entry.type == '5') {
      RETURN_IF_ERROR(MakeDirs(dir, entry.name + (entry.name.back() == '/' ? "" : "/")));
      continue;
    }
    if (entry.type != '0' && entry.type != '\0' && entry.type != '7') {
      return InvalidArgument(archive + ": entry '" + entry.name +
                             "' is a link or special file; only regular files are accepted");
    }
    total += entry.size;
    if (total > options.max_unpacked_bytes) {
      return ResourceExhausted(archive + ": unpacks to more than " +
                               std::to_string(options.max_unpacked_bytes) + " bytes");
    }
    RETURN_IF_ERROR(ExtractFile(in, entry, dir, archive));
  }
  return InvalidArgument(archive + ": truncated tar archive (no end marker)");
}

StatusOr<ModelBundle> ModelBundle::Open(const std::string& path,
                                        const ModelBundleOptions& options) {
  if (!FileExists(path) && !IsDirectory(path))
    return NotFound(path + ": no such file or directory");
  ModelBundle bundle;
  if (IsDirectory(path)) {
    ASSIGN_OR_RETURN(bundle.model_path_, FindModelFile(path));
  } else if (IsTar(path)) {
    ASSIGN_OR_RETURN(bundle.temp_dir_, MakeTempDir("shrink-model"));
    RETURN_IF_ERROR(UnpackTar(path, bundle.temp_dir_, options));
    ASSIGN_OR_RETURN(bundle.model_path_, FindModelFile(bundle.temp_dir_));
  } else {
    bundle.model_path_ = path;
  }
  return bundle;
}

ModelBundle::ModelBundle(ModelBundle&& other) noexcept
    : model_path_(std::move(other.model_path_)), temp_dir_(std::move(other.temp_dir_)) {
  other.temp_dir_.clear();
}

ModelBundle& ModelBundle::operator=(ModelBundle&& other) noexcept {
  if (this != &other) {
    if (!temp_dir_.empty()) (void)RemoveAll(temp_dir_);
    model_path_ = std::move(other.model_path_);
    temp_dir_ = std::move(other.temp_dir_);
    other.temp_dir_.clear();
  }
  return *this;
}

ModelBundle::~ModelBundle() {
  if (!temp_dir_.empty()) (void)RemoveAll(temp_dir_);
}

}  // namespace shrink::engine
