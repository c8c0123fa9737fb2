// The worker's side of shrink.v1.WorkerService: one method per RPC, each with a deadline and
// the worker token, errors as shrink::Status (FromGrpc). A stale fence comes back as
// kFailedPrecondition: the job was leased to someone else and must be abandoned.
//
// Thread safety: the methods may be called from several threads at once (the job thread
// streams blobs while the calling thread heartbeats).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "common/status.h"
#include "shrink/v1/service.grpc.pb.h"
#include "worker/blob_cache.h"

namespace shrink::worker {

struct WorkerClientOptions {
  std::chrono::milliseconds unary_timeout{10000};      // Lease, Complete, Fail
  std::chrono::milliseconds heartbeat_timeout{5000};
  // Whole-stream deadline for FetchBlob and UploadArtifact (a blob of several GiB fits).
  std::chrono::milliseconds transfer_timeout{30 * 60 * 1000};
};

class WorkerClient {
 public:
  WorkerClient(std::unique_ptr<v1::WorkerService::StubInterface> stub, std::string token,
               WorkerClientOptions options = {});

  StatusOr<v1::LeaseResponse> Lease(const std::string& worker_id, int64_t lease_ms);
  StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest& request);
  // Streams the blob into `writer` (not committed: the caller sniffs the head and commits) and
  // returns the sha256 the last chunk announced. Stops with kCancelled when `cancel` is set.
  StatusOr<std::string> FetchBlob(const std::string& job_id, int64_t fence,
                                  const std::string& blob_id, BlobCache::Writer* writer,
                                  const std::atomic<bool>* cancel);
  // Uploads a file as the job's artifact or report; returns the server's id, checked to be the
  // sha256 of the bytes sent (a mismatch is kDataLoss).
  StatusOr<std::string> Upload(const std::string& job_id, int64_t fence,
                               v1::DownloadRequest::What what, const std::string& path,
                               const std::atomic<bool>* cancel);
  Status Complete(const v1::CompleteRequest& request);
  Status Fail(const v1::FailRequest& request);

 private:
  std::unique_ptr<v1::WorkerService::StubInterface> stub_;
  std::string token_;
  WorkerClientOptions options_;
};

}  // namespace shrink::worker
