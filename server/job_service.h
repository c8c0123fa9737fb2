// JobService: submit (idempotency keys, the result cache), get, list, watch (server streaming,
// woken by JobEvents), cancel, and artifact/report download (server streaming one stored chunk
// at a time, ending with the content hash).
#pragma once

#include "server/service_context.h"
#include "shrink/v1/service.grpc.pb.h"

namespace shrink::server {

class JobServiceImpl : public v1::JobService::CallbackService {
 public:
  explicit JobServiceImpl(ServiceContext& services) : services_(services) {}

  grpc::ServerUnaryReactor* Submit(grpc::CallbackServerContext* context,
                                   const v1::SubmitJobRequest* request,
                                   v1::Job* response) override;
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* context,
                                const v1::GetJobRequest* request, v1::Job* response) override;
  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* context,
                                 const v1::ListJobsRequest* request,
                                 v1::ListJobsResponse* response) override;
  grpc::ServerWriteReactor<v1::ProgressEvent>* Watch(
      grpc::CallbackServerContext* context, const v1::WatchJobRequest* request) override;
  grpc::ServerUnaryReactor* Cancel(grpc::CallbackServerContext* context,
                                   const v1::CancelJobRequest* request,
                                   v1::Job* response) override;
  grpc::ServerWriteReactor<v1::DownloadChunk>* Download(
      grpc::CallbackServerContext* context, const v1::DownloadRequest* request) override;

 private:
  Status DoSubmit(const std::string& tenant, const v1::SubmitJobRequest& request,
                  v1::Job* response);
  ServiceContext& services_;
};

// Streams a stored blob as DownloadChunks (also used by WorkerService::FetchBlob).
grpc::ServerWriteReactor<v1::DownloadChunk>* NewBlobDownload(ServiceContext& services,
                                                             const char* method,
                                                             StatusOr<std::string> tenant,
                                                             StatusOr<std::string> hash);

}  // namespace shrink::server
