// Validity checks for models the engine writes. libonnx 1.12's checker is the authority for
// what it knows (ai.onnx opset <= 17, ai.onnx.ml <= 3, IR <= 8); newer models (opset 18, IR 9
// and 10) get the engine's own structural checks instead, so that writing them never fails just
// because libonnx is older than the model.
#pragma once

#include <string>

#include "common/status.h"
#include "engine/ir/graph.h"

namespace shrink::engine {

// Newest versions Debian's libonnx 1.12 has schemas and checks for.
constexpr int64_t kLibOnnxMaxOpset = 17;
constexpr int64_t kLibOnnxMaxMlOpset = 3;
constexpr int64_t kLibOnnxMaxIrVersion = 8;

// Why libonnx cannot judge this model ("opset 18 is newer than libonnx 1.12"), or "" when it
// can. Domains libonnx has no schemas for (com.microsoft) do not count: its checker and shape
// inference skip their nodes.
std::string LibOnnxLimitation(const Model& model);

// The engine's structural checks: ValidateGraph, an opset import for every domain a node uses,
// every ai.onnx op known to the engine and existing at the imported opset (not deprecated there),
// and no attribute that the imported opset moved to an input (a half-upgraded node).
Status CheckModelStructure(const Model& model);

// Runs libonnx's checker when the model is within what it knows and the engine's checks
// otherwise. Returns which check passed: "onnx checker" or
// "engine checks: opset 18 is newer than libonnx 1.12"; fails with that check's message.
StatusOr<std::string> CheckExportedModel(const Model& model);

}  // namespace shrink::engine
