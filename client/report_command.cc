// `shrink report REPORT.json --html OUT.html`: renders a saved job report (from `shrink run
// --report` or `shrink fetch --report`) as one self-contained HTML page.
#include <cstdio>

#include "client/commands.h"
#include "client/flags.h"
#include "common/file_util.h"
#include "engine/job/report_html.h"

namespace shrink::cli {
namespace {

constexpr const char* kUsage =
    "usage: shrink report REPORT.json --html OUT.html\n"
    "  renders a job report as a self-contained HTML page (inline SVG charts, no network)\n";

// Reports are small; anything this large is not one.
constexpr uint64_t kMaxReportBytes = uint64_t{256} << 20;

}  // namespace

int ReportCommand(const std::vector<std::string>& args) {
  FlagSpec spec{{"html"}, {"help"}};
  auto flags = ParseFlags(args, spec);
  if (!flags.ok()) {
    std::fprintf(stderr, "shrink report: %s\n%s", flags.status().message().c_str(), kUsage);
    return kExitUsage;
  }
  if (flags->Has("help")) {
    std::fprintf(stdout, "%s", kUsage);
    return kExitOk;
  }
  if (flags->positional.size() != 1 || flags->Get("html").empty()) {
    std::fprintf(stderr, "shrink report: needs REPORT.json and --html OUT.html\n%s", kUsage);
    return kExitUsage;
  }
  const std::string& path = flags->positional[0];
  auto json = ReadFile(path, kMaxReportBytes);
  if (!json.ok()) return ReportError(json.status());  // names the file
  auto report = engine::ReportFromJson(*json);
  if (!report.ok()) return ReportError(InvalidArgument(path + ": " + report.status().message()));
  const std::string out = flags->Get("html");
  Status written = WriteFile(out, engine::ReportToHtml(*report));
  if (!written.ok()) return ReportError(written);
  std::fprintf(stderr, "wrote %s\n", out.c_str());
  return kExitOk;
}

}  // namespace shrink::cli
