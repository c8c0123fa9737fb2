#include "common/flags.h"

#include <cstdio>

namespace shrink::cli {

std::string ParsedFlags::Get(const std::string& name, const std::string& fallback) const {
  auto found = values.find(name);
  return found == values.end() ? fallback : found->second;
}

StatusOr<int> ParsedFlags::GetInt(const std::string& name, int fallback) const {
  auto found = values.find(name);
  if (found == values.end()) return fallback;
  const std::string& text = found->second;
  if (text.empty() || text.size() > 9 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument("--" + name + " must be a non-negative integer, got '" + text + "'");
  }
  return std::stoi(text);
}

StatusOr<ParsedFlags> ParseFlags(const std::vector<std::string>& args, const FlagSpec& spec) {
  ParsedFlags parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      parsed.positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    bool inline_value = false;
    size_t equals = name.find('=');
    if (equals != std::string::npos) {
      value = name.substr(equals + 1);
      name = name.substr(0, equals);
      inline_value = true;
    }
    if (spec.booleans.count(name)) {
      if (inline_value) return InvalidArgument("--" + name + " takes no value");
      parsed.set_booleans.insert(name);
    } else if (spec.with_value.count(name)) {
      if (!inline_value) {
        if (i + 1 >= args.size()) return InvalidArgument("--" + name + " needs a value");
        value = args[++i];
      }
      parsed.values[name] = value;
    } else {
      return InvalidArgument("unknown flag --" + name);
    }
  }
  return parsed;
}

int ReportError(const Status& status) {
  std::fprintf(stderr, "shrink: %s\n", status.message().c_str());
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kUnimplemented:
    case StatusCode::kResourceExhausted:
    case StatusCode::kDataLoss:
    case StatusCode::kOutOfRange:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAlreadyExists:
      return kExitUsage;
    // A server that does not answer within a call's deadline is as good as unreachable.
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kUnavailable: return kExitUnreachable;
    case StatusCode::kCancelled: return kExitCancelled;
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnauthenticated: return kExitUnauthorized;
    default: return kExitJobFailed;
  }
}

}  // namespace shrink::cli
