#include "server/auth.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "common/grpc_util.h"

namespace shrink::server {
namespace {

bool Admits(Role role, storage::TokenKind kind) {
  if (kind == storage::TokenKind::kAdmin) return true;
  switch (role) {
    case Role::kUser: return kind == storage::TokenKind::kUser;
    case Role::kWorker: return kind == storage::TokenKind::kWorker;
    case Role::kAdmin: return false;
  }
  return false;
}

const char* RoleName(Role role) {
  switch (role) {
    case Role::kUser: return "user";
    case Role::kWorker: return "worker";
    case Role::kAdmin: return "admin";
  }
  return "?";
}

// Writes `token` to a new file readable by its owner only (O_EXCL: never follows a planted
// file).
Status WriteTokenFile(const std::string& path, const std::string& token) {
  ::unlink(path.c_str());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return InvalidArgument("cannot create token file " + path);
  std::string line = token + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) return Internal("cannot write token file " + path);
  return OkStatus();
}

// The token stored at `path` when it is still valid with `kind`, else a newly issued one.
StatusOr<std::pair<std::string, bool>> EnsureToken(storage::TenantStore* tenants,
                                                   const std::string& path,
                                                   storage::TokenKind kind,
                                                   const std::string& label) {
  auto existing = ReadTokenFile(path);
  if (existing.ok()) {
    auto info = tenants->LookupToken(*existing);
    if (info.ok() && info->kind == kind) return std::make_pair(*existing, false);
  }
  ASSIGN_OR_RETURN(std::string token, tenants->IssueToken(kDefaultTenant, kind, label));
  RETURN_IF_ERROR(WriteTokenFile(path, token));
  return std::make_pair(token, true);
}

}  // namespace

StatusOr<storage::TokenInfo> Authenticator::Check(const grpc::ServerContextBase& context,
                                                  Role role) const {
  if (insecure_no_auth_) {
    return storage::TokenInfo{kDefaultTenant, storage::TokenKind::kAdmin, "insecure-no-auth"};
  }
  const auto& metadata = context.client_metadata();
  auto found = metadata.find(rpc::kAuthorizationKey);
  if (found == metadata.end()) {
    return Status(StatusCode::kUnauthenticated,
                  "missing token: send `authorization: Bearer <token>` (--token or SHRINK_TOKEN)");
  }
  auto token = rpc::ParseBearer(std::string_view(found->second.data(), found->second.size()));
  if (!token) {
    return Status(StatusCode::kUnauthenticated, "the authorization value is not `Bearer <token>`");
  }
  auto info = tenants_->LookupToken(*token);
  if (!info.ok()) {
    if (info.status().code() == StatusCode::kUnauthenticated) {
      return Status(StatusCode::kUnauthenticated, "unknown or revoked token");
    }
    return info.status();
  }
  if (!Admits(role, info->kind)) {
    return Status(StatusCode::kPermissionDenied,
                  std::string("a ") + storage::TokenKindName(info->kind) +
                      " token cannot call the " + RoleName(role) + " API");
  }
  return info;
}

StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("no token file " + path);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.empty()) return InvalidArgument("token file " + path + " is empty");
  return line;
}

StatusOr<BootstrapTokens> BootstrapAuth(storage::TenantStore* tenants,
                                        const std::string& admin_token_path,
                                        const std::string& worker_token_path) {
  ASSIGN_OR_RETURN(bool exists, tenants->TenantExists(kDefaultTenant));
  if (!exists) RETURN_IF_ERROR(tenants->CreateTenant(kDefaultTenant));
  BootstrapTokens tokens;
  tokens.admin_token_path = admin_token_path;
  ASSIGN_OR_RETURN(auto admin, EnsureToken(tenants, admin_token_path,
                                           storage::TokenKind::kAdmin, "bootstrap-admin"));
  tokens.admin_token_created = admin.second;
  ASSIGN_OR_RETURN(auto worker, EnsureToken(tenants, worker_token_path,
                                            storage::TokenKind::kWorker, "local-workers"));
  tokens.worker_token = worker.first;
  return tokens;
}

}  // namespace shrink::server
