#include "server/blob_services.h"

#include <memory>

#include "common/sha256.h"
#include "server/upload_check.h"

namespace shrink::server {
namespace {

using storage::BlobKind;

const char* KindName(BlobKind kind) { return kind == BlobKind::kModel ? "model" : "dataset"; }

void ToProto(const storage::CatalogEntry& entry, v1::BlobInfo* info) {
  info->set_id(entry.hash);
  info->set_name(entry.name);
  info->set_format(static_cast<v1::ModelFormat>(entry.format));
  info->set_size_bytes(entry.size);
  info->set_created_unix_ms(entry.created_ms);
}

// Receives one upload stream. Errors end the call at once; whatever was staged is discarded
// (an unfinished BlobWriter leaves nothing behind).
class UploadReactor : public grpc::ServerReadReactor<v1::UploadChunk> {
 public:
  UploadReactor(grpc::CallbackServerContext* context, ServiceContext& services, BlobKind kind,
                v1::BlobInfo* response, const char* method)
      : services_(services), kind_(kind), response_(response), timer_(services.metrics, method) {
    auto who = services.auth->Check(*context, Role::kUser);
    if (!who.ok()) {
      End(who.status());
      return;
    }
    tenant_ = who->tenant;
    StartRead(&chunk_);
  }

  void OnReadDone(bool ok) override {
    Status status = ok ? Accept() : Complete();
    if (!status.ok() || !ok) {
      End(status);
      return;
    }
    StartRead(&chunk_);
  }

  void OnDone() override { delete this; }

 private:
  void End(const Status& status) {
    grpc::Status result = rpc::ToGrpc(status);
    timer_.Done(result);
    Finish(result);
  }

  Status Accept() {
    if (chunk_.has_header()) {
      if (writer_) return InvalidArgument("a second upload header arrived");
      return Begin(chunk_.header());
    }
    if (!writer_) return InvalidArgument("the upload must start with a header");
    const std::string& data = chunk_.data();
    received_ += static_cast<int64_t>(data.size());
    if (received_ > header_.size_bytes()) {
      return InvalidArgument("upload '" + header_.name() + "' sent more than the announced " +
                             std::to_string(header_.size_bytes()) + " bytes");
    }
    services_.metrics->BytesReceived(static_cast<int64_t>(data.size()));
    RETURN_IF_ERROR(check_->Feed(data));
    return writer_->Write(data);
  }

  Status Begin(const v1::UploadHeader& header) {
    header_ = header;
    if (header.name().empty()) header_.set_name(std::string(KindName(kind_)));
    const int64_t limit = services_.limits.max_upload_bytes;
    if (header.size_bytes() <= 0) {
      return InvalidArgument("the upload header must announce size_bytes > 0");
    }
    if (header.size_bytes() > limit) {
      return ResourceExhausted("upload '" + header_.name() + "' is " +
                               std::to_string(header.size_bytes()) +
                               " bytes; the server accepts at most " + std::to_string(limit));
    }
    if (services_.limits.tenant_quota_bytes > 0) {
      ASSIGN_OR_RETURN(int64_t used, services_.catalog->TenantBytes(tenant_));
      if (used + header.size_bytes() > services_.limits.tenant_quota_bytes) {
        return ResourceExhausted("tenant quota exceeded: " + std::to_string(used) +
                                 " bytes stored, quota " +
                                 std::to_string(services_.limits.tenant_quota_bytes));
      }
    }
    if (kind_ == BlobKind::kModel) {
      ASSIGN_OR_RETURN(check_, NewModelCheck(header.format(), "upload '" + header_.name() + "'"));
    } else {
      check_ = NewDatasetCheck("upload '" + header_.name() + "'");
    }
    ASSIGN_OR_RETURN(writer_, services_.blobs->NewBlobWriter(tenant_));
    return OkStatus();
  }

  Status Complete() {
    if (!writer_) return InvalidArgument("the upload stream was empty");
    if (received_ != header_.size_bytes()) {
      return InvalidArgument("upload '" + header_.name() + "' announced " +
                             std::to_string(header_.size_bytes()) + " bytes but sent " +
                             std::to_string(received_) + " (interrupted?)");
    }
    RETURN_IF_ERROR(check_->Finish());
    ASSIGN_OR_RETURN(storage::BlobInfo blob, writer_->Finish());
    if (!header_.sha256().empty() && header_.sha256() != blob.hash) {
      DropUnnamed(blob.hash);
      return DataLoss("upload '" + header_.name() + "' arrived with sha256 " + blob.hash +
                      " but the header announced " + header_.sha256());
    }
    storage::CatalogEntry entry{tenant_, kind_, blob.hash, header_.name(),
                                kind_ == BlobKind::kModel ? header_.format() : 0};
    ASSIGN_OR_RETURN(storage::CatalogEntry stored, services_.catalog->PutEntry(entry));
    ToProto(stored, response_);
    return OkStatus();
  }

  // A rejected upload must not leave the tenant owning content it never named.
  void DropUnnamed(const std::string& hash) {
    for (BlobKind kind : {BlobKind::kModel, BlobKind::kDataset}) {
      if (services_.catalog->GetEntry(tenant_, kind, hash).ok()) return;
    }
    (void)services_.blobs->DeleteBlob(tenant_, hash);
  }

  ServiceContext& services_;
  BlobKind kind_;
  v1::BlobInfo* response_;
  RpcTimer timer_;
  std::string tenant_;
  v1::UploadChunk chunk_;
  v1::UploadHeader header_;
  std::unique_ptr<UploadCheck> check_;
  std::unique_ptr<storage::BlobWriter> writer_;
  int64_t received_ = 0;
};

// The handlers shared by both services, parameterized by kind.
struct CatalogHandlers {
  ServiceContext& services;
  BlobKind kind;

  grpc::ServerUnaryReactor* Has(grpc::CallbackServerContext* context,
                                const v1::HasBlobRequest* request,
                                v1::HasBlobResponse* response, const char* method) {
    return Unary(context, services, method, Role::kUser, [&](const storage::TokenInfo& who) {
      auto entry = services.catalog->GetEntry(who.tenant, kind, request->sha256());
      if (!entry.ok() && entry.status().code() != StatusCode::kNotFound) return entry.status();
      response->set_present(entry.ok());
      return OkStatus();
    });
  }

  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* context,
                                const v1::GetBlobRequest* request, v1::BlobInfo* response,
                                const char* method) {
    return Unary(context, services, method, Role::kUser, [&](const storage::TokenInfo& who) {
      auto entry = services.catalog->GetEntry(who.tenant, kind, request->id());
      if (!entry.ok()) return NotFoundOr(entry.status(), request->id());
      ToProto(*entry, response);
      return OkStatus();
    });
  }

  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* context,
                                 const v1::ListBlobsRequest* request,
                                 v1::ListBlobsResponse* response, const char* method) {
    return Unary(context, services, method, Role::kUser, [&](const storage::TokenInfo& who) {
      int32_t size = request->page_size() <= 0 ? 50 : request->page_size();
      ASSIGN_OR_RETURN(storage::CatalogPage page,
                       services.catalog->ListEntries(who.tenant, kind, size,
                                                     request->page_token()));
      for (const auto& entry : page.entries) ToProto(entry, response->add_items());
      response->set_next_page_token(page.next_page_token);
      return OkStatus();
    });
  }

  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* context,
                                   const v1::DeleteBlobRequest* request, const char* method) {
    return Unary(context, services, method, Role::kUser, [&](const storage::TokenInfo& who) {
      Status erased = services.catalog->DeleteEntry(who.tenant, kind, request->id());
      if (!erased.ok()) return NotFoundOr(erased, request->id());
      BlobKind other = kind == BlobKind::kModel ? BlobKind::kDataset : BlobKind::kModel;
      if (services.catalog->GetEntry(who.tenant, other, request->id()).ok()) return OkStatus();
      Status dropped = services.blobs->DeleteBlob(who.tenant, request->id());
      return dropped.code() == StatusCode::kNotFound ? OkStatus() : dropped;
    });
  }

  Status NotFoundOr(const Status& status, const std::string& id) const {
    if (status.code() != StatusCode::kNotFound) return status;
    return NotFound(std::string("no ") + KindName(kind) + " " + id);
  }
};

}  // namespace

#define SHRINK_CATALOG_SERVICE(Impl, kind, prefix)                                                \
  grpc::ServerReadReactor<v1::UploadChunk>* Impl::Upload(grpc::CallbackServerContext* context,  \
                                                         v1::BlobInfo* response) {              \
    return new UploadReactor(context, services_, kind, response, prefix "/Upload");            \
  }                                                                                              \
  grpc::ServerUnaryReactor* Impl::Has(grpc::CallbackServerContext* context,                     \
                                      const v1::HasBlobRequest* request,                        \
                                      v1::HasBlobResponse* response) {                          \
    return CatalogHandlers{services_, kind}.Has(context, request, response, prefix "/Has");    \
  }                                                                                              \
  grpc::ServerUnaryReactor* Impl::Get(grpc::CallbackServerContext* context,                     \
                                      const v1::GetBlobRequest* request,                        \
                                      v1::BlobInfo* response) {                                 \
    return CatalogHandlers{services_, kind}.Get(context, request, response, prefix "/Get");    \
  }                                                                                              \
  grpc::ServerUnaryReactor* Impl::List(grpc::CallbackServerContext* context,                    \
                                       const v1::ListBlobsRequest* request,                     \
                                       v1::ListBlobsResponse* response) {                       \
    return CatalogHandlers{services_, kind}.List(context, request, response, prefix "/List");  \
  }                                                                                              \
  grpc::ServerUnaryReactor* Impl::Delete(grpc::CallbackServerContext* context,                  \
                                         const v1::DeleteBlobRequest* request,                  \
                                         v1::DeleteBlobResponse*) {                             \
    return CatalogHandlers{services_, kind}.Delete(context, request, prefix "/Delete");        \
  }

SHRINK_CATALOG_SERVICE(ModelServiceImpl, BlobKind::kModel, "ModelService")
SHRINK_CATALOG_SERVICE(DatasetServiceImpl, BlobKind::kDataset, "DatasetService")

#undef SHRINK_CATALOG_SERVICE

}  // namespace shrink::server
