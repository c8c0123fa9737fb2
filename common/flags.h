// Command-line parsing for shrink, shrinkd and shrink-worker: `--name value`, `--name=value`,
// boolean `--name`, and positional arguments. Unknown flags are errors.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace shrink::cli {

struct FlagSpec {
  std::set<std::string> with_value;  // flags that take a value
  std::set<std::string> booleans;    // flags without a value
};

struct ParsedFlags {
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;
  std::set<std::string> set_booleans;

  bool Has(const std::string& name) const {
    return values.count(name) > 0 || set_booleans.count(name) > 0;
  }
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  StatusOr<int> GetInt(const std::string& name, int fallback) const;
};

StatusOr<ParsedFlags> ParseFlags(const std::vector<std::string>& args, const FlagSpec& spec);

// Exit codes of the CLI contract (design.md).
enum ExitCode {
  kExitOk = 0,
  kExitUsage = 1,
  kExitJobFailed = 2,
  kExitBudgetNotMet = 3,
  kExitUnreachable = 4,
  kExitCancelled = 5,
  kExitUnauthorized = 6,
};

// Prints "shrink: <message>" to stderr and returns the exit code for the status.
int ReportError(const Status& status);

}  // namespace shrink::cli
