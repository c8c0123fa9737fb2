// Per-layer sensitivity: where a quantized model loses accuracy. Both models run on the same
// first samples of DATA in the engine's runtime, and every node the two share by name has its
// first output compared (quantized nodes keep their names; a clamp the quantizer absorbed is
// looked through). A node's sensitivity is the dB of SQNR it loses: the worst SQNR among its
// inputs (capped at 60 dB, where error stops mattering) minus the SQNR of its output. Error a
// node only passes on costs ~0 dB; a node whose weights or input grids are too coarse loses
// many. This ranks the layer that adds the error first, not every layer downstream of it.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/ir/graph.h"
#include "shrink/v1/report.pb.h"

namespace shrink::engine::eval {

struct SensitivityOptions {
  int64_t max_samples = 8;             // one batch of at most this many samples
  int threads = 0;
  std::vector<std::string> state_inputs;  // fed zeros when the data leaves them out
  int64_t max_capture_bytes = int64_t(1) << 30;  // reference activations kept for comparison
};

// `reference` is the float model, `candidate` the optimized one (same graph inputs). `nodes`:
// the candidate nodes to rank (e.g. those quantized); empty ranks every node both models share.
// Most sensitive first, ranks from 1.
StatusOr<std::vector<v1::LayerSensitivity>> RankLayerSensitivity(
    const Model& reference, const Model& candidate, const std::string& data,
    const std::set<std::string>& nodes, const SensitivityOptions& options = {});

}  // namespace shrink::engine::eval
