// Subcommands of the `shrink` CLI; each takes the arguments after its name and returns an
// exit code from flags.h.
#pragma once

#include <string>
#include <vector>

namespace shrink::cli {

int InferCommand(const std::vector<std::string>& args);
int RunCommand(const std::vector<std::string>& args);

}  // namespace shrink::cli
