#include "common/thread_pool.h"

#include <omp.h>

#include <algorithm>
#include <thread>

namespace shrink {

int HardwareConcurrency() {
  unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : int(cores);
}

ThreadPool::ThreadPool(int threads) : threads_(threads > 0 ? threads : HardwareConcurrency()) {}

void ThreadPool::ApplyToCurrentThread() const { omp_set_num_threads(threads_); }

void ThreadPool::ParallelFor(int64_t n, int64_t min_chunk,
                             const std::function<void(int64_t, int64_t)>& fn) const {
  if (n <= 0) return;
  min_chunk = std::max<int64_t>(1, min_chunk);
  int64_t max_workers = std::min<int64_t>(threads_, (n + min_chunk - 1) / min_chunk);
  if (max_workers <= 1 || omp_in_parallel()) {
    fn(0, n);
    return;
  }
  int workers = int(max_workers);
#pragma omp parallel num_threads(workers)
  {
    int id = omp_get_thread_num();
    int count = omp_get_num_threads();
    int64_t begin = n * id / count;
    int64_t end = n * (id + 1) / count;
    if (begin < end) fn(begin, end);
  }
}

}  // namespace shrink
