// Real processes for service tests: shrinkd and shrink-worker started with posix_spawn on
// loopback port 0 in a temp directory, killed with any signal, and a ServiceClient to talk to
// them. Used by the end-to-end and chaos tests.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client/service_client.h"
#include "common/file_util.h"

extern char** environ;

namespace shrink::testing {

// A child process; killed with SIGKILL when the object goes away.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& args, const std::string& log_path,
               const std::vector<std::string>& extra_env = {}) {
    std::vector<char*> argv;
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> env_storage;
    for (char** e = environ; *e; ++e) env_storage.push_back(*e);
    env_storage.insert(env_storage.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> envp;
    for (auto& entry : env_storage) envp.push_back(entry.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, log_path.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    int error = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(error, 0) << "cannot start " << args[0];
    if (error) pid_ = 0;
  }
  ~ChildProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
  }
  int pid() const { return pid_; }
  void Signal(int signo) const {
    if (pid_ > 0) ::kill(pid_, signo);
  }
  // The exit code, or 128 + the signal that ended it.
  int Wait() {
    int status = 0;
    if (pid_ <= 0) return -1;
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = 0;
};

// Polls `done` every 10 ms up to `timeout`; true when it became true.
template <typename Predicate>
bool WaitFor(Predicate done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = *MakeTempDir("shrink-service-test"); }
  void TearDown() override {
    workers_.clear();
    server_.reset();
    if (!HasFailure()) (void)RemoveAll(dir_);
  }

  std::string File(const std::string& name) const { return JoinPath(dir_, name); }
  std::string Db() const { return File("shrink.db"); }

  // Starts shrinkd on port 0 with `local_workers` supervised workers; waits until it listens.
  void StartServer(int local_workers, std::vector<std::string> extra = {}) {
    std::string port_file = File("port");
    ::unlink(port_file.c_str());
    std::vector<std::string> args = {SHRINKD_BINARY, "--listen", "127.0.0.1:0", "--db", Db(),
                                     "--workers", std::to_string(local_workers), "--port-file",
                                     port_file};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = std::make_unique<ChildProcess>(args, File("server.log"));
    ASSERT_TRUE(WaitFor([&] { return ReadFile(port_file).ok(); }, std::chrono::seconds(20)))
        << "shrinkd did not start; see " << File("server.log");
    address_ = "127.0.0.1:" + std::to_string(std::stoi(*ReadFile(port_file)));
    auto token = ReadFile(Db() + ".admin-token");
    ASSERT_TRUE(token.ok());
    admin_token_ = token->substr(0, token->find('\n'));
    client_ = Client(admin_token_);
  }

  std::unique_ptr<client::ServiceClient> Client(const std::string& token) {
    auto made = client::ServiceClient::Create(rpc::ChannelOptions::Plaintext(address_), token);
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    return std::move(made).value();
  }

  // A worker process outside the server's supervision (so a test can kill it).
  ChildProcess& StartWorker(const std::string& id, std::vector<std::string> extra = {}) {
    if (worker_token_.empty()) {
      auto token = client_->IssueToken("default", v1::WORKER, "test-workers");
      EXPECT_TRUE(token.ok()) << token.status().ToString();
      worker_token_ = *token;
    }
    std::vector<std::string> args = {SHRINK_WORKER_BINARY, "--server", address_, "--id", id,
                                     "--cache", File("cache-" + id), "--threads", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    workers_.push_back(std::make_unique<ChildProcess>(
        args, File("worker-" + id + ".log"),
        std::vector<std::string>{"SHRINK_WORKER_TOKEN=" + worker_token_}));
    return *workers_.back();
  }

  StatusOr<v1::Job> WaitFinal(const std::string& job_id, std::chrono::seconds timeout) {
    StatusOr<v1::Job> job = NotFound("never read");
    WaitFor(
        [&] {
          job = client_->GetJob(job_id);
          return job.ok() && (job->state() == v1::SUCCEEDED || job->state() == v1::FAILED ||
                              job->state() == v1::CANCELLED);
        },
        timeout);
    return job;
  }

  std::string dir_;
  std::string address_;
  std::string admin_token_;
  std::string worker_token_;
  std::unique_ptr<ChildProcess> server_;
  std::vector<std::unique_ptr<ChildProcess>> workers_;
  std::unique_ptr<client::ServiceClient> client_;
};

}  // namespace shrink::testing
