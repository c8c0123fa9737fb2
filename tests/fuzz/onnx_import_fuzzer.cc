// libFuzzer target for the ONNX importer: any byte string must give a model or a Status, never a
// crash, hang or sanitizer report. Build with scripts/fuzz.sh (clang, -DSHRINK_FUZZ=ON).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/io/onnx_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto model = shrink::engine::ParseModel(bytes, "");
  (void)model;
  return 0;
}
