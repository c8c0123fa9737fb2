#include "engine/ir/buffer_cache.h"

#include <cstdlib>
#include <map>
#include <mutex>

namespace shrink::engine {
namespace {

constexpr size_t kMinCachedBytes = size_t(1) << 20;  // small buffers: malloc is fast enough
constexpr size_t kMaxCachedTotal = size_t(1) << 30;  // never hold more than 1 GiB idle

// Size classes: 8 steps per power of two (at most 12.5% slack).
size_t SizeClass(size_t bytes) {
  if (bytes < kMinCachedBytes) return (bytes + 63) / 64 * 64;
  int bits = 63 - __builtin_clzll(bytes);
  size_t step = size_t(1) << (bits - 3);
  return (bytes + step - 1) / step * step;
}

struct Cache {
  std::mutex mutex;
  std::multimap<size_t, void*> free_buffers;
  size_t total = 0;
};

Cache& GlobalCache() {
  static Cache* cache = new Cache();  // never destroyed: buffers may be freed during exit
  return *cache;
}

}  // namespace

void* AcquireBuffer(size_t bytes, size_t* capacity) {
  size_t size = SizeClass(bytes == 0 ? 64 : bytes);
  *capacity = size;
  if (size >= kMinCachedBytes) {
    Cache& cache = GlobalCache();
    std::lock_guard<std::mutex> lock(cache.mutex);
    auto found = cache.free_buffers.find(size);
    if (found != cache.free_buffers.end()) {
      void* data = found->second;
      cache.free_buffers.erase(found);
      cache.total -= size;
      return data;
    }
  }
  return std::aligned_alloc(64, size);
}

void ReleaseBuffer(void* data, size_t capacity) {
  if (!data) return;
  if (capacity >= kMinCachedBytes) {
    Cache& cache = GlobalCache();
    std::lock_guard<std::mutex> lock(cache.mutex);
    if (cache.total + capacity <= kMaxCachedTotal) {
      cache.free_buffers.emplace(capacity, data);
      cache.total += capacity;
      return;
    }
  }
  std::free(data);
}

void TrimBufferCache() {
  Cache& cache = GlobalCache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  for (auto& [size, data] : cache.free_buffers) std::free(data);
  cache.free_buffers.clear();
  cache.total = 0;
}

}  // namespace shrink::engine
