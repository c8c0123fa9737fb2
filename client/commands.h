// Subcommands of the `shrink` CLI; each takes the arguments after its name and returns an
// exit code from flags.h.
#pragma once

#include <string>
#include <vector>

namespace shrink::cli {

int InferCommand(const std::vector<std::string>& args);
int RunCommand(const std::vector<std::string>& args);
int EvalCommand(const std::vector<std::string>& args);
// `shrink report REPORT.json --html OUT.html` (report_command.cc).
int ReportCommand(const std::vector<std::string>& args);

// Commands that talk to a shrink server (service_commands.cc).
int SubmitCommand(const std::vector<std::string>& args);
int WatchCommand(const std::vector<std::string>& args);
int StatusCommand(const std::vector<std::string>& args);
int CancelCommand(const std::vector<std::string>& args);
int FetchCommand(const std::vector<std::string>& args);
int JobsCommand(const std::vector<std::string>& args);
int AdminCommand(const std::vector<std::string>& args);

}  // namespace shrink::cli
