// The `shrink` command-line tool.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "client/commands.h"
#include "client/flags.h"
#include "server/serve_main.h"

namespace {

constexpr const char* kUsage =
    "shrink: model optimization (see README.md)\n"
    "usage: shrink COMMAND [ARGS]\n"
    "commands:\n"
    "  serve [--listen 127.0.0.1:7070] [--db shrink.db] [--workers 2]\n"
    "                                                              the server with local workers\n"
    "  run MODEL.onnx --preset NAME|--recipe R.json --out OUT.onnx [--calib DATA]\n"
    "                                                              optimize a model in-process\n"
    "  eval CANDIDATE.onnx --reference FLOAT.onnx --data DATA [--runtime onnxruntime|shrink]\n"
    "       [--top-k K] [--max-samples N] [--threads N] [--json]   accuracy against the float model\n"
    "  report REPORT.json --html OUT.html                          a report as an HTML page\n"
    "  infer MODEL.onnx --input DATA --out OUT.npz [--threads N]   run the engine's runtime\n"
    "  submit MODEL --preset NAME|--recipe R.json [--calib DATA] [--eval DATA] [--wait]\n"
    "         [--out OUT.onnx] [--report R.json] [--json]          optimize on a shrink server\n"
    "  watch JOB [--json]                                          follow a job to its end\n"
    "  status JOB [--json]                                         a job's state and metrics\n"
    "  cancel JOB [--json]                                         cancel a job\n"
    "  fetch JOB --out OUT.onnx [--report R.json] [--json]         download a job's results\n"
    "  jobs [--state S] [--json]                                   list your jobs\n"
    "  admin create-tenant|issue-token|revoke-token ...            tenants and tokens\n"
    "  version                                                     print the version\n"
    "server commands take --server ADDR (else $SHRINK_SERVER, else 127.0.0.1:7070),\n"
    "--token T (else $SHRINK_TOKEN, else the file $SHRINK_TOKEN_FILE) and --tls-ca FILE\n"
    "exit codes: 0 ok, 1 usage or input error, 2 job failed, 3 accuracy budget not met,\n"
    "4 server unreachable, 5 cancelled, 6 not authorized\n"
    "run `shrink COMMAND --help` for a command's flags\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "help") == 0) {
    std::fprintf(argc < 2 ? stderr : stdout, "%s", kUsage);
    return argc < 2 ? shrink::cli::kExitUsage : shrink::cli::kExitOk;
  }
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "serve") return shrink::server::ServeMain("shrink serve", args);
  if (command == "infer") return shrink::cli::InferCommand(args);
  if (command == "run") return shrink::cli::RunCommand(args);
  if (command == "eval") return shrink::cli::EvalCommand(args);
  if (command == "report") return shrink::cli::ReportCommand(args);
  if (command == "submit") return shrink::cli::SubmitCommand(args);
  if (command == "watch") return shrink::cli::WatchCommand(args);
  if (command == "status") return shrink::cli::StatusCommand(args);
  if (command == "cancel") return shrink::cli::CancelCommand(args);
  if (command == "fetch") return shrink::cli::FetchCommand(args);
  if (command == "jobs") return shrink::cli::JobsCommand(args);
  if (command == "admin") return shrink::cli::AdminCommand(args);
  if (command == "version" || command == "--version") {
    std::printf("shrink %s\n", SHRINK_VERSION);
    return shrink::cli::kExitOk;
  }
  std::fprintf(stderr, "shrink: unknown command '%s'\n%s", command.c_str(), kUsage);
  return shrink::cli::kExitUsage;
}
