#include "worker/worker_client.h"

#include <fstream>
#include <vector>

#include "common/file_util.h"
#include "common/grpc_util.h"
#include "common/sha256.h"

namespace shrink::worker {

WorkerClient::WorkerClient(std::unique_ptr<v1::WorkerService::StubInterface> stub,
                           std::string token, WorkerClientOptions options)
    : stub_(std::move(stub)), token_(std::move(token)), options_(options) {}

StatusOr<v1::LeaseResponse> WorkerClient::Lease(const std::string& worker_id, int64_t lease_ms) {
  grpc::ClientContext context;
  rpc::PrepareCall(&context, token_, options_.unary_timeout);
  v1::LeaseRequest request;
  request.set_worker_id(worker_id);
  request.set_lease_ms(lease_ms);
  v1::LeaseResponse response;
  RETURN_IF_ERROR(rpc::FromGrpc(stub_->Lease(&context, request, &response)));
  return response;
}

StatusOr<v1::HeartbeatResponse> WorkerClient::Heartbeat(const v1::HeartbeatRequest& request) {
  grpc::ClientContext context;
  rpc::PrepareCall(&context, token_, options_.heartbeat_timeout);
  v1::HeartbeatResponse response;
  RETURN_IF_ERROR(rpc::FromGrpc(stub_->Heartbeat(&context, request, &response)));
  return response;
}

StatusOr<std::string> WorkerClient::FetchBlob(const std::string& job_id, int64_t fence,
                                              const std::string& blob_id,
                                              BlobCache::Writer* writer,
                                              const std::atomic<bool>* cancel) {
  grpc::ClientContext context;
  rpc::PrepareCall(&context, token_, options_.transfer_timeout);
  v1::FetchBlobRequest request;
  request.set_job_id(job_id);
  request.set_fence(fence);
  request.set_blob_id(blob_id);
  std::unique_ptr<grpc::ClientReaderInterface<v1::DownloadChunk>> reader =
      stub_->FetchBlob(&context, request);
  v1::DownloadChunk chunk;
  std::string announced;
  Status written = OkStatus();
  while (reader->Read(&chunk)) {
    if (cancel && cancel->load()) {
      context.TryCancel();
      written = Cancelled("job cancelled while fetching blob " + blob_id);
      break;
    }
    written = writer->Append(chunk.data());
    if (!written.ok()) {
      context.TryCancel();
      break;
    }
    if (!chunk.sha256().empty()) announced = chunk.sha256();
  }
  Status finished = rpc::FromGrpc(reader->Finish());
  RETURN_IF_ERROR(written);
  RETURN_IF_ERROR(finished.WithContext("fetching blob " + blob_id));
  if (announced.empty()) {
    return DataLoss("blob " + blob_id + ": the server sent no sha256 with the last chunk");
  }
  return announced;
}

StatusOr<std::string> WorkerClient::Upload(const std::string& job_id, int64_t fence,
                                           v1::DownloadRequest::What what,
                                           const std::string& path,
                                           const std::atomic<bool>* cancel) {
  ASSIGN_OR_RETURN(uint64_t size, FileSize(path));
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path);
  grpc::ClientContext context;
  rpc::PrepareCall(&context, token_, options_.transfer_timeout);
  v1::ArtifactInfo info;
  std::unique_ptr<grpc::ClientWriterInterface<v1::ArtifactChunk>> writer =
      stub_->UploadArtifact(&context, &info);
  v1::ArtifactChunk message;
  v1::ArtifactHeader* header = message.mutable_header();
  header->set_job_id(job_id);
  header->set_fence(fence);
  header->set_what(what);
  header->set_size_bytes(int64_t(size));
  Sha256 hash;
  Status sent = OkStatus();
  bool open = writer->Write(message);
  std::vector<char> buffer(size_t(rpc::kChunkBytes));
  uint64_t remaining = size;
  while (open && remaining > 0) {
    if (cancel && cancel->load()) {
      sent = Cancelled("job cancelled while uploading " + BaseName(path));
      context.TryCancel();
      break;
    }
    in.read(buffer.data(), std::streamsize(std::min<uint64_t>(remaining, buffer.size())));
    if (in.gcount() <= 0) {
      sent = DataLoss("short read on " + path);
      context.TryCancel();
      break;
    }
    const size_t count = size_t(in.gcount());
    hash.Update(buffer.data(), count);
    remaining -= count;
    message.set_data(buffer.data(), count);
    open = writer->Write(message);
  }
  if (open) writer->WritesDone();
  Status finished = rpc::FromGrpc(writer->Finish());
  RETURN_IF_ERROR(sent);
  RETURN_IF_ERROR(finished.WithContext("uploading " + BaseName(path)));
  const std::string digest = hash.HexDigest();
  if (info.id() != digest) {
    return DataLoss("uploaded " + BaseName(path) + " (sha256 " + digest +
                    ") but the server stored it as '" + info.id() + "'");
  }
  return digest;
}

Status WorkerClient::Complete(const v1::CompleteRequest& request) {
  grpc::ClientContext context;
  rpc::PrepareCall(&context, token_, options_.unary_timeout);
  v1::WorkerAck ack;
  return rpc::FromGrpc(stub_->Complete(&context, request, &ack));
}

Status WorkerClient::Fail(const v1::FailRequest& request) {
  grpc::ClientContext context;
  rpc::PrepareCall(&context, token_, options_.unary_timeout);
  v1::WorkerAck ack;
  return rpc::FromGrpc(stub_->Fail(&context, request, &ack));
}

}  // namespace shrink::worker
