// Minimal leveled logging to stderr. Stdout is reserved for command results (--json).
#pragma once

#include <sstream>
#include <string>

namespace shrink {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
void LogMessage(LogLevel level, const char* file, int line, const std::string& message);

namespace internal {
class LogStream {
 public:
  LogStream(LogLevel level, const char* file, int line) : level_(level), file_(file), line_(line) {}
  ~LogStream() { LogMessage(level_, file_, line_, stream_.str()); }
  template <typename T>
  LogStream& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }

 private:
  LogLevel level_;
  const char* file_;
  int line_;
  std::ostringstream stream_;
};
}  // namespace internal

}  // namespace shrink

#define SHRINK_LOG(level)                                            \
  if (::shrink::LogLevel::k##level < ::shrink::GetLogLevel()) {      \
  } else                                                             \
    ::shrink::internal::LogStream(::shrink::LogLevel::k##level, __FILE__, __LINE__)
