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
#include "common/flags.h"
#include "common/logging.h"
#include "worker/worker.h"

namespace {

constexpr const char* kUsage =
    "usage: shrink-worker --server HOST:PORT [--token T] [--cache DIR] [--id ID] [--threads N]\n"
    "                     [--tls-ca FILE [--tls-cert FILE --tls-key FILE]] [--max-jobs N]\n"
    "                     [--lease-ms MS] [--heartbeat-ms MS]\n"
    "                     [--cache-max-bytes N] [--job-timeout-seconds S]\n"
    "                     [--max-job-memory-mb MB] [--exit-with-parent]\n"
    "  --token: the WORKER token (default: $SHRINK_WORKER_TOKEN, which keeps it out of `ps`)\n"
    "  --cache: blob cache directory, one per worker (default: $XDG_CACHE_HOME/shrink-worker\n"
    "           or ~/.cache/shrink-worker, in the first numbered slot no other worker holds)\n"
    "  --tls-ca: the server's CA (TLS; the --server host must match its certificate);\n"
    "           --tls-cert/--tls-key: this worker's certificate for mutual TLS\n"
    "  --max-jobs: exit after N jobs (0 = never)\n"
    "  --metrics-listen ADDR: serve Prometheus metrics (jobs by outcome, durations, busy,\n"
    "           server reachable) on ADDR, e.g. 0.0.0.0:9465\n"
    "  --job-timeout-seconds / --max-job-memory-mb: a job running longer, or growing this\n"
    "           process past that resident size, fails with the reason; the worker goes on\n"
    "  --exit-with-parent: die with the parent process (used by `shrink serve`)\n"
    "SIGTERM/SIGINT finish the running job and exit; a second signal exits at once.\n";

std::atomic<bool> g_stop{false};
volatile std::sig_atomic_t g_signals = 0;

void OnSignal(int signo) {
  if (g_signals++ > 0) _exit(128 + signo);
  g_stop = true;
}

shrink::cli::FlagSpec WorkerFlags() {
  shrink::cli::FlagSpec spec;
  spec.with_value = {"server",   "token",        "cache",           "id",
                     "threads",  "tls-ca",       "tls-cert",        "tls-key",
                     "max-jobs", "lease-ms",
                     "heartbeat-ms", "cache-max-bytes", "job-timeout-seconds",
                     "max-job-memory-mb", "metrics-listen"};
  spec.booleans = {"exit-with-parent", "help"};
  return spec;
}

shrink::Status ParseCount(const shrink::cli::ParsedFlags& flags, const std::string& name,
                          int64_t* out) {
  if (!flags.Has(name)) return shrink::OkStatus();
  const std::string text = flags.Get(name);
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

shrink::StatusOr<shrink::worker::WorkerOptions> OptionsFromFlags(
    const shrink::cli::ParsedFlags& flags) {
  shrink::worker::WorkerOptions options;
  if (!flags.positional.empty()) {
    return shrink::InvalidArgument("unexpected argument '" + flags.positional[0] + "'");
  }
  auto get = [&](const std::string& name) { return flags.Get(name); };
  options.address = get("server");
  if (options.address.empty()) return shrink::InvalidArgument("--server is required");
  options.token = get("token");
  if (options.token.empty() && std::getenv("SHRINK_WORKER_TOKEN")) {
    options.token = std::getenv("SHRINK_WORKER_TOKEN");
  }
  options.metrics_listen = get("metrics-listen");
  options.tls_ca_file = get("tls-ca");
  options.tls_cert_file = get("tls-cert");
  options.tls_key_file = get("tls-key");
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
  int64_t timeout_s = 0, memory_mb = 0;
  RETURN_IF_ERROR(ParseCount(flags, "job-timeout-seconds", &timeout_s));
  RETURN_IF_ERROR(ParseCount(flags, "max-job-memory-mb", &memory_mb));
  options.job_timeout_ms = timeout_s * 1000;
  options.max_job_rss_bytes = uint64_t(memory_mb) << 20;
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
  auto flags = shrink::cli::ParseFlags(std::vector<std::string>(argv + 1, argv + argc),
                                       WorkerFlags());
  if (flags.ok() && flags->Has("help")) {
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
  if (flags->Has("exit-with-parent")) {
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
