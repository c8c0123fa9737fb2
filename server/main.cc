// shrinkd: the shrink job server (the same code as `shrink serve`).
#include <string>
#include <vector>

#include "server/serve_main.h"

int main(int argc, char** argv) {
  return shrink::server::ServeMain("shrinkd", std::vector<std::string>(argv + 1, argv + argc));
}
