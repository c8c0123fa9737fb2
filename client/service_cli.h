// Pieces shared by the CLI commands that talk to a shrink server (submit, watch, status, cancel,
// fetch, jobs, admin): connection flags, the job's JSON and text forms, exit codes by final
// state, watching with a progress display, and fetching results.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/flags.h"
#include "client/service_client.h"

namespace shrink::cli {

// Adds --server, --token, --tls-ca, --json and --help to a command's flags.
FlagSpec WithServiceFlags(FlagSpec spec);

// Usage lines for the flags WithServiceFlags adds.
extern const char kServiceFlagsUsage[];

// Parses `args`. Returns an exit code when the command is over already (--help: 0 after printing
// `usage` on stdout; a flag error or a positional count other than `positional`: 1).
std::optional<int> ParseCommandFlags(const std::string& command,
                                     const std::vector<std::string>& args, const FlagSpec& spec,
                                     const char* usage, size_t positional, ParsedFlags* flags);

// The server (--server, else $SHRINK_SERVER, else 127.0.0.1:7070) and the token (--token, else
// $SHRINK_TOKEN, else the contents of the file named by $SHRINK_TOKEN_FILE).
StatusOr<std::unique_ptr<client::ServiceClient>> Connect(const ParsedFlags& flags);

// A failed call about job `id` as an exit code; a NOT_FOUND message is made to name the id.
int ReportJobError(const Status& status, const std::string& id);

// FAILED jobs whose error starts with BUDGET_NOT_MET (artifacts kept).
bool BudgetNotMet(const v1::Job& job);
// 0 SUCCEEDED, 2 FAILED, 3 budget not met, 5 CANCELLED; 0 for jobs not final yet.
int ExitCodeForJob(const v1::Job& job);

// One JSON object with job_id, state and the job's other fields; `extra` holds further
// "key": value members, values already in JSON form.
std::string JobToJson(const v1::Job& job,
                      const std::vector<std::pair<std::string, std::string>>& extra = {});
// A few human-readable lines (state, stage, error, ids, metrics).
std::string JobToText(const v1::Job& job);

// Watches `job_id` to its final state with a progress bar (terminal) or lines on stderr, then
// returns the job as Get reports it.
StatusOr<v1::Job> WatchToEnd(client::ServiceClient* client, const std::string& job_id);

// Downloads the artifact to `out` (when not empty) and the report to `report` (when not empty
// and the job has one). Adds "out"/"report" members for the JSON form to `extra`.
Status FetchResults(client::ServiceClient* client, const v1::Job& job, const std::string& out,
                    const std::string& report,
                    std::vector<std::pair<std::string, std::string>>* extra);

}  // namespace shrink::cli
