// The report sections of pruning and clustering: size (and accuracy) after every step, sparsity
// per layer, clusters per layer, and what the engine adjusted.
#include "engine/job/report_html_util.h"

namespace shrink::engine::html {

std::string CompressionSections(const v1::Report& report) {
  std::string out;
  if (report.steps_size() > 0) {
    std::vector<Bar> bars;
    std::vector<std::vector<std::string>> rows;
    for (const v1::StepResult& step : report.steps()) {
      bars.push_back({step.step(), double(step.zstd_bytes()), -1, Bytes(step.zstd_bytes()),
                      "after", ""});
      rows.push_back({Escape(step.step()), Escape(Bytes(step.raw_bytes())),
                      Escape(Bytes(step.zstd_bytes())),
                      step.evaluated() ? Escape(Fixed(step.accuracy_drop(), 2)) : "",
                      step.evaluated() ? Escape(FractionPercent(step.agreement())) : "",
                      step.evaluated() ? Escape(Db(step.sqnr_db())) : ""});
    }
    std::string body = "<p>The model after each step (zstd: the OTA payload).</p>\n";
    body += HorizontalBars(bars, "zstd size after each step");
    body += Table({"step", "#raw", "#zstd", "#accuracy drop", "#agreement", "#SQNR"}, rows);
    out += Section("steps", "Compression steps", body);
  }
  if (report.sparsity_size() > 0) {
    std::vector<std::vector<std::string>> rows;
    for (const v1::LayerSparsity& layer : report.sparsity()) {
      std::string repair;
      if (layer.repair_error_before() > 0 || layer.repair_error_after() > 0) {
        repair = Escape(Fixed(layer.repair_error_before(), 4) + " -> " +
                        Fixed(layer.repair_error_after(), 4));
      }
      rows.push_back({"<code>" + Escape(layer.node()) + "</code>", Escape(layer.structure()),
                      Escape(FractionPercent(layer.target())),
                      Escape(FractionPercent(layer.sparsity())),
                      Format("%lld", (long long)layer.channels_removed()), repair});
    }
    std::string body = "<p>Overall sparsity of prunable weights: <b>" +
                       Escape(FractionPercent(report.overall_sparsity())) + "</b>.</p>\n";
    body += Table({"node", "structure", "#target", "#sparsity", "#channels removed",
                   "repair error (relative)"}, rows);
    out += Section("sparsity", "Sparsity", body);
  }
  if (report.clusters_size() > 0) {
    std::vector<std::vector<std::string>> rows;
    for (const v1::LayerClusters& layer : report.clusters()) {
      rows.push_back({"<code>" + Escape(layer.node()) + "</code>",
                      Format("%d", layer.clusters()),
                      Format("%lld", (long long)layer.distinct_before()),
                      Format("%lld", (long long)layer.distinct_after()),
                      layer.compact() ? "indices + table" : "dense",
                      Escape(Short(layer.rmse()))});
    }
    out += Section("clusters", "Weight clusters",
                   Table({"node", "#clusters", "#distinct before", "#distinct after", "stored",
                          "#weight RMSE"}, rows));
  }
  if (report.adjustments_size() > 0) {
    std::string items;
    for (const std::string& adjustment : report.adjustments()) {
      items += "<li>" + Escape(adjustment) + "</li>\n";
    }
    out += Section("adjustments", "Adjustments", "<ul>\n" + items + "</ul>\n");
  }
  return out;
}

}  // namespace shrink::engine::html
