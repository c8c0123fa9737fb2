// TenantStore: tenants and their API tokens. Tokens are random, shown once when issued, and
// stored only as sha256(token); a lookup hashes the presented token. Each token has a kind:
// user tokens call the public API, worker tokens the worker API, admin tokens both plus
// administration. Thread-safe.
#pragma once

#include <string>

#include "common/status.h"

namespace shrink::storage {

enum class TokenKind { kUser = 0, kWorker = 1, kAdmin = 2 };
const char* TokenKindName(TokenKind kind);

struct TokenInfo {
  std::string tenant;
  TokenKind kind = TokenKind::kUser;
  std::string label;
};

class TenantStore {
 public:
  virtual ~TenantStore() = default;
  // AlreadyExists when the tenant exists.
  virtual Status CreateTenant(const std::string& tenant) = 0;
  virtual StatusOr<bool> TenantExists(const std::string& tenant) = 0;
  // Returns the new plaintext token (the only time it is visible). NotFound for an unknown tenant.
  virtual StatusOr<std::string> IssueToken(const std::string& tenant, TokenKind kind,
                                           const std::string& label) = 0;
  // Unauthenticated when the token is unknown or revoked.
  virtual StatusOr<TokenInfo> LookupToken(const std::string& token) = 0;
  virtual Status RevokeToken(const std::string& token) = 0;
};

// A fresh random token ("shr_" + 64 hex digits).
std::string NewToken();
// A fresh random id with the given prefix (prefix + 24 hex digits).
std::string NewRandomId(const std::string& prefix);

}  // namespace shrink::storage
