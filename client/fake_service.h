// In-process fakes of the public services (models, datasets, jobs, admin) on 127.0.0.1:0, for
// client and CLI tests without a real server. Each fake records what it received and can be told
// to misbehave (drop a Watch stream, send a wrong download hash, refuse a token).
// Handlers run on gRPC's threads; the recorded state is guarded by one mutex.
#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/grpc_util.h"
#include "common/sha256.h"
#include "shrink/v1/service.grpc.pb.h"

namespace shrink::client::testing {

// What every fake shares: the auth check and the log of what arrived.
struct FakeState {
  std::mutex mu;
  std::string required_token;               // empty: any caller is accepted
  std::vector<std::string> authorizations;  // every `authorization` value seen
  int calls = 0;

  grpc::Status Check(grpc::ServerContext* context) {
    std::lock_guard<std::mutex> lock(mu);
    ++calls;
    auto found = context->client_metadata().find(rpc::kAuthorizationKey);
    std::string value = found == context->client_metadata().end()
                            ? ""
                            : std::string(found->second.data(), found->second.size());
    authorizations.push_back(value);
    if (!required_token.empty() && value != "Bearer " + required_token) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "bad or missing token");
    }
    return grpc::Status::OK;
  }
};

// Models and datasets share one implementation over their two generated bases.
template <typename Base>
class FakeBlobs : public Base {
 public:
  explicit FakeBlobs(FakeState* state) : state_(state) {}

  grpc::Status Has(grpc::ServerContext* context, const v1::HasBlobRequest* request,
                   v1::HasBlobResponse* response) override {
    if (auto auth = state_->Check(context); !auth.ok()) return auth;
    std::lock_guard<std::mutex> lock(state_->mu);
    response->set_present(blobs.count(request->sha256()) > 0);
    return grpc::Status::OK;
  }

  grpc::Status Upload(grpc::ServerContext* context, grpc::ServerReader<v1::UploadChunk>* reader,
                      v1::BlobInfo* info) override {
    if (auto auth = state_->Check(context); !auth.ok()) return auth;
    v1::UploadChunk chunk;
    v1::UploadHeader header;
    std::string content;
    int data_chunks = 0;
    while (reader->Read(&chunk)) {
      if (chunk.has_header()) {
        header = chunk.header();
      } else {
        content += chunk.data();
        ++data_chunks;
      }
    }
    std::lock_guard<std::mutex> lock(state_->mu);
    headers.push_back(header);
    chunk_counts.push_back(data_chunks);
    std::string id = Sha256Hex(content);
    if (int64_t(content.size()) != header.size_bytes() || id != header.sha256()) {
      return grpc::Status(grpc::StatusCode::DATA_LOSS, "size or sha256 differs from the header");
    }
    blobs[id] = content;
    info->set_id(id);
    info->set_name(header.name());
    info->set_format(header.format());
    info->set_size_bytes(int64_t(content.size()));
    return grpc::Status::OK;
  }

  // Guarded by state_->mu.
  std::map<std::string, std::string> blobs;  // id -> content
  std::vector<v1::UploadHeader> headers;
  std::vector<int> chunk_counts;

 private:
  FakeState* state_;
};

class FakeJobs : public v1::JobService::Service {
 public:
  explicit FakeJobs(FakeState* state) : state_(state) {}

  grpc::Status Submit(grpc::ServerContext* context, const v1::SubmitJobRequest* request,
                      v1::Job* job) override;
  grpc::Status Get(grpc::ServerContext* context, const v1::GetJobRequest* request,
                   v1::Job* job) override;
  grpc::Status List(grpc::ServerContext* context, const v1::ListJobsRequest* request,
                    v1::ListJobsResponse* response) override;
  grpc::Status Watch(grpc::ServerContext* context, const v1::WatchJobRequest* request,
                     grpc::ServerWriter<v1::ProgressEvent>* writer) override;
  grpc::Status Cancel(grpc::ServerContext* context, const v1::CancelJobRequest* request,
                      v1::Job* job) override;
  grpc::Status Download(grpc::ServerContext* context, const v1::DownloadRequest* request,
                        grpc::ServerWriter<v1::DownloadChunk>* writer) override;

  // Guarded by state_->mu. Jobs by id; Submit adds "job-N" as QUEUED.
  std::map<std::string, v1::Job> jobs;
  std::vector<v1::SubmitJobRequest> submitted;
  std::map<std::string, std::string> by_key;  // idempotency key -> job id
  // When set, a submitted job is stored as already finished with these fields merged in (state,
  // error, artifact_id, ...), though Submit itself answers QUEUED.
  std::optional<v1::Job> outcome;
  // Watch sends these (those after the request's sequence); the first `drop_after` events of the
  // first Watch call are followed by UNAVAILABLE instead of the rest (-1: never drop).
  std::vector<v1::ProgressEvent> events;
  int drop_after = -1;
  std::vector<int64_t> watch_after;  // after_sequence of every Watch call
  // Download sends `artifact` (or `report`) in chunks of `chunk_bytes`; `wrong_hash` corrupts
  // the announced sha256.
  std::string artifact = "artifact-bytes";
  std::string report = "{\"report\": true}";
  size_t chunk_bytes = 5;
  bool wrong_hash = false;

 private:
  FakeState* state_;
};

class FakeAdmin : public v1::AdminService::Service {
 public:
  explicit FakeAdmin(FakeState* state) : state_(state) {}
  grpc::Status CreateTenant(grpc::ServerContext* context, const v1::CreateTenantRequest* request,
                            v1::CreateTenantResponse* response) override;
  grpc::Status IssueToken(grpc::ServerContext* context, const v1::IssueTokenRequest* request,
                          v1::IssueTokenResponse* response) override;
  grpc::Status RevokeToken(grpc::ServerContext* context, const v1::RevokeTokenRequest* request,
                           v1::RevokeTokenResponse* response) override;

  std::set<std::string> tenants;  // guarded by state_->mu
  std::vector<v1::IssueTokenRequest> issued;

 private:
  FakeState* state_;
};

// All fakes behind one server on 127.0.0.1:<free port>.
// A loopback port on which nothing listens (bound once, then released).
int ClosedPort();

class FakeServer {
 public:
  FakeServer();
  ~FakeServer();
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::shared_ptr<grpc::Channel> Channel() const;

  FakeState state;
  FakeBlobs<v1::ModelService::Service> models{&state};
  FakeBlobs<v1::DatasetService::Service> datasets{&state};
  FakeJobs jobs{&state};
  FakeAdmin admin{&state};

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace shrink::client::testing
