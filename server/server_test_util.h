// An in-process Server on loopback port 0 with a fake clock, plus raw stubs and upload helpers,
// for tests that play the client and the worker themselves.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/grpc_util.h"
#include "server/server.h"
#include "shrink/v1/service.grpc.pb.h"
#include "storage/store_test_util.h"

namespace shrink::server::testing {

using storage::testing::TempDir;

// The smallest byte string that frames as an onnx.ModelProto (ir_version 8, an empty graph);
// `salt` goes into producer_name so tests can make distinct models.
std::string TinyOnnxBytes(const std::string& salt = "");

class ServerFixture : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {});
  void StopServer() { server_.reset(); }

  std::string Issue(const std::string& tenant, v1::TokenKind kind);
  // Uploads `bytes` as a model (or dataset when `format` is unspecified).
  grpc::Status Upload(const std::string& token, const std::string& bytes,
                      v1::ModelFormat format, v1::BlobInfo* info, int64_t announced = -1,
                      const std::string& sha256 = "", bool dataset = false);
  grpc::Status Submit(const std::string& token, const v1::SubmitJobRequest& request,
                      v1::Job* job);
  void Prepare(grpc::ClientContext* context, const std::string& token) {
    rpc::PrepareCall(context, token, std::chrono::seconds(30));
  }

  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::JobService::Stub> jobs_;
  std::unique_ptr<v1::ModelService::Stub> models_;
  std::unique_ptr<v1::DatasetService::Stub> datasets_;
  std::unique_ptr<v1::WorkerService::Stub> workers_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::string admin_token_;
};

}  // namespace shrink::server::testing
