// Wakes Watch streams when a job has news (a progress event, a state change). Listeners run
// under the hub's lock, so Unsubscribe returning means the listener is not running and never
// will again; listeners must be short and must not call back into the hub.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace shrink::server {

class JobEvents {
 public:
  using Listener = std::function<void()>;
  int64_t Subscribe(const std::string& job_id, Listener listener);
  void Unsubscribe(int64_t handle);
  void Notify(const std::string& job_id);
  // Wakes every listener (state changes the server cannot attribute, e.g. expired leases).
  void NotifyAll();
  size_t listeners() const;

 private:
  struct Entry {
    std::string job_id;
    Listener listener;
  };
  mutable std::mutex mu_;
  int64_t next_handle_ = 1;
  std::map<int64_t, Entry> entries_;
};

}  // namespace shrink::server
