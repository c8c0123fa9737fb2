#include "engine/job/report_html.h"

#include <gtest/gtest.h>

#include <tuple>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "engine/job/pipeline.h"
#include "engine/job/report_html_util.h"

namespace shrink::engine {
namespace {

constexpr const char* kEvilNode = "conv<script>alert('x')</script>&1";

// A report as a budgeted int8 job on mnist_cnn would fill it (figures of that order).
v1::Report FullReport() {
  v1::Report r;
  r.set_schema(1);
  r.mutable_input_model()->set_file("mnist_cnn.onnx");
  r.mutable_input_model()->set_size_bytes(436042);
  r.mutable_input_model()->set_opset(13);
  r.mutable_input_model()->set_nodes(12);
  r.mutable_output_model()->set_file("mnist_cnn.int8.onnx");
  r.mutable_output_model()->set_size_bytes(118230);
  r.mutable_output_model()->set_opset(13);
  r.mutable_output_model()->set_nodes(40);
  r.mutable_recipe()->set_preset("int8");
  v1::QuantizeStep* q = r.mutable_recipe()->add_steps()->mutable_quantize();
  q->set_weights(v1::INT8);
  q->set_activations(v1::UINT8);
  q->set_per_channel(true);
  q->set_reduce_range(true);
  q->set_calibrator(v1::ENTROPY);
  r.mutable_recipe()->mutable_budget()->set_max_accuracy_drop(0.3);
  r.mutable_manifest()->set_shrink_version("0.4.0");
  r.mutable_manifest()->set_threads(2);
  r.mutable_manifest()->set_cpu("avx2 fma f16c");
  r.mutable_calibration()->set_calibrator("ENTROPY");
  r.mutable_calibration()->set_samples(500);
  r.mutable_calibration()->set_batches(8);
  r.mutable_calibration()->set_seconds(1.25);
  r.mutable_validation()->set_checker("onnx.checker 1.12");
  r.mutable_validation()->set_ort_loaded(true);
  r.mutable_validation()->set_ort_version("1.29.0");
  r.mutable_validation()->set_ort_message("ran 16 samples");
  r.add_warnings("7-bit weights <reduce_range> on a CPU without VNNI");
  r.set_peak_rss_bytes(int64_t{187} << 20);

  v1::SizeSummary* size = r.mutable_size();
  size->set_raw_before(436042);
  size->set_raw_after(118230);
  size->set_zstd_before(402113);
  size->set_zstd_after(84522);
  size->set_raw_ratio(3.69);
  size->set_zstd_ratio(4.76);
  size->set_zstd_level(19);

  v1::LatencySummary* latency = r.mutable_latency();
  const struct { const char* runtime; const char* model; double median, p90; } runs[] = {
      {"onnxruntime", "before", 0.412, 0.455}, {"onnxruntime", "after", 0.287, 0.301},
      {"shrink", "before", 0.633, 0.702}, {"shrink", "after", 0.521, 0.588}};
  for (const auto& run : runs) {
    v1::Latency* l = latency->add_runs();
    l->set_runtime(run.runtime);
    l->set_model(run.model);
    l->set_threads(1);
    l->set_runs(20);
    l->set_median_ms(run.median);
    l->set_p90_ms(run.p90);
  }
  latency->set_ort_ratio(0.287 / 0.412);

  v1::Evaluation* e = r.mutable_evaluation();
  e->set_runtime("onnxruntime 1.29.0");
  e->set_data("mnist_eval.npz");
  e->set_samples(1000);
  e->set_seconds(0.84);
  e->set_inference_seconds(0.71);
  v1::AccuracyMetrics* a = e->mutable_accuracy();
  a->set_samples(1000);
  a->set_k(5);
  a->set_reference_correct(990);
  a->set_candidate_correct(989);
  a->set_reference_top1(99.0);
  a->set_candidate_top1(98.9);
  a->set_reference_topk(100.0);
  a->set_candidate_topk(99.95);
  a->set_drop(0.1);
  a->set_drop_ci95_low(-0.05);
  a->set_drop_ci95_high(0.25);
  a->set_output("logits");
  v1::OutputMetrics* o = e->add_outputs();
  o->set_output("logits");
  o->set_classifier(true);
  o->set_agreement(0.997);
  o->set_sqnr_db(31.42);
  o->set_cosine(0.999641);
  o->set_max_abs_error(0.8125);
  o->set_mean_abs_error(0.0731);

  // 25 layers: the chart shows the worst 20. Stored in reverse rank order on purpose.
  for (int rank = 25; rank >= 1; --rank) {
    v1::LayerSensitivity* s = r.add_sensitivity();
    s->set_node(rank == 1 ? kEvilNode : "layer_rank_" + std::to_string(rank));
    s->set_op_type(rank % 2 ? "Conv" : "Gemm");
    s->set_tensor("t" + std::to_string(rank));
    s->set_rmse(0.01 * (30 - rank));
    s->set_rmse_over_scale(0.5 * (30 - rank));
    s->set_sqnr_db(20 + rank);
    s->set_rank(rank);
  }

  v1::Tuning* tuning = r.mutable_tuning();
  tuning->set_budget_met(true);
  tuning->set_chosen_trial(2);
  tuning->set_summary("trial #2 meets the budget (drop 0.10 <= 0.30) at 115.5 KiB");
  const struct { const char* settings; double drop; int64_t size; bool meets; } trials[] = {
      {"calibrator=MINMAX per_channel=true", 0.9, 117000, false},
      {"calibrator=ENTROPY per_channel=true", 0.45, 117500, false},
      {"calibrator=ENTROPY per_channel=true fallback=1", 0.1, 118230, true}};
  for (int i = 0; i < 3; ++i) {
    v1::Trial* t = tuning->add_trials();
    t->set_index(i);
    t->set_settings(trials[i].settings);
    t->set_accuracy_drop(trials[i].drop);
    t->set_agreement(0.99);
    t->set_sqnr_db(30);
    t->set_size_bytes(trials[i].size);
    t->set_zstd_bytes(trials[i].size * 7 / 10);
    t->set_meets_budget(trials[i].meets);
    t->set_seconds(2.5);
  }
  tuning->mutable_trials(2)->add_fallback_nodes(kEvilNode);

  const struct { const char* node; const char* op; const char* action; const char* reason; }
  nodes[] = {{kEvilNode, "Conv", "float", ""},
             {"conv2", "Conv", "quantized", ""},
             {"fc1", "Gemm", "quantized", ""},
             {"softmax_out", "Softmax", "excluded", "excluded by exclude_ops"},
             {"reshape", "Reshape", "float", "no integer kernel for Reshape in ORT"}};
  for (const auto& n : nodes) {
    v1::NodeDecision* d = r.add_nodes();
    d->set_node(n.node);
    d->set_op_type(n.op);
    d->set_graph("main");
    d->set_action(n.action);
    d->set_reason(n.reason);
    d->set_per_channel(std::string(n.action) == "quantized");
  }
  for (const auto& [stage, seconds] :
       std::vector<std::pair<std::string, double>>{{"load", 0.012}, {"calibrate", 1.25},
                                                   {"quantize", 0.31}, {"validate", 0.2}}) {
    v1::StageTiming* t = r.add_timings();
    t->set_stage(stage);
    t->set_seconds(seconds);
  }
  return r;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Checks that elements nest properly (a stack of open tags); returns "" or what went wrong.
std::string CheckNesting(const std::string& page) {
  static const std::set<std::string> kVoid = {"meta", "br", "hr", "img", "input", "link"};
  std::vector<std::string> open;
  for (size_t i = page.find('<'); i != std::string::npos; i = page.find('<', i + 1)) {
    if (page.compare(i, 2, "<!") == 0) continue;
    const bool closing = page[i + 1] == '/';
    const size_t start = i + (closing ? 2 : 1);
    const size_t end = page.find_first_of(" >", start);
    if (end == std::string::npos) return "unterminated tag at " + std::to_string(i);
    const std::string name = page.substr(start, end - start);
    if (closing) {
      if (open.empty() || open.back() != name) {
        return "</" + name + "> closes <" + (open.empty() ? "" : open.back()) + ">";
      }
      open.pop_back();
    } else if (!kVoid.count(name)) {
      open.push_back(name);
    }
    if (name == "style" && !closing) i = page.find("</style>", i) - 1;  // CSS is not markup
  }
  return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

TEST(ReportHtmlTest, FullReportHasEverySectionAndItsNumbers) {
  const std::string page = ReportToHtml(FullReport());
  for (const char* heading : {"Summary", "Size", "Latency", "Evaluation", "Layer sensitivity",
                              "Auto-tune trajectory", "Fallbacks", "Per-node decisions",
                              "Stage timings"}) {
    EXPECT_TRUE(Contains(page, std::string("<h2>") + heading + "</h2>")) << heading;
  }
  const char* figures[] = {
      "mnist_cnn.int8.onnx", "preset <code>int8</code>", "calibrator ENTROPY",
      "accuracy drop &lt;= 0.30 points", "onnx.checker 1.12", "loaded and ran the model",
      // size: 436042 B, 118230 B, zstd 402113 / 84522 B
      "425.8 KiB", "115.5 KiB", "392.7 KiB", "82.5 KiB", "3.69x smaller raw", "4.76x",
      // latency: median and p90 per runtime
      "median 0.412 ms, p90 0.455 ms", "median 0.521 ms, p90 0.588 ms", "0.70x",
      // evaluation
      "onnxruntime 1.29.0", "99.00 %", "98.90 %", "0.10 points", "-0.05 to 0.25", "99.70 %",
      "31.4 dB", "0.999641", "0.812",
      // sensitivity and tuning
      "14.50 steps", "layer_rank_20 (Gemm)", "Budget met", "budget 0.3",
      "calibrator=ENTROPY per_channel=true fallback=1",
      // fallbacks, nodes, timings
      "no integer kernel for Reshape in ORT", "excluded by exclude_ops",
      "auto-tune: kept float in the chosen trial #2", "<details><summary>5 nodes:",
      "2 quantized", "1.25 s", "12.00 ms", "187.00 MiB"};
  for (const char* figure : figures) EXPECT_TRUE(Contains(page, figure)) << figure;
  // Top 20 of 25 in the chart, worst (rank 1) first.
  EXPECT_FALSE(Contains(page, "layer_rank_21")) << "the chart shows the top 20 only";
  EXPECT_LT(page.find("conv&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;1 (Conv)"),
            page.find("layer_rank_2 (Gemm)"));
  EXPECT_EQ(CheckNesting(page), "");
  // To look at the page: SHRINK_HTML_SAMPLE=/tmp/full.html build/bin/engine_report_html_test
  if (const char* sample = std::getenv("SHRINK_HTML_SAMPLE")) {
    ASSERT_TRUE(WriteFile(sample, page).ok());
    std::printf("sample report: %s\n", sample);
  }
}

TEST(ReportHtmlTest, EscapesEveryReportStringAndHasNoUrls) {
  const std::string page = ReportToHtml(FullReport());
  EXPECT_FALSE(Contains(page, "<script")) << "node names must be escaped";
  EXPECT_FALSE(Contains(page, "alert('x')"));
  EXPECT_TRUE(Contains(page, "&lt;reduce_range&gt;"));
  EXPECT_FALSE(Contains(page, "http://"));
  EXPECT_FALSE(Contains(page, "https://"));
  EXPECT_FALSE(Contains(page, "url("));
  EXPECT_TRUE(Contains(page, "default-src 'none'")) << "the CSP forbids loading anything";
}

TEST(ReportHtmlTest, MinimalReportOmitsEmptySections) {
  v1::Report r;
  r.mutable_input_model()->set_file("a.onnx");
  r.mutable_output_model()->set_file("b.onnx");
  r.add_timings()->set_stage("load");
  const std::string page = ReportToHtml(r);
  EXPECT_TRUE(Contains(page, "<h2>Summary</h2>"));
  EXPECT_TRUE(Contains(page, "<h2>Stage timings</h2>"));
  for (const char* heading : {"Size", "Latency", "Evaluation", "Layer sensitivity",
                              "Auto-tune trajectory", "Fallbacks", "Per-node decisions",
                              "Warnings", "accuracy budget", "Compression steps", "Sparsity",
                              "Weight clusters", "Adjustments"}) {
    EXPECT_FALSE(Contains(page, std::string(">") + heading + "<")) << heading;
  }
  EXPECT_FALSE(Contains(page, "<svg class=\"chart scatter\""));
  EXPECT_EQ(CheckNesting(page), "");
}

TEST(ReportHtmlTest, PruningAndClusteringHaveTheirSections) {
  v1::Report r;
  for (const auto& [name, raw, zstd] :
       {std::tuple<const char*, int64_t, int64_t>{"prune", 814000, 420000},
        {"cluster", 814000, 190000}, {"quantize", 210000, 61000}}) {
    v1::StepResult* step = r.add_steps();
    step->set_step(name);
    step->set_raw_bytes(raw);
    step->set_zstd_bytes(zstd);
    step->set_evaluated(true);
    step->set_accuracy_drop(0.4);
  }
  v1::LayerSparsity* layer = r.add_sparsity();
  layer->set_node("/fc1/Gemm");
  layer->set_structure("2:4");
  layer->set_target(0.5);
  layer->set_sparsity(0.5);
  layer->set_repair_error_before(0.21);
  layer->set_repair_error_after(0.08);
  r.set_overall_sparsity(0.4873);
  v1::LayerClusters* clusters = r.add_clusters();
  clusters->set_node("/fc2/<Gemm>");
  clusters->set_clusters(16);
  clusters->set_distinct_before(2560);
  clusters->set_distinct_after(16);
  r.add_adjustments("layer /conv1/Conv: 9 input channels are not divisible by 4: left dense");
  const std::string page = ReportToHtml(r);
  for (const char* heading : {"Compression steps", "Sparsity", "Weight clusters", "Adjustments"}) {
    EXPECT_TRUE(Contains(page, std::string("<h2>") + heading + "</h2>")) << heading;
  }
  EXPECT_TRUE(Contains(page, "48.73"));
  EXPECT_TRUE(Contains(page, "0.2100 -&gt; 0.0800"));
  EXPECT_TRUE(Contains(page, "/fc2/&lt;Gemm&gt;"));
  EXPECT_TRUE(Contains(page, "left dense"));
  EXPECT_EQ(CheckNesting(page), "");
}

TEST(ReportHtmlTest, BudgetMissedIsShownWithTheReason) {
  v1::Report r = FullReport();
  r.mutable_tuning()->set_budget_met(false);
  r.mutable_tuning()->set_summary("best trial drops 0.45 points > 0.30");
  r.mutable_latency()->set_slower_than_float(true);
  const std::string page = ReportToHtml(r);
  EXPECT_TRUE(Contains(page, "<span class=\"bad\">not met</span> &mdash; best trial drops 0.45 "
                             "points &gt; 0.30"));
  EXPECT_TRUE(Contains(page, "slower than the float model in ONNX Runtime"));
}

TEST(ReportHtmlTest, JsonRoundTripAndBadJson) {
  const v1::Report report = FullReport();
  auto parsed = ReportFromJson(ReportToJson(report));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(ReportToHtml(*parsed), ReportToHtml(report));
  EXPECT_TRUE(ReportFromJson(R"({"schema": 1, "fieldFromTheFuture": 3})").ok());
  auto bad = ReportFromJson("{\"schema\": ");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(ReportHtmlUtilTest, FormatsNumbers) {
  struct Case { std::string got, want; };
  const Case cases[] = {
      {html::Bytes(812), "812 B"},           {html::Bytes(436042), "425.8 KiB"},
      {html::Bytes(5 << 20), "5.00 MiB"},    {html::Ms(0.4123), "0.412 ms"},
      {html::Ms(12.345), "12.35 ms"},        {html::Ms(1234.4), "1234 ms"},
      {html::Seconds(0.048), "48.00 ms"},   {html::Seconds(2.5), "2.50 s"},
      {html::Db(31.42), "31.4 dB"},          {html::Db(999), "inf dB"},
      {html::Percent(98.9), "98.90 %"},      {html::FractionPercent(0.997), "99.70 %"},
      {html::Fixed(-0.0001, 2), "0.00"},     {html::Short(0.00012), "1.20e-04"},
      {html::Escape("<a href=\"x\">'&'</a>"),
       "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"}};
  for (const Case& c : cases) EXPECT_EQ(c.got, c.want);
}

TEST(ReportHtmlUtilTest, NiceTicksCoverTheRange) {
  const std::vector<double> unit = html::NiceTicks(0, 1, 5);
  ASSERT_EQ(unit.size(), 6u);
  for (size_t i = 0; i < unit.size(); ++i) EXPECT_NEAR(unit[i], 0.2 * i, 1e-12);
  const std::vector<double> ticks = html::NiceTicks(0.093, 0.127, 5);
  ASSERT_FALSE(ticks.empty());
  EXPECT_GE(ticks.front(), 0.093);
  EXPECT_LE(ticks.back(), 0.127 + 1e-12);
  EXPECT_NEAR(ticks[1] - ticks[0], 0.01, 1e-12);
}

}  // namespace
}  // namespace shrink::engine
