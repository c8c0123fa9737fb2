// Parallel loops for kernels. Built on the OpenMP runtime that oneDNN also uses, so the
// engine's own loops and oneDNN primitives share one set of threads instead of two pools
// spinning against each other on a 2-core machine.
#pragma once

#include <cstdint>
#include <functional>

namespace shrink {

class ThreadPool {
 public:
  // threads <= 0 means one per hardware core.
  explicit ThreadPool(int threads);
  int num_threads() const { return threads_; }
  // Calls fn(begin, end) over [0, n) split into contiguous ranges of at least min_chunk items.
  // Runs inline when n is small, when one thread is configured, or when already inside a
  // parallel region (no nested parallelism).
  void ParallelFor(int64_t n, int64_t min_chunk,
                   const std::function<void(int64_t begin, int64_t end)>& fn) const;
  // Makes oneDNN (OpenMP) on the calling thread use this pool's thread count.
  void ApplyToCurrentThread() const;

 private:
  int threads_;
};

int HardwareConcurrency();

}  // namespace shrink
