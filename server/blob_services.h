// ModelService and DatasetService: chunked uploads checked while they stream (size limit,
// tenant quota, announced size and hash, format), content-addressed storage, and the named
// catalog entries users list, get and delete.
#pragma once

#include "server/service_context.h"
#include "shrink/v1/service.grpc.pb.h"

namespace shrink::server {

class ModelServiceImpl : public v1::ModelService::CallbackService {
 public:
  explicit ModelServiceImpl(ServiceContext& services) : services_(services) {}
  grpc::ServerReadReactor<v1::UploadChunk>* Upload(grpc::CallbackServerContext* context,
                                                   v1::BlobInfo* response) override;
  grpc::ServerUnaryReactor* Has(grpc::CallbackServerContext* context,
                                const v1::HasBlobRequest* request,
                                v1::HasBlobResponse* response) override;
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* context,
                                const v1::GetBlobRequest* request,
                                v1::BlobInfo* response) override;
  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* context,
                                 const v1::ListBlobsRequest* request,
                                 v1::ListBlobsResponse* response) override;
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* context,
                                   const v1::DeleteBlobRequest* request,
                                   v1::DeleteBlobResponse* response) override;

 private:
  ServiceContext& services_;
};

class DatasetServiceImpl : public v1::DatasetService::CallbackService {
 public:
  explicit DatasetServiceImpl(ServiceContext& services) : services_(services) {}
  grpc::ServerReadReactor<v1::UploadChunk>* Upload(grpc::CallbackServerContext* context,
                                                   v1::BlobInfo* response) override;
  grpc::ServerUnaryReactor* Has(grpc::CallbackServerContext* context,
                                const v1::HasBlobRequest* request,
                                v1::HasBlobResponse* response) override;
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* context,
                                const v1::GetBlobRequest* request,
                                v1::BlobInfo* response) override;
  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* context,
                                 const v1::ListBlobsRequest* request,
                                 v1::ListBlobsResponse* response) override;
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* context,
                                   const v1::DeleteBlobRequest* request,
                                   v1::DeleteBlobResponse* response) override;

 private:
  ServiceContext& services_;
};

}  // namespace shrink::server
