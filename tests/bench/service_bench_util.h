// Helpers of `shrink-bench service`: a real shrinkd child process on a fresh database, a VmRSS
// sampler for another process, and a seeded byte stream (so big payloads never sit in memory
// whole and differ from run to run).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace shrink::testing {

// shrinkd started as `binary --listen 127.0.0.1:0 --port-file F --workers 0 --db <dir>/b.db`,
// output to <dir>/shrinkd.log. Start returns once the port file and the admin token exist.
// The child dies with the bench (PR_SET_PDEATHSIG); the destructor stops it if still running.
class ShrinkdProcess {
 public:
  static StatusOr<std::unique_ptr<ShrinkdProcess>> Start(const std::string& binary,
                                                         const std::string& dir);
  ~ShrinkdProcess();
  ShrinkdProcess(const ShrinkdProcess&) = delete;
  ShrinkdProcess& operator=(const ShrinkdProcess&) = delete;

  pid_t pid() const { return pid_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& admin_token() const { return admin_token_; }
  // The last `max_bytes` of the server's log, for error messages.
  std::string LogTail(size_t max_bytes = 2000) const;

  // SIGTERM, then waits up to `grace` (SIGKILL after). Not OK when the exit was not clean.
  Status Stop(std::chrono::seconds grace = std::chrono::seconds(30));

 private:
  ShrinkdProcess() = default;
  // Polls until `path` exists (and is non-empty) or the child exits or `timeout` passes.
  Status WaitForFile(const std::string& path, std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
  int port_ = 0;
  std::string admin_token_;
  std::string log_path_;
};

// VmRSS of `pid` in bytes (from /proc/<pid>/status).
StatusOr<int64_t> ReadRssBytes(pid_t pid);

// Samples a process's VmRSS on a thread every `period` between Start and Stop; keeps the peak.
class RssSampler {
 public:
  RssSampler(pid_t pid, std::chrono::milliseconds period) : pid_(pid), period_(period) {}
  ~RssSampler() { Stop(); }
  void Start();
  // Joins the thread; returns the peak seen (0 when no sample could be read).
  int64_t Stop();
  int samples() const { return samples_; }

 private:
  pid_t pid_;
  std::chrono::milliseconds period_;
  std::atomic<bool> running_{false};
  std::atomic<int64_t> peak_{0};
  std::atomic<int> samples_{0};
  std::thread thread_;
};

// A splitmix64 byte stream: fast, deterministic per seed.
class ByteStream {
 public:
  explicit ByteStream(uint64_t seed) : state_(seed) {}
  // Replaces *out with the next `size` bytes.
  void Next(size_t size, std::string* out);

 private:
  uint64_t state_;
};

// "1 5 15" minute load averages from /proc/loadavg (noise context for the figures).
std::string LoadAverage();
// %.6g, or null when not finite.
std::string JsonNumber(double value);
// Nearest-rank percentile (the smallest sample with at least p of them at or below it); NaN
// for no samples.
double Percentile(std::vector<double> values, double p);

// Printed figures (one line each) and verification failures, then one JSON object.
class Results {
 public:
  // A figure with a goal; `met` says whether the value reaches it.
  void Goal(const std::string& key, const std::string& label, double value,
            const std::string& unit, const std::string& goal, bool met,
            const std::string& note = "");
  // An informative figure (a timing split, a count).
  void Info(const std::string& key, const std::string& label, double value,
            const std::string& unit, const std::string& note = "");
  // Printed to stderr at once; any error makes the bench fail.
  void Error(const std::string& message);
  size_t errors() const { return errors_.size(); }
  // {<header_fields>, "figures": {key: {value, unit[, goal, met]}}, "verification_errors": [...],
  //  "ok": bool}
  std::string Json(const std::string& header_fields) const;

 private:
  struct Figure {
    std::string key, unit, goal;
    double value;
    bool met;
  };
  std::vector<Figure> figures_;
  std::vector<std::string> errors_;
};

// A seed that differs per run (time, pid and the random device).
uint64_t FreshSeed();

}  // namespace shrink::testing
