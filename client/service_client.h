// A synchronous client for the shrink service API (proto/shrink/v1/service.proto), used by the
// `shrink submit/watch/status/...` commands and by end-to-end tests.
//
// Contract:
// - Every call returns shrink::Status; gRPC errors are converted with rpc::FromGrpc, and an
//   UNAVAILABLE error names the server address ("127.0.0.1:7070: server unreachable: ...").
// - Every unary call carries a deadline (ClientOptions::unary_timeout); streams do not (a big
//   upload or a long job may take any time) but fail on a broken connection.
// - The token (when not empty) travels as `authorization: Bearer <token>` on every call.
// - Uploads are content addressed: the sha256 is computed first and the bytes are sent only when
//   the server lacks them. Nothing is ever held in memory whole.
// - Thread-safe for concurrent calls (gRPC stubs are), except that callbacks run on the caller's
//   thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "client/byte_source.h"
#include "common/grpc_util.h"
#include "common/status.h"
#include "shrink/v1/service.grpc.pb.h"

namespace shrink::client {

struct ClientOptions {
  std::chrono::milliseconds unary_timeout{30000};
  // Watch reconnects after UNAVAILABLE this many times in a row (a received event resets the
  // count), waiting `watch_retry_delay`, doubled after each failure up to `watch_max_delay`.
  // A server this client has never reached is reported at once instead.
  int watch_max_reconnects = 5;
  std::chrono::milliseconds watch_retry_delay{1000};
  std::chrono::milliseconds watch_max_delay{8000};
  int64_t chunk_bytes = rpc::kChunkBytes;
};

struct UploadResult {
  std::string id;         // the blob id (the content's sha256)
  bool uploaded = false;  // false: the server already held it
  int64_t size_bytes = 0;
};

struct DownloadResult {
  std::string sha256;
  int64_t size_bytes = 0;
};

// How a model path is sent: a .onnx file as is (ONNX), a directory as a tar (ONNX_BUNDLE), a
// .tar as is (ONNX_BUNDLE), a .tflite file (TFLITE). Other paths are InvalidArgument.
StatusOr<v1::ModelFormat> ModelFormatOf(const std::string& path);

class ServiceClient {
 public:
  static StatusOr<std::unique_ptr<ServiceClient>> Create(const rpc::ChannelOptions& channel,
                                                         std::string token,
                                                         ClientOptions options = {});
  // Over an existing channel (tests with in-process servers).
  ServiceClient(std::shared_ptr<grpc::Channel> channel, std::string address, std::string token,
                ClientOptions options = {});

  const std::string& address() const { return address_; }

  // `path` as ModelFormatOf says; `name` labels the blob (default: the path's base name).
  StatusOr<UploadResult> UploadModel(const std::string& path, const std::string& name = "");
  // A .onnx file together with the external-data files it refers to (`data_files`, relative to
  // the model's directory), sent as one ONNX_BUNDLE tar.
  StatusOr<UploadResult> UploadModelWithData(const std::string& path,
                                             const std::vector<std::string>& data_files,
                                             const std::string& name = "");
  // A .npy or .npz file as is, a directory (of .npz files) as a tar.
  StatusOr<UploadResult> UploadDataset(const std::string& path, const std::string& name = "");

  StatusOr<v1::Job> Submit(const v1::SubmitJobRequest& request);
  StatusOr<v1::Job> GetJob(const std::string& id);
  // Every page; `state` JOB_STATE_UNSPECIFIED lists all.
  StatusOr<std::vector<v1::Job>> ListJobs(v1::JobState state = v1::JOB_STATE_UNSPECIFIED);
  StatusOr<v1::Job> Cancel(const std::string& id);

  // Streams progress events after `after_sequence` until the job is final (the server ends the
  // stream). On UNAVAILABLE it reconnects, resuming after the last sequence seen, up to
  // ClientOptions::watch_max_reconnects times in a row, provided the server has answered this
  // client before (a server that was never up fails at once). Returns the last sequence seen.
  using EventCallback = std::function<void(const v1::ProgressEvent&)>;
  StatusOr<int64_t> Watch(const std::string& job_id, int64_t after_sequence,
                          const EventCallback& on_event);

  // Streams the job's artifact or report into `out_path`.partial, checks the sha256 sent in the
  // last chunk, then renames to `out_path`. On any failure (DATA_LOSS for a hash mismatch) no
  // file is left at either path.
  StatusOr<DownloadResult> Download(const std::string& job_id, v1::DownloadRequest::What what,
                                    const std::string& out_path);

  // AdminService (needs an ADMIN token).
  Status CreateTenant(const std::string& name);
  StatusOr<std::string> IssueToken(const std::string& tenant, v1::TokenKind kind,
                                   const std::string& label);
  Status RevokeToken(const std::string& token);
  // An online copy of the server's database, written like Download (`out_path`.partial, sha256
  // checked, then renamed).
  StatusOr<DownloadResult> Backup(const std::string& out_path);

 private:
  StatusOr<DownloadResult> ReceiveToFile(grpc::ClientReaderInterface<v1::DownloadChunk>* reader,
                                         const std::string& what, const std::string& out_path);
  // A context with the token and, when `unary`, the deadline.
  std::unique_ptr<grpc::ClientContext> NewContext(bool unary) const;
  Status Convert(const grpc::Status& status) const;
  template <typename Stub>
  StatusOr<UploadResult> Upload(Stub* stub, StatusOr<ByteSource> source, const std::string& path,
                                const std::string& name, v1::ModelFormat format);
  // One Watch stream; advances *last_sequence and sets *progressed for every new event.
  Status WatchOnce(const std::string& job_id, int64_t* last_sequence, const EventCallback& on_event,
                   bool* progressed);

  std::string address_;
  std::string token_;
  // Whether the server has ever answered (any status but UNAVAILABLE, or a streamed message).
  mutable std::atomic<bool> reached_{false};
  ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ModelService::Stub> models_;
  std::unique_ptr<v1::DatasetService::Stub> datasets_;
  std::unique_ptr<v1::JobService::Stub> jobs_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

}  // namespace shrink::client
