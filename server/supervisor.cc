#include "server/supervisor.h"

#include <signal.h>

#include <boost/asio.hpp>
#include <boost/process.hpp>
#include <condition_variable>
#include <mutex>
#include <filesystem>
#include <thread>

#include "common/logging.h"

namespace shrink::server {

namespace bp = boost::process;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

class Supervisor::Impl {
 public:
  explicit Impl(SupervisorOptions options)
      : options_(std::move(options)), work_(asio::make_work_guard(io_)),
        slots_(static_cast<size_t>(options_.count)) {
    for (auto& slot : slots_) slot.backoff = options_.min_backoff;
  }

  Status Start() {
    if (!std::filesystem::exists(options_.worker_binary)) {
      return NotFound("worker binary " + options_.worker_binary + " not found");
    }
    thread_ = std::thread([this] { io_.run(); });
    for (int i = 0; i < options_.count; ++i) {
      asio::post(io_, [this, i] { Spawn(i); });
    }
    return OkStatus();
  }

  ~Impl() {
    Stop(std::chrono::milliseconds(0));
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  int running() const {
    std::lock_guard<std::mutex> lock(mu_);
    int alive = 0;
    for (const auto& slot : slots_) alive += slot.pid > 0;
    return alive;
  }

  int restarts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return restarts_;
  }

  std::vector<int> pids() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<int> out;
    for (const auto& slot : slots_) {
      if (slot.pid > 0) out.push_back(slot.pid);
    }
    return out;
  }

  int Stop(std::chrono::milliseconds deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!stopping_) {
      stopping_ = true;
      for (auto& slot : slots_) {
        if (slot.pid > 0) ::kill(slot.pid, SIGTERM);
      }
    }
    exited_.wait_for(lock, deadline, [this] { return AllExited(); });
    int killed = 0;
    for (auto& slot : slots_) {
      if (slot.pid > 0) {
        ::kill(slot.pid, SIGKILL);
        ++killed;
      }
    }
    exited_.wait_for(lock, std::chrono::seconds(5), [this] { return AllExited(); });
    return killed;
  }

 private:
  struct Slot {
    std::unique_ptr<bp::child> child;
    int pid = 0;
    Clock::time_point started;
    std::chrono::milliseconds backoff{0};
    std::unique_ptr<asio::steady_timer> timer;
  };

  bool AllExited() const {
    for (const auto& slot : slots_) {
      if (slot.pid > 0) return false;
    }
    return true;
  }

  // Runs on the io thread.
  void Spawn(int index) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    Slot& slot = slots_[static_cast<size_t>(index)];
    bp::environment env = boost::this_process::environment();
    for (const auto& [key, value] : options_.env) env[key] = value;
    std::vector<std::string> args = options_.args_for(index, options_.server_address);
    std::error_code error;
    slot.child = std::make_unique<bp::child>(
        options_.worker_binary, bp::args(args), env, io_, error,
        bp::on_exit([this, index](int exit_code, const std::error_code&) {
          Exited(index, exit_code);
        }));
    if (error) {
      SHRINK_LOG(Warning) << "cannot start worker " << index << ": " << error.message();
      slot.pid = 0;
      ScheduleRestart(index);
      return;
    }
    slot.pid = slot.child->id();
    slot.started = Clock::now();
  }

  void Exited(int index, int exit_code) {
    std::lock_guard<std::mutex> lock(mu_);
    Slot& slot = slots_[static_cast<size_t>(index)];
    if (!stopping_) {
      SHRINK_LOG(Warning) << "local worker " << index << " (pid " << slot.pid << ") exited with code "
                  << exit_code << "; restarting";
    }
    slot.pid = 0;
    exited_.notify_all();
    if (!stopping_) ScheduleRestart(index);
  }

  // mu_ held.
  void ScheduleRestart(int index) {
    Slot& slot = slots_[static_cast<size_t>(index)];
    if (Clock::now() - slot.started > std::chrono::minutes(1)) slot.backoff = options_.min_backoff;
    slot.timer = std::make_unique<asio::steady_timer>(io_, slot.backoff);
    slot.backoff = std::min(slot.backoff * 2, options_.max_backoff);
    ++restarts_;
    slot.timer->async_wait([this, index](const std::error_code& error) {
      if (!error) Spawn(index);
    });
  }

  SupervisorOptions options_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable exited_;
  std::vector<Slot> slots_;
  bool stopping_ = false;
  int restarts_ = 0;
};

StatusOr<std::unique_ptr<Supervisor>> Supervisor::Start(const SupervisorOptions& options) {
  if (!options.args_for) return InvalidArgument("supervisor needs args_for");
  auto impl = std::make_unique<Impl>(options);
  RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<Supervisor>(new Supervisor(std::move(impl)));
}

Supervisor::Supervisor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Supervisor::~Supervisor() = default;
int Supervisor::running() const { return impl_->running(); }
int Supervisor::restarts() const { return impl_->restarts(); }
std::vector<int> Supervisor::pids() const { return impl_->pids(); }
int Supervisor::Stop(std::chrono::milliseconds deadline) { return impl_->Stop(deadline); }

}  // namespace shrink::server
