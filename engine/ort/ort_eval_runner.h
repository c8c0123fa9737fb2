// ONNX Runtime as the evaluator's runtime (engine/eval/evaluator.h): each model is loaded in ORT
// (CPU, graph optimization level ALL) with `threads` intra-op threads (0 = one per core, as in
// OurRuntime). The runner's name is "onnxruntime <version>".
#pragma once

#include "engine/eval/evaluator.h"

namespace shrink::ort {

engine::eval::RunnerFactory OrtRuntime(int threads);

}  // namespace shrink::ort
