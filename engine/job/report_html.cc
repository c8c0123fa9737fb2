#include "engine/job/report_html.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <map>
#include <vector>

#include "common/file_util.h"
#include "engine/job/report_html_util.h"

namespace shrink::engine {
namespace {

using html::Bar;
using html::Escape;
using html::Format;
using html::Section;
using html::Table;

constexpr const char* kStyle = R"(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;
  margin:0;background:#f5f6f8}
main{max-width:1100px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:0 0 10px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:14px 18px;
  margin:14px 0}
table{border-collapse:collapse;margin:6px 0 4px;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid #e6e9ee;padding:3px 10px 3px 0;text-align:left;vertical-align:top}
th{font-weight:600;color:#4a5263}td.num,th.num{text-align:right;white-space:nowrap}
dl{display:grid;grid-template-columns:200px 1fr;gap:2px 12px;margin:0}dt{color:#4a5263}dd{margin:0}
.ok{color:#17803d;font-weight:600}.bad{color:#c0262d;font-weight:600}.muted{color:#6b7384}
code,pre{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}
pre{background:#f3f4f7;padding:8px;overflow:auto;max-height:360px}
ul.warnings li{color:#8a5300}
svg.chart{display:block;max-width:100%;height:auto;margin:6px 0;font-size:12px}
svg .label,svg .value,svg .tick{fill:#2b3242}svg .axis{fill:#2b3242;font-weight:600}
svg g.before rect{fill:#8d99ae}svg g.after rect{fill:#2f7fd8}svg g.bad rect{fill:#d9534f}
svg g.neutral rect{fill:#6c8ebf}svg .whisker{stroke:#1d2330;stroke-width:1.5}
svg .frame{fill:none;stroke:#c9ced8}svg .grid{stroke:#eceef2}
svg .budget{stroke:#c0262d;stroke-width:1.5;stroke-dasharray:6 4}svg .budget-label{fill:#c0262d}
svg .trajectory{fill:none;stroke:#9aa5b8;stroke-width:1.5}
svg g.point circle{fill:#d9534f;stroke:#fff;stroke-width:1}svg g.point.good circle{fill:#17803d}
svg g.point.chosen circle{stroke:#1d2330;stroke-width:3}svg g.point text{fill:#2b3242}
.legend span{display:inline-block;margin-right:14px}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px}
details summary{cursor:pointer;font-weight:600}
)";

bool IsQuantized(const v1::NodeDecision& node) {
  return node.action() == "quantized" || node.action() == "converted";
}

std::string Badge(bool ok, const std::string& yes, const std::string& no) {
  return ok ? "<span class=\"ok\">" + Escape(yes) + "</span>"
            : "<span class=\"bad\">" + Escape(no) + "</span>";
}

// <dt>/<dd> pair; `value_html` is already escaped.
std::string Row(const std::string& name, const std::string& value_html) {
  return "<dt>" + Escape(name) + "</dt><dd>" + value_html + "</dd>\n";
}

std::string StepSummary(const v1::Step& step) {
  if (step.has_quantize()) {
    const v1::QuantizeStep& q = step.quantize();
    return Format("quantize: weights %s, activations %s, per-channel %s, reduce-range %s, "
                  "symmetric activations %s, calibrator %s",
                  v1::QuantType_Name(q.weights()).c_str(),
                  v1::QuantType_Name(q.activations()).c_str(), q.per_channel() ? "yes" : "no",
                  q.reduce_range() ? "yes" : "no", q.symmetric_activations() ? "yes" : "no",
                  v1::Calibrator_Name(q.calibrator()).c_str());
  }
  if (step.has_float16()) {
    return Format("float16: %s, float32 I/O %s",
                  step.float16().weights_only() ? "weights only" : "weights and activations",
                  step.float16().keep_io_float32() ? "kept" : "converted");
  }
  return "(empty step)";
}

bool HasBudget(const v1::Budget& budget) {
  return budget.max_accuracy_drop() > 0 || budget.min_sqnr_db() > 0 ||
         budget.min_agreement() > 0;
}

std::string BudgetText(const v1::Budget& budget) {
  std::vector<std::string> parts;
  if (budget.max_accuracy_drop() > 0) {
    parts.push_back("accuracy drop <= " + html::Fixed(budget.max_accuracy_drop(), 2) + " points");
  }
  if (budget.min_sqnr_db() > 0) parts.push_back("SQNR >= " + html::Db(budget.min_sqnr_db()));
  if (budget.min_agreement() > 0) {
    parts.push_back("top-1 agreement >= " + html::FractionPercent(budget.min_agreement()));
  }
  std::string text;
  for (const std::string& part : parts) text += (text.empty() ? "" : ", ") + part;
  return text;
}

// Budget met or not, and why: the tuner's verdict when it ran, else the evaluation's figures.
std::string BudgetVerdict(const v1::Report& report) {
  const v1::Budget& budget = report.recipe().budget();
  std::string out = Escape(BudgetText(budget)) + ": ";
  if (report.has_tuning()) {
    out += Badge(report.tuning().budget_met(), "met", "not met");
    if (!report.tuning().summary().empty()) out += " &mdash; " + Escape(report.tuning().summary());
    return out;
  }
  if (!report.has_evaluation()) return out + "<span class=\"muted\">not evaluated</span>";
  const v1::Evaluation& eval = report.evaluation();
  bool met = true;
  std::string why;
  if (budget.max_accuracy_drop() > 0) {
    met &= eval.has_accuracy() && eval.accuracy().drop() <= budget.max_accuracy_drop();
    why += " drop " + html::Fixed(eval.accuracy().drop(), 2) + " points;";
  }
  for (const v1::OutputMetrics& output : eval.outputs()) {
    if (budget.min_sqnr_db() > 0) met &= output.sqnr_db() >= budget.min_sqnr_db();
    if (budget.min_agreement() > 0 && output.classifier()) {
      met &= output.agreement() >= budget.min_agreement();
    }
  }
  return out + Badge(met, "met", "not met") + " &mdash; evaluation:" + Escape(why) +
         " see Evaluation";
}

std::string ModelLine(const v1::ModelSummary& model) {
  return "<code>" + Escape(model.file()) + "</code> (" + Escape(html::Bytes(model.size_bytes())) +
         Format(", opset %lld, %lld nodes)", static_cast<long long>(model.opset()),
                static_cast<long long>(model.nodes()));
}

std::string RecipeHtml(const v1::Recipe& recipe) {
  std::string out = recipe.preset().empty() ? std::string("custom recipe")
                                            : "preset <code>" + Escape(recipe.preset()) + "</code>";
  for (const v1::Step& step : recipe.steps()) out += "<br>" + Escape(StepSummary(step));
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(recipe, &json, options);
  return out + "<details><summary>recipe as run (JSON)</summary><pre>" + Escape(json) +
         "</pre></details>";
}

std::string ValidationHtml(const v1::Validation& v) {
  std::string out = v.checker().empty() ? std::string("<span class=\"muted\">no checker</span>")
                                        : "checker: " + Escape(v.checker());
  out += "; ONNX Runtime " + Escape(v.ort_version()) + ": " +
         Badge(v.ort_loaded(), "loaded and ran the model", "did not load the model");
  if (!v.ort_message().empty()) out += " &mdash; " + Escape(v.ort_message());
  return out;
}

std::string SummarySection(const v1::Report& report) {
  std::string body = "<dl>\n";
  body += Row("input model", ModelLine(report.input_model()));
  body += Row("output model", ModelLine(report.output_model()));
  body += Row("recipe", RecipeHtml(report.recipe()));
  if (HasBudget(report.recipe().budget())) body += Row("accuracy budget", BudgetVerdict(report));
  if (report.has_validation()) body += Row("validation", ValidationHtml(report.validation()));
  if (report.has_latency() && report.latency().runs_size() > 0) {
    body += Row("latency gate", Badge(!report.latency().slower_than_float(),
                                      "not slower than float in ONNX Runtime",
                                      "slower than the float model in ONNX Runtime"));
  }
  if (report.has_calibration() && !report.calibration().calibrator().empty()) {
    const v1::CalibrationSummary& c = report.calibration();
    body += Row("calibration", Escape(Format("%s on %lld samples (%lld batches) in %s",
                                             c.calibrator().c_str(),
                                             static_cast<long long>(c.samples()),
                                             static_cast<long long>(c.batches()),
                                             html::Seconds(c.seconds()).c_str())));
  }
  const v1::Manifest& m = report.manifest();
  if (!m.shrink_version().empty()) {
    const std::string threads = m.threads() > 0 ? Format("%d threads", m.threads())
                                                : std::string("one thread per core");
    body += Row("run by", Escape(Format("shrink %s, %s, seed %llu, CPU %s",
                                        m.shrink_version().c_str(), threads.c_str(),
                                        static_cast<unsigned long long>(m.seed()),
                                        m.cpu().c_str())));
  }
  if (report.peak_rss_bytes() > 0) {
    body += Row("peak memory", Escape(html::Bytes(report.peak_rss_bytes())));
  }
  body += "</dl>\n";
  if (report.warnings_size() > 0) {
    body += "<h3>Warnings</h3><ul class=\"warnings\">\n";
    for (const std::string& w : report.warnings()) body += "<li>" + Escape(w) + "</li>\n";
    body += "</ul>\n";
  }
  return Section("summary", "Summary", body);
}

std::string SizeSection(const v1::Report& report) {
  const v1::SizeSummary& s = report.size();
  if (s.raw_before() <= 0 && s.raw_after() <= 0) return "";
  std::vector<Bar> bars = {
      {"raw before", double(s.raw_before()), -1, html::Bytes(s.raw_before()), "before", ""},
      {"raw after", double(s.raw_after()), -1, html::Bytes(s.raw_after()), "after", ""},
      {"zstd before", double(s.zstd_before()), -1, html::Bytes(s.zstd_before()), "before", ""},
      {"zstd after", double(s.zstd_after()), -1, html::Bytes(s.zstd_after()), "after", ""}};
  std::string body = Format("<p>%.2fx smaller raw, %.2fx smaller after zstd (level %d, the OTA "
                            "payload).</p>\n",
                            s.raw_ratio(), s.zstd_ratio(), s.zstd_level());
  body += html::HorizontalBars(bars, "model size before and after, raw and zstd", 120);
  return Section("size", "Size", body);
}

std::string LatencySection(const v1::Report& report) {
  const v1::LatencySummary& latency = report.latency();
  if (latency.runs_size() == 0) return "";
  std::vector<Bar> bars;
  std::vector<std::vector<std::string>> rows;
  for (const v1::Latency& run : latency.runs()) {
    const bool after = run.model() == "after";
    const std::string label = run.runtime() + " " + run.model();
    bars.push_back({label, run.median_ms(), run.p90_ms(),
                    "median " + html::Ms(run.median_ms()) + ", p90 " + html::Ms(run.p90_ms()),
                    after ? (latency.slower_than_float() && run.runtime() == "onnxruntime"
                                 ? "bad" : "after")
                          : "before",
                    Format("%s: %d runs, %d threads", label.c_str(), run.runs(), run.threads())});
    rows.push_back({Escape(run.runtime()), Escape(run.model()), Format("%d", run.threads()),
                    Format("%d", run.runs()), Escape(html::Ms(run.median_ms())),
                    Escape(html::Ms(run.p90_ms()))});
  }
  std::string body = "<p>Bars: median; whiskers: p90.";
  if (latency.ort_ratio() > 0) {
    body += Format(" ONNX Runtime after/before: %.2fx ", latency.ort_ratio()) +
            Badge(!latency.slower_than_float(), "(faster or equal)", "(slower than float)");
  }
  body += "</p>\n" + html::HorizontalBars(bars, "latency before and after per runtime", 180);
  body += Table({"runtime", "model", "#threads", "#runs", "#median", "#p90"}, rows);
  return Section("latency", "Latency", body);
}

std::string AccuracyTable(const v1::AccuracyMetrics& a) {
  const std::string k = Format("top-%d", a.k());
  std::vector<std::vector<std::string>> rows = {
      {"reference (float)", Escape(html::Percent(a.reference_top1())),
       Escape(html::Percent(a.reference_topk())), Format("%lld", (long long)a.reference_correct())},
      {"candidate", Escape(html::Percent(a.candidate_top1())),
       Escape(html::Percent(a.candidate_topk())),
       Format("%lld", (long long)a.candidate_correct())}};
  std::string out = Table({"model", "#top-1", "#" + k, "#correct (top-1)"}, rows);
  out += "<p>Top-1 drop: <b>" + Escape(html::Fixed(a.drop(), 2)) + " points</b> (95% interval " +
         Escape(html::Fixed(a.drop_ci95_low(), 2) + " to " + html::Fixed(a.drop_ci95_high(), 2)) +
         Format(" points; %lld samples", static_cast<long long>(a.samples()));
  if (!a.output().empty()) out += ", labels scored on <code>" + Escape(a.output()) + "</code>";
  return out + ").</p>\n";
}

std::string EvaluationSection(const v1::Report& report) {
  if (!report.has_evaluation()) return "";
  const v1::Evaluation& e = report.evaluation();
  std::string body = "<p>Computed by <b>" + Escape(e.runtime()) + "</b> on " +
                     Format("%lld samples", static_cast<long long>(e.samples()));
  if (!e.data().empty()) body += " of <code>" + Escape(e.data()) + "</code>";
  body += " in " + Escape(html::Seconds(e.seconds())) + " (" +
          Escape(html::Seconds(e.inference_seconds())) + " running the two models).</p>\n";
  if (e.has_accuracy()) body += AccuracyTable(e.accuracy());
  if (e.outputs_size() > 0) {
    std::vector<std::vector<std::string>> rows;
    for (const v1::OutputMetrics& o : e.outputs()) {
      rows.push_back({"<code>" + Escape(o.output()) + "</code>",
                      o.classifier() ? Escape(html::FractionPercent(o.agreement())) : "&ndash;",
                      Escape(html::Db(o.sqnr_db())), Escape(html::Fixed(o.cosine(), 6)),
                      Escape(html::Short(o.max_abs_error())),
                      Escape(html::Short(o.mean_abs_error()))});
    }
    body += Table({"output", "#top-1 agreement", "#SQNR", "#cosine", "#max abs error",
                   "#mean abs error"}, rows);
  }
  return Section("evaluation", "Evaluation", body);
}

std::string SensitivitySection(const v1::Report& report) {
  if (report.sensitivity_size() == 0) return "";
  std::vector<v1::LayerSensitivity> layers(report.sensitivity().begin(),
                                           report.sensitivity().end());
  // Rank 1 is the worst; unranked entries keep the report's order (already worst first).
  std::stable_sort(layers.begin(), layers.end(), [](const auto& a, const auto& b) {
    return a.rank() > 0 && (b.rank() <= 0 || a.rank() < b.rank());
  });
  bool in_steps = false;
  for (const auto& layer : layers) in_steps |= layer.rmse_over_scale() > 0;
  constexpr size_t kTop = 20;
  std::vector<Bar> bars;
  for (size_t i = 0; i < layers.size() && i < kTop; ++i) {
    const v1::LayerSensitivity& l = layers[i];
    const double value = in_steps ? l.rmse_over_scale() : l.rmse();
    const std::string text = (in_steps ? html::Fixed(value, 2) + " steps" : "RMSE " +
                              html::Short(value)) + ", SQNR " + html::Db(l.sqnr_db());
    bars.push_back({l.node() + " (" + l.op_type() + ")", value, -1, text,
                    i < 3 ? "bad" : "neutral",
                    Format("#%zu %s (%s), tensor %s: RMSE %s, %s", i + 1, l.node().c_str(),
                           l.op_type().c_str(), l.tensor().c_str(), html::Short(l.rmse()).c_str(),
                           html::Db(l.sqnr_db()).c_str())});
  }
  std::string body = Format("<p>The error each quantized node adds (its output against the same "
                            "tensor in the float model), worst first; %s. Showing %zu of %d.</p>\n",
                            in_steps ? "bars in quantization steps (RMSE / scale)" : "bars: RMSE",
                            bars.size(), report.sensitivity_size());
  body += html::HorizontalBars(bars, "per-layer sensitivity, worst first", 280);
  return Section("sensitivity", "Layer sensitivity", body);
}

// The trial the tuner chose (chosen_trial indexes `trials`), or null.
const v1::Trial* ChosenTrial(const v1::Tuning& tuning) {
  const int chosen = tuning.chosen_trial();
  return chosen >= 0 && chosen < tuning.trials_size() ? &tuning.trials(chosen) : nullptr;
}

// What the trajectory plots: the metric the budget constrains (accuracy drop first).
struct TrialMetric {
  std::string name;
  double budget = 0;
  double (*value)(const v1::Trial&);
};

TrialMetric ChooseMetric(const v1::Report& report) {
  const v1::Budget& b = report.recipe().budget();
  const bool labels = report.evaluation().has_accuracy();
  if (b.max_accuracy_drop() > 0 || (b.min_sqnr_db() <= 0 && b.min_agreement() <= 0 && labels)) {
    return {"accuracy drop (points)", b.max_accuracy_drop(),
            [](const v1::Trial& t) { return t.accuracy_drop(); }};
  }
  if (b.min_agreement() > 0 && b.min_sqnr_db() <= 0) {
    return {"top-1 agreement (%)", b.min_agreement() * 100,
            [](const v1::Trial& t) { return t.agreement() * 100; }};
  }
  // The stored infinity (999 dB) would flatten every other point.
  return {"min SQNR (dB)", b.min_sqnr_db(),
          [](const v1::Trial& t) { return std::min(t.sqnr_db(), 150.0); }};
}

std::string TuningSection(const v1::Report& report) {
  const v1::Tuning& tuning = report.tuning();
  if (tuning.trials_size() == 0) return "";
  const v1::Trial* chosen = ChosenTrial(tuning);
  const TrialMetric metric = ChooseMetric(report);
  int64_t largest = 0;
  for (const v1::Trial& t : tuning.trials()) largest = std::max(largest, t.size_bytes());
  const bool in_mib = largest >= 1024 * 1024;
  const double unit = in_mib ? 1024.0 * 1024 : 1024.0;
  std::vector<html::Point> points;
  std::vector<std::vector<std::string>> rows;
  for (const v1::Trial& t : tuning.trials()) {
    const bool is_chosen = &t == chosen;
    points.push_back({double(t.size_bytes()) / unit, metric.value(t),
                      Format("#%d", t.index()),
                      Format("trial #%d: %s; %s", t.index(), t.settings().c_str(),
                             html::Bytes(t.size_bytes()).c_str()),
                      is_chosen, t.meets_budget()});
    rows.push_back({Format("%d", t.index()) + (is_chosen ? " <b>chosen</b>" : ""),
                    Escape(t.settings()), Format("%d", t.fallback_nodes_size()),
                    Escape(html::Fixed(t.accuracy_drop(), 2)),
                    Escape(html::FractionPercent(t.agreement())), Escape(html::Db(t.sqnr_db())),
                    Escape(html::Bytes(t.size_bytes())), Escape(html::Bytes(t.zstd_bytes())),
                    t.latency_ms() > 0 ? Escape(html::Ms(t.latency_ms())) : "&ndash;",
                    Badge(t.meets_budget(), "yes", "no"), Escape(html::Seconds(t.seconds())),
                    Escape(t.note())});
  }
  html::ScatterSpec spec{"auto-tune trajectory: " + metric.name + " against model size",
                         in_mib ? "model size (MiB)" : "model size (KiB)", metric.name, true,
                         metric.budget > 0, metric.budget,
                         "budget " + html::Short(metric.budget)};
  std::string body = "<p>" + Badge(tuning.budget_met(), "Budget met", "Budget not met");
  if (!tuning.summary().empty()) body += ": " + Escape(tuning.summary());
  body += "</p>\n<p class=\"legend\"><span><i class=\"swatch\" style=\"background:#17803d\">"
          "</i>meets the budget</span><span><i class=\"swatch\" style=\"background:#d9534f\">"
          "</i>misses it</span><span>outlined: chosen</span><span>dashed: budget</span></p>\n";
  body += html::ScatterPlot(points, spec);
  body += Table({"#trial", "settings", "#fallbacks", "#acc. drop", "#agreement", "#min SQNR",
                 "#size", "#zstd", "#latency", "meets", "#time", "note"}, rows);
  return Section("tuning", "Auto-tune trajectory", body);
}

std::string FallbackSection(const v1::Report& report) {
  std::map<std::string, int> sensitivity_rank;
  for (int i = 0; i < report.sensitivity_size(); ++i) {
    const auto& l = report.sensitivity(i);
    sensitivity_rank.emplace(l.node(), l.rank() > 0 ? l.rank() : i + 1);
  }
  std::map<std::string, std::string> op_of;
  for (const v1::NodeDecision& n : report.nodes()) op_of[n.node()] = n.op_type();
  std::vector<std::string> order;                  // first appearance
  std::map<std::string, std::vector<std::string>> row_of;  // node -> cells
  auto rank_text = [&](const std::string& node) {
    auto it = sensitivity_rank.find(node);
    return it == sensitivity_rank.end() ? std::string("&ndash;") : Format("%d", it->second);
  };
  for (const v1::NodeDecision& n : report.nodes()) {
    if (n.action() != "float" && n.action() != "excluded") continue;
    if (row_of.count(n.node())) continue;
    order.push_back(n.node());
    row_of[n.node()] = {"<code>" + Escape(n.node()) + "</code>", Escape(n.op_type()),
                        Escape(n.action()), rank_text(n.node()),
                        n.reason().empty() ? "<span class=\"muted\">(no reason given)</span>"
                                           : Escape(n.reason())};
  }
  if (const v1::Trial* chosen = ChosenTrial(report.tuning())) {
    const std::string why = Format("auto-tune: kept float in the chosen trial #%d (%s)",
                                   chosen->index(), chosen->settings().c_str());
    for (const std::string& node : chosen->fallback_nodes()) {
      auto it = row_of.find(node);
      if (it != row_of.end()) {
        it->second[4] += "; " + Escape(why);
        continue;
      }
      order.push_back(node);
      row_of[node] = {"<code>" + Escape(node) + "</code>", Escape(op_of[node]), "float (tuned)",
                      rank_text(node), Escape(why)};
    }
  }
  if (order.empty()) return "";
  std::vector<std::vector<std::string>> rows;
  for (const std::string& node : order) rows.push_back(row_of[node]);
  std::string body = Format("<p>%zu nodes kept in float and why.</p>\n", order.size());
  body += Table({"node", "op", "action", "#sensitivity rank", "reason"}, rows);
  return Section("fallbacks", "Fallbacks", body);
}

std::string NodesSection(const v1::Report& report) {
  if (report.nodes_size() == 0) return "";
  std::map<std::string, int> by_action;
  std::vector<std::vector<std::string>> rows;
  for (const v1::NodeDecision& n : report.nodes()) {
    ++by_action[n.action()];
    rows.push_back({"<code>" + Escape(n.node()) + "</code>", Escape(n.op_type()),
                    Escape(n.graph()),
                    IsQuantized(n) ? "<span class=\"ok\">" + Escape(n.action()) + "</span>"
                                   : Escape(n.action()),
                    n.per_channel() ? "yes" : "", Escape(n.weight_type()),
                    Escape(n.activation_type()), Escape(n.reason())});
  }
  std::string counts;
  for (const auto& [action, count] : by_action) {
    counts += (counts.empty() ? "" : ", ") + Format("%d ", count) + Escape(action);
  }
  std::string body = Format("<details><summary>%d nodes: ", report.nodes_size()) + counts +
                     "</summary>\n";
  body += Table({"node", "op", "graph", "action", "per-channel", "weights", "activations",
                 "reason"}, rows);
  return Section("nodes", "Per-node decisions", body + "</details>\n");
}

std::string TimingSection(const v1::Report& report) {
  if (report.timings_size() == 0) return "";
  std::vector<Bar> bars;
  double total = 0;
  for (const v1::StageTiming& t : report.timings()) {
    bars.push_back({t.stage(), t.seconds(), -1, html::Seconds(t.seconds()), "neutral", ""});
    total += t.seconds();
  }
  std::string body = "<p>Total " + Escape(html::Seconds(total)) + ".</p>\n";
  return Section("timings", "Stage timings", body + html::HorizontalBars(bars, "stage timings"));
}

}  // namespace

std::string ReportToHtml(const v1::Report& report) {
  std::string title = "shrink report: " + BaseName(report.input_model().file());
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
      Escape(title) + "</title>\n<style>" + kStyle + "</style></head>\n<body><main>\n";
  out += "<h1>" + Escape(title) + "</h1>\n<p class=\"muted\">" +
         Escape(report.input_model().file() + " -> " + report.output_model().file()) + "</p>\n";
  out += SummarySection(report);
  out += SizeSection(report);
  out += html::CompressionSections(report);
  out += LatencySection(report);
  out += EvaluationSection(report);
  out += SensitivitySection(report);
  out += TuningSection(report);
  out += FallbackSection(report);
  out += NodesSection(report);
  out += TimingSection(report);
  return out + "</main></body></html>\n";
}

StatusOr<v1::Report> ReportFromJson(const std::string& json) {
  v1::Report report;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(json, &report, options);
  if (!status.ok()) return InvalidArgument("not a shrink report: " + status.ToString());
  return report;
}

}  // namespace shrink::engine
