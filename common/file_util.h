// Small file helpers that return Status instead of throwing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace shrink {

// Reads a whole file. Fails with kResourceExhausted when it is larger than max_bytes.
StatusOr<std::string> ReadFile(const std::string& path, uint64_t max_bytes = UINT64_MAX);
// Writes atomically: to a temporary file in the same directory, then rename.
Status WriteFile(const std::string& path, std::string_view contents);
bool FileExists(const std::string& path);
bool IsDirectory(const std::string& path);
StatusOr<uint64_t> FileSize(const std::string& path);
// Directory part of a path ("." when there is none).
std::string DirName(const std::string& path);
// The last path component ("a/b.onnx" -> "b.onnx").
std::string BaseName(const std::string& path);
std::string JoinPath(const std::string& dir, const std::string& name);
// A fresh directory under $TMPDIR (or /tmp) named prefix-XXXXXX.
StatusOr<std::string> MakeTempDir(const std::string& prefix);
// Removes a file or a directory tree; missing paths are fine.
Status RemoveAll(const std::string& path);

}  // namespace shrink
