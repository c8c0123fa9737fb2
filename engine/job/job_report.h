// Filling the job report (shrink.v1.Report) from what the stages did.
#pragma once

#include <string>

#include "common/status.h"
#include "engine/ir/graph.h"
#include "engine/job/pipeline.h"
#include "engine/quant/quant_types.h"
#include "shrink/v1/report.pb.h"

namespace shrink::engine {

// Versions, seed, threads, the CPU's instruction sets and what calibration read.
void FillManifest(const v1::Recipe& recipe, const JobSpec& spec, const std::string& version,
                  v1::Report* report);
// File hash, ir/opset, op histogram (subgraphs included), raw and zstd size of the model as
// serialized (inline), and whether an external-data file sits next to `path`.
Status SummarizeModel(const Model& model, const std::string& path, v1::ModelSummary* summary);
void AddDecisions(const quant::QuantSummary& summary, v1::Report* report);
// Before/after ratios from the two model summaries.
void FillSizes(v1::Report* report);
// Peak resident memory of this process so far (0 where /proc is missing).
int64_t PeakRssBytes();
// Removes a model file and its external-data file (a failed job leaves nothing behind).
void RemoveOutputs(const std::string& model_path, const std::string& external_data_path);

}  // namespace shrink::engine
