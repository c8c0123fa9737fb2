// Clock: the one source of "now" for code whose behaviour depends on time (leases, timestamps).
// Production code takes a `const Clock*` and uses SystemClock; tests inject a FakeClock so lease
// expiry is tested without sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace shrink {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch. Thread-safe.
  virtual int64_t NowMillis() const = 0;
};

// Wall-clock time (std::chrono::system_clock).
class SystemClock : public Clock {
 public:
  int64_t NowMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  // A process-wide instance for callers that pass no clock.
  static const SystemClock* Default() {
    static const SystemClock clock;
    return &clock;
  }
};

// A clock that only moves when told to. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t start_millis = 1'700'000'000'000) : now_(start_millis) {}
  int64_t NowMillis() const override { return now_.load(); }
  void Set(int64_t millis) { now_.store(millis); }
  void Advance(int64_t millis) { now_.fetch_add(millis); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace shrink
