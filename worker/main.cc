// shrink-worker: leases optimization jobs from a shrink server and runs them (see worker.h).
// SIGTERM/SIGINT: finish the running job, lease no more, exit 0; a second signal exits at once.
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "common/logging.h"
#include "worker/worker.h"

namespace {

constexpr const char* kUsage =
    "usage: shrink-worker --server HOST:PORT [--token T] [--cache DIR] [--id ID] [--threads N]\n"
    "                     [--tls-ca FILE] [--max-jobs N] [--lease-ms MS] [--heartbeat-ms MS]\n"
    "                     [--cache-max-bytes N] [--exit-with-parent]\n"
    "  --token: the WORKER token (default: $SHRINK_WORKER_TOKEN, which keeps it out of `ps`)\n"
    "  --cache: blob cache directory, one per worker (default: $XDG_CACHE_HOME/shrink-worker\n"
    "           or ~/.cache/shrink-worker, in the first numbered slot no other worker holds)\n"
    "  --max-jobs: exit after N jobs (0 = never)\n"
    "  --exit-with-parent: die with the parent process (used by `shrink serve`)\n"
    "SIGTERM/SIGINT finish the running job and exit; a second signal exits at once.\n";

std::atomic<bool> g_stop{false};
volatile std::sig_atomic_t g_signals = 0;

void OnSignal(int signo) {
  if (g_signals++ > 0) _exit(128 + signo);
  g_stop = true;
}

struct Flags {
  std::map<std::string, std::string> values;
  bool exit_with_parent = false;
  bool help = false;
};

shrink::StatusOr<Flags> ParseArgs(int argc, char** argv) {
  static const char* kWithValue[] = {"server",   "token",    "cache",       "id",
                                     "threads",  "tls-ca",   "max-jobs",    "lease-ms",
                                     "heartbeat-ms", "cache-max-bytes"};
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      flags.help = true;
      continue;
    }
    if (arg == "--exit-with-parent") {
      flags.exit_with_parent = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      return shrink::InvalidArgument("unexpected argument '" + arg + "'");
    }
    std::string name = arg.substr(2), value;
    const size_t equals = name.find('=');
    bool known = false;
    if (equals != std::string::npos) value = name.substr(equals + 1), name.resize(equals);
    for (const char* flag : kWithValue) known = known || name == flag;
    if (!known) return shrink::InvalidArgument("unknown flag --" + name);
    if (equals == std::string::npos) {
      if (i + 1 >= argc) return shrink::InvalidArgument("--" + name + " needs a value");
      value = argv[++i];
    }
    flags.values[name] = value;
  }
  return flags;
}

shrink::Status ParseCount(const Flags& flags, const std::string& name, int64_t* out) {
  auto found = flags.values.find(name);
  if (found == flags.values.end()) return shrink::OkStatus();
  const std::string& text = found->second;
  if (text.empty() || text.size() > 18 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return shrink::InvalidArgument("--" + name + " must be a non-negative integer, got '" + text +
                                   "'");
  }
  *out = std::stoll(text);
  return shrink::OkStatus();
}

std::string DefaultCacheBase() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && *xdg) return shrink::JoinPath(xdg, "shrink-worker");
  const char* home = std::getenv("HOME");
  return shrink::JoinPath(home && *home ? home : "/tmp", ".cache/shrink-worker");
}

shrink::StatusOr<shrink::worker::WorkerOptions> OptionsFromFlags(const Flags& flags) {
  shrink::worker::WorkerOptions options;
  auto get = [&](const std::string& name) {
    auto found = flags.values.find(name);
    return found == flags.values.end() ? std::string() : found->second;
  };
  options.address = get("server");
  if (options.address.empty()) return shrink::InvalidArgument("--server is required");
  options.token = get("token");
  if (options.token.empty() && std::getenv("SHRINK_WORKER_TOKEN")) {
    options.token = std::getenv("SHRINK_WORKER_TOKEN");
  }
  options.tls_ca_file = get("tls-ca");
  if (!options.tls_ca_file.empty() && !shrink::FileExists(options.tls_ca_file)) {
    return shrink::NotFound("--tls-ca " + options.tls_ca_file + ": no such file");
  }
  options.cache_dir = get("cache");
  options.worker_id = get("id");
  int64_t threads = 0, max_bytes = int64_t(options.cache_max_bytes);
  RETURN_IF_ERROR(ParseCount(flags, "threads", &threads));
  RETURN_IF_ERROR(ParseCount(flags, "max-jobs", &options.max_jobs));
  RETURN_IF_ERROR(ParseCount(flags, "lease-ms", &options.lease_ms));
  RETURN_IF_ERROR(ParseCount(flags, "heartbeat-ms", &options.heartbeat_ms));
  RETURN_IF_ERROR(ParseCount(flags, "cache-max-bytes", &max_bytes));
  if (threads > 1024) return shrink::InvalidArgument("--threads must be at most 1024");
  options.threads = int(threads);
  options.cache_max_bytes = uint64_t(max_bytes);
  options.shrink_version = SHRINK_VERSION;
  return options;
}

// Without --cache, workers on one machine share a base directory and each takes the first
// numbered slot that no running worker has locked.
shrink::StatusOr<std::unique_ptr<shrink::worker::Worker>> CreateWorker(
    shrink::worker::WorkerOptions options) {
  if (!options.cache_dir.empty()) return shrink::worker::Worker::Create(options);
  const std::string base = DefaultCacheBase();
  constexpr int kSlots = 64;
  for (int slot = 0; slot < kSlots; ++slot) {
    options.cache_dir = shrink::JoinPath(base, std::to_string(slot));
    auto worker = shrink::worker::Worker::Create(options);
    if (worker.ok() || worker.status().code() != shrink::StatusCode::kFailedPrecondition) {
      return worker;
    }
  }
  return shrink::FailedPrecondition("all " + std::to_string(kSlots) + " cache slots under " +
                                    base + " are in use; pass --cache");
}

}  // namespace

int main(int argc, char** argv) {
  auto flags = ParseArgs(argc, argv);
  if (flags.ok() && flags->help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  shrink::StatusOr<shrink::worker::WorkerOptions> options =
      flags.ok() ? OptionsFromFlags(*flags) : shrink::StatusOr<shrink::worker::WorkerOptions>(
                                                  flags.status());
  if (!options.ok()) {
    std::fprintf(stderr, "shrink-worker: %s\n%s", options.status().message().c_str(), kUsage);
    return 1;
  }
  if (flags->exit_with_parent) {
    const pid_t parent = getppid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) return 1;  // the parent died before prctl took effect
  }
  struct sigaction action = {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  // A parent that takes its signals with sigwait (shrinkd) starts us with them blocked.
  sigset_t ours;
  sigemptyset(&ours);
  sigaddset(&ours, SIGTERM);
  sigaddset(&ours, SIGINT);
  sigprocmask(SIG_UNBLOCK, &ours, nullptr);

  auto worker = CreateWorker(*options);
  if (!worker.ok()) {
    std::fprintf(stderr, "shrink-worker: %s\n", worker.status().message().c_str());
    return 1;
  }
  shrink::Status status = (*worker)->Run(g_stop);
  if (!status.ok()) {
    SHRINK_LOG(Error) << status.ToString();
    return 2;
  }
  return 0;
}
