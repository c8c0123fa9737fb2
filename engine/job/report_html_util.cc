#include "engine/job/report_html_util.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace shrink::engine::html {
namespace {

constexpr int kChartWidth = 760;
constexpr int kRowHeight = 24;
constexpr int kBarHeight = 16;
constexpr size_t kMaxLabelChars = 34;

// Labels longer than the label column are cut; the whole text stays in the tooltip.
std::string Truncate(const std::string& text, size_t max_chars) {
  if (text.size() <= max_chars) return text;
  return text.substr(0, max_chars - 3) + "...";
}

double Clamp0(double value) { return std::isfinite(value) && value > 0 ? value : 0; }

}  // namespace

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Format(const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list copy;
  va_copy(copy, args);
  int size = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  std::string out(size > 0 ? static_cast<size_t>(size) : 0, '\0');
  if (size > 0) std::vsnprintf(out.data(), out.size() + 1, format, args);
  va_end(args);
  return out;
}

std::string Bytes(int64_t bytes) {
  const double value = static_cast<double>(bytes);
  if (std::llabs(bytes) < 1024) return Format("%lld B", static_cast<long long>(bytes));
  if (std::fabs(value) < 1024.0 * 1024) return Format("%.1f KiB", value / 1024);
  if (std::fabs(value) < 1024.0 * 1024 * 1024) return Format("%.2f MiB", value / (1024 * 1024));
  return Format("%.2f GiB", value / (1024.0 * 1024 * 1024));
}

std::string Ms(double ms) {
  if (ms >= 1000) return Format("%.0f ms", ms);
  if (ms >= 100) return Format("%.1f ms", ms);
  if (ms >= 10) return Format("%.2f ms", ms);
  return Format("%.3f ms", ms);
}

std::string Seconds(double seconds) {
  if (seconds < 1) return Ms(seconds * 1000);
  return Format("%.2f s", seconds);
}

std::string Db(double db) {
  if (db >= 999 || std::isinf(db)) return "inf dB";
  return Format("%.1f dB", db);
}

std::string Percent(double percent, int digits) { return Fixed(percent, digits) + " %"; }

std::string FractionPercent(double fraction, int digits) {
  return Percent(fraction * 100, digits);
}

std::string Fixed(double value, int digits) {
  std::string out = Format("%.*f", digits, value);
  // "-0.00" reads like a sign that means something.
  if (out[0] == '-' && out.find_first_not_of("-0.") == std::string::npos) out.erase(0, 1);
  return out;
}

std::string Short(double value) {
  const double magnitude = std::fabs(value);
  if (value == 0) return "0";
  if (magnitude < 1e-3 || magnitude >= 1e6) return Format("%.2e", value);
  return Format("%.3g", value);
}

std::vector<double> NiceTicks(double low, double high, int count) {
  if (!(high > low)) high = low + 1;
  const double raw_step = (high - low) / std::max(count, 1);
  const double power = std::pow(10.0, std::floor(std::log10(raw_step)));
  double step = power;
  for (double factor : {1.0, 2.0, 5.0, 10.0}) {
    step = factor * power;
    if (step >= raw_step) break;
  }
  std::vector<double> ticks;
  // Multiples of the step, not a running sum, so that rounding does not accumulate.
  const double first = std::ceil(low / step - 1e-9);
  for (double i = first; i * step <= high + step * 1e-9; ++i) ticks.push_back(i * step);
  return ticks;
}

std::string HorizontalBars(const std::vector<Bar>& bars, std::string_view title,
                           int label_width) {
  constexpr int kTextWidth = 210;  // room for the value text right of the longest bar
  const int plot_width = kChartWidth - label_width - kTextWidth;
  double max_value = 0;
  for (const Bar& bar : bars) max_value = std::max({max_value, Clamp0(bar.value), bar.whisker});
  if (max_value <= 0) max_value = 1;
  const int height = static_cast<int>(bars.size()) * kRowHeight + 8;
  std::string svg = Format(
      "<svg class=\"chart\" role=\"img\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\">"
      "<title>%s</title>\n",
      kChartWidth, height, kChartWidth, height, Escape(title).c_str());
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& bar = bars[i];
    const double y = 4 + static_cast<double>(i) * kRowHeight;
    const double length = Clamp0(bar.value) / max_value * plot_width;
    double end = length;
    svg += Format("<g class=\"%s\"><title>%s</title>", Escape(bar.css_class).c_str(),
                  Escape(bar.tooltip.empty() ? bar.label : bar.tooltip).c_str());
    svg += Format("<text class=\"label\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                  label_width - 6, y + kBarHeight - 4,
                  Escape(Truncate(bar.label, kMaxLabelChars)).c_str());
    svg += Format("<rect x=\"%d\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" rx=\"2\"></rect>",
                  label_width, y, std::max(length, 1.0), kBarHeight);
    if (bar.whisker >= 0) {
      const double whisker = bar.whisker / max_value * plot_width;
      const double mid = y + kBarHeight / 2.0;
      svg += Format(
          "<line class=\"whisker\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"></line>"
          "<line class=\"whisker\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"></line>",
          label_width + length, mid, label_width + whisker, mid, label_width + whisker, mid - 5,
          label_width + whisker, mid + 5);
      end = std::max(end, whisker);
    }
    svg += Format("<text class=\"value\" x=\"%.1f\" y=\"%.1f\">%s</text></g>\n",
                  label_width + end + 6, y + kBarHeight - 4, Escape(bar.value_text).c_str());
  }
  return svg + "</svg>\n";
}

namespace {

struct Axis {
  double low, high;
  std::vector<double> ticks;
};

// Tick labels with as many decimals as the tick step needs (0.1115, 0.1120, not 0.112 twice).
std::string TickLabel(double tick, const std::vector<double>& ticks) {
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  const int digits = std::clamp(static_cast<int>(-std::floor(std::log10(step) + 1e-9)), 0, 6);
  return Fixed(tick, digits);
}

Axis MakeAxis(double low, double high) {
  if (high - low < 1e-12) {
    const double pad = std::max(std::fabs(low) * 0.1, 1e-3);
    low -= pad;
    high += pad;
  }
  const double pad = (high - low) * 0.08;
  Axis axis{low - pad, high + pad, {}};
  axis.ticks = NiceTicks(axis.low, axis.high, 5);
  return axis;
}

}  // namespace

std::string ScatterPlot(const std::vector<Point>& points, const ScatterSpec& spec) {
  constexpr int kHeight = 340, kLeft = 70, kRight = 30, kTop = 20, kBottom = 50;
  constexpr int kPlotW = kChartWidth - kLeft - kRight, kPlotH = kHeight - kTop - kBottom;
  double x_low = INFINITY, x_high = -INFINITY, y_low = INFINITY, y_high = -INFINITY;
  for (const Point& p : points) {
    x_low = std::min(x_low, p.x), x_high = std::max(x_high, p.x);
    y_low = std::min(y_low, p.y), y_high = std::max(y_high, p.y);
  }
  if (spec.has_budget) y_low = std::min(y_low, spec.budget), y_high = std::max(y_high, spec.budget);
  if (points.empty()) x_low = x_high = 0, y_low = y_high = 0;
  const Axis x_axis = MakeAxis(x_low, x_high), y_axis = MakeAxis(y_low, y_high);
  auto sx = [&](double x) {
    return kLeft + (x - x_axis.low) / (x_axis.high - x_axis.low) * kPlotW;
  };
  auto sy = [&](double y) {
    return kTop + (y_axis.high - y) / (y_axis.high - y_axis.low) * kPlotH;
  };

  std::string svg = Format(
      "<svg class=\"chart scatter\" role=\"img\" viewBox=\"0 0 %d %d\" width=\"%d\" "
      "height=\"%d\"><title>%s</title>\n",
      kChartWidth, kHeight, kChartWidth, kHeight, Escape(spec.title).c_str());
  svg += Format("<rect class=\"frame\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"></rect>\n",
                kLeft, kTop, kPlotW, kPlotH);
  for (double tick : x_axis.ticks) {
    if (tick < x_axis.low || tick > x_axis.high) continue;
    svg += Format("<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"></line>"
                  "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                  sx(tick), kTop, sx(tick), kTop + kPlotH, sx(tick), kTop + kPlotH + 16,
                  Escape(TickLabel(tick, x_axis.ticks)).c_str());
  }
  for (double tick : y_axis.ticks) {
    if (tick < y_axis.low || tick > y_axis.high) continue;
    svg += Format("<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"></line>"
                  "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                  kLeft, sy(tick), kLeft + kPlotW, sy(tick), kLeft - 6, sy(tick) + 4,
                  Escape(TickLabel(tick, y_axis.ticks)).c_str());
  }
  svg += Format("<text class=\"axis\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                kLeft + kPlotW / 2, kHeight - 8, Escape(spec.x_label).c_str());
  svg += Format("<text class=\"axis\" transform=\"translate(16 %d) rotate(-90)\" "
                "text-anchor=\"middle\">%s</text>\n",
                kTop + kPlotH / 2, Escape(spec.y_label).c_str());
  if (spec.has_budget) {
    svg += Format("<line class=\"budget\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"></line>"
                  "<text class=\"budget-label\" x=\"%d\" y=\"%.1f\" "
                  "text-anchor=\"end\">%s</text>\n",
                  kLeft, sy(spec.budget), kLeft + kPlotW, sy(spec.budget), kLeft + kPlotW - 4,
                  sy(spec.budget) - 5, Escape(spec.budget_label).c_str());
  }
  if (spec.connect && points.size() > 1) {
    std::string path;
    for (const Point& p : points) path += Format("%.1f,%.1f ", sx(p.x), sy(p.y));
    svg += "<polyline class=\"trajectory\" points=\"" + path + "\"></polyline>\n";
  }
  for (const Point& p : points) {
    svg += Format("<g class=\"point %s%s\"><title>%s</title>", p.good ? "good" : "miss",
                  p.highlight ? " chosen" : "",
                  Escape(p.tooltip.empty() ? p.label : p.tooltip).c_str());
    svg += Format("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\"></circle>", sx(p.x), sy(p.y),
                  p.highlight ? 8 : 5);
    svg += Format("<text x=\"%.1f\" y=\"%.1f\">%s</text></g>\n", sx(p.x) + 9, sy(p.y) - 7,
                  Escape(p.label).c_str());
  }
  return svg + "</svg>\n";
}

std::string Section(const std::string& id, const std::string& title, const std::string& body) {
  return "<section id=\"" + id + "\"><h2>" + Escape(title) + "</h2>\n" + body + "</section>\n";
}

// A table from escaped cells; columns whose header starts with '#' are numeric (right-aligned).
std::string Table(const std::vector<std::string>& headers,
                  const std::vector<std::vector<std::string>>& rows) {
  std::string out = "<table><thead><tr>";
  for (const std::string& h : headers) {
    const bool num = !h.empty() && h[0] == '#';
    out += std::string(num ? "<th class=\"num\">" : "<th>") + Escape(num ? h.substr(1) : h) +
           "</th>";
  }
  out += "</tr></thead><tbody>\n";
  for (const auto& row : rows) {
    out += "<tr>";
    for (size_t i = 0; i < row.size(); ++i) {
      const bool num = i < headers.size() && !headers[i].empty() && headers[i][0] == '#';
      out += std::string(num ? "<td class=\"num\">" : "<td>") + row[i] + "</td>";
    }
    out += "</tr>\n";
  }
  return out + "</tbody></table>\n";
}

}  // namespace shrink::engine::html
