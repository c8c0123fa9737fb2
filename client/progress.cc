#include "client/progress.h"

#include <unistd.h>

#include <cstdio>

namespace shrink::cli {

Progress::Progress(std::string label, int64_t total)
    : label_(std::move(label)), total_(total > 0 ? total : 1),
      terminal_(isatty(STDERR_FILENO) != 0), start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() {
  if (terminal_ && !finished_) std::fputc('\n', stderr);
}

void Progress::Update(int64_t done, const std::string& detail) {
  int percent = int(100 * done / total_);
  if (terminal_) {
    constexpr int kWidth = 30;
    int filled = kWidth * percent / 100;
    std::string bar(size_t(filled), '#');
    bar.append(size_t(kWidth - filled), '.');
    std::fprintf(stderr, "\r%s [%s] %3d%% %lld/%lld %s\x1b[K", label_.c_str(), bar.c_str(),
                 percent, (long long)done, (long long)total_, detail.c_str());
    std::fflush(stderr);
    return;
  }
  // Plain lines: at most one per 10%, plus the end.
  if (percent / 10 == last_percent_logged_ / 10 && done != total_) return;
  last_percent_logged_ = percent;
  std::fprintf(stderr, "%s: %d%% (%lld/%lld) %s\n", label_.c_str(), percent, (long long)done,
               (long long)total_, detail.c_str());
}

void Progress::Finish(const std::string& summary) {
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (terminal_) std::fputc('\n', stderr);
  std::fprintf(stderr, "%s: done in %.2f s. %s\n", label_.c_str(), seconds, summary.c_str());
  finished_ = true;
}

}  // namespace shrink::cli
