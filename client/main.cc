// The `shrink` command-line tool.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "client/commands.h"
#include "client/flags.h"

namespace {

constexpr const char* kUsage =
    "shrink: model optimization (see README.md)\n"
    "usage: shrink COMMAND [ARGS]\n"
    "commands:\n"
    "  run MODEL.onnx --preset NAME|--recipe R.json --out OUT.onnx [--calib DATA]\n"
    "                                                              optimize a model in-process\n"
    "  infer MODEL.onnx --input DATA --out OUT.npz [--threads N]   run the engine's runtime\n"
    "  version                                                     print the version\n"
    "run `shrink COMMAND --help` for a command's flags\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "help") == 0) {
    std::fprintf(argc < 2 ? stderr : stdout, "%s", kUsage);
    return argc < 2 ? shrink::cli::kExitUsage : shrink::cli::kExitOk;
  }
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "infer") return shrink::cli::InferCommand(args);
  if (command == "run") return shrink::cli::RunCommand(args);
  if (command == "version" || command == "--version") {
    std::printf("shrink %s\n", SHRINK_VERSION);
    return shrink::cli::kExitOk;
  }
  std::fprintf(stderr, "shrink: unknown command '%s'\n%s", command.c_str(), kUsage);
  return shrink::cli::kExitUsage;
}
