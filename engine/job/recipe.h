// Recipes: parsing the JSON form, expanding presets into steps, filling defaults and rejecting
// contradictions before any work starts. A recipe that passes ExpandRecipe is what the
// pipeline runs and what the report records as "the recipe as run".
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "shrink/v1/recipe.pb.h"

namespace shrink::engine {

enum class Preset { kFloat16, kInt8Dynamic, kInt8, kInt16x8, kSize, kLatency };

// "float16", "int8-dynamic", "int8", "int16x8", "size", "latency".
const std::vector<std::string>& PresetNames();
StatusOr<Preset> ParsePreset(const std::string& name);

// Protobuf JSON mapping; unknown fields and bad enum names are errors that name the field.
StatusOr<v1::Recipe> ParseRecipeJson(const std::string& json, const std::string& source);
StatusOr<v1::Recipe> LoadRecipeFile(const std::string& path);
std::string RecipeToJson(const v1::Recipe& recipe);

// Op types the `latency` preset quantizes: those ONNX Runtime's CPU provider fuses into integer
// kernels (engine/quant/op_quant_table.cc `ort_fuses`; recipe_test checks they agree). Kept as
// data here so that this file needs nothing of the engine: the server links it (shrink_recipe)
// to canonicalize and validate submitted recipes.
const std::vector<std::string>& LatencyPresetOps();

// The steps a preset stands for.
v1::Recipe PresetRecipe(Preset preset);

// Expands the preset (explicit steps replace the preset's step of the same kind), fills every
// default explicitly, and validates: contradictory or out-of-range options are errors naming
// the option.
StatusOr<v1::Recipe> ExpandRecipe(const v1::Recipe& recipe);

// The model inputs the recipe's state pairs feed back (the data may leave them out).
std::vector<std::string> StateInputs(const v1::Recipe& recipe);

// Whether an (expanded) quantize step quantizes activations statically (needs ranges).
bool QuantizeNeedsRanges(const v1::QuantizeStep& step);
// Whether the (expanded) recipe needs calibration data (static ranges, pruning repair or
// sensitivity-aware pruning).
bool NeedsCalibrationData(const v1::Recipe& expanded);

}  // namespace shrink::engine
