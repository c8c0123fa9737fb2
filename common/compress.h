// zstd compression, for reporting what a model costs over the air (compressed payload size).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace shrink {

// Level 19 for payloads up to 64 MiB, level 9 above (19 takes minutes on hundreds of MiB).
int DefaultZstdLevel(uint64_t bytes);
StatusOr<std::string> ZstdCompress(std::string_view bytes, int level);
StatusOr<std::string> ZstdDecompress(std::string_view compressed, uint64_t max_bytes);

}  // namespace shrink
