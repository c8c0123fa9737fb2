#include "client/service_cli.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

#include <filesystem>
#include <fstream>

#include "client/progress.h"
#include "engine/io/model_bundle.h"
#include "engine/io/onnx_export.h"
#include "engine/io/onnx_import.h"
#include "engine/job/report_html.h"
#include "common/file_util.h"
#include "common/json.h"

namespace shrink::cli {
namespace {

constexpr char kDefaultServer[] = "127.0.0.1:7070";

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

StatusOr<std::string> TokenFromFlags(const ParsedFlags& flags) {
  if (flags.Has("token")) return flags.Get("token");
  std::string token = EnvOr("SHRINK_TOKEN", "");
  if (!token.empty()) return token;
  std::string file = EnvOr("SHRINK_TOKEN_FILE", "");
  if (file.empty()) return std::string();
  StatusOr<std::string> contents = ReadFile(file, 64 << 10);
  if (!contents.ok()) return contents.status().WithContext("SHRINK_TOKEN_FILE");
  token = *contents;
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) {
    token.pop_back();
  }
  return token;
}

std::string JsonNumber(double value) {
  if (!std::isfinite(value)) return "null";
  char text[32];
  std::snprintf(text, sizeof(text), "%.17g", value);
  return text;
}

std::string JsonBool(bool value) { return value ? "true" : "false"; }

std::string Percent(double fraction) {
  char text[16];
  std::snprintf(text, sizeof(text), "%.0f%%", 100 * fraction);
  return text;
}

}  // namespace

const char kServiceFlagsUsage[] =
    "  --server ADDR   the server (default: $SHRINK_SERVER, else 127.0.0.1:7070)\n"
    "  --token T       the access token (default: $SHRINK_TOKEN, else the contents of the file\n"
    "                  named by $SHRINK_TOKEN_FILE)\n"
    "  --tls-ca FILE   PEM of the server's CA (TLS); without it the connection is plaintext\n"
    "  --tls-cert FILE, --tls-key FILE  this client's certificate and key (mutual TLS)\n"
    "  --json          one JSON object on stdout; logs and progress on stderr\n";

FlagSpec WithServiceFlags(FlagSpec spec) {
  spec.with_value.insert({"server", "token", "tls-ca", "tls-cert", "tls-key"});
  spec.booleans.insert({"json", "help"});
  return spec;
}

std::optional<int> ParseCommandFlags(const std::string& command,
                                     const std::vector<std::string>& args, const FlagSpec& spec,
                                     const char* usage, size_t positional, ParsedFlags* flags) {
  StatusOr<ParsedFlags> parsed = ParseFlags(args, spec);
  if (!parsed.ok()) {
    std::fprintf(stderr, "shrink %s: %s\n%s", command.c_str(), parsed.status().message().c_str(),
                 usage);
    return kExitUsage;
  }
  if (parsed->Has("help")) {
    std::fprintf(stdout, "%s", usage);
    return kExitOk;
  }
  if (parsed->positional.size() != positional) {
    std::fprintf(stderr, "shrink %s: expected %zu argument(s), got %zu\n%s", command.c_str(),
                 positional, parsed->positional.size(), usage);
    return kExitUsage;
  }
  *flags = std::move(*parsed);
  return std::nullopt;
}

StatusOr<std::unique_ptr<client::ServiceClient>> Connect(const ParsedFlags& flags) {
  rpc::ChannelOptions channel;
  channel.address = flags.Get("server", EnvOr("SHRINK_SERVER", kDefaultServer));
  channel.tls_ca_file = flags.Get("tls-ca");
  channel.tls_cert_file = flags.Get("tls-cert");
  channel.tls_key_file = flags.Get("tls-key");
  ASSIGN_OR_RETURN(std::string token, TokenFromFlags(flags));
  return client::ServiceClient::Create(channel, token);
}

int ReportJobError(const Status& status, const std::string& id) {
  if (status.code() == StatusCode::kNotFound && status.message().find(id) == std::string::npos) {
    return ReportError(status.WithContext("job " + id));
  }
  return ReportError(status);
}

bool BudgetNotMet(const v1::Job& job) {
  return job.state() == v1::FAILED && job.error().rfind("BUDGET_NOT_MET", 0) == 0;
}

int ExitCodeForJob(const v1::Job& job) {
  switch (job.state()) {
    case v1::FAILED:
      return BudgetNotMet(job) ? kExitBudgetNotMet : kExitJobFailed;
    case v1::CANCELLED:
      return kExitCancelled;
    default:
      return kExitOk;
  }
}

std::string JobToJson(const v1::Job& job,
                      const std::vector<std::pair<std::string, std::string>>& extra) {
  const v1::ProgressEvent& progress = job.last_progress();
  std::vector<std::pair<std::string, std::string>> members = {
      {"job_id", JsonQuote(job.id())},
      {"state", JsonQuote(v1::JobState_Name(job.state()))},
      {"budget_not_met", JsonBool(BudgetNotMet(job))},
      {"error", JsonQuote(job.error())},
      {"attempts", std::to_string(job.attempts())},
      {"stage", JsonQuote(progress.stage())},
      {"fraction", JsonNumber(progress.fraction())},
      {"message", JsonQuote(progress.message())},
      {"model_id", JsonQuote(job.model_id())},
      {"calibration_dataset_id", JsonQuote(job.calibration_dataset_id())},
      {"evaluation_dataset_id", JsonQuote(job.evaluation_dataset_id())},
      {"priority", std::to_string(job.priority())},
      {"artifact_id", JsonQuote(job.artifact_id())},
      {"report_id", JsonQuote(job.report_id())},
      {"cache_hit", JsonBool(job.cache_hit())},
      {"worker_id", JsonQuote(job.worker_id())},
      {"created_unix_ms", std::to_string(job.created_unix_ms())},
      {"started_unix_ms", std::to_string(job.started_unix_ms())},
      {"finished_unix_ms", std::to_string(job.finished_unix_ms())},
  };
  // Sorted, so the output does not depend on the map's order.
  std::map<std::string, double> metrics(job.metrics().begin(), job.metrics().end());
  std::string metrics_json = "{";
  for (const auto& [name, value] : metrics) {
    if (metrics_json.size() > 1) metrics_json += ", ";
    metrics_json += JsonQuote(name) + ": " + JsonNumber(value);
  }
  members.push_back({"metrics", metrics_json + "}"});
  members.insert(members.end(), extra.begin(), extra.end());
  std::string json = "{";
  for (const auto& [key, value] : members) {
    if (json.size() > 1) json += ", ";
    json += JsonQuote(key) + ": " + value;
  }
  return json + "}";
}

std::string JobToText(const v1::Job& job) {
  const v1::ProgressEvent& progress = job.last_progress();
  std::string text = "job " + job.id() + ": " + v1::JobState_Name(job.state());
  text += " (attempts " + std::to_string(job.attempts());
  if (job.cache_hit()) text += ", cache hit";
  text += ")\n";
  const bool active = job.state() == v1::QUEUED || job.state() == v1::RUNNING;
  if (active && !progress.stage().empty()) {
    text += "  stage: " + progress.stage() + " " + Percent(progress.fraction());
    if (!progress.message().empty()) text += " " + progress.message();
    text += "\n";
  }
  if (!job.error().empty()) text += "  error: " + job.error() + "\n";
  if (!job.artifact_id().empty()) text += "  artifact: " + job.artifact_id() + "\n";
  if (!job.report_id().empty()) text += "  report: " + job.report_id() + "\n";
  std::map<std::string, double> metrics(job.metrics().begin(), job.metrics().end());
  for (const auto& [name, value] : metrics) {
    char line[64];
    std::snprintf(line, sizeof(line), "%.6g", value);
    text += "  " + name + ": " + line + "\n";
  }
  return text;
}

StatusOr<v1::Job> WatchToEnd(client::ServiceClient* client, const std::string& job_id) {
  // Asking first tells an unknown job from a dropped stream, and lets Watch reconnect even when
  // this process has not talked to the server before.
  RETURN_IF_ERROR(client->GetJob(job_id).status());
  Progress progress("job " + job_id, 1000);
  StatusOr<int64_t> watched = client->Watch(job_id, 0, [&](const v1::ProgressEvent& event) {
    std::string detail = v1::JobState_Name(event.state());
    if (!event.stage().empty()) detail += " " + event.stage();
    if (!event.message().empty()) detail += ": " + event.message();
    progress.Update(int64_t(std::lround(std::clamp(event.fraction(), 0.0, 1.0) * 1000)), detail);
  });
  if (!watched.ok()) return watched.status();
  ASSIGN_OR_RETURN(v1::Job job, client->GetJob(job_id));
  progress.Finish(v1::JobState_Name(job.state()) + (job.error().empty() ? "" : ": " + job.error()));
  return job;
}

namespace {

bool IsTar(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[262] = {};
  in.read(head, sizeof(head));
  return in.gcount() == sizeof(head) && std::string(head + 257, 5) == "ustar";
}

// Models too large for one protobuf come back as a tar of the model and its external data; the
// user asked for OUT.onnx, so it is exported again as OUT.onnx (+ OUT.onnx.data when needed).
Status UnpackModelArtifact(const std::string& out) {
  ASSIGN_OR_RETURN(std::string dir, MakeTempDir("shrink-fetch"));
  std::string archive = out + ".tar";
  std::error_code renamed;
  std::filesystem::rename(out, archive, renamed);
  Status status = renamed ? Internal("cannot rename " + out + ": " + renamed.message()) : OkStatus();
  if (status.ok()) status = engine::UnpackTar(archive, dir);
  if (status.ok()) {
    auto bundle = engine::ModelBundle::Open(dir);
    auto model = bundle.ok() ? engine::LoadModel(bundle->model_path())
                             : StatusOr<engine::Model>(bundle.status());
    status = model.ok() ? engine::SaveModel(*model, out) : model.status();
  }
  (void)RemoveAll(dir);
  (void)RemoveAll(archive);
  return status.WithContext("unpacking the artifact into " + out);
}

}  // namespace

Status FetchResults(client::ServiceClient* client, const v1::Job& job, const std::string& out,
                    const std::string& report,
                    std::vector<std::pair<std::string, std::string>>* extra) {
  if (!out.empty()) {
    if (job.artifact_id().empty()) {
      return FailedPrecondition("job " + job.id() + " is " + v1::JobState_Name(job.state()) +
                                " and has no artifact");
    }
    ASSIGN_OR_RETURN(client::DownloadResult artifact,
                     client->Download(job.id(), v1::DownloadRequest::ARTIFACT, out));
    std::fprintf(stderr, "wrote %s (%lld bytes, sha256 %s)\n", out.c_str(),
                 (long long)artifact.size_bytes, artifact.sha256.c_str());
    if (IsTar(out)) RETURN_IF_ERROR(UnpackModelArtifact(out));
    extra->push_back({"out", JsonQuote(out)});
    extra->push_back({"out_sha256", JsonQuote(artifact.sha256)});
  }
  if (!report.empty()) {
    if (job.report_id().empty()) {
      return FailedPrecondition("job " + job.id() + " is " + v1::JobState_Name(job.state()) +
                                " and has no report");
    }
    RETURN_IF_ERROR(client->Download(job.id(), v1::DownloadRequest::REPORT, report).status());
    std::fprintf(stderr, "wrote %s\n", report.c_str());
    extra->push_back({"report", JsonQuote(report)});
    // R.json also gives R.html, the page a CI pipeline keeps next to the JSON.
    const std::string suffix = ".json";
    if (report.size() > suffix.size() &&
        report.compare(report.size() - suffix.size(), suffix.size(), suffix) == 0) {
      const std::string html = report.substr(0, report.size() - suffix.size()) + ".html";
      ASSIGN_OR_RETURN(std::string json, ReadFile(report));
      ASSIGN_OR_RETURN(v1::Report parsed, engine::ReportFromJson(json));
      RETURN_IF_ERROR(WriteFile(html, engine::ReportToHtml(parsed)));
      std::fprintf(stderr, "wrote %s\n", html.c_str());
      extra->push_back({"report_html", JsonQuote(html)});
    }
  }
  return OkStatus();
}

}  // namespace shrink::cli
