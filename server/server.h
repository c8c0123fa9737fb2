// Server: the whole service in one object. Opens the SQLite store (one server per database),
// bootstraps tokens, serves the gRPC API (callback/async API, health checking and reflection
// on), serves Prometheus metrics, expires leases and refreshes gauges in a housekeeping thread,
// and supervises the local worker processes. `shrinkd` and `shrink serve` are thin mains around
// it; tests run it in-process.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "server/auth.h"
#include "server/service_context.h"

namespace shrink::server {

struct ServerOptions {
  std::string listen = "127.0.0.1:7070";  // port 0 picks a free port
  std::string db_path = "shrink.db";
  std::string metrics_listen;             // e.g. "127.0.0.1:9464"; empty: not served
  int local_workers = 2;
  std::string worker_binary;              // default: shrink-worker next to this executable
  std::vector<std::string> worker_args;   // appended to every local worker's arguments
  std::string worker_cache_dir;           // local worker N caches in <dir>/N; default <db>.cache
  bool insecure_no_auth = false;
  // TLS (empty cert: plaintext). With client_ca_file clients need a cert signed by it (mTLS);
  // local workers then present cert/key as their client certificate. Local workers verify the
  // server with tls_ca_file (the CA that signed the cert) and dial "localhost:<port>", so the
  // cert must carry DNS:localhost. Unreadable files or a key not matching the cert fail Start.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  std::string tls_ca_file;
  ServiceLimits limits;
  const Clock* clock = nullptr;           // null: system clock
  std::string engine_version;
  std::string admin_token_path;           // default: <db>.admin-token
  std::chrono::milliseconds housekeeping_period{200};
};

class Server {
 public:
  static StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options);
  ~Server();  // stops at once: workers killed, streams cut

  int port() const { return port_; }
  int metrics_port() const;
  const BootstrapTokens& tokens() const { return tokens_; }
  // Local worker processes (for tests and metrics).
  std::vector<int> worker_pids() const;
  int worker_restarts() const;

  // One housekeeping pass: expire leases, refresh gauges, wake watchers.
  void Housekeep();
  // Graceful stop: no new leases, local workers finish their running jobs (up to `deadline`),
  // then the gRPC server stops.
  void Drain(std::chrono::milliseconds deadline);

 private:
  class Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  BootstrapTokens tokens_;
};

// The directory of the running executable (to find shrink-worker next to it).
std::string ExecutableDir();

}  // namespace shrink::server
