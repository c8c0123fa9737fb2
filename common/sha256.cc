#include "common/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <fstream>
#include <vector>

namespace shrink {
namespace {

EVP_MD_CTX* Context(void* context) { return static_cast<EVP_MD_CTX*>(context); }

// libcrypto fails here only when out of memory; there is nothing sensible to return then.
void Check(int ok) {
  if (ok != 1) std::abort();
}

}  // namespace

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
  if (!context_) std::abort();
  Check(EVP_DigestInit_ex(Context(context_), EVP_sha256(), nullptr));
}

Sha256::~Sha256() { EVP_MD_CTX_free(Context(context_)); }

void Sha256::Update(const void* data, size_t size) {
  if (size > 0) Check(EVP_DigestUpdate(Context(context_), data, size));
}

std::array<uint8_t, 32> Sha256::Digest() {
  std::array<uint8_t, 32> digest{};
  unsigned int length = 0;
  Check(EVP_DigestFinal_ex(Context(context_), digest.data(), &length));
  return digest;
}

std::string Sha256::HexDigest() {
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (uint8_t byte : Digest()) {
    hex.push_back(kHex[byte >> 4]);
    hex.push_back(kHex[byte & 15]);
  }
  return hex;
}

std::string Sha256Hex(std::string_view data) {
  Sha256 hasher;
  hasher.Update(data);
  return hasher.HexDigest();
}

StatusOr<std::string> Sha256OfFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path);
  Sha256 hasher;
  std::vector<char> chunk(1 << 20);
  while (in) {
    in.read(chunk.data(), std::streamsize(chunk.size()));
    hasher.Update(chunk.data(), size_t(in.gcount()));
  }
  if (in.bad()) return DataLoss("read error on " + path);
  return hasher.HexDigest();
}

}  // namespace shrink
