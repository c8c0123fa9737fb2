// The recipe a command's flags name: exactly one of --preset NAME and --recipe R.json, plus
// --threads N when the command has it. Shared by `shrink run` and `shrink submit`.
#pragma once

#include "common/flags.h"
#include "common/status.h"
#include "shrink/v1/recipe.pb.h"

namespace shrink::cli {

StatusOr<v1::Recipe> RecipeFromFlags(const ParsedFlags& flags);

}  // namespace shrink::cli
