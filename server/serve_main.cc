#include "server/serve_main.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/flags.h"
#include "common/logging.h"
#include "server/server.h"

namespace shrink::server {
namespace {

constexpr const char* kUsage =
    "usage: %s [--listen 127.0.0.1:7070] [--db shrink.db] [--workers 2]\n"
    "  --metrics-listen ADDR     serve Prometheus metrics (e.g. 127.0.0.1:9464)\n"
    "  --insecure-no-auth        accept every call without a token (local use only)\n"
    "  --max-upload-mb N         largest model, dataset or artifact (default 2048)\n"
    "  --tenant-quota-mb N       models + datasets per tenant (default: unlimited)\n"
    "  --max-attempts N          leases per job before it fails (default 3)\n"
    "  --max-lease-seconds N     longest lease a worker may hold between heartbeats (60)\n"
    "  --drain-seconds N         on SIGTERM, how long running jobs may take to finish (60)\n"
    "  --worker-binary PATH      shrink-worker to spawn (default: next to this program)\n"
    "  --worker-threads N        engine threads per local worker\n"
    "  --job-timeout-seconds S   a job running longer fails (DEADLINE_EXCEEDED)\n"
    "  --max-job-memory-mb MB    a job growing a worker past this fails (RESOURCE_EXHAUSTED)\n"
    "  --worker-cache DIR        local workers' blob caches (DIR/0, DIR/1, ...; <db>.cache)\n"
    "  --admin-token-file PATH   where the admin token is kept (default: <db>.admin-token)\n"
    "  --port-file PATH          write the bound port there once listening\n"
    "  --tls-cert PEM --tls-key PEM  serve TLS with this certificate (SAN must name the host\n"
    "                            clients dial; DNS:localhost for local workers)\n"
    "  --tls-client-ca PEM       mutual TLS: clients need a certificate signed by this CA\n"
    "                            (local workers present --tls-cert/--tls-key)\n"
    "  --tls-ca PEM              the CA that signed --tls-cert, for the local workers\n";

Status WritePortFile(const std::string& path, int port) {
  std::string temp = path + ".tmp";
  {
    std::ofstream out(temp);
    out << port << "\n";
    if (!out) return InvalidArgument("cannot write port file " + path);
  }
  std::error_code error;
  std::filesystem::rename(temp, path, error);
  if (error) return InvalidArgument("cannot write port file " + path + ": " + error.message());
  return OkStatus();
}

StatusOr<ServerOptions> OptionsFromFlags(const cli::ParsedFlags& flags) {
  ServerOptions options;
  options.listen = flags.Get("listen", options.listen);
  options.db_path = flags.Get("db", options.db_path);
  options.metrics_listen = flags.Get("metrics-listen");
  ASSIGN_OR_RETURN(options.local_workers, flags.GetInt("workers", 2));
  if (options.local_workers < 0) return InvalidArgument("--workers must be >= 0");
  options.insecure_no_auth = flags.Has("insecure-no-auth");
  ASSIGN_OR_RETURN(int upload_mb, flags.GetInt("max-upload-mb", 2048));
  ASSIGN_OR_RETURN(int quota_mb, flags.GetInt("tenant-quota-mb", 0));
  ASSIGN_OR_RETURN(options.limits.max_attempts, flags.GetInt("max-attempts", 3));
  ASSIGN_OR_RETURN(int lease_s, flags.GetInt("max-lease-seconds", 60));
  if (upload_mb <= 0 || quota_mb < 0 || options.limits.max_attempts < 1 || lease_s < 2) {
    return InvalidArgument("--max-upload-mb, --max-attempts and --max-lease-seconds (>= 2) must "
                           "be positive");
  }
  options.limits.max_upload_bytes = int64_t{upload_mb} << 20;
  options.limits.tenant_quota_bytes = int64_t{quota_mb} << 20;
  options.limits.max_lease_ms = int64_t{lease_s} * 1000;
  options.worker_binary = flags.Get("worker-binary");
  // Passed through to every local worker, which checks them.
  for (const auto& [ours, theirs] : {std::pair<std::string, std::string>{"worker-threads", "threads"},
                                     {"job-timeout-seconds", "job-timeout-seconds"},
                                     {"max-job-memory-mb", "max-job-memory-mb"}}) {
    if (flags.Has(ours)) options.worker_args.insert(options.worker_args.end(),
                                                    {"--" + theirs, flags.Get(ours)});
  }
  options.worker_cache_dir = flags.Get("worker-cache");
  options.admin_token_path = flags.Get("admin-token-file");
  options.tls_cert_file = flags.Get("tls-cert");
  options.tls_key_file = flags.Get("tls-key");
  options.tls_client_ca_file = flags.Get("tls-client-ca");
  options.tls_ca_file = flags.Get("tls-ca");
  options.engine_version = SHRINK_VERSION;
  return options;
}

}  // namespace

int ServeMain(const std::string& program, const std::vector<std::string>& args) {
  cli::FlagSpec spec;
  spec.with_value = {"listen",          "db",           "workers",          "metrics-listen",
                     "max-upload-mb",   "tenant-quota-mb", "max-attempts",  "max-lease-seconds",
                     "drain-seconds",   "worker-binary", "worker-threads", "worker-cache",
                     "admin-token-file", "port-file", "job-timeout-seconds",
                     "max-job-memory-mb", "tls-cert", "tls-key", "tls-client-ca", "tls-ca"};
  spec.booleans = {"insecure-no-auth", "help"};
  auto flags = cli::ParseFlags(args, spec);
  if (!flags.ok()) {
    std::fprintf(stderr, kUsage, program.c_str());
    return cli::ReportError(flags.status());
  }
  if (flags->Has("help")) {
    std::printf(kUsage, program.c_str());
    return cli::kExitOk;
  }
  if (!flags->positional.empty()) {
    return cli::ReportError(InvalidArgument("unexpected argument '" + flags->positional[0] + "'"));
  }
  auto options = OptionsFromFlags(*flags);
  if (!options.ok()) return cli::ReportError(options.status());
  auto drain_seconds = flags->GetInt("drain-seconds", 60);
  if (!drain_seconds.ok()) return cli::ReportError(drain_seconds.status());

  // Every thread inherits this mask; the main thread takes the signals with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = Server::Start(*options);
  if (!server.ok()) return cli::ReportError(server.status());
  std::fprintf(stderr, "%s: listening on %s (port %d, %s), database %s, %d local worker(s)\n",
               program.c_str(), options->listen.c_str(), (*server)->port(),
               options->tls_cert_file.empty() ? "plaintext"
               : options->tls_client_ca_file.empty() ? "TLS"
                                                     : "mutual TLS",
               options->db_path.c_str(), options->local_workers);
  if ((*server)->metrics_port() > 0) {
    std::fprintf(stderr, "%s: Prometheus metrics on port %d (/metrics)\n", program.c_str(),
                 (*server)->metrics_port());
  }
  if (options->insecure_no_auth) {
    std::fprintf(stderr,
                 "%s: WARNING: --insecure-no-auth: EVERY CALLER IS ADMIN; anyone who can reach "
                 "this port can read and change all data. Use only on a trusted machine.\n",
                 program.c_str());
  } else {
    const auto& tokens = (*server)->tokens();
    std::fprintf(stderr, "%s: admin token %s %s (mode 0600)\n", program.c_str(),
                 tokens.admin_token_created ? "written to" : "kept in",
                 tokens.admin_token_path.c_str());
  }
  if (flags->Has("port-file")) {
    Status written = WritePortFile(flags->Get("port-file"), (*server)->port());
    if (!written.ok()) return cli::ReportError(written);
  }

  int received = 0;
  sigwait(&signals, &received);
  std::fprintf(stderr, "%s: %s: draining (no new jobs start; running jobs get %d s)\n",
               program.c_str(), strsignal(received), *drain_seconds);
  std::thread second_signal([&signals, program] {
    int again = 0;
    sigwait(&signals, &again);
    std::fprintf(stderr, "%s: second signal: stopping now\n", program.c_str());
    std::_Exit(128 + again);
  });
  second_signal.detach();
  (*server)->Drain(std::chrono::seconds(*drain_seconds));
  server->reset();
  std::fprintf(stderr, "%s: stopped\n", program.c_str());
  return cli::kExitOk;
}

}  // namespace shrink::server
