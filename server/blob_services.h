// ModelService and DatasetService: chunked uploads checked while they stream (size limit,
// tenant quota, announced size and hash, format), content-addressed storage, and the named
// catalog entries users list, get and delete. Both services have the same methods on the same
// messages, so one template serves both; only the catalog kind differs.
#pragma once

#include <string>

#include "server/service_context.h"
#include "shrink/v1/service.grpc.pb.h"

namespace shrink::server {

template <typename Base>
class CatalogServiceImpl : public Base {
 public:
  // `name` prefixes the method names in metrics ("ModelService" -> "ModelService/Upload").
  CatalogServiceImpl(ServiceContext& services, storage::BlobKind kind, const std::string& name);

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
  Status NotFoundOr(const Status& status, const std::string& id) const;

  ServiceContext& services_;
  const storage::BlobKind kind_;
  // Metric labels; RpcTimer keeps the pointers.
  const std::string upload_, has_, get_, list_, delete_;
};

using ModelServiceImpl = CatalogServiceImpl<v1::ModelService::CallbackService>;
using DatasetServiceImpl = CatalogServiceImpl<v1::DatasetService::CallbackService>;

}  // namespace shrink::server
