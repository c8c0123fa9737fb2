// WorkerService (leases, heartbeats, blob fetches, artifact uploads, completion) and
// AdminService (tenants, tokens and backups). Worker calls are authorized by a worker token and,
// for a job, by its lease fence: a worker that lost its lease is refused with FAILED_PRECONDITION.
#pragma once

#include <map>
#include <mutex>

#include "server/service_context.h"
#include "shrink/v1/service.grpc.pb.h"

namespace shrink::server {

class WorkerServiceImpl : public v1::WorkerService::CallbackService {
 public:
  explicit WorkerServiceImpl(ServiceContext& services) : services_(services) {}

  grpc::ServerUnaryReactor* Lease(grpc::CallbackServerContext* context,
                                  const v1::LeaseRequest* request,
                                  v1::LeaseResponse* response) override;
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* context,
                                      const v1::HeartbeatRequest* request,
                                      v1::HeartbeatResponse* response) override;
  grpc::ServerWriteReactor<v1::DownloadChunk>* FetchBlob(
      grpc::CallbackServerContext* context, const v1::FetchBlobRequest* request) override;
  grpc::ServerReadReactor<v1::ArtifactChunk>* UploadArtifact(
      grpc::CallbackServerContext* context, v1::ArtifactInfo* response) override;
  grpc::ServerUnaryReactor* Complete(grpc::CallbackServerContext* context,
                                     const v1::CompleteRequest* request,
                                     v1::WorkerAck* response) override;
  grpc::ServerUnaryReactor* Fail(grpc::CallbackServerContext* context,
                                 const v1::FailRequest* request,
                                 v1::WorkerAck* response) override;

 private:
  int64_t LeaseMsFor(const std::string& job_id);
  void JobEnded(const std::string& job_id, const storage::Job& before,
                const std::string& tenant);

  ServiceContext& services_;
  std::mutex mu_;
  std::map<std::string, int64_t> lease_ms_;  // by job id: the length the worker asked for
};

class AdminServiceImpl : public v1::AdminService::CallbackService {
 public:
  explicit AdminServiceImpl(ServiceContext& services) : services_(services) {}
  grpc::ServerUnaryReactor* CreateTenant(grpc::CallbackServerContext* context,
                                         const v1::CreateTenantRequest* request,
                                         v1::CreateTenantResponse* response) override;
  grpc::ServerUnaryReactor* IssueToken(grpc::CallbackServerContext* context,
                                       const v1::IssueTokenRequest* request,
                                       v1::IssueTokenResponse* response) override;
  grpc::ServerUnaryReactor* RevokeToken(grpc::CallbackServerContext* context,
                                        const v1::RevokeTokenRequest* request,
                                        v1::RevokeTokenResponse* response) override;
  // In admin_backup.cc.
  grpc::ServerWriteReactor<v1::DownloadChunk>* Backup(grpc::CallbackServerContext* context,
                                                      const v1::BackupRequest* request) override;

 private:
  ServiceContext& services_;
};

}  // namespace shrink::server
