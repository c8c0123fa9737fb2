#include "common/compress.h"

#include <zstd.h>

namespace shrink {

int DefaultZstdLevel(uint64_t bytes) { return bytes <= (uint64_t(64) << 20) ? 19 : 9; }

StatusOr<std::string> ZstdCompress(std::string_view bytes, int level) {
  std::string out(ZSTD_compressBound(bytes.size()), '\0');
  size_t written = ZSTD_compress(out.data(), out.size(), bytes.data(), bytes.size(), level);
  if (ZSTD_isError(written)) {
    return Internal(std::string("zstd compression failed: ") + ZSTD_getErrorName(written));
  }
  out.resize(written);
  return out;
}

StatusOr<std::string> ZstdDecompress(std::string_view compressed, uint64_t max_bytes) {
  unsigned long long size = ZSTD_getFrameContentSize(compressed.data(), compressed.size());
  if (size == ZSTD_CONTENTSIZE_ERROR) return InvalidArgument("not a zstd frame");
  if (size == ZSTD_CONTENTSIZE_UNKNOWN || size > max_bytes) {
    return InvalidArgument("zstd frame size unknown or over " + std::to_string(max_bytes) +
                           " bytes");
  }
  std::string out(size, '\0');
  size_t got = ZSTD_decompress(out.data(), out.size(), compressed.data(), compressed.size());
  if (ZSTD_isError(got) || got != size) {
    return InvalidArgument(std::string("zstd decompression failed: ") +
                           (ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short frame"));
  }
  return out;
}

}  // namespace shrink
