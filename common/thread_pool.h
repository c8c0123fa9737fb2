// Parallel loops for kernels. The calling thread takes part and never waits for a helper that
// has not started: work is split into chunks that threads claim one at a time, so a helper that
// the OS has descheduled (a busy machine, a CPU-limited container) costs at most the chunk it
// holds, not a whole time slice per loop as a fork/join barrier would. oneDNN's OpenMP is kept
// at one thread per caller; large GEMMs are split over this pool instead (see gemm.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

namespace shrink {

class ThreadPool {
 public:
  // threads <= 0 means one per hardware core. Starts threads - 1 helper threads.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return threads_; }
  // Calls fn(begin, end) over [0, n) split into contiguous ranges of at least min_chunk items.
  // Runs inline when n is small, when one thread is configured, when already inside a parallel
  // loop (no nesting), or when another thread is using this pool at the same moment.
  void ParallelFor(int64_t n, int64_t min_chunk,
                   const std::function<void(int64_t begin, int64_t end)>& fn) const;
  // While alive, Current() on this thread returns `pool`, and OpenMP (oneDNN) on this thread
  // stays single-threaded. Bind around a run; bindings nest.
  class Binding {
   public:
    explicit Binding(const ThreadPool& pool);
    ~Binding();
    Binding(const Binding&) = delete;
    Binding& operator=(const Binding&) = delete;

   private:
    const ThreadPool* previous_;
  };
  // The pool bound to the calling thread, or null.
  static const ThreadPool* Current();
  // Whether the calling thread is running a chunk of a parallel loop.
  static bool InParallelRegion();

 private:
  struct Shared;
  int threads_;
  std::unique_ptr<Shared> shared_;
};

int HardwareConcurrency();

}  // namespace shrink
