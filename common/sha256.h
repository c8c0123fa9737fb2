// SHA-256 (FIPS 180-4), streaming. Used for content addressing of models, blobs and data.
// Computed by OpenSSL's libcrypto (a dependency of gRPC), which uses the CPU's SHA extensions:
// every upload and download is hashed, so this sits on the service's transfer path.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace shrink {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(const void* data, size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  // Finishes the hash; the object must not be updated afterwards.
  std::array<uint8_t, 32> Digest();
  std::string HexDigest();

 private:
  void* context_;  // EVP_MD_CTX, kept out of this header
};

std::string Sha256Hex(std::string_view data);
StatusOr<std::string> Sha256OfFile(const std::string& path);

}  // namespace shrink
