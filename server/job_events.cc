#include "server/job_events.h"

namespace shrink::server {

int64_t JobEvents::Subscribe(const std::string& job_id, Listener listener) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t handle = next_handle_++;
  entries_.emplace(handle, Entry{job_id, std::move(listener)});
  return handle;
}

void JobEvents::Unsubscribe(int64_t handle) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(handle);
}

void JobEvents::Notify(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [handle, entry] : entries_) {
    if (entry.job_id == job_id) entry.listener();
  }
}

void JobEvents::NotifyAll() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [handle, entry] : entries_) entry.listener();
}

size_t JobEvents::listeners() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace shrink::server
