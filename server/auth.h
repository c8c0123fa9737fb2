// Authentication of every call: the bearer token in the `authorization` metadata is looked up
// (hashed) in the TenantStore, and the caller's role must allow the service. Without auth
// (`--insecure-no-auth`) every caller is the admin of the "default" tenant.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>

#include "common/status.h"
#include "storage/tenant_store.h"

namespace shrink::server {

// Which callers a service admits: users (and admins) call the public API, workers (and admins)
// the WorkerService, admins the AdminService.
enum class Role { kUser, kWorker, kAdmin };

inline constexpr char kDefaultTenant[] = "default";

class Authenticator {
 public:
  Authenticator(storage::TenantStore* tenants, bool insecure_no_auth)
      : tenants_(tenants), insecure_no_auth_(insecure_no_auth) {}

  // Unauthenticated: no or unknown token. PermissionDenied: a known token of the wrong kind
  // (e.g. a worker token on the public API).
  StatusOr<storage::TokenInfo> Check(const grpc::ServerContextBase& context, Role role) const;

 private:
  storage::TenantStore* tenants_;
  bool insecure_no_auth_;
};

// Tokens a server needs at start: the admin token (created on first start and kept in a 0600
// file whose path is printed) and the token of locally spawned workers (kept likewise).
struct BootstrapTokens {
  std::string admin_token_path;
  bool admin_token_created = false;
  std::string worker_token;  // for local workers; never printed
};
StatusOr<BootstrapTokens> BootstrapAuth(storage::TenantStore* tenants,
                                        const std::string& admin_token_path,
                                        const std::string& worker_token_path);

// Reads a token file (first line, trimmed). NotFound when absent.
StatusOr<std::string> ReadTokenFile(const std::string& path);

}  // namespace shrink::server
