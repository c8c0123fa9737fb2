#include "server/blob_services.h"

#include <memory>

#include "server/upload_check.h"
#include "server/upload_reactor.h"

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

// A model or dataset upload: limits and quota up front, the format checked as bytes arrive, the
// announced hash compared at the end, then a catalog entry names the blob.
class CatalogUploadReactor : public UploadReactor<v1::UploadChunk> {
 public:
  CatalogUploadReactor(grpc::CallbackServerContext* context, ServiceContext& services,
                       BlobKind kind, v1::BlobInfo* response, const char* method)
      : UploadReactor(services, method), kind_(kind), response_(response) {
    auto who = services.auth->Check(*context, Role::kUser);
    if (who.ok()) tenant_ = who->tenant;
    Start(who.status());
  }

 private:
  std::string What() const { return "upload '" + header_.name() + "'"; }

  Status Accept(const v1::UploadChunk& chunk) override {
    if (!chunk.has_header()) {
      RETURN_IF_ERROR(WriteData(chunk.data(), header_.size_bytes(), What()));
      return check_->Feed(chunk.data());
    }
    if (writer_) return InvalidArgument("a second upload header arrived");
    header_ = chunk.header();
    if (header_.name().empty()) header_.set_name(KindName(kind_));
    const int64_t limit = services_.limits.max_upload_bytes;
    if (header_.size_bytes() <= 0) {
      return InvalidArgument("the upload header must announce size_bytes > 0");
    }
    if (header_.size_bytes() > limit) {
      return ResourceExhausted(What() + " is " + std::to_string(header_.size_bytes()) +
                               " bytes; the server accepts at most " + std::to_string(limit));
    }
    if (services_.limits.tenant_quota_bytes > 0) {
      ASSIGN_OR_RETURN(int64_t used, services_.catalog->TenantBytes(tenant_));
      if (used + header_.size_bytes() > services_.limits.tenant_quota_bytes) {
        return ResourceExhausted("tenant quota exceeded: " + std::to_string(used) +
                                 " bytes stored, quota " +
                                 std::to_string(services_.limits.tenant_quota_bytes));
      }
    }
    if (kind_ == BlobKind::kModel) {
      ASSIGN_OR_RETURN(check_, NewModelCheck(header_.format(), What()));
    } else {
      check_ = NewDatasetCheck(What());
    }
    ASSIGN_OR_RETURN(writer_, services_.blobs->NewBlobWriter(tenant_));
    return OkStatus();
  }

  Status Complete() override {
    if (check_) RETURN_IF_ERROR(check_->Finish());
    ASSIGN_OR_RETURN(storage::BlobInfo blob, Seal(header_.size_bytes(), What()));
    if (!header_.sha256().empty() && header_.sha256() != blob.hash) {
      DropUnnamed(blob.hash);
      return DataLoss(What() + " arrived with sha256 " + blob.hash +
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

  const BlobKind kind_;
  v1::BlobInfo* response_;
  std::string tenant_;
  v1::UploadHeader header_;
  std::unique_ptr<UploadCheck> check_;
};

}  // namespace

template <typename Base>
CatalogServiceImpl<Base>::CatalogServiceImpl(ServiceContext& services, BlobKind kind,
                                             const std::string& name)
    : services_(services), kind_(kind), upload_(name + "/Upload"), has_(name + "/Has"),
      get_(name + "/Get"), list_(name + "/List"), delete_(name + "/Delete") {}

template <typename Base>
Status CatalogServiceImpl<Base>::NotFoundOr(const Status& status, const std::string& id) const {
  if (status.code() != StatusCode::kNotFound) return status;
  return NotFound(std::string("no ") + KindName(kind_) + " " + id);
}

template <typename Base>
grpc::ServerReadReactor<v1::UploadChunk>* CatalogServiceImpl<Base>::Upload(
    grpc::CallbackServerContext* context, v1::BlobInfo* response) {
  return new CatalogUploadReactor(context, services_, kind_, response, upload_.c_str());
}

template <typename Base>
grpc::ServerUnaryReactor* CatalogServiceImpl<Base>::Has(grpc::CallbackServerContext* context,
                                                        const v1::HasBlobRequest* request,
                                                        v1::HasBlobResponse* response) {
  return Unary(context, services_, has_.c_str(), Role::kUser,
               [&](const storage::TokenInfo& who) {
                 auto entry = services_.catalog->GetEntry(who.tenant, kind_, request->sha256());
                 if (!entry.ok() && entry.status().code() != StatusCode::kNotFound) {
                   return entry.status();
                 }
                 response->set_present(entry.ok());
                 return OkStatus();
               });
}

template <typename Base>
grpc::ServerUnaryReactor* CatalogServiceImpl<Base>::Get(grpc::CallbackServerContext* context,
                                                        const v1::GetBlobRequest* request,
                                                        v1::BlobInfo* response) {
  return Unary(context, services_, get_.c_str(), Role::kUser,
               [&](const storage::TokenInfo& who) {
                 auto entry = services_.catalog->GetEntry(who.tenant, kind_, request->id());
                 if (!entry.ok()) return NotFoundOr(entry.status(), request->id());
                 ToProto(*entry, response);
                 return OkStatus();
               });
}

template <typename Base>
grpc::ServerUnaryReactor* CatalogServiceImpl<Base>::List(grpc::CallbackServerContext* context,
                                                         const v1::ListBlobsRequest* request,
                                                         v1::ListBlobsResponse* response) {
  return Unary(context, services_, list_.c_str(), Role::kUser,
               [&](const storage::TokenInfo& who) -> Status {
                 int32_t size = request->page_size() <= 0 ? 50 : request->page_size();
                 ASSIGN_OR_RETURN(storage::CatalogPage page,
                                  services_.catalog->ListEntries(who.tenant, kind_, size,
                                                                 request->page_token()));
                 for (const auto& entry : page.entries) ToProto(entry, response->add_items());
                 response->set_next_page_token(page.next_page_token);
                 return OkStatus();
               });
}

template <typename Base>
grpc::ServerUnaryReactor* CatalogServiceImpl<Base>::Delete(grpc::CallbackServerContext* context,
                                                           const v1::DeleteBlobRequest* request,
                                                           v1::DeleteBlobResponse*) {
  return Unary(context, services_, delete_.c_str(), Role::kUser,
               [&](const storage::TokenInfo& who) {
                 Status erased = services_.catalog->DeleteEntry(who.tenant, kind_, request->id());
                 if (!erased.ok()) return NotFoundOr(erased, request->id());
                 BlobKind other = kind_ == BlobKind::kModel ? BlobKind::kDataset
                                                            : BlobKind::kModel;
                 if (services_.catalog->GetEntry(who.tenant, other, request->id()).ok()) {
                   return OkStatus();
                 }
                 Status dropped = services_.blobs->DeleteBlob(who.tenant, request->id());
                 return dropped.code() == StatusCode::kNotFound ? OkStatus() : dropped;
               });
}

template class CatalogServiceImpl<v1::ModelService::CallbackService>;
template class CatalogServiceImpl<v1::DatasetService::CallbackService>;

}  // namespace shrink::server
