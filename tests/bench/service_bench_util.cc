#include "tests/bench/service_bench_util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <vector>

#include "common/file_util.h"
#include "common/json.h"
#include "server/auth.h"

namespace shrink::testing {
namespace {

// Child side of fork: output to the log, die with the parent, exec shrinkd. Never returns.
[[noreturn]] void ExecShrinkd(const std::vector<std::string>& args, const std::string& log) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd >= 0) {
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
  }
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  std::fprintf(stderr, "exec %s failed: %s\n", argv[0], std::strerror(errno));
  _exit(127);
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("signal ") + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

StatusOr<std::unique_ptr<ShrinkdProcess>> ShrinkdProcess::Start(const std::string& binary,
                                                                const std::string& dir) {
  if (access(binary.c_str(), X_OK) != 0) return NotFound("shrinkd not found at " + binary);
  const std::string db = JoinPath(dir, "b.db");
  const std::string port_file = JoinPath(dir, "shrinkd.port");
  std::vector<std::string> args = {binary,      "--listen", "127.0.0.1:0", "--port-file",
                                   port_file,   "--workers", "0",          "--db",
                                   db};
  std::unique_ptr<ShrinkdProcess> process(new ShrinkdProcess());
  process->log_path_ = JoinPath(dir, "shrinkd.log");
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) return Internal(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) ExecShrinkd(args, process->log_path_);
  process->pid_ = pid;

  constexpr std::chrono::seconds kStartTimeout(30);
  RETURN_IF_ERROR(process->WaitForFile(port_file, kStartTimeout));
  ASSIGN_OR_RETURN(std::string port_text, ReadFile(port_file));
  process->port_ = std::atoi(port_text.c_str());
  if (process->port_ <= 0) return Internal("bad port file content '" + port_text + "'");
  const std::string token_file = db + ".admin-token";
  RETURN_IF_ERROR(process->WaitForFile(token_file, kStartTimeout));
  ASSIGN_OR_RETURN(process->admin_token_, server::ReadTokenFile(token_file));
  return process;
}

Status ShrinkdProcess::WaitForFile(const std::string& path, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto size = FileSize(path);
    if (size.ok() && *size > 0) return OkStatus();
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Internal("shrinkd exited (" + DescribeExit(status) + ") before writing " + path +
                      "; log:\n" + LogTail());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return Internal("shrinkd did not write " + path + " in time; log:\n" + LogTail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string ShrinkdProcess::LogTail(size_t max_bytes) const {
  auto log = ReadFile(log_path_);
  if (!log.ok()) return "(no log)";
  return log->size() <= max_bytes ? *log : log->substr(log->size() - max_bytes);
}

Status ShrinkdProcess::Stop(std::chrono::seconds grace) {
  if (pid_ <= 0) return OkStatus();
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      pid_ = -1;
      return Internal("shrinkd did not stop within " + std::to_string(grace.count()) +
                      " s of SIGTERM (killed)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Internal("shrinkd ended with " + DescribeExit(status) + "; log:\n" + LogTail());
  }
  return OkStatus();
}

ShrinkdProcess::~ShrinkdProcess() { (void)Stop(std::chrono::seconds(5)); }

StatusOr<int64_t> ReadRssBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, 6, "VmRSS:") != 0) continue;
    std::istringstream fields(line.substr(6));
    int64_t kib = 0;
    fields >> kib;
    return kib * 1024;
  }
  return NotFound("no VmRSS for pid " + std::to_string(pid));
}

void RssSampler::Start() {
  Stop();
  peak_ = 0;
  samples_ = 0;
  running_ = true;
  thread_ = std::thread([this] {
    while (running_) {
      auto rss = ReadRssBytes(pid_);
      if (rss.ok()) {
        if (*rss > peak_) peak_ = *rss;
        ++samples_;
      }
      std::this_thread::sleep_for(period_);
    }
  });
}

int64_t RssSampler::Stop() {
  running_ = false;
  if (thread_.joinable()) thread_.join();
  return peak_;
}

void ByteStream::Next(size_t size, std::string* out) {
  out->resize(size);
  size_t offset = 0;
  while (offset < size) {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    size_t n = std::min(sizeof(z), size - offset);
    std::memcpy(out->data() + offset, &z, n);
    offset += n;
  }
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

std::string JsonNumber(double value) {
  if (!std::isfinite(value)) return "null";
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.6g", value);
  return buffer;
}

// Nearest-rank percentile (the smallest sample with at least p of them at or below it).
double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(values.size())));
  return values[std::max<size_t>(rank, 1) - 1];
}

void Results::Goal(const std::string& key, const std::string& label, double value,
                   const std::string& unit, const std::string& goal, bool met,
                   const std::string& note) {
  figures_.push_back({key, unit, goal, value, met});
  std::printf("%-40s %12.2f %-10s (goal %s: %s)%s%s\n", label.c_str(), value, unit.c_str(),
              goal.c_str(), met ? "met" : "MISSED", note.empty() ? "" : "  ", note.c_str());
  std::fflush(stdout);
}

void Results::Info(const std::string& key, const std::string& label, double value,
                   const std::string& unit, const std::string& note) {
  figures_.push_back({key, unit, "", value, true});
  std::printf("%-40s %12.2f %-10s%s%s\n", label.c_str(), value, unit.c_str(),
              note.empty() ? "" : "  ", note.c_str());
  std::fflush(stdout);
}

void Results::Error(const std::string& message) {
  std::fprintf(stderr, "shrink-bench service: VERIFICATION FAILED: %s\n", message.c_str());
  errors_.push_back(message);
}

std::string Results::Json(const std::string& header_fields) const {
  std::ostringstream json;
  json << "{" << header_fields << ",\n \"figures\": {";
  for (size_t i = 0; i < figures_.size(); ++i) {
    const Figure& f = figures_[i];
    json << (i ? ",\n  " : "\n  ") << JsonQuote(f.key) << ": {\"value\": " << JsonNumber(f.value)
         << ", \"unit\": " << JsonQuote(f.unit);
    if (!f.goal.empty()) {
      json << ", \"goal\": " << JsonQuote(f.goal) << ", \"met\": " << (f.met ? "true" : "false");
    }
    json << "}";
  }
  json << "},\n \"verification_errors\": [";
  for (size_t i = 0; i < errors_.size(); ++i) json << (i ? ", " : "") << JsonQuote(errors_[i]);
  json << "],\n \"ok\": " << (errors_.empty() ? "true" : "false") << "}\n";
  return json.str();
}

uint64_t FreshSeed() {
  std::random_device device;
  uint64_t seed = (uint64_t(device()) << 32) ^ device();
  seed ^= uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  return seed ^ (uint64_t(getpid()) << 17);
}

}  // namespace shrink::testing
