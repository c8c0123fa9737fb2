#include "client/recipe_flags.h"

#include "engine/job/recipe.h"

namespace shrink::cli {

StatusOr<v1::Recipe> RecipeFromFlags(const ParsedFlags& flags) {
  if (flags.Has("preset") == flags.Has("recipe")) {
    return InvalidArgument("give exactly one of --preset and --recipe");
  }
  v1::Recipe recipe;
  if (flags.Has("recipe")) {
    ASSIGN_OR_RETURN(recipe, engine::LoadRecipeFile(flags.Get("recipe")));
  } else {
    RETURN_IF_ERROR(engine::ParsePreset(flags.Get("preset")).status());
    recipe.set_preset(flags.Get("preset"));
  }
  if (flags.Has("threads")) {
    ASSIGN_OR_RETURN(int threads, flags.GetInt("threads", 0));
    recipe.set_threads(threads);
  }
  return recipe;
}

}  // namespace shrink::cli
