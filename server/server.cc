#include "server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "common/logging.h"
#include "server/blob_services.h"
#include "server/job_service.h"
#include "server/supervisor.h"
#include "server/worker_service.h"
#include "storage/sqlite_store.h"

namespace shrink::server {
namespace {

constexpr int64_t kWorkerAliveWindowMs = 10'000;

// Local workers reach the server on loopback unless it listens on one specific address. With
// TLS they dial "localhost", the name a certificate carries (an IP SAN is rarer).
std::string LocalAddress(const std::string& listen, int port, bool tls) {
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.empty() || host == "0.0.0.0" || host == "[::]" || host == "::") host = "127.0.0.1";
  if (tls && (host == "127.0.0.1" || host == "[::1]")) host = "localhost";
  return host + ":" + std::to_string(port);
}

// The TLS flags every local worker gets.
std::vector<std::string> WorkerTlsArgs(const ServerOptions& options) {
  if (options.tls_cert_file.empty()) return {};
  std::vector<std::string> args = {"--tls-ca", options.tls_ca_file};
  if (!options.tls_client_ca_file.empty()) {
    args.insert(args.end(),
                {"--tls-cert", options.tls_cert_file, "--tls-key", options.tls_key_file});
  }
  return args;
}

// Each worker gets its own cache directory (a worker locks its cache).
std::vector<std::string> LocalWorkerArgs(int index, const std::string& address,
                                         const std::string& cache_dir,
                                         const std::vector<std::string>& extra) {
  std::vector<std::string> args = {
      "--server", address, "--exit-with-parent", "--id",
      "local-" + std::to_string(::getpid()) + "-" + std::to_string(index),
      "--cache", cache_dir + "/" + std::to_string(index)};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace

std::string ExecutableDir() {
  std::error_code error;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::string(".") : exe.parent_path().string();
}

class Server::Impl {
 public:
  explicit Impl(ServerOptions options) : options_(std::move(options)) {}

  Status Start(BootstrapTokens* tokens, int* port) {
    ASSIGN_OR_RETURN(credentials_,
                     rpc::MakeServerCredentials({options_.tls_cert_file, options_.tls_key_file,
                                                 options_.tls_client_ca_file}));
    if (!options_.tls_cert_file.empty() && options_.local_workers > 0) {
      if (options_.tls_ca_file.empty()) {
        return InvalidArgument("local workers over TLS need --tls-ca (the CA of --tls-cert)");
      }
      RETURN_IF_ERROR(rpc::ReadPemFile(options_.tls_ca_file, "--tls-ca").status());
    }
    const Clock* clock = options_.clock ? options_.clock : SystemClock::Default();
    storage::SqliteStoreOptions store_options;
    store_options.clock = clock;
    ASSIGN_OR_RETURN(store_, storage::SqliteStore::Open(options_.db_path, store_options));
    if (!options_.insecure_no_auth) {
      std::string admin_path = options_.admin_token_path.empty()
                                   ? options_.db_path + ".admin-token"
                                   : options_.admin_token_path;
      ASSIGN_OR_RETURN(*tokens,
                       BootstrapAuth(store_.get(), admin_path, options_.db_path + ".worker-token"));
    }
    ASSIGN_OR_RETURN(metrics_, ServerMetrics::Create(options_.metrics_listen));
    auth_ = std::make_unique<Authenticator>(store_.get(), options_.insecure_no_auth);
    context_.blobs = store_.get();
    context_.catalog = store_.get();
    context_.jobs = store_.get();
    context_.metrics_store = store_.get();
    context_.tenants = store_.get();
    context_.auth = auth_.get();
    context_.metrics = metrics_.get();
    context_.events = &events_;
    context_.workers = &workers_;
    context_.clock = clock;
    context_.limits = options_.limits;
    context_.engine_version = options_.engine_version;
    context_.backup = [this]() -> StatusOr<std::string> {
      // Next to the database: the same filesystem has room for a copy of it.
      std::string path = options_.db_path + ".backup-" + std::to_string(++backups_) + ".tmp";
      RETURN_IF_ERROR(store_->BackupTo(path).status());
      return path;
    };
    RETURN_IF_ERROR(StartGrpc(port));
    housekeeper_ = std::thread([this] { HousekeepLoop(); });
    if (options_.local_workers > 0) RETURN_IF_ERROR(StartWorkers(*port, tokens->worker_token));
    return OkStatus();
  }

  ~Impl() {
    if (supervisor_) supervisor_->Stop(std::chrono::milliseconds(0));
    StopGrpc(std::chrono::milliseconds(500));
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (housekeeper_.joinable()) housekeeper_.join();
  }

  void Drain(std::chrono::milliseconds deadline) {
    context_.draining = true;
    if (grpc_) grpc_->GetHealthCheckService()->SetServingStatus(false);
    if (supervisor_) {
      int killed = supervisor_->Stop(deadline);
      if (killed > 0) {
        SHRINK_LOG(Warning) << killed << " local worker(s) did not finish within the drain "
                            << "deadline; their jobs return to the queue when the leases expire";
      }
    }
    StopGrpc(std::chrono::milliseconds(2000));
  }

  // Lease expiry every pass; the gauges (six store queries) and a wake-up of every Watch stream
  // once a second, or at once when leases expired (the only state change nobody notifies).
  void Housekeep() {
    auto expired = store_->ExpireLeases();
    const bool changed = expired.ok() && *expired > 0;
    if (changed) {
      SHRINK_LOG(Info) << *expired << " expired lease(s): jobs requeued or failed";
    }
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
    if (!changed && now_ms - last_refresh_ms_.load() < 1000) return;
    last_refresh_ms_ = now_ms;
    for (storage::JobState state :
         {storage::JobState::kQueued, storage::JobState::kRunning, storage::JobState::kSucceeded,
          storage::JobState::kFailed, storage::JobState::kCancelled}) {
      auto count = store_->CountJobs(state);
      if (count.ok()) metrics_->SetJobs(state, *count);
    }
    auto bytes = store_->TotalBlobBytes();
    if (bytes.ok()) metrics_->SetBlobBytes(*bytes);
    int64_t alive = workers_.AliveSince(context_.clock->NowMillis() - kWorkerAliveWindowMs);
    metrics_->SetWorkersAlive(alive, supervisor_ ? supervisor_->running() : 0);
    events_.NotifyAll();
  }

  int metrics_port() const { return metrics_->port(); }
  Supervisor* supervisor() const { return supervisor_.get(); }

 private:
  Status StartGrpc(int* port) {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    job_service_ = std::make_unique<JobServiceImpl>(context_);
    model_service_ =
        std::make_unique<ModelServiceImpl>(context_, storage::BlobKind::kModel, "ModelService");
    dataset_service_ = std::make_unique<DatasetServiceImpl>(context_, storage::BlobKind::kDataset,
                                                            "DatasetService");
    worker_service_ = std::make_unique<WorkerServiceImpl>(context_);
    admin_service_ = std::make_unique<AdminServiceImpl>(context_);
    grpc::ServerBuilder builder;
    // A second server must not silently share the port.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    builder.SetMaxReceiveMessageSize(rpc::kMaxMessageBytes);
    builder.SetMaxSendMessageSize(rpc::kMaxMessageBytes);
    builder.AddListeningPort(options_.listen, credentials_, port);
    builder.RegisterService(job_service_.get());
    builder.RegisterService(model_service_.get());
    builder.RegisterService(dataset_service_.get());
    builder.RegisterService(worker_service_.get());
    builder.RegisterService(admin_service_.get());
    grpc_ = builder.BuildAndStart();
    if (!grpc_ || *port == 0) {
      return Status(StatusCode::kUnavailable, "cannot listen on " + options_.listen +
                                                  " (address in use or invalid)");
    }
    grpc_->GetHealthCheckService()->SetServingStatus(true);
    return OkStatus();
  }

  void StopGrpc(std::chrono::milliseconds grace) {
    std::lock_guard<std::mutex> lock(grpc_mu_);
    if (!grpc_) return;
    // Without a deadline Shutdown waits for open Watch streams forever.
    grpc_->Shutdown(std::chrono::system_clock::now() + grace);
    grpc_->Wait();
    grpc_.reset();
  }

  Status StartWorkers(int port, const std::string& worker_token) {
    SupervisorOptions supervised;
    supervised.worker_binary = options_.worker_binary.empty()
                                   ? ExecutableDir() + "/shrink-worker"
                                   : options_.worker_binary;
    supervised.server_address =
        LocalAddress(options_.listen, port, !options_.tls_cert_file.empty());
    std::string cache_dir = options_.worker_cache_dir.empty() ? options_.db_path + ".cache"
                                                              : options_.worker_cache_dir;
    std::vector<std::string> extra = options_.worker_args;
    std::vector<std::string> tls = WorkerTlsArgs(options_);
    extra.insert(extra.end(), tls.begin(), tls.end());
    supervised.args_for = [cache_dir, extra](int index, const std::string& address) {
      return LocalWorkerArgs(index, address, cache_dir, extra);
    };
    if (!worker_token.empty()) supervised.env["SHRINK_WORKER_TOKEN"] = worker_token;
    supervised.count = options_.local_workers;
    ASSIGN_OR_RETURN(supervisor_, Supervisor::Start(supervised));
    return OkStatus();
  }

  void HousekeepLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      lock.unlock();
      Housekeep();
      lock.lock();
      wake_.wait_for(lock, options_.housekeeping_period, [this] { return stopping_; });
    }
  }

  ServerOptions options_;
  std::shared_ptr<grpc::ServerCredentials> credentials_;
  std::atomic<int64_t> backups_{0};
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<ServerMetrics> metrics_;
  std::unique_ptr<Authenticator> auth_;
  JobEvents events_;
  WorkerRegistry workers_;
  ServiceContext context_;
  std::unique_ptr<JobServiceImpl> job_service_;
  std::unique_ptr<ModelServiceImpl> model_service_;
  std::unique_ptr<DatasetServiceImpl> dataset_service_;
  std::unique_ptr<WorkerServiceImpl> worker_service_;
  std::unique_ptr<AdminServiceImpl> admin_service_;
  std::mutex grpc_mu_;
  std::unique_ptr<grpc::Server> grpc_;
  std::unique_ptr<Supervisor> supervisor_;
  std::thread housekeeper_;
  std::atomic<int64_t> last_refresh_ms_{-1'000'000};  // steady clock; housekeeper or a test
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  BootstrapTokens tokens;
  int port = 0;
  RETURN_IF_ERROR(impl->Start(&tokens, &port));
  std::unique_ptr<Server> server(new Server(std::move(impl)));
  server->port_ = port;
  server->tokens_ = tokens;
  return server;
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;
int Server::metrics_port() const { return impl_->metrics_port(); }
std::vector<int> Server::worker_pids() const {
  return impl_->supervisor() ? impl_->supervisor()->pids() : std::vector<int>();
}
int Server::worker_restarts() const {
  return impl_->supervisor() ? impl_->supervisor()->restarts() : 0;
}
void Server::Housekeep() { impl_->Housekeep(); }
void Server::Drain(std::chrono::milliseconds deadline) { impl_->Drain(deadline); }

}  // namespace shrink::server
