// Building blocks of the HTML report (report_html.h): escaping, number formatting and inline SVG
// charts. Every string that reaches the page goes through Escape; the charts escape their labels
// themselves. The SVG uses no xmlns attribute (inline SVG in HTML5 needs none) so the page holds
// no URL at all.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shrink/v1/report.pb.h"

namespace shrink::engine::html {

// &, <, >, " and ' as entities: safe in element text and in quoted attributes.
std::string Escape(std::string_view text);
// printf into a std::string.
std::string Format(const char* format, ...) __attribute__((format(printf, 1, 2)));

// "812 B", "425.8 KiB", "1.23 MiB" (binary units).
std::string Bytes(int64_t bytes);
// "0.412 ms", "12.3 ms", "1234 ms": three significant digits below 1000.
std::string Ms(double ms);
// "1.25 s", "48 ms" for stage timings.
std::string Seconds(double seconds);
// "31.4 dB"; the stored infinity (>= 999) as "inf dB" (outputs identical).
std::string Db(double db);
// A value already in percent: "98.90 %".
std::string Percent(double percent, int digits = 2);
// A fraction in [0, 1] as percent: 0.987 -> "98.70 %".
std::string FractionPercent(double fraction, int digits = 2);
// "%.*f" with a signed zero cleaned up.
std::string Fixed(double value, int digits);
// Three significant digits, exponent form for very small or large magnitudes.
std::string Short(double value);

// Pruning and clustering: sizes after each step, sparsity and clusters per layer, adjustments
// (report_html_steps.cc); "" when the report has none.
std::string CompressionSections(const v1::Report& report);

// <section> with an <h2>; `body` is already escaped HTML.
std::string Section(const std::string& id, const std::string& title, const std::string& body);
// A table from escaped cells; columns whose header starts with '#' are numeric (right-aligned).
std::string Table(const std::vector<std::string>& headers,
                  const std::vector<std::vector<std::string>>& rows);

// One row of a horizontal bar chart.
struct Bar {
  std::string label;       // left of the bar (truncated; the full text goes to the tooltip)
  double value = 0;        // bar length, in the chart's unit; negative is drawn as 0
  double whisker = -1;     // a whisker to this value (e.g. p90); < 0 for none
  std::string value_text;  // printed after the bar
  std::string css_class;   // "before", "after", "bad", "neutral"
  std::string tooltip;     // <title> of the row; the label when empty
};

// A horizontal bar chart; the axis runs from 0 to the largest value or whisker. `title` is the
// SVG's accessible name.
std::string HorizontalBars(const std::vector<Bar>& bars, std::string_view title,
                           int label_width = 180);

struct Point {
  double x = 0;
  double y = 0;
  std::string label;       // drawn next to the point
  std::string tooltip;
  bool highlight = false;  // the chosen point: larger, outlined
  bool good = false;       // meets the budget
};

struct ScatterSpec {
  std::string title;
  std::string x_label;
  std::string y_label;
  bool connect = true;         // a line through the points in order
  bool has_budget = false;
  double budget = 0;           // a dashed horizontal line at this y
  std::string budget_label;
};

// A scatter plot with a line through the points in their order (the tuning trajectory).
std::string ScatterPlot(const std::vector<Point>& points, const ScatterSpec& spec);

// About `count` round tick values covering [low, high] ("nice numbers": 1, 2, 5 x 10^k steps).
std::vector<double> NiceTicks(double low, double high, int count);

}  // namespace shrink::engine::html
