#include "server/server_test_util.h"

#include "common/sha256.h"
#include "server/auth.h"

namespace shrink::server::testing {

std::string TinyOnnxBytes(const std::string& salt) {
  std::string bytes = {0x08, 0x08};  // ir_version = 8
  bytes += static_cast<char>(0x12);  // producer_name
  bytes += static_cast<char>(salt.size());
  bytes += salt;
  bytes += {0x3a, 0x00};  // graph: empty GraphProto
  return bytes;
}

void ServerFixture::StartServer(ServerOptions options) {
  options.listen = "127.0.0.1:0";
  if (options.db_path == "shrink.db") options.db_path = dir_.File("shrink.db");
  options.local_workers = 0;
  options.clock = &clock_;
  options.engine_version = "test";
  options.housekeeping_period = std::chrono::hours(1);  // tests call Housekeep() themselves
  auto server = Server::Start(options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  server_ = std::move(server).value();
  channel_ = *rpc::MakeChannel(
      rpc::ChannelOptions::Plaintext("127.0.0.1:" + std::to_string(server_->port())));
  jobs_ = v1::JobService::NewStub(channel_);
  models_ = v1::ModelService::NewStub(channel_);
  datasets_ = v1::DatasetService::NewStub(channel_);
  workers_ = v1::WorkerService::NewStub(channel_);
  admin_ = v1::AdminService::NewStub(channel_);
  if (!options.insecure_no_auth) {
    auto token = ReadTokenFile(server_->tokens().admin_token_path);
    ASSERT_TRUE(token.ok()) << token.status().ToString();
    admin_token_ = *token;
  }
}

std::string ServerFixture::Issue(const std::string& tenant, v1::TokenKind kind) {
  grpc::ClientContext create_context;
  Prepare(&create_context, admin_token_);
  v1::CreateTenantRequest create;
  create.set_name(tenant);
  v1::CreateTenantResponse created;
  admin_->CreateTenant(&create_context, create, &created);  // AlreadyExists is fine
  grpc::ClientContext context;
  Prepare(&context, admin_token_);
  v1::IssueTokenRequest request;
  request.set_tenant(tenant);
  request.set_kind(kind);
  v1::IssueTokenResponse response;
  grpc::Status status = admin_->IssueToken(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.token();
}

grpc::Status ServerFixture::Upload(const std::string& token, const std::string& bytes,
                                   v1::ModelFormat format, v1::BlobInfo* info,
                                   int64_t announced, const std::string& sha256, bool dataset) {
  grpc::ClientContext context;
  Prepare(&context, token);
  auto writer = dataset ? datasets_->Upload(&context, info) : models_->Upload(&context, info);
  v1::UploadChunk header;
  header.mutable_header()->set_name("test-upload");
  header.mutable_header()->set_format(format);
  header.mutable_header()->set_size_bytes(announced >= 0 ? announced
                                                         : static_cast<int64_t>(bytes.size()));
  header.mutable_header()->set_sha256(sha256);
  if (writer->Write(header)) {
    constexpr size_t kPiece = 1000;
    for (size_t offset = 0; offset < bytes.size(); offset += kPiece) {
      v1::UploadChunk chunk;
      chunk.set_data(bytes.substr(offset, kPiece));
      if (!writer->Write(chunk)) break;
    }
  }
  writer->WritesDone();
  return writer->Finish();
}

grpc::Status ServerFixture::Submit(const std::string& token, const v1::SubmitJobRequest& request,
                                   v1::Job* job) {
  grpc::ClientContext context;
  Prepare(&context, token);
  return jobs_->Submit(&context, request, job);
}

}  // namespace shrink::server::testing
