// The CLI's and workers' check of every written model: ONNX Runtime must load it and, when
// data is at hand, run one batch of it.
#pragma once

#include <string>
#include <vector>

#include "engine/job/pipeline.h"

namespace shrink::ort {

// `data_path` ("" = none): the first batch is fed to ORT. `state_inputs` may be missing from the
// data (stateful models) and are fed zeros. Models whose inputs the data does not fit (e.g.
// integer model inputs after quantizeIo) are only loaded; the note says so.
engine::OutputValidator MakeOrtValidator(const std::string& data_path, int threads,
                                         const std::vector<std::string>& state_inputs = {});

}  // namespace shrink::ort
