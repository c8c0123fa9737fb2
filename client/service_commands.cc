// The CLI commands that talk to a shrink server: submit, watch, status, cancel, fetch, jobs and
// admin. Input errors (flags, files, recipes) are found before any connection is made.
#include <cctype>
#include <cstdio>

#include "client/commands.h"
#include "client/flags.h"
#include "client/recipe_flags.h"
#include "client/service_cli.h"
#include "client/service_client.h"
#include "common/file_util.h"
#include "common/json.h"
#include "engine/io/external_data.h"
#include "engine/job/recipe.h"

namespace shrink::cli {
namespace {

using Extra = std::vector<std::pair<std::string, std::string>>;

const std::string kSubmitUsage =
    std::string(
        "usage: shrink submit MODEL (--preset NAME | --recipe R.json) [--calib DATA] [--eval "
        "DATA]\n"
        "                     [--priority N] [--idempotency-key K] [--name NAME]\n"
        "                     [--wait [--out OUT.onnx] [--report R.json]] [--json]\n"
        "  MODEL: an .onnx file, a directory with one .onnx file and its external data, or a .tar\n"
        "  DATA: .npy, .npz or a directory of .npz files (sent as a tar)\n"
        "  Uploads what the server lacks, submits the expanded recipe and prints the job id.\n"
        "  --wait follows the job to its end; the exit code is then the job's: 0 succeeded,\n"
        "  2 failed, 3 accuracy budget not met, 5 cancelled. --out/--report fetch the results\n"
        "  (--report R.json also writes the HTML page R.html).\n") +
    kServiceFlagsUsage;
const std::string kWatchUsage =
    std::string(
        "usage: shrink watch JOB [--json]\n"
        "  Follows the job to its end; exits 0 succeeded, 2 failed, 3 budget not met,\n"
        "  5 cancelled.\n") +
    kServiceFlagsUsage;
const std::string kStatusUsage =
    std::string(
        "usage: shrink status JOB [--json]\n"
        "  Prints the job's state, stage, error, result ids and metrics (exit 0 when the\n"
        "  job was found, whatever its state).\n") +
    kServiceFlagsUsage;
const std::string kCancelUsage =
    std::string("usage: shrink cancel JOB [--json]\n") + kServiceFlagsUsage;
const std::string kFetchUsage =
    std::string("usage: shrink fetch JOB --out OUT.onnx [--report R.json] [--json]\n") +
    kServiceFlagsUsage;
const std::string kJobsUsage =
    std::string(
        "usage: shrink jobs [--state S] [--json]\n"
        "  Lists your jobs (every page); S: QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED\n") +
    kServiceFlagsUsage;
const std::string kAdminUsage = std::string(
                                    "usage: shrink admin create-tenant NAME\n"
                                    "       shrink admin issue-token --tenant T [--kind "
                                    "user|worker|admin] [--label L] [--json]\n"
                                    "       shrink admin revoke-token TOKEN\n"
                                    "       shrink admin backup --out FILE   (an online copy of "
                                    "the database;\n"
                                    "         restore: shrinkd --db FILE)\n"
                                    "  Needs an ADMIN token.\n") +
                                kServiceFlagsUsage;

// Loads the recipe and expands it here, so that input errors surface before any upload and equal
// recipes reach the server (and its cache) in one canonical form.
StatusOr<v1::Recipe> ExpandedRecipe(const ParsedFlags& flags) {
  ASSIGN_OR_RETURN(v1::Recipe recipe, RecipeFromFlags(flags));
  ASSIGN_OR_RETURN(v1::Recipe expanded, engine::ExpandRecipe(recipe));
  if (engine::NeedsCalibrationData(expanded) && !flags.Has("calib")) {
    return InvalidArgument(
        "the recipe quantizes activations and needs calibration data: "
        "give --calib DATA");
  }
  return expanded;
}

StatusOr<int> ParsePriority(const std::string& text) {
  size_t digits = text.rfind('-', 0) == 0 ? 1 : 0;
  if (text.size() == digits || text.size() > digits + 9 ||
      text.find_first_not_of("0123456789", digits) != std::string::npos) {
    return InvalidArgument("--priority must be an integer, got '" + text + "'");
  }
  return std::stoi(text);
}

Status CheckOutputPath(const ParsedFlags& flags, const std::string& flag) {
  if (!flags.Has(flag)) return OkStatus();
  std::string dir = DirName(flags.Get(flag));
  if (!IsDirectory(dir)) {
    return NotFound("--" + flag + " " + flags.Get(flag) + ": directory " + dir + " does not exist");
  }
  return OkStatus();
}

Status CheckSubmitInputs(const ParsedFlags& flags) {
  RETURN_IF_ERROR(client::ModelFormatOf(flags.positional[0]).status());
  for (const char* flag : {"calib", "eval"}) {
    if (flags.Has(flag) && !FileExists(flags.Get(flag))) {
      return NotFound(std::string("--") + flag + " " + flags.Get(flag) +
                      ": no such file or directory");
    }
  }
  if ((flags.Has("out") || flags.Has("report")) && !flags.Has("wait")) {
    return InvalidArgument("--out and --report need --wait (or use `shrink fetch JOB` later)");
  }
  RETURN_IF_ERROR(CheckOutputPath(flags, "out"));
  return CheckOutputPath(flags, "report");
}

void LogUpload(const std::string& what, const std::string& path,
               const client::UploadResult& result) {
  std::fprintf(stderr, "%s %s: %s (%lld bytes, id %s)\n", what.c_str(), path.c_str(),
               result.uploaded ? "uploaded" : "already on the server", (long long)result.size_bytes,
               result.id.c_str());
}

// Uploads the model and datasets the server lacks and fills their ids into `request`.
Status UploadInputs(client::ServiceClient* client, const ParsedFlags& flags,
                    v1::SubmitJobRequest* request) {
  const std::string& model = flags.positional[0];
  // A .onnx file whose weights live in external-data files travels with them as one bundle.
  std::vector<std::string> data_files;
  const std::string suffix = ".onnx";
  if (!IsDirectory(model) && model.size() > suffix.size() &&
      model.compare(model.size() - suffix.size(), suffix.size(), suffix) == 0) {
    // A file that does not parse is sent as is: the server's upload check names the problem.
    auto listed = engine::ExternalDataFiles(model);
    if (listed.ok()) data_files = std::move(listed).value();
  }
  ASSIGN_OR_RETURN(client::UploadResult uploaded,
                   data_files.empty()
                       ? client->UploadModel(model, flags.Get("name"))
                       : client->UploadModelWithData(model, data_files, flags.Get("name")));
  LogUpload("model", model, uploaded);
  request->set_model_id(uploaded.id);
  if (flags.Has("calib")) {
    ASSIGN_OR_RETURN(uploaded, client->UploadDataset(flags.Get("calib")));
    LogUpload("calibration data", flags.Get("calib"), uploaded);
    request->set_calibration_dataset_id(uploaded.id);
  }
  if (flags.Has("eval")) {
    ASSIGN_OR_RETURN(uploaded, client->UploadDataset(flags.Get("eval")));
    LogUpload("evaluation data", flags.Get("eval"), uploaded);
    request->set_evaluation_dataset_id(uploaded.id);
  }
  return OkStatus();
}

// Prints the job as one JSON object or as text (`id_only`: just the id, for scripts).
void PrintJob(const ParsedFlags& flags, const v1::Job& job, const Extra& extra = {},
              bool id_only = false) {
  if (flags.Has("json")) {
    std::printf("%s\n", JobToJson(job, extra).c_str());
  } else if (id_only) {
    std::printf("%s\n", job.id().c_str());
  } else {
    std::printf("%s", JobToText(job).c_str());
  }
}

// --wait: follows the job, fetches results after success (and, best effort, after a missed
// budget) and exits by the job's final state.
int WaitForJob(client::ServiceClient* client, const ParsedFlags& flags, const std::string& id) {
  StatusOr<v1::Job> job = WatchToEnd(client, id);
  if (!job.ok()) return ReportJobError(job.status(), id);
  Extra extra;
  if (job->state() == v1::SUCCEEDED || BudgetNotMet(*job)) {
    Status fetched = FetchResults(client, *job, flags.Get("out"), flags.Get("report"), &extra);
    if (!fetched.ok() && job->state() == v1::SUCCEEDED) return ReportError(fetched);
    if (!fetched.ok()) std::fprintf(stderr, "shrink: %s\n", fetched.message().c_str());
  }
  if (flags.Has("json")) {
    PrintJob(flags, *job, extra);
  } else {
    std::fprintf(stderr, "%s", JobToText(*job).c_str());
  }
  return ExitCodeForJob(*job);
}

std::optional<v1::TokenKind> ParseTokenKind(const std::string& text) {
  if (text == "user") return v1::USER;
  if (text == "worker") return v1::WORKER;
  if (text == "admin") return v1::ADMIN;
  return std::nullopt;
}

int IssueToken(client::ServiceClient* client, const ParsedFlags& flags) {
  if (!flags.Has("tenant")) return ReportError(InvalidArgument("issue-token needs --tenant T"));
  std::optional<v1::TokenKind> kind = ParseTokenKind(flags.Get("kind", "user"));
  if (!kind) {
    return ReportError(
        InvalidArgument("--kind must be user, worker or admin, got '" + flags.Get("kind") + "'"));
  }
  StatusOr<std::string> token = client->IssueToken(flags.Get("tenant"), *kind, flags.Get("label"));
  if (!token.ok()) return ReportError(token.status());
  if (flags.Has("json")) {
    std::printf("{\"token\": %s, \"tenant\": %s, \"kind\": %s}\n", JsonQuote(*token).c_str(),
                JsonQuote(flags.Get("tenant")).c_str(),
                JsonQuote(v1::TokenKind_Name(*kind)).c_str());
  } else {
    std::printf("%s\n", token->c_str());
  }
  return kExitOk;
}

int Backup(client::ServiceClient* client, const ParsedFlags& flags) {
  StatusOr<client::DownloadResult> backup = client->Backup(flags.Get("out"));
  if (!backup.ok()) return ReportError(backup.status());
  if (flags.Has("json")) {
    std::printf("{\"out\": %s, \"size_bytes\": %lld, \"sha256\": %s}\n",
                JsonQuote(flags.Get("out")).c_str(), static_cast<long long>(backup->size_bytes),
                JsonQuote(backup->sha256).c_str());
  } else {
    std::fprintf(stderr, "backup: %lld bytes, sha256 %s, written to %s\n",
                 static_cast<long long>(backup->size_bytes), backup->sha256.c_str(),
                 flags.Get("out").c_str());
  }
  return kExitOk;
}

}  // namespace

int SubmitCommand(const std::vector<std::string>& args) {
  FlagSpec spec = WithServiceFlags({{"preset", "recipe", "calib", "eval", "priority",
                                     "idempotency-key", "name", "out", "report"},
                                    {"wait"}});
  ParsedFlags flags;
  if (auto done = ParseCommandFlags("submit", args, spec, kSubmitUsage.c_str(), 1, &flags)) {
    return *done;
  }
  v1::SubmitJobRequest request;
  StatusOr<v1::Recipe> recipe = ExpandedRecipe(flags);
  if (!recipe.ok()) return ReportError(recipe.status());
  *request.mutable_recipe() = *recipe;
  StatusOr<int> priority = ParsePriority(flags.Get("priority", "0"));
  if (!priority.ok()) return ReportError(priority.status());
  request.set_priority(*priority);
  request.set_idempotency_key(flags.Get("idempotency-key"));
  if (Status inputs = CheckSubmitInputs(flags); !inputs.ok()) return ReportError(inputs);

  auto client = Connect(flags);
  if (!client.ok()) return ReportError(client.status());
  if (Status uploaded = UploadInputs(client->get(), flags, &request); !uploaded.ok()) {
    return ReportError(uploaded);
  }
  StatusOr<v1::Job> job = (*client)->Submit(request);
  if (!job.ok()) return ReportError(job.status());
  std::fprintf(stderr, "submitted job %s (%s)\n", job->id().c_str(),
               v1::JobState_Name(job->state()).c_str());
  if (!flags.Has("wait")) {
    PrintJob(flags, *job, {}, /*id_only=*/true);
    return kExitOk;
  }
  if (!flags.Has("json")) std::printf("%s\n", job->id().c_str());
  std::fflush(stdout);
  return WaitForJob(client->get(), flags, job->id());
}

int WatchCommand(const std::vector<std::string>& args) {
  ParsedFlags flags;
  if (auto done =
          ParseCommandFlags("watch", args, WithServiceFlags({}), kWatchUsage.c_str(), 1, &flags)) {
    return *done;
  }
  const std::string& id = flags.positional[0];
  auto client = Connect(flags);
  if (!client.ok()) return ReportError(client.status());
  StatusOr<v1::Job> job = WatchToEnd(client->get(), id);
  if (!job.ok()) return ReportJobError(job.status(), id);
  PrintJob(flags, *job);
  return ExitCodeForJob(*job);
}

int StatusCommand(const std::vector<std::string>& args) {
  ParsedFlags flags;
  if (auto done = ParseCommandFlags("status", args, WithServiceFlags({}), kStatusUsage.c_str(), 1,
                                    &flags)) {
    return *done;
  }
  const std::string& id = flags.positional[0];
  auto client = Connect(flags);
  if (!client.ok()) return ReportError(client.status());
  StatusOr<v1::Job> job = (*client)->GetJob(id);
  if (!job.ok()) return ReportJobError(job.status(), id);
  PrintJob(flags, *job);
  return kExitOk;
}

int CancelCommand(const std::vector<std::string>& args) {
  ParsedFlags flags;
  if (auto done = ParseCommandFlags("cancel", args, WithServiceFlags({}), kCancelUsage.c_str(), 1,
                                    &flags)) {
    return *done;
  }
  const std::string& id = flags.positional[0];
  auto client = Connect(flags);
  if (!client.ok()) return ReportError(client.status());
  StatusOr<v1::Job> job = (*client)->Cancel(id);
  if (!job.ok()) return ReportJobError(job.status(), id);
  PrintJob(flags, *job);
  return kExitOk;
}

int FetchCommand(const std::vector<std::string>& args) {
  ParsedFlags flags;
  FlagSpec spec = WithServiceFlags({{"out", "report"}, {}});
  if (auto done = ParseCommandFlags("fetch", args, spec, kFetchUsage.c_str(), 1, &flags)) {
    return *done;
  }
  const std::string& id = flags.positional[0];
  if (!flags.Has("out")) {
    std::fprintf(stderr, "shrink fetch: needs --out OUT.onnx\n%s", kFetchUsage.c_str());
    return kExitUsage;
  }
  for (const char* flag : {"out", "report"}) {
    if (Status path = CheckOutputPath(flags, flag); !path.ok()) return ReportError(path);
  }
  auto client = Connect(flags);
  if (!client.ok()) return ReportError(client.status());
  StatusOr<v1::Job> job = (*client)->GetJob(id);
  if (!job.ok()) return ReportJobError(job.status(), id);
  if (job->artifact_id().empty()) {
    std::string why = "job " + id + " is " + v1::JobState_Name(job->state());
    if (!job->error().empty()) why += " (" + job->error() + ")";
    if (job->state() == v1::FAILED || job->state() == v1::CANCELLED) {
      std::fprintf(stderr, "shrink: %s; it has no artifact\n", why.c_str());
      return ExitCodeForJob(*job);
    }
    return ReportError(
        FailedPrecondition(why + "; no artifact yet (see `shrink watch " + id + "`)"));
  }
  Extra extra;
  Status fetched = FetchResults(client->get(), *job, flags.Get("out"), flags.Get("report"), &extra);
  if (!fetched.ok()) return ReportJobError(fetched, id);
  if (flags.Has("json")) PrintJob(flags, *job, extra);
  return kExitOk;
}

int JobsCommand(const std::vector<std::string>& args) {
  ParsedFlags flags;
  if (auto done = ParseCommandFlags("jobs", args, WithServiceFlags({{"state"}, {}}),
                                    kJobsUsage.c_str(), 0, &flags)) {
    return *done;
  }
  v1::JobState state = v1::JOB_STATE_UNSPECIFIED;
  if (flags.Has("state")) {
    std::string name = flags.Get("state");
    for (char& c : name) c = char(std::toupper(static_cast<unsigned char>(c)));
    if (!v1::JobState_Parse(name, &state) || state == v1::JOB_STATE_UNSPECIFIED) {
      return ReportError(
          InvalidArgument("--state: unknown job state '" + flags.Get("state") + "'"));
    }
  }
  auto client = Connect(flags);
  if (!client.ok()) return ReportError(client.status());
  StatusOr<std::vector<v1::Job>> jobs = (*client)->ListJobs(state);
  if (!jobs.ok()) return ReportError(jobs.status());
  if (flags.Has("json")) {
    std::string json = "{\"count\": " + std::to_string(jobs->size()) + ", \"jobs\": [";
    for (size_t i = 0; i < jobs->size(); ++i) {
      json += (i ? ", " : "") + JobToJson((*jobs)[i]);
    }
    std::printf("%s]}\n", json.c_str());
    return kExitOk;
  }
  for (const v1::Job& job : *jobs) {
    const v1::ProgressEvent& progress = job.last_progress();
    std::printf("%s  %-9s  %-10s %3.0f%%  %s\n", job.id().c_str(),
                v1::JobState_Name(job.state()).c_str(), progress.stage().c_str(),
                100 * progress.fraction(), job.error().c_str());
  }
  return kExitOk;
}

int AdminCommand(const std::vector<std::string>& args) {
  std::string sub = args.empty() ? "" : args[0];
  std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
  if (sub == "--help" || sub == "help") {
    std::fprintf(stdout, "%s", kAdminUsage.c_str());
    return kExitOk;
  }
  FlagSpec spec = WithServiceFlags(sub == "issue-token" ? FlagSpec{{"tenant", "kind", "label"}, {}}
                                   : sub == "backup"    ? FlagSpec{{"out"}, {}}
                                                        : FlagSpec{});
  size_t positional = sub == "issue-token" || sub == "backup" ? 0 : 1;
  if (sub != "create-tenant" && sub != "issue-token" && sub != "revoke-token" &&
      sub != "backup") {
    std::fprintf(stderr, "shrink admin: unknown subcommand '%s'\n%s", sub.c_str(),
                 kAdminUsage.c_str());
    return kExitUsage;
  }
  ParsedFlags flags;
  if (auto done =
          ParseCommandFlags("admin " + sub, rest, spec, kAdminUsage.c_str(), positional, &flags)) {
    return *done;
  }
  if (sub == "backup") {
    if (!flags.Has("out")) return ReportError(InvalidArgument("admin backup needs --out FILE"));
    if (Status path = CheckOutputPath(flags, "out"); !path.ok()) return ReportError(path);
  }
  auto client = Connect(flags);
  if (!client.ok()) return ReportError(client.status());
  if (sub == "issue-token") return IssueToken(client->get(), flags);
  if (sub == "backup") return Backup(client->get(), flags);
  Status done = sub == "create-tenant" ? (*client)->CreateTenant(flags.positional[0])
                                       : (*client)->RevokeToken(flags.positional[0]);
  if (!done.ok()) return ReportError(done);
  if (flags.Has("json")) {
    std::printf("{\"ok\": true}\n");
  } else {
    std::fprintf(stderr, "%s: done\n", sub.c_str());
  }
  return kExitOk;
}

}  // namespace shrink::cli
