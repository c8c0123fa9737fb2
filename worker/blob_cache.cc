#include "worker/blob_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <system_error>

#include "common/file_util.h"
#include "common/logging.h"

namespace shrink::worker {
namespace {

namespace fs = std::filesystem;

constexpr size_t kHeadBytes = 512;

Status MakeDirs(const std::string& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return Internal("cannot create " + dir + ": " + error.message());
  return OkStatus();
}

std::string RandomSuffix() {
  static std::atomic<uint64_t> counter{0};
  std::random_device device;
  return std::to_string(getpid()) + "." + std::to_string(counter.fetch_add(1)) + "." +
         std::to_string(device());
}

}  // namespace

bool IsBlobId(std::string_view id) {
  return id.size() == 64 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

StatusOr<std::unique_ptr<BlobCache>> BlobCache::Open(const BlobCacheOptions& options) {
  if (options.dir.empty()) return InvalidArgument("no cache directory given");
  RETURN_IF_ERROR(MakeDirs(options.dir));
  const std::string lock_path = JoinPath(options.dir, ".lock");
  int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Internal("cannot open " + lock_path + ": " + std::strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return FailedPrecondition("cache directory " + options.dir +
                              " is in use by another worker; give each worker its own --cache");
  }
  std::unique_ptr<BlobCache> cache(new BlobCache(options, fd));
  // Leftovers of a crashed run: partial downloads and job scratch space.
  RETURN_IF_ERROR(RemoveAll(cache->temp_dir()));
  RETURN_IF_ERROR(RemoveAll(JoinPath(cache->dir_, "work")));
  RETURN_IF_ERROR(MakeDirs(cache->temp_dir()));
  RETURN_IF_ERROR(MakeDirs(cache->blob_dir()));
  return cache;
}

BlobCache::BlobCache(BlobCacheOptions options, int lock_fd)
    : dir_(std::move(options.dir)), max_bytes_(options.max_bytes), lock_fd_(lock_fd) {}

BlobCache::~BlobCache() {
  if (lock_fd_ >= 0) close(lock_fd_);  // releases the flock
}

std::string BlobCache::blob_dir() const { return JoinPath(dir_, "blobs"); }
std::string BlobCache::temp_dir() const { return JoinPath(dir_, "tmp"); }

std::string BlobCache::Lookup(const std::string& id, const std::vector<std::string>& extensions) {
  if (!IsBlobId(id)) return "";
  for (const std::string& ext : extensions) {
    const std::string path = JoinPath(blob_dir(), id + "." + ext);
    if (!FileExists(path)) continue;
    // The modification time doubles as the last use: eviction removes the oldest first.
    std::error_code ignored;
    fs::last_write_time(path, fs::file_time_type::clock::now(), ignored);
    return path;
  }
  return "";
}

StatusOr<std::unique_ptr<BlobCache::Writer>> BlobCache::NewWriter(const std::string& id) {
  if (!IsBlobId(id)) return InvalidArgument("'" + id + "' is not a blob id (sha256 hex)");
  const std::string temp = JoinPath(temp_dir(), id + "." + RandomSuffix() + ".part");
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Internal("cannot create " + temp + ": " + std::strerror(errno));
  return std::unique_ptr<Writer>(new Writer(this, id, temp, fd));
}

BlobCache::Writer::Writer(BlobCache* cache, std::string id, std::string temp_path, int fd)
    : cache_(cache), id_(std::move(id)), temp_path_(std::move(temp_path)), fd_(fd) {}

BlobCache::Writer::~Writer() {
  if (fd_ >= 0) close(fd_);
  if (!committed_) std::remove(temp_path_.c_str());
}

Status BlobCache::Writer::Append(std::string_view bytes) {
  if (fd_ < 0) return FailedPrecondition("blob writer already closed");
  hash_.Update(bytes);
  if (head_.size() < kHeadBytes) {
    head_.append(bytes.substr(0, std::min(bytes.size(), kHeadBytes - head_.size())));
  }
  size_ += bytes.size();
  while (!bytes.empty()) {
    ssize_t written = write(fd_, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) return Internal("cannot write " + temp_path_ + ": " + std::strerror(errno));
    bytes.remove_prefix(size_t(written));
  }
  return OkStatus();
}

Status BlobCache::Writer::Verify(const std::string& announced_sha256) {
  if (fd_ < 0) return FailedPrecondition("blob writer already closed");
  const int fd = fd_;
  fd_ = -1;
  if (close(fd) != 0) return Internal("cannot write " + temp_path_ + ": " + std::strerror(errno));
  const std::string actual = hash_.HexDigest();
  if (actual != id_) {
    return DataLoss("blob " + id_ + ": the " + std::to_string(size_) + " bytes received hash to " +
                    actual);
  }
  if (announced_sha256 != actual) {
    return DataLoss("blob " + id_ + ": the sender announced sha256 '" + announced_sha256 +
                    "' for bytes that hash to " + actual);
  }
  verified_ = true;
  return OkStatus();
}

StatusOr<std::string> BlobCache::Writer::Commit(const std::string& ext) {
  if (!verified_ || committed_) return FailedPrecondition("blob " + id_ + " is not verified");
  if (ext.empty() || ext.find('/') != std::string::npos) {
    return InvalidArgument("bad cache file extension '" + ext + "'");
  }
  const std::string path = JoinPath(cache_->blob_dir(), id_ + "." + ext);
  if (std::rename(temp_path_.c_str(), path.c_str()) != 0) {
    return Internal("cannot rename " + temp_path_ + " to " + path + ": " + std::strerror(errno));
  }
  committed_ = true;
  return path;
}

uint64_t BlobCache::TotalBytes() const {
  uint64_t total = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(blob_dir(), error)) {
    std::error_code size_error;
    const uint64_t size = entry.file_size(size_error);
    if (!size_error) total += size;
  }
  return total;
}

void BlobCache::Evict(const std::set<std::string>& pinned) {
  struct Entry {
    fs::file_time_type used;
    uint64_t size;
    std::string path;
  };
  std::vector<Entry> entries;
  uint64_t total = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(blob_dir(), error)) {
    std::error_code stat_error;
    Entry item{entry.last_write_time(stat_error), entry.file_size(stat_error),
               entry.path().string()};
    if (stat_error) continue;
    total += item.size;
    if (pinned.count(item.path) == 0) entries.push_back(std::move(item));
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.used < b.used; });
  for (const Entry& entry : entries) {
    if (total <= max_bytes_) break;
    if (std::remove(entry.path.c_str()) != 0) continue;
    total -= entry.size;
    SHRINK_LOG(Info) << "cache: evicted " << BaseName(entry.path) << " (" << entry.size
                     << " bytes)";
  }
  if (total > max_bytes_) {
    SHRINK_LOG(Warning) << "cache: " << total << " bytes in use by the running job exceed the "
                        << max_bytes_ << "-byte limit";
  }
}

StatusOr<std::string> BlobCache::MakeWorkDir(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    return InvalidArgument("bad work directory name '" + name + "'");
  }
  const std::string dir = JoinPath(JoinPath(dir_, "work"), name);
  RETURN_IF_ERROR(RemoveAll(dir));
  RETURN_IF_ERROR(MakeDirs(dir));
  return dir;
}

}  // namespace shrink::worker
