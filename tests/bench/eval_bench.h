// `shrink-bench eval`: the evaluator's cost against the raw inference of both models.
#pragma once

namespace shrink::testing {

int EvalBenchMain(int argc, char** argv);

}  // namespace shrink::testing
