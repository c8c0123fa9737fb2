#include "client/service_client.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <thread>

#include "common/file_util.h"
#include "common/sha256.h"

namespace shrink::client {
namespace {

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

StatusOr<v1::ModelFormat> ModelFormatOf(const std::string& path) {
  if (!FileExists(path)) return NotFound(path + ": no such file or directory");
  if (IsDirectory(path)) return v1::ONNX_BUNDLE;
  if (EndsWith(path, ".onnx")) return v1::ONNX;
  if (EndsWith(path, ".tar")) return v1::ONNX_BUNDLE;
  if (EndsWith(path, ".tflite")) return v1::TFLITE;
  return InvalidArgument(path +
                         ": unknown model format (expected .onnx, .tar, .tflite or a directory)");
}

StatusOr<std::unique_ptr<ServiceClient>> ServiceClient::Create(const rpc::ChannelOptions& channel,
                                                               std::string token,
                                                               ClientOptions options) {
  if (channel.address.empty()) return InvalidArgument("no server address given");
  ASSIGN_OR_RETURN(auto made, rpc::MakeChannel(channel));
  return std::make_unique<ServiceClient>(std::move(made), channel.address, std::move(token),
                                         options);
}

ServiceClient::ServiceClient(std::shared_ptr<grpc::Channel> channel, std::string address,
                             std::string token, ClientOptions options)
    : address_(std::move(address)),
      token_(std::move(token)),
      options_(options),
      channel_(std::move(channel)),
      models_(v1::ModelService::NewStub(channel_)),
      datasets_(v1::DatasetService::NewStub(channel_)),
      jobs_(v1::JobService::NewStub(channel_)),
      admin_(v1::AdminService::NewStub(channel_)) {}

std::unique_ptr<grpc::ClientContext> ServiceClient::NewContext(bool unary) const {
  auto context = std::make_unique<grpc::ClientContext>();
  rpc::PrepareCall(context.get(), token_,
                   unary ? options_.unary_timeout : std::chrono::milliseconds(0));
  return context;
}

Status ServiceClient::Convert(const grpc::Status& status) const {
  Status converted = rpc::FromGrpc(status);
  if (converted.code() == StatusCode::kUnavailable) return converted.WithContext(address_);
  reached_ = true;
  return converted;
}

namespace {

// A file as is, a directory as a tar.
StatusOr<ByteSource> Source(const std::string& path) {
  return IsDirectory(path) ? ByteSource::TarOfDirectory(path) : ByteSource::File(path);
}

}  // namespace

template <typename Stub>
StatusOr<UploadResult> ServiceClient::Upload(Stub* stub, StatusOr<ByteSource> source,
                                             const std::string& path, const std::string& name,
                                             v1::ModelFormat format) {
  if (!source.ok()) return source.status();
  ASSIGN_OR_RETURN(std::string sha256, source->Sha256Hex());
  UploadResult result{sha256, false, int64_t(source->size())};

  v1::HasBlobRequest has_request;
  has_request.set_sha256(sha256);
  v1::HasBlobResponse has;
  RETURN_IF_ERROR(Convert(stub->Has(NewContext(true).get(), has_request, &has)));
  if (has.present()) return result;

  auto context = NewContext(false);
  v1::BlobInfo info;
  auto writer = stub->Upload(context.get(), &info);
  v1::UploadChunk chunk;
  v1::UploadHeader* header = chunk.mutable_header();
  std::string label = name;
  if (label.empty()) {
    std::string trimmed = path;
    while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
    label = BaseName(trimmed);
  }
  header->set_name(label);
  header->set_format(format);
  header->set_size_bytes(int64_t(source->size()));
  header->set_sha256(sha256);
  bool broken = !writer->Write(chunk);
  // A refused Write means the stream is over; Finish below says why.
  Status sent =
      broken ? OkStatus()
             : source->ForEachChunk(size_t(options_.chunk_bytes), [&](std::string_view piece) {
                 v1::UploadChunk data;
                 data.set_data(piece.data(), piece.size());
                 if (writer->Write(data)) return OkStatus();
                 broken = true;
                 return Cancelled("upload stream closed");
               });
  if (!sent.ok() && !broken) {
    context->TryCancel();
    (void)writer->Finish();
    return sent;
  }
  if (!broken) writer->WritesDone();
  RETURN_IF_ERROR(Convert(writer->Finish()).WithContext("upload of " + path));
  if (info.id() != sha256) {
    return DataLoss("upload of " + path + ": the server stored id " + info.id() +
                    " but the client hashed " + sha256);
  }
  result.uploaded = true;
  return result;
}

StatusOr<UploadResult> ServiceClient::UploadModel(const std::string& path,
                                                  const std::string& name) {
  ASSIGN_OR_RETURN(v1::ModelFormat format, ModelFormatOf(path));
  return Upload(models_.get(), Source(path), path, name, format);
}

StatusOr<UploadResult> ServiceClient::UploadModelWithData(const std::string& path,
                                                          const std::vector<std::string>& data_files,
                                                          const std::string& name) {
  std::vector<std::string> names = data_files;
  names.push_back(BaseName(path));
  std::string label = name.empty() ? BaseName(path) : name;
  return Upload(models_.get(), ByteSource::TarOfFiles(DirName(path), names), path, label,
                v1::ONNX_BUNDLE);
}

StatusOr<UploadResult> ServiceClient::UploadDataset(const std::string& path,
                                                    const std::string& name) {
  if (!FileExists(path)) return NotFound(path + ": no such file or directory");
  return Upload(datasets_.get(), Source(path), path, name, v1::MODEL_FORMAT_UNSPECIFIED);
}

StatusOr<v1::Job> ServiceClient::Submit(const v1::SubmitJobRequest& request) {
  v1::Job job;
  RETURN_IF_ERROR(Convert(jobs_->Submit(NewContext(true).get(), request, &job)));
  return job;
}

StatusOr<v1::Job> ServiceClient::GetJob(const std::string& id) {
  v1::GetJobRequest request;
  request.set_id(id);
  v1::Job job;
  RETURN_IF_ERROR(Convert(jobs_->Get(NewContext(true).get(), request, &job)));
  return job;
}

StatusOr<std::vector<v1::Job>> ServiceClient::ListJobs(v1::JobState state) {
  std::vector<v1::Job> jobs;
  v1::ListJobsRequest request;
  request.set_state(state);
  request.set_page_size(200);
  while (true) {
    v1::ListJobsResponse page;
    RETURN_IF_ERROR(Convert(jobs_->List(NewContext(true).get(), request, &page)));
    for (v1::Job& job : *page.mutable_jobs()) jobs.push_back(std::move(job));
    if (page.next_page_token().empty()) return jobs;
    if (page.next_page_token() == request.page_token()) {
      return Internal("the server repeated page token " + page.next_page_token());
    }
    request.set_page_token(page.next_page_token());
  }
}

StatusOr<v1::Job> ServiceClient::Cancel(const std::string& id) {
  v1::CancelJobRequest request;
  request.set_id(id);
  v1::Job job;
  RETURN_IF_ERROR(Convert(jobs_->Cancel(NewContext(true).get(), request, &job)));
  return job;
}

Status ServiceClient::WatchOnce(const std::string& job_id, int64_t* last_sequence,
                                const EventCallback& on_event, bool* progressed) {
  auto context = NewContext(false);
  v1::WatchJobRequest request;
  request.set_id(job_id);
  request.set_after_sequence(*last_sequence);
  auto reader = jobs_->Watch(context.get(), request);
  v1::ProgressEvent event;
  while (reader->Read(&event)) {
    if (event.sequence() <= *last_sequence) continue;  // a replay after reconnecting
    *last_sequence = event.sequence();
    *progressed = true;
    reached_ = true;
    if (on_event) on_event(event);
  }
  return Convert(reader->Finish());
}

StatusOr<int64_t> ServiceClient::Watch(const std::string& job_id, int64_t after_sequence,
                                       const EventCallback& on_event) {
  int64_t last = after_sequence;
  int failures = 0;
  std::chrono::milliseconds delay = options_.watch_retry_delay;
  while (true) {
    bool progressed = false;
    Status status = WatchOnce(job_id, &last, on_event, &progressed);
    if (status.ok()) return last;
    if (status.code() != StatusCode::kUnavailable || !reached_) return status;
    if (progressed) failures = 0, delay = options_.watch_retry_delay;
    if (++failures > options_.watch_max_reconnects) return status;
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, options_.watch_max_delay);
  }
}

StatusOr<DownloadResult> ServiceClient::ReceiveToFile(
    grpc::ClientReaderInterface<v1::DownloadChunk>* reader, const std::string& what,
    const std::string& out_path) {
  const std::string partial = out_path + ".partial";
  std::ofstream file(partial, std::ios::binary | std::ios::trunc);
  auto fail = [&](Status status) {
    file.close();
    std::remove(partial.c_str());
    return status;
  };
  Sha256 hasher;
  DownloadResult result;
  std::string sent_hash;  // the sha256 field of the last chunk read
  v1::DownloadChunk chunk;
  while (reader->Read(&chunk)) {
    file.write(chunk.data().data(), std::streamsize(chunk.data().size()));
    hasher.Update(chunk.data());
    result.size_bytes += int64_t(chunk.data().size());
    sent_hash = chunk.sha256();
  }
  Status finished = Convert(reader->Finish());
  if (!finished.ok()) return fail(finished.WithContext(what));
  file.close();
  if (!file) return fail(Internal("write failed on " + partial));
  result.sha256 = hasher.HexDigest();
  if (sent_hash.empty()) return fail(DataLoss(what + ": the last chunk carried no sha256"));
  if (sent_hash != result.sha256) {
    return fail(DataLoss(what + ": sha256 mismatch (server sent " + sent_hash +
                         ", received bytes hash to " + result.sha256 + ")"));
  }
  if (std::rename(partial.c_str(), out_path.c_str()) != 0) {
    return fail(Internal("cannot rename " + partial + " to " + out_path));
  }
  return result;
}

StatusOr<DownloadResult> ServiceClient::Download(const std::string& job_id,
                                                 v1::DownloadRequest::What what,
                                                 const std::string& out_path) {
  // Opened before the call so an unwritable path costs no transfer.
  if (!std::ofstream(out_path + ".partial", std::ios::binary | std::ios::trunc)) {
    return InvalidArgument("cannot write " + out_path + ".partial");
  }
  auto context = NewContext(false);
  v1::DownloadRequest request;
  request.set_job_id(job_id);
  request.set_what(what);
  auto reader = jobs_->Download(context.get(), request);
  return ReceiveToFile(reader.get(), "download of job " + job_id, out_path);
}

StatusOr<DownloadResult> ServiceClient::Backup(const std::string& out_path) {
  if (!std::ofstream(out_path + ".partial", std::ios::binary | std::ios::trunc)) {
    return InvalidArgument("cannot write " + out_path + ".partial");
  }
  auto context = NewContext(false);
  auto reader = admin_->Backup(context.get(), v1::BackupRequest());
  return ReceiveToFile(reader.get(), "backup", out_path);
}

Status ServiceClient::CreateTenant(const std::string& name) {
  v1::CreateTenantRequest request;
  request.set_name(name);
  v1::CreateTenantResponse response;
  return Convert(admin_->CreateTenant(NewContext(true).get(), request, &response));
}

StatusOr<std::string> ServiceClient::IssueToken(const std::string& tenant, v1::TokenKind kind,
                                                const std::string& label) {
  v1::IssueTokenRequest request;
  request.set_tenant(tenant);
  request.set_kind(kind);
  request.set_label(label);
  v1::IssueTokenResponse response;
  RETURN_IF_ERROR(Convert(admin_->IssueToken(NewContext(true).get(), request, &response)));
  return response.token();
}

Status ServiceClient::RevokeToken(const std::string& token) {
  v1::RevokeTokenRequest request;
  request.set_token(token);
  v1::RevokeTokenResponse response;
  return Convert(admin_->RevokeToken(NewContext(true).get(), request, &response));
}

}  // namespace shrink::client
