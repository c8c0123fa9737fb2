// The shape every client-streaming upload shares (ModelService/DatasetService Upload and
// WorkerService UploadArtifact): a header message, then data written through a BlobWriter so
// nothing is held whole, the byte count checked against the announced size. An error ends the
// call at once; an unfinished writer leaves nothing behind.
#pragma once

#include <memory>
#include <string>

#include "server/service_context.h"

namespace shrink::server {

template <typename Chunk>
class UploadReactor : public grpc::ServerReadReactor<Chunk> {
 public:
  void OnReadDone(bool ok) override {
    Status status = ok ? Accept(chunk_) : Complete();
    if (!status.ok() || !ok) {
      End(status);
      return;
    }
    this->StartRead(&chunk_);
  }

  void OnDone() override { delete this; }

 protected:
  UploadReactor(ServiceContext& services, const char* method)
      : services_(services), timer_(services.metrics, method) {}

  // Called last by the subclass constructor with the outcome of authentication.
  void Start(const Status& authorized) {
    if (!authorized.ok()) {
      End(authorized);
      return;
    }
    this->StartRead(&chunk_);
  }

  // One message of the stream (the subclass tells header from data).
  virtual Status Accept(const Chunk& chunk) = 0;
  // The client finished sending.
  virtual Status Complete() = 0;

  // Appends data for a blob announced as `announced` bytes (what names it in messages).
  Status WriteData(const std::string& data, int64_t announced, const std::string& what) {
    if (!writer_) return InvalidArgument(what + ": the upload must start with a header");
    received_ += static_cast<int64_t>(data.size());
    if (received_ > announced) {
      return InvalidArgument(what + " sent more than the announced " +
                             std::to_string(announced) + " bytes");
    }
    services_.metrics->BytesReceived(static_cast<int64_t>(data.size()));
    return writer_->Write(data);
  }

  // Seals the blob once exactly `announced` bytes arrived.
  StatusOr<storage::BlobInfo> Seal(int64_t announced, const std::string& what) {
    if (!writer_) return InvalidArgument(what + ": the upload stream was empty");
    if (received_ != announced) {
      return InvalidArgument(what + " announced " + std::to_string(announced) +
                             " bytes but sent " + std::to_string(received_) +
                             " (interrupted?)");
    }
    return writer_->Finish();
  }

  ServiceContext& services_;
  std::unique_ptr<storage::BlobWriter> writer_;

 private:
  void End(const Status& status) {
    grpc::Status result = rpc::ToGrpc(status);
    timer_.Done(result);
    this->Finish(result);
  }

  RpcTimer timer_;
  Chunk chunk_;
  int64_t received_ = 0;
};

}  // namespace shrink::server
