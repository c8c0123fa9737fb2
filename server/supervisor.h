// Supervises the local worker processes of `shrink serve`: spawns N, restarts any that exits
// while the server runs (backoff doubling from 0.5 s to 30 s, reset after a minute of uptime),
// and stops them on drain: SIGTERM (a worker finishes its running job, then exits), then
// SIGKILL at the deadline. Boost.Asio runs the exit handlers and restart timers on one thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace shrink::server {

struct SupervisorOptions {
  std::string worker_binary;
  // Arguments for worker `index` (0-based), e.g. --server and --id.
  std::function<std::vector<std::string>(int index, const std::string& server_address)> args_for;
  std::string server_address;
  std::map<std::string, std::string> env;  // added to the server's environment
  int count = 2;
  std::chrono::milliseconds min_backoff{500};
  std::chrono::milliseconds max_backoff{30'000};
};

class Supervisor {
 public:
  static StatusOr<std::unique_ptr<Supervisor>> Start(const SupervisorOptions& options);
  ~Supervisor();  // Stop(0) when not stopped

  int running() const;
  int restarts() const;
  std::vector<int> pids() const;
  // Stops restarting, sends SIGTERM, waits up to `deadline` for the workers to exit, then
  // SIGKILLs the rest. Returns how many had to be killed.
  int Stop(std::chrono::milliseconds deadline);

 private:
  class Impl;
  explicit Supervisor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace shrink::server
