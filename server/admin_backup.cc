// AdminService/Backup: an online copy of the database (SqliteStore::BackupTo) into a temp file
// next to it, streamed as DownloadChunks with the sha256 in the last one, then removed.
#include <cstdio>
#include <fstream>

#include "common/sha256.h"
#include "server/worker_service.h"

namespace shrink::server {
namespace {

class BackupReactor : public grpc::ServerWriteReactor<v1::DownloadChunk> {
 public:
  BackupReactor(grpc::CallbackServerContext* context, ServiceContext& services)
      : services_(services), timer_(services.metrics, "AdminService/Backup") {
    Status status = services.auth->Check(*context, Role::kAdmin).status();
    if (status.ok() && !services.backup) status = Unimplemented("this server has no backups");
    // Synchronous on purpose: Server shutdown waits for a running handler, so the store
    // outlives the copy.
    if (status.ok()) {
      auto made = services.backup();
      status = made.status();
      if (made.ok()) path_ = *made;
    }
    if (status.ok()) {
      file_.open(path_, std::ios::binary);
      if (!file_) status = Internal("cannot read the backup " + path_);
    }
    if (!status.ok()) {
      End(rpc::ToGrpc(status));
      return;
    }
    Next();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return End(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
    Next();
  }

  void OnDone() override {
    file_.close();
    if (!path_.empty()) std::remove(path_.c_str());
    delete this;
  }

 private:
  void Next() {
    if (final_sent_) return End(grpc::Status::OK);
    message_.Clear();
    std::string buffer(static_cast<size_t>(rpc::kChunkBytes), '\0');
    file_.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    buffer.resize(static_cast<size_t>(file_.gcount()));
    if (file_.bad()) return End(rpc::ToGrpc(Internal("read error on the backup " + path_)));
    if (buffer.empty()) {
      final_sent_ = true;
      message_.set_sha256(hasher_.HexDigest());
    } else {
      hasher_.Update(buffer);
      services_.metrics->BytesSent(static_cast<int64_t>(buffer.size()));
      message_.set_data(std::move(buffer));
    }
    StartWrite(&message_);
  }

  void End(const grpc::Status& status) {
    timer_.Done(status);
    Finish(status);
  }

  ServiceContext& services_;
  RpcTimer timer_;
  std::string path_;
  std::ifstream file_;
  Sha256 hasher_;
  bool final_sent_ = false;
  v1::DownloadChunk message_;
};

}  // namespace

grpc::ServerWriteReactor<v1::DownloadChunk>* AdminServiceImpl::Backup(
    grpc::CallbackServerContext* context, const v1::BackupRequest*) {
  return new BackupReactor(context, services_);
}

}  // namespace shrink::server
