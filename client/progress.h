// Progress reporting on stderr: a redrawn bar on a terminal, plain lines otherwise (CI logs).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace shrink::cli {

class Progress {
 public:
  // `total` units of work; `label` prefixes every line.
  Progress(std::string label, int64_t total);
  ~Progress();
  void Update(int64_t done, const std::string& detail = "");
  void Finish(const std::string& summary);

 private:
  std::string label_;
  int64_t total_;
  bool terminal_;
  bool finished_ = false;
  int last_percent_logged_ = -1;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace shrink::cli
