#include "common/file_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace shrink {

StatusOr<std::string> ReadFile(const std::string& path, uint64_t max_bytes) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    return NotFound("cannot open " + path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(info.st_mode)) return InvalidArgument(path + " is a directory, expected a file");
  if (uint64_t(info.st_size) > max_bytes) {
    return ResourceExhausted(path + " is " + std::to_string(info.st_size) +
                             " bytes, over the limit of " + std::to_string(max_bytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path);
  std::string contents(size_t(info.st_size), '\0');
  in.read(contents.data(), std::streamsize(contents.size()));
  if (size_t(in.gcount()) != contents.size()) return DataLoss("short read on " + path);
  return contents;
}

Status WriteFile(const std::string& path, std::string_view contents) {
  std::string temp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) return InvalidArgument("cannot write " + path + ": " + std::strerror(errno));
    out.write(contents.data(), std::streamsize(contents.size()));
    out.flush();
    if (!out) {
      std::remove(temp.c_str());
      return Internal("write failed on " + path + ": " + std::strerror(errno));
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    return Internal("cannot rename " + temp + " to " + path + ": " + std::strerror(errno));
  }
  return OkStatus();
}

bool FileExists(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

StatusOr<uint64_t> FileSize(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) return NotFound("cannot stat " + path);
  return uint64_t(info.st_size);
}

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty() || dir == ".") return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

StatusOr<std::string> MakeTempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    return Internal("mkdtemp failed: " + std::string(std::strerror(errno)));
  }
  return pattern;
}

Status RemoveAll(const std::string& path) {
  std::error_code error;
  std::filesystem::remove_all(path, error);
  if (error) return Internal("cannot remove " + path + ": " + error.message());
  return OkStatus();
}

}  // namespace shrink
