// The job report (shrink.v1.Report) as one self-contained HTML page: inline CSS and inline SVG
// charts, no scripts, no URLs, no external fonts; a Content-Security-Policy forbids loading
// anything. Every string taken from the report is HTML-escaped. Sections without data in the
// report are left out. Used by `shrink report --html` and by `shrink run`.
#pragma once

#include <string>

#include "common/status.h"
#include "shrink/v1/report.pb.h"

namespace shrink::engine {

// Sections, in order (each an <h2> heading; those without data are omitted): Summary, Size,
// Latency, Evaluation, Layer sensitivity, Auto-tune trajectory, Fallbacks, Per-node decisions,
// Stage timings.
std::string ReportToHtml(const v1::Report& report);

// A report read back from its JSON (ReportToJson). Unknown fields are ignored so that reports of
// newer versions still render; malformed JSON -> kInvalidArgument with the parser's message.
StatusOr<v1::Report> ReportFromJson(const std::string& json);

}  // namespace shrink::engine
