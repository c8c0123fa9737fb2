// Reuse of large tensor buffers. Fresh large allocations come straight from the OS (mmap) and
// pay a page fault per 4 KiB on first touch, every run; caching freed buffers by size class
// keeps repeated runs of the same model on warm memory.
#pragma once

#include <cstddef>

namespace shrink::engine {

// 64-byte aligned memory of at least `bytes` (rounded up to the size class). Null when out of
// memory. Contents are unspecified.
void* AcquireBuffer(size_t bytes, size_t* capacity);
// Returns a buffer obtained from AcquireBuffer with its capacity.
void ReleaseBuffer(void* data, size_t capacity);
// Drops every cached buffer (memory back to the OS).
void TrimBufferCache();

}  // namespace shrink::engine
