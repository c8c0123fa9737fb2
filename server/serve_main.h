// The command line of `shrinkd` and `shrink serve` (one implementation): parses flags, starts
// the Server, prints where it listens and where the admin token is, and drains on
// SIGTERM/SIGINT (a second signal stops at once).
#pragma once

#include <string>
#include <vector>

namespace shrink::server {

int ServeMain(const std::string& program, const std::vector<std::string>& args);

}  // namespace shrink::server
