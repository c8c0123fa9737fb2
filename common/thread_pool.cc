#include "common/thread_pool.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace shrink {
namespace {

thread_local bool tls_in_parallel = false;
thread_local const ThreadPool* tls_bound_pool = nullptr;

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

struct Job {
  const std::function<void(int64_t, int64_t)>* fn = nullptr;
  int64_t n = 0;
  int64_t chunk_size = 1;
  int64_t chunks = 0;
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> done{0};
};

// Claims and runs chunks until none are left.
void RunChunks(Job& job) {
  bool was_in_parallel = tls_in_parallel;
  tls_in_parallel = true;
  while (true) {
    int64_t chunk = job.next.fetch_add(1, std::memory_order_relaxed);
    if (chunk >= job.chunks) break;
    int64_t begin = chunk * job.chunk_size;
    int64_t end = std::min(job.n, begin + job.chunk_size);
    (*job.fn)(begin, end);
    job.done.fetch_add(1, std::memory_order_release);
  }
  tls_in_parallel = was_in_parallel;
}

}  // namespace

struct ThreadPool::Shared {
  std::mutex mutex;
  std::condition_variable wake;
  std::shared_ptr<Job> job;
  uint64_t generation = 0;
  std::atomic<uint64_t> published{0};
  bool stop = false;
  std::mutex submit;  // one loop at a time; concurrent callers run inline
  std::vector<std::thread> workers;

  void WorkerLoop() {
    omp_set_num_threads(1);
    uint64_t seen = 0;
    while (true) {
      // Spin briefly: back-to-back loops of one run arrive within microseconds.
      for (int i = 0; i < 4000 && published.load(std::memory_order_acquire) == seen; ++i) {
        CpuRelax();
      }
      std::shared_ptr<Job> current;
      {
        std::unique_lock<std::mutex> lock(mutex);
        wake.wait(lock, [&] { return stop || generation != seen; });
        if (stop) return;
        seen = generation;
        current = job;
      }
      if (current) RunChunks(*current);
    }
  }
};

int HardwareConcurrency() {
  unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : int(cores);
}

ThreadPool::ThreadPool(int threads)
    : threads_(threads > 0 ? threads : HardwareConcurrency()), shared_(new Shared()) {
  for (int i = 1; i < threads_; ++i) {
    shared_->workers.emplace_back([shared = shared_.get()] { shared->WorkerLoop(); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    shared_->stop = true;
  }
  shared_->wake.notify_all();
  for (std::thread& worker : shared_->workers) worker.join();
}

ThreadPool::Binding::Binding(const ThreadPool& pool) : previous_(tls_bound_pool) {
  tls_bound_pool = &pool;
  omp_set_num_threads(1);
}

ThreadPool::Binding::~Binding() { tls_bound_pool = previous_; }

const ThreadPool* ThreadPool::Current() { return tls_bound_pool; }

bool ThreadPool::InParallelRegion() { return tls_in_parallel; }

void ThreadPool::ParallelFor(int64_t n, int64_t min_chunk,
                             const std::function<void(int64_t, int64_t)>& fn) const {
  if (n <= 0) return;
  min_chunk = std::max<int64_t>(1, min_chunk);
  int64_t pieces = (n + min_chunk - 1) / min_chunk;
  if (threads_ <= 1 || pieces <= 1 || tls_in_parallel) {
    fn(0, n);
    return;
  }
  std::unique_lock<std::mutex> submit(shared_->submit, std::try_to_lock);
  if (!submit.owns_lock()) {
    fn(0, n);
    return;
  }
  // A few chunks per thread balance uneven work and bound what a descheduled helper holds.
  auto job = std::make_shared<Job>();
  int64_t chunks = std::min<int64_t>(pieces, int64_t(threads_) * 4);
  job->fn = &fn;
  job->n = n;
  job->chunk_size = (n + chunks - 1) / chunks;
  job->chunks = (n + job->chunk_size - 1) / job->chunk_size;
  {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    shared_->job = job;
    ++shared_->generation;
    shared_->published.store(shared_->generation, std::memory_order_release);
  }
  shared_->wake.notify_all();
  RunChunks(*job);
  // Only chunks that a helper already claimed are waited for.
  for (int spins = 0; job->done.load(std::memory_order_acquire) < job->chunks; ++spins) {
    if (spins < 2000) {
      CpuRelax();
    } else {
      std::this_thread::yield();
    }
  }
  std::lock_guard<std::mutex> lock(shared_->mutex);
  if (shared_->job == job) shared_->job.reset();
}

}  // namespace shrink
