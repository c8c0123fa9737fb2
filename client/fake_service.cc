#include "client/fake_service.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

namespace shrink::client::testing {
namespace {

grpc::Status UnknownJob() {
  // Deliberately without the id: the CLI must name it itself.
  return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such job");
}

}  // namespace

grpc::Status FakeJobs::Submit(grpc::ServerContext* context, const v1::SubmitJobRequest* request,
                              v1::Job* job) {
  if (auto auth = state_->Check(context); !auth.ok()) return auth;
  std::lock_guard<std::mutex> lock(state_->mu);
  submitted.push_back(*request);
  auto same = by_key.find(request->idempotency_key());
  if (!request->idempotency_key().empty() && same != by_key.end()) {
    *job = jobs[same->second];
    return grpc::Status::OK;
  }
  job->set_id("job-" + std::to_string(jobs.size() + 1));
  job->set_state(v1::QUEUED);
  job->set_model_id(request->model_id());
  *job->mutable_recipe() = request->recipe();
  job->set_calibration_dataset_id(request->calibration_dataset_id());
  job->set_evaluation_dataset_id(request->evaluation_dataset_id());
  job->set_priority(request->priority());
  if (!request->idempotency_key().empty()) by_key[request->idempotency_key()] = job->id();
  jobs[job->id()] = *job;
  if (outcome) jobs[job->id()].MergeFrom(*outcome);
  return grpc::Status::OK;
}

grpc::Status FakeJobs::Get(grpc::ServerContext* context, const v1::GetJobRequest* request,
                           v1::Job* job) {
  if (auto auth = state_->Check(context); !auth.ok()) return auth;
  std::lock_guard<std::mutex> lock(state_->mu);
  auto found = jobs.find(request->id());
  if (found == jobs.end()) return UnknownJob();
  *job = found->second;
  return grpc::Status::OK;
}

grpc::Status FakeJobs::List(grpc::ServerContext* context, const v1::ListJobsRequest* request,
                            v1::ListJobsResponse* response) {
  if (auto auth = state_->Check(context); !auth.ok()) return auth;
  std::lock_guard<std::mutex> lock(state_->mu);
  // One job per page, so that any client that stops after the first page is caught.
  size_t start = request->page_token().empty() ? 0 : std::stoul(request->page_token());
  std::vector<const v1::Job*> matching;
  for (const auto& [id, job] : jobs) {
    if (request->state() == v1::JOB_STATE_UNSPECIFIED || job.state() == request->state()) {
      matching.push_back(&job);
    }
  }
  if (start < matching.size()) *response->add_jobs() = *matching[start];
  if (start + 1 < matching.size()) response->set_next_page_token(std::to_string(start + 1));
  return grpc::Status::OK;
}

grpc::Status FakeJobs::Watch(grpc::ServerContext* context, const v1::WatchJobRequest* request,
                             grpc::ServerWriter<v1::ProgressEvent>* writer) {
  if (auto auth = state_->Check(context); !auth.ok()) return auth;
  std::vector<v1::ProgressEvent> to_send;
  int drop = -1;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (jobs.count(request->id()) == 0) return UnknownJob();
    watch_after.push_back(request->after_sequence());
    to_send = events;
    std::swap(drop, drop_after);  // drops only once
  }
  int sent = 0;
  for (const v1::ProgressEvent& event : to_send) {
    if (event.sequence() <= request->after_sequence()) continue;
    if (sent == drop) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream dropped");
    writer->Write(event);
    ++sent;
  }
  return grpc::Status::OK;
}

grpc::Status FakeJobs::Cancel(grpc::ServerContext* context, const v1::CancelJobRequest* request,
                              v1::Job* job) {
  if (auto auth = state_->Check(context); !auth.ok()) return auth;
  std::lock_guard<std::mutex> lock(state_->mu);
  auto found = jobs.find(request->id());
  if (found == jobs.end()) return UnknownJob();
  found->second.set_state(v1::CANCELLED);
  *job = found->second;
  return grpc::Status::OK;
}

grpc::Status FakeJobs::Download(grpc::ServerContext* context, const v1::DownloadRequest* request,
                                grpc::ServerWriter<v1::DownloadChunk>* writer) {
  if (auto auth = state_->Check(context); !auth.ok()) return auth;
  std::string content, hash;
  size_t step = 1;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (jobs.count(request->job_id()) == 0) return UnknownJob();
    content = request->what() == v1::DownloadRequest::REPORT ? report : artifact;
    hash = Sha256Hex(wrong_hash ? content + "x" : content);
    step = std::max<size_t>(chunk_bytes, 1);
  }
  size_t offset = 0;
  do {
    v1::DownloadChunk chunk;
    chunk.set_data(content.substr(offset, step));
    offset += step;
    if (offset >= content.size()) chunk.set_sha256(hash);
    writer->Write(chunk);
  } while (offset < content.size());
  return grpc::Status::OK;
}

grpc::Status FakeAdmin::CreateTenant(grpc::ServerContext* context,
                                     const v1::CreateTenantRequest* request,
                                     v1::CreateTenantResponse*) {
  if (auto auth = state_->Check(context); !auth.ok()) return auth;
  std::lock_guard<std::mutex> lock(state_->mu);
  if (!tenants.insert(request->name()).second) {
    return grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "tenant exists");
  }
  return grpc::Status::OK;
}

grpc::Status FakeAdmin::IssueToken(grpc::ServerContext* context,
                                   const v1::IssueTokenRequest* request,
                                   v1::IssueTokenResponse* response) {
  if (auto auth = state_->Check(context); !auth.ok()) return auth;
  std::lock_guard<std::mutex> lock(state_->mu);
  if (tenants.count(request->tenant()) == 0) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no tenant " + request->tenant());
  }
  issued.push_back(*request);
  response->set_token("tok-" + request->tenant() + "-" + std::to_string(issued.size()));
  return grpc::Status::OK;
}

grpc::Status FakeAdmin::RevokeToken(grpc::ServerContext* context, const v1::RevokeTokenRequest*,
                                    v1::RevokeTokenResponse*) {
  return state_->Check(context);
}

FakeServer::FakeServer() {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(&models);
  builder.RegisterService(&datasets);
  builder.RegisterService(&jobs);
  builder.RegisterService(&admin);
  server_ = builder.BuildAndStart();
}

FakeServer::~FakeServer() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
}

std::shared_ptr<grpc::Channel> FakeServer::Channel() const {
  return *rpc::MakeChannel(rpc::ChannelOptions::Plaintext(address()));
}

int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t length = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace shrink::client::testing
